// Verification of the finite-volume diffusion-decay solvers against analytic solutions.
#include "healing/diffusion.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/rng.hpp"
#include "healing/team.hpp"
#include "helpers.hpp"

namespace mnsim::healing {
namespace {

using testing::fill_gaussian;
using testing::gaussian_l2_error;
using testing::stretched_grid;

constexpr double kD = 1e-9;    // m^2/s
constexpr double kL = 0.6e-3;  // m
constexpr double kT0 = 5.0;    // s: initial Gaussian width sqrt(2 D t0) = 100 um
constexpr double kT1 = 10.0;   // s

/// Error at t1 of a Gaussian started at t0, with dt proportional to dx^2 so that the time error
/// converges at the same (second) order as the space error.
double gaussian_error(int n, double stretch, bool implicit) {
  grid::Grid g = stretched_grid(n, kL, stretch);
  grid::FieldSet fs(g);
  const int id = fs.add("u");
  fill_gaussian(fs.view(id), kD, kT0);
  Diffusion op(fs.grid(), DiffusionSpec{{kD}, {}, 0.0, 0.0, {}});
  const double dt0 = implicit ? 0.2 : 0.05;  // at n = 10
  const int steps = static_cast<int>(std::lround((kT1 - kT0) / dt0 * (n / 10.0) * (n / 10.0)));
  const double dt = (kT1 - kT0) / steps;
  for (int s = 0; s < steps; ++s) {
    if (implicit) {
      op.step_implicit(fs.view(id), dt);
    } else {
      op.step_explicit(fs.view(id), dt);
    }
  }
  return gaussian_l2_error(fs.view(id), kD, kT1);
}

void expect_second_order(double stretch, bool implicit) {
  const double e1 = gaussian_error(10, stretch, implicit);
  const double e2 = gaussian_error(20, stretch, implicit);
  const double e3 = gaussian_error(40, stretch, implicit);
  const double p12 = std::log2(e1 / e2), p23 = std::log2(e2 / e3);
  std::printf("  L2 errors %.3e %.3e %.3e, orders %.3f %.3f\n", e1, e2, e3, p12, p23);
  EXPECT_LT(e3, 0.01);
  EXPECT_GT(p23, 1.85);
  EXPECT_LT(p23, 2.2);
}

TEST(Diffusion, GaussianSecondOrderImplicitUniform) {
  expect_second_order(0.0, true);
}
TEST(Diffusion, GaussianSecondOrderImplicitStretchedZ) {
  expect_second_order(0.5, true);
}
TEST(Diffusion, GaussianSecondOrderExplicitStretchedZ) {
  expect_second_order(0.5, false);
}

TEST(Diffusion, ExplicitLimitIsTheHandValue) {
  grid::Grid g = grid::Grid::uniform(8, 8, 8, 1e-5);
  Diffusion op(g, DiffusionSpec{{2e-9}, {}, 0.0, 0.0, {}});
  EXPECT_NEAR(op.explicit_dt_limit(), 1e-10 / (6.0 * 2e-9), 1e-15);
  EXPECT_EQ(op.explicit_substeps(3.0 * op.explicit_dt_limit()), 3);
  EXPECT_EQ(op.explicit_substeps(0.5 * op.explicit_dt_limit()), 1);
}

TEST(Diffusion, DecayAndSourceAreExact) {
  grid::Grid g = grid::Grid::uniform(4, 4, 4, 1e-5);
  grid::FieldSet fs(g);
  const int id = fs.add("c", 2.0f);
  const double lam = 1e-3, S = 5e-4;
  Diffusion op(fs.grid(), DiffusionSpec{{1e-9}, {}, lam, S, {}});
  double t = 0.0;
  for (int s = 0; s < 50; ++s) {
    op.step_implicit(fs.view(id), 37.0);
    t += 37.0;
  }
  const double eq = S / lam;
  const double expect = eq + (2.0 - eq) * std::exp(-lam * t);
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 4; ++i) {
      // float32 storage: about one rounding (6e-8) per step and per pass, 50 steps.
      EXPECT_NEAR(fs.view(id)(i, 1, k), expect, 5e-6 * expect);
    }
}

TEST(Diffusion, DirichletTopWithDecayReachesExponentialProfile) {
  // 1-D column, Dirichlet u0 on top, decay: steady u = u0 cosh((depth - z) / l) / cosh(depth / l),
  // l = sqrt(D / lambda) = 316 um, on a grid stretched from 5 to 15 um.
  for (bool implicit : {true, false}) {
    const int n = 200;
    grid::Grid g = grid::Grid::uniform(1, 1, n, 1e-5);
    const double depth = 2e-3;
    for (int k = 0; k <= n; ++k) {
      const double xi = static_cast<double>(k) / n;
      g.zf[static_cast<std::size_t>(k)] = depth * xi * xi * 0.5 + depth * 0.5 * xi;  // finer on top
    }
    grid::FieldSet fs(g);
    const int id = fs.add("o2");
    const double D = 1e-9, lam = 1e-2, u0 = 3.0, l = std::sqrt(D / lam);
    Diffusion op(fs.grid(), DiffusionSpec{{D}, {}, lam, 0.0, u0});
    // 2000 s = 20 decay times; lambda dt = 0.01 keeps the decay/diffusion splitting error of
    // the steady state (effective decay (1 - e^{-lambda dt}) / dt) near 0.5 %.
    for (int s = 0; s < 2000; ++s) {
      if (implicit) {
        op.step_implicit(fs.view(id), 1.0);
      } else {
        op.step_explicit(fs.view(id), 1.0);
      }
    }
    double worst = 0.0;
    for (int k = 0; k < n; ++k) {
      // Zero-flux bottom at z = depth: u = u0 cosh((depth - z) / l) / cosh(depth / l).
      const double a = u0 * std::cosh((depth - g.zc(k)) / l) / std::cosh(depth / l);
      worst = std::max(worst, std::fabs(fs.view(id)(0, 0, k) - a) / u0);
    }
    EXPECT_LT(worst, 1e-3) << (implicit ? "implicit" : "explicit");
  }
}

TEST(Diffusion, TwoLayerColumnMatchesPiecewiseAnalyticSteadyState) {
  // Layer 1 (0 < z < a, D1) over layer 2 (a < z < L, D2 = D1 / 20), Dirichlet u0 on top, decay
  // lambda in both, zero flux at the bottom. Steady state: u = u0 cosh(z/l1) + B sinh(z/l1) above,
  // C cosh((L - z)/l2) below, l = sqrt(D / lambda); B, C from continuity of u and of D du/dz.
  const double D1 = 2e-9, D2 = 1e-10, lam = 1e-2, u0 = 2.0, a = 0.4e-3, L = 1.2e-3;
  const double l1 = std::sqrt(D1 / lam), l2 = std::sqrt(D2 / lam);
  const double ch1 = std::cosh(a / l1), sh1 = std::sinh(a / l1);
  const double ch2 = std::cosh((L - a) / l2), sh2 = std::sinh((L - a) / l2);
  // [sh1, -ch2; D1 ch1 / l1, D2 sh2 / l2] [B; C] = [-u0 ch1; -D1 u0 sh1 / l1]
  const double m11 = sh1, m12 = -ch2, m21 = D1 * ch1 / l1, m22 = D2 * sh2 / l2;
  const double r1 = -u0 * ch1, r2 = -D1 * u0 * sh1 / l1;
  const double det = m11 * m22 - m12 * m21;
  const double B = (r1 * m22 - m12 * r2) / det, C = (m11 * r2 - m21 * r1) / det;
  auto exact = [&](double z) {
    return z < a ? u0 * std::cosh(z / l1) + B * std::sinh(z / l1) : C * std::cosh((L - z) / l2);
  };
  for (bool implicit : {true, false}) {
    // 60 cells of 6.67 um above the interface, 80 cells of 10 um below: the interface is a face.
    const int n1 = 60, n2 = 80;
    grid::Grid g = grid::Grid::uniform(1, 1, n1 + n2, 1e-5);
    for (int k = 0; k <= n1 + n2; ++k) {
      g.zf[static_cast<std::size_t>(k)] = k <= n1 ? a * k / n1 : a + (L - a) * (k - n1) / n2;
    }
    std::vector<double> d(static_cast<std::size_t>(n1 + n2), D2);
    std::fill(d.begin(), d.begin() + n1, D1);
    grid::FieldSet fs(g);
    const int id = fs.add("c");
    Diffusion op(fs.grid(), DiffusionSpec{d, {}, lam, 0.0, u0});
    for (int s = 0; s < 4000; ++s) {  // 4000 s = 40 decay times, lambda dt = 0.01
      if (implicit) {
        op.step_implicit(fs.view(id), 1.0);
      } else {
        op.step_explicit(fs.view(id), 1.0);
      }
    }
    double worst = 0.0;
    for (int k = 0; k < n1 + n2; ++k) {
      worst = std::max(worst, std::fabs(fs.view(id)(0, 0, k) - exact(g.zc(k))) / u0);
    }
    std::printf("  %s: worst |u - exact| / u0 = %.2e\n", implicit ? "implicit" : "explicit", worst);
    EXPECT_LT(worst, 2e-3) << (implicit ? "implicit" : "explicit");
  }
}

/// Random positive field, random permeability with zeros, stretched z, per-layer D.
struct MassCase {
  grid::Grid g = stretched_grid(24, 0.5e-3, 0.4);
  grid::FieldSet fs{g};
  int u, p;
  MassCase() {
    u = fs.add("u");
    p = fs.add("perm");
    Rng rng(42, 1);
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          fs.view(u)(i, j, k) = static_cast<float>(rng.uniform(0.0, 10.0));
          const double r = rng.uniform();
          fs.view(p)(i, j, k) = r < 0.1 ? 0.0f : static_cast<float>(r);
        }
  }
  std::vector<double> layers() const {
    std::vector<double> d(static_cast<std::size_t>(g.nz));
    for (std::size_t k = 0; k < d.size(); ++k) d[k] = k < 8 ? 1e-10 : 2e-9;
    return d;
  }
};

TEST(Diffusion, MassConservedUnderZeroFlux) {
  for (int variant = 0; variant < 4; ++variant) {
    MassCase mc;
    const bool with_perm = variant & 1, implicit = variant & 2;
    DiffusionSpec spec{mc.layers(), {}, 0.0, 0.0, {}};
    if (with_perm) spec.permeability = mc.fs.view(mc.p);
    Diffusion op(mc.fs.grid(), spec);
    const double m0 = integral(mc.fs.view(mc.u));
    for (int s = 0; s < 20; ++s) {
      if (implicit) {
        op.step_implicit(mc.fs.view(mc.u), 10.0);
      } else {
        op.step_explicit(mc.fs.view(mc.u), 0.5);
      }
    }
    const double m1 = integral(mc.fs.view(mc.u));
    EXPECT_LT(std::fabs(m1 - m0) / m0, 1e-6) << "variant " << variant;
    // Something did move.
    double moved = 0.0;
    MassCase fresh;
    for (int k = 0; k < mc.g.nz; ++k)
      moved = std::max(
          moved, double(std::fabs(mc.fs.view(mc.u)(3, 4, k) - fresh.fs.view(fresh.u)(3, 4, k))));
    EXPECT_GT(moved, 0.1) << "variant " << variant;
  }
}

TEST(Diffusion, FixedPermeabilityGivesTheLivePathBitForBit) {
  // Face conductances computed once (permeability_fixed) against computed at every step, with a
  // Dirichlet top, stretched z, per-layer D and steps of different lengths.
  MassCase live, fixed;
  DiffusionSpec spec{live.layers(), live.fs.view(live.p), 1e-4, 0.0, 2.0};
  Diffusion a(live.fs.grid(), spec);
  spec.permeability = fixed.fs.view(fixed.p);
  spec.permeability_fixed = true;
  Diffusion b(fixed.fs.grid(), spec);
  for (double dt : {5.0, 20.0, 2.5, 20.0}) {
    a.step_implicit(live.fs.view(live.u), dt);
    b.step_implicit(fixed.fs.view(fixed.u), dt);
  }
  const grid::Grid& g = live.fs.grid();
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        ASSERT_EQ(live.fs.view(live.u)(i, j, k), fixed.fs.view(fixed.u)(i, j, k))
            << i << " " << j << " " << k;
}

TEST(Diffusion, SharedConductancesGiveEachFieldsOwnStepBitForBit) {
  // Five fields on one fixed permeability and per-layer D: solved one by one with their own
  // operators, and in one shared pass (step_implicit_shared) where fields 1 and 2 have the same
  // step (2 takes 1's pivots), field 3 a Dirichlet top and field 4 a decay.
  MassCase own, shared;
  const grid::Grid& g = own.fs.grid();
  std::vector<int> uo{own.u}, us{shared.u};
  for (int m = 1; m < 5; ++m) {
    uo.push_back(own.fs.add(fmt::format("u{}", m)));
    us.push_back(shared.fs.add(fmt::format("u{}", m)));
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const float v = own.fs.view(own.u)(i, j, k) * static_cast<float>(m + 1) +
                          static_cast<float>((i * 7 + j * 3 + k * m) % 11);
          own.fs.view(uo.back())(i, j, k) = v;
          shared.fs.view(us.back())(i, j, k) = v;
        }
  }
  auto spec_for = [&](MassCase& mc, int m) {
    DiffusionSpec s{mc.layers(), mc.fs.view(mc.p), 0.0, 0.0, {}};
    s.permeability_fixed = true;
    if (m == 3) s.top_value = 2.0;
    if (m == 4) s.decay = 1e-3;
    return s;
  };
  std::vector<std::unique_ptr<Diffusion>> oo, os;
  for (int m = 0; m < 5; ++m) {
    oo.push_back(std::make_unique<Diffusion>(g, spec_for(own, m)));
    os.push_back(std::make_unique<Diffusion>(g, spec_for(shared, m)));
    ASSERT_TRUE(os.back()->can_share(*os.front()));
    if (m > 0) os.back()->share_conductances(*os.front());
  }
  ASSERT_TRUE(os[4]->shares_with(*os[0]));
  ASSERT_FALSE(oo[1]->shares_with(*oo[0]));
  const std::vector<Diffusion*> ops{os[0].get(), os[1].get(), os[2].get(), os[3].get(),
                                    os[4].get()};
  for (double dt : {5.0, 20.0, 2.5}) {
    const std::vector<double> dts{dt, 0.5 * dt, 0.5 * dt, 0.5 * dt, 2.0 * dt};
    std::vector<grid::FieldView> views;
    for (int m = 0; m < 5; ++m) {
      oo[static_cast<std::size_t>(m)]->step_implicit(own.fs.view(uo[static_cast<std::size_t>(m)]),
                                                     dts[static_cast<std::size_t>(m)]);
      views.push_back(shared.fs.view(us[static_cast<std::size_t>(m)]));
    }
    Diffusion::step_implicit_shared(ops, views, dts);
  }
  for (int m = 0; m < 5; ++m)
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i)
          ASSERT_EQ(own.fs.view(uo[static_cast<std::size_t>(m)])(i, j, k),
                    shared.fs.view(us[static_cast<std::size_t>(m)])(i, j, k))
              << "field " << m << " at " << i << " " << j << " " << k;
  // Operators with other diffusivities or a live permeability do not share.
  DiffusionSpec other = spec_for(shared, 0);
  other.diffusivity = {1e-9};
  EXPECT_FALSE(Diffusion(g, other).can_share(*os[0]));
  DiffusionSpec live = spec_for(shared, 0);
  live.permeability_fixed = false;
  EXPECT_FALSE(Diffusion(g, live).can_share(*os[0]));
}

TEST(Diffusion, FieldsOfOnePermeabilityWithDifferentDiffusivitiesShareOneTable) {
  // Four fields on one fixed permeability, each with one diffusivity on every layer (as the
  // healing engine's): their face conductances are kept without D (of the permeability alone), so
  // all four share one table and one pass, and each field's result is still its own step bit for
  // bit; fields 2 and 3 have the same product of step and diffusivity (1e-9 x 5 s, 2e-9 x 2.5 s:
  // the same coefficients), so 3 takes 2's pivots.
  MassCase own, shared;
  const grid::Grid& g = own.fs.grid();
  const std::vector<double> ds{1e-10, 3e-9, 1e-9, 2e-9}, dts{10.0, 10.0, 5.0, 2.5};
  std::vector<int> uo{own.u}, us{shared.u};
  for (int m = 1; m < 4; ++m) {
    uo.push_back(own.fs.add(fmt::format("u{}", m)));
    us.push_back(shared.fs.add(fmt::format("u{}", m)));
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const float v = own.fs.view(own.u)(i, j, k) + static_cast<float>((i + 5 * j + k * m) % 7);
          own.fs.view(uo.back())(i, j, k) = v;
          shared.fs.view(us.back())(i, j, k) = v;
        }
  }
  std::vector<std::unique_ptr<Diffusion>> oo, os;
  for (std::size_t m = 0; m < 4; ++m) {
    DiffusionSpec so{{ds[m]}, own.fs.view(own.p), 0.0, 0.0, {}}, ss = so;
    so.permeability_fixed = ss.permeability_fixed = true;
    ss.permeability = shared.fs.view(shared.p);
    oo.push_back(std::make_unique<Diffusion>(g, so));
    os.push_back(std::make_unique<Diffusion>(g, ss));
    ASSERT_TRUE(os.back()->can_share(*os.front()));
    if (m > 0) os.back()->share_conductances(*os.front());
  }
  ASSERT_TRUE(os[3]->shares_with(*os[0]));
  const std::vector<Diffusion*> ops{os[0].get(), os[1].get(), os[2].get(), os[3].get()};
  std::vector<grid::FieldView> views;
  for (std::size_t m = 0; m < 4; ++m) views.push_back(shared.fs.view(us[m]));
  for (int s = 0; s < 3; ++s) {
    for (std::size_t m = 0; m < 4; ++m) oo[m]->step_implicit(own.fs.view(uo[m]), dts[m]);
    Diffusion::step_implicit_shared(ops, views, dts);
  }
  double moved = 0.0;
  const MassCase start;
  for (std::size_t m = 0; m < 4; ++m)
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          ASSERT_EQ(own.fs.view(uo[m])(i, j, k), shared.fs.view(us[m])(i, j, k))
              << "field " << m << " at " << i << " " << j << " " << k;
          if (m == 0) {
            moved = std::max(moved, std::fabs(double(own.fs.view(uo[0])(i, j, k)) -
                                              start.fs.view(start.u)(i, j, k)));
          }
        }
  EXPECT_GT(moved, 0.1);
  // Per-layer diffusivities keep D in the table: such an operator shares only with its equal.
  DiffusionSpec layered{own.layers(), shared.fs.view(shared.p), 0.0, 0.0, {}};
  layered.permeability_fixed = true;
  EXPECT_FALSE(Diffusion(g, layered).can_share(*os[0]));
}

TEST(Diffusion, AFieldInPartOfTheGridGetsTheStepOfAGridOfThatPart) {
  // The permeability path sweeps only the box of faces with flux of each plane and row
  // (healing/face_box.hpp). A field whose permeability is 0 outside a box (a layer of the skin)
  // must get bit for bit what the same field gets on a grid of just that box, its cells outside
  // unchanged; two fields in one shared pass (the second following the first's pivots), with
  // 1 and 2 threads. With permeability 1 in the whole part, the part's field is also solved by
  // the uniform path (no permeability, no boxes): a box too small would show there.
  const double dx = 20e-6;
  const grid::Grid big = grid::Grid::uniform(37, 29, 13, dx);
  const grid::Grid part = grid::Grid::uniform(11, 17, 5, dx);
  const int i0 = 19, j0 = 3, k0 = 6;  // the part's first cell in the big grid
  const auto inside = [&](int i, int j, int k) {
    return i >= i0 && i < i0 + part.nx && j >= j0 && j < j0 + part.ny && k >= k0 &&
           k < k0 + part.nz;
  };
  for (int threads : {1, 2, 0}) {  // 0: one thread, permeability 1 in the part, uniform path
    const bool unit = threads == 0;
    threads = std::max(threads, 1);
    // Random fields on the big grid (the same for both thread counts), copied to the part.
    Rng rng(7, 1);
    grid::FieldSet gb(big), gp(part), start(big);
    const int pb = gb.add("p", 0.0f), pp = gp.add("p");
    const int ub0 = gb.add("u0"), ub1 = gb.add("u1"), up0 = gp.add("u0"), up1 = gp.add("u1");
    const int s0 = start.add("u0"), s1 = start.add("u1");
    for (int k = 0; k < big.nz; ++k)
      for (int j = 0; j < big.ny; ++j)
        for (int i = 0; i < big.nx; ++i) {
          const float v0 = static_cast<float>(rng.uniform()),
                      v1 = static_cast<float>(rng.uniform());
          gb.view(ub0)(i, j, k) = start.view(s0)(i, j, k) = v0;
          gb.view(ub1)(i, j, k) = start.view(s1)(i, j, k) = v1;
          if (!inside(i, j, k)) continue;
          // Some cells inside the part sealed too (p = 0), the rest in [0.1, 1].
          const float p = unit                   ? 1.0f
                          : (i + j + k) % 7 == 0 ? 0.0f
                                                 : static_cast<float>(0.1 + 0.9 * rng.uniform());
          gb.view(pb)(i, j, k) = gp.view(pp)(i - i0, j - j0, k - k0) = p;
          gp.view(up0)(i - i0, j - j0, k - k0) = v0;
          gp.view(up1)(i - i0, j - j0, k - k0) = v1;
        }
    set_thread_min_cells(0);  // threads on these small grids
    omp_set_num_threads(threads);
    auto ops = [](const grid::Grid& g, grid::FieldSet& f, int p, bool with_p) {
      std::vector<std::unique_ptr<Diffusion>> o;
      for (int m = 0; m < 2; ++m) {
        DiffusionSpec s{{2e-9}, with_p ? f.view(p) : grid::FieldView{}, 0.0, 0.0, {}};
        s.permeability_fixed = true;
        o.push_back(std::make_unique<Diffusion>(g, s));
        if (m > 0 && with_p) o.back()->share_conductances(*o.front());
      }
      return o;
    };
    auto ob = ops(big, gb, pb, true), op = ops(part, gp, pp, !unit);
    for (double dt : {0.5, 4.0}) {
      const std::vector<double> dts{dt, dt};
      const std::vector<Diffusion*> b{ob[0].get(), ob[1].get()}, q{op[0].get(), op[1].get()};
      const std::vector<grid::FieldView> vb{gb.view(ub0), gb.view(ub1)},
          vq{gp.view(up0), gp.view(up1)};
      Diffusion::step_implicit_shared(b, vb, dts);
      if (unit) {
        for (int m = 0; m < 2; ++m) q[m]->step_implicit(vq[m], dt);
      } else {
        Diffusion::step_implicit_shared(q, vq, dts);
      }
    }
    set_thread_min_cells(kThreadMinCellsDefault);
    omp_set_num_threads(2);
    int moved = 0;
    for (int m = 0; m < 2; ++m) {
      const grid::ConstFieldView ub = gb.view(m == 0 ? ub0 : ub1), uq = gp.view(m == 0 ? up0 : up1),
                                 u0 = start.view(m == 0 ? s0 : s1);
      for (int k = 0; k < big.nz; ++k)
        for (int j = 0; j < big.ny; ++j)
          for (int i = 0; i < big.nx; ++i) {
            const bool in = inside(i, j, k);
            moved += in && ub(i, j, k) != u0(i, j, k) ? 1 : 0;
            if (unit && in) {  // float Thomas solves of two paths: a few roundings apart
              ASSERT_NEAR(ub(i, j, k), uq(i - i0, j - j0, k - k0), 1e-5)
                  << i << " " << j << " " << k;
              continue;
            }
            ASSERT_EQ(ub(i, j, k), in ? uq(i - i0, j - j0, k - k0) : u0(i, j, k))
                << "field " << m << " at " << i << " " << j << " " << k << ", " << threads
                << " threads";
          }
    }
    EXPECT_GT(moved, part.cells());  // the part's cells did diffuse
  }
}

TEST(Diffusion, ZeroPermeabilityCellsExchangeNothing) {
  for (bool implicit : {true, false}) {
    MassCase mc;
    // Seal a block: permeability 0 inside.
    for (int k = 5; k < 10; ++k)
      for (int j = 5; j < 10; ++j)
        for (int i = 5; i < 10; ++i) mc.fs.view(mc.p)(i, j, k) = 0.0f;
    MassCase fresh;
    DiffusionSpec spec{mc.layers(), mc.fs.view(mc.p), 0.0, 0.0, {}};
    Diffusion op(mc.fs.grid(), spec);
    for (int s = 0; s < 5; ++s) {
      if (implicit) {
        op.step_implicit(mc.fs.view(mc.u), 20.0);
      } else {
        op.step_explicit(mc.fs.view(mc.u), 1.0);
      }
    }
    for (int k = 5; k < 10; ++k)
      for (int j = 5; j < 10; ++j)
        for (int i = 5; i < 10; ++i)
          ASSERT_EQ(mc.fs.view(mc.u)(i, j, k), fresh.fs.view(fresh.u)(i, j, k));
  }
}

TEST(Diffusion, VariablePathWithUnitPermeabilityMatchesFastPath) {
  MassCase a, b;
  for (int k = 0; k < a.g.nz; ++k)
    for (int j = 0; j < a.g.ny; ++j)
      for (int i = 0; i < a.g.nx; ++i) b.fs.view(b.p)(i, j, k) = 1.0f;
  Diffusion fast(a.fs.grid(), DiffusionSpec{a.layers(), {}, 1e-3, 0.0, 1.5});
  Diffusion var(b.fs.grid(), DiffusionSpec{b.layers(), b.fs.view(b.p), 1e-3, 0.0, 1.5});
  for (int s = 0; s < 5; ++s) {
    fast.step_implicit(a.fs.view(a.u), 30.0);
    var.step_implicit(b.fs.view(b.u), 30.0);
  }
  for (int k = 0; k < a.g.nz; ++k)
    for (int j = 0; j < a.g.ny; ++j)
      for (int i = 0; i < a.g.nx; ++i)
        // Both are float32 Thomas solves (error about n eps per sweep, n = 24, 15 sweeps).
        ASSERT_NEAR(a.fs.view(a.u)(i, j, k), b.fs.view(b.u)(i, j, k),
                    1e-4 * (1.0 + std::fabs(a.fs.view(a.u)(i, j, k))));
}

TEST(Diffusion, ImplicitMatchesTextbookLodAtBenchmarkSettings) {
  // BioFVM perf test settings: dx = 10 um, D = 1e5 um^2/min, decay 0.1/min, dt = 0.01 min.
  const double D = 1e5 * 1e-12 / 60.0, lam = 0.1 / 60.0, dt = 0.6, dx = 1e-5;
  grid::Grid g = grid::Grid::uniform(40, 40, 40, dx);
  grid::FieldSet fs(g);
  const int id = fs.add("u");
  const double t0 = 0.5 * (40e-6 * 40e-6) / D;  // initial width 40 um
  fill_gaussian(fs.view(id), D, t0);
  std::vector<double> ref(g.cells());
  for (int k = 0; k < 40; ++k)
    for (int j = 0; j < 40; ++j)
      for (int i = 0; i < 40; ++i)
        ref[static_cast<std::size_t>(i + 40 * (j + 40 * k))] = fs.view(id)(i, j, k);
  Diffusion op(fs.grid(), DiffusionSpec{{D}, {}, lam, 0.0, {}});
  const int steps = 10;
  for (int s = 0; s < steps; ++s) {
    op.step_implicit(fs.view(id), dt);
    testing::reference_lod_step(ref, g, D, lam, dt);
  }
  const double t1 = t0 + steps * dt, f = std::exp(-lam * steps * dt);
  double num_fast = 0.0, num_ref = 0.0, den = 0.0, diff = 0.0, peak = 0.0;
  for (int k = 0; k < 40; ++k)
    for (int j = 0; j < 40; ++j)
      for (int i = 0; i < 40; ++i) {
        const double a = f * testing::gaussian_box(g, i, j, k, D, t1);
        const double r = ref[static_cast<std::size_t>(i + 40 * (j + 40 * k))];
        const double u = fs.view(id)(i, j, k);
        num_fast += (u - a) * (u - a);
        num_ref += (r - a) * (r - a);
        den += a * a;
        diff = std::max(diff, std::fabs(u - r));
        peak = std::max(peak, r);
      }
  const double e_fast = std::sqrt(num_fast / den), e_ref = std::sqrt(num_ref / den);
  std::printf("  L2 error vs analytic: fast float LOD %.4e, textbook double LOD %.4e\n", e_fast,
              e_ref);
  EXPECT_LT(diff, 1e-5 * peak);
  EXPECT_LT(e_fast, e_ref * 1.001 + 1e-6);
}

}  // namespace
}  // namespace mnsim::healing
