// Verification of the axisymmetric finite-volume solver of the RF model (thermal/axisym.hpp,
// docs/rf.md "Verification") against analytic solutions: a spherical electrode in a uniform
// medium (potential a V0 / d, Joule heating sigma V0^2 a^2 / d^4 and its steady temperature),
// Pennes' 1D steady state, and the order of convergence.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "thermal/axisym.hpp"

using namespace mnsim::thermal;

namespace {

// A sphere of radius a centred on the axis at depth zc, in a box R x Z.
struct Sphere {
  double a = 100e-6, zc = 500e-6;
  double R = 1e-3, Z = 1e-3;
  double d(double r, double z) const { return std::hypot(r, z - zc); }
};

AxiGrid grid_of(const Sphere& s, double h) {
  AxiGrid g;
  g.dr = g.dz = h;
  g.nr = static_cast<int>(std::lround(s.R / h));
  g.nz = static_cast<int>(std::lround(s.Z / h));
  return g;
}

AxiBoundaries all_dirichlet(std::function<double(double, double)> f) {
  AxiBoundaries b;
  b.top = {true, f};
  b.bottom = {true, f};
  b.outer = {true, f};
  return b;
}

struct PotentialRun {
  AxiGrid g;
  std::vector<double> V;
  std::vector<std::uint8_t> inside;
  double max_err = 0.0;  // largest |V - a V0 / d| outside 1.5 a, relative to V0
  double q_err = 0.0;    // largest relative error of Joule heating at 2a..3a
};

// Laplace with the cells inside the sphere held at `held(d)`: V0 (the electrode), or the
// analytic a V0 / d continued inside (exact Dirichlet data on a staircase boundary).
PotentialRun potential(const Sphere& s, double h, bool exact_inside) {
  const double V0 = 1.0, sigma = 0.2;
  PotentialRun run;
  AxiGrid& g = run.g;
  g = grid_of(s, h);
  const auto exact = [&](double r, double z) { return V0 * s.a / s.d(r, z); };
  std::vector<double> kappa(g.size(), sigma);
  run.inside.assign(g.size(), 0);
  run.V.assign(g.size(), 0.0);
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      const double d = s.d(g.rc(i), g.zc(j));
      if (d < s.a) {
        run.inside[c] = 1;
        run.V[c] = exact_inside ? exact(g.rc(i), g.zc(j)) : V0;
      }
    }
  }
  const AxiOperator op(g, kappa, run.inside, all_dirichlet(exact));
  const std::vector<double> zero(g.size(), 0.0);
  op.solve(zero, zero, run.V, 1e-12);
  const std::vector<double> q = op.dissipation(run.V);
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      const double d = s.d(g.rc(i), g.zc(j));
      if (d > 1.5 * s.a)
        run.max_err = std::max(run.max_err, std::abs(run.V[c] - exact(g.rc(i), g.zc(j))));
      if (d > 2.0 * s.a && d < 3.0 * s.a) {
        const double qa = sigma * V0 * V0 * s.a * s.a / std::pow(d, 4);
        run.q_err = std::max(run.q_err, std::abs(q[c] / g.volume(i) - qa) / qa);
      }
    }
  }
  return run;
}

}  // namespace

TEST(RfVerification, SphericalElectrodePotentialIsAOverR) {
  const Sphere s;
  const PotentialRun run = potential(s, 10e-6, false);
  RecordProperty("max_error_10um", std::to_string(run.max_err));
  // The electrode is a staircase of 10 um cells around a 100 um sphere: within 5 % of V0.
  EXPECT_LT(run.max_err, 0.05) << "max |V - a V0/d| outside 1.5 a";
  const PotentialRun fine = potential(s, 5e-6, false);
  RecordProperty("max_error_5um", std::to_string(fine.max_err));
  EXPECT_LT(fine.max_err, run.max_err) << "refining the staircase must reduce the error";
}

TEST(RfVerification, JouleHeatingFallsAsRToTheMinusFour) {
  const Sphere s;
  const PotentialRun run = potential(s, 5e-6, true);
  // q = sigma |grad V|^2 = sigma V0^2 a^2 / d^4 between 2a and 3a, from the face dissipation.
  RecordProperty("max_relative_error", std::to_string(run.q_err));
  EXPECT_LT(run.q_err, 0.08);
}

TEST(RfVerification, PotentialConvergesAtSecondOrder) {
  // Exact Dirichlet data in the cells inside the sphere: the discretisation error alone.
  const Sphere s;
  const double e1 = potential(s, 20e-6, true).max_err;
  const double e2 = potential(s, 10e-6, true).max_err;
  const double e3 = potential(s, 5e-6, true).max_err;
  const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
  RecordProperty("order_20_10", std::to_string(p1));
  RecordProperty("order_10_5", std::to_string(p2));
  EXPECT_GT(p1, 1.7) << e1 << " " << e2;
  EXPECT_GT(p2, 1.7) << e2 << " " << e3;
}

TEST(RfVerification, SteadyTemperatureAroundASphericalSource) {
  // Heat source q = sigma V0^2 a^2 / d^4 outside an insulated sphere (dT/dd = 0 at d = a),
  // T -> 0 far away: T(d) = sigma V0^2 a / (k d) - sigma V0^2 a^2 / (2 k d^2).
  const Sphere s;
  const double sigma = 0.2, V0 = 10.0, k = 0.37;
  const auto exact = [&](double r, double z) {
    const double d = s.d(r, z);
    return sigma * V0 * V0 * s.a / (k * d) - sigma * V0 * V0 * s.a * s.a / (2.0 * k * d * d);
  };
  double prev = 0.0;
  for (double h : {10e-6, 5e-6}) {
    const AxiGrid g = grid_of(s, h);
    std::vector<double> kap(g.size(), k), T(g.size(), 0.0), rhs(g.size(), 0.0);
    std::vector<std::uint8_t> held(g.size(), 0);
    for (int j = 0; j < g.nz; ++j) {
      for (int i = 0; i < g.nr; ++i) {
        const std::size_t c = g.at(i, j);
        const double d = s.d(g.rc(i), g.zc(j));
        if (d < s.a) {
          held[c] = 1;
          T[c] = exact(g.rc(i), g.zc(j));
        } else {
          rhs[c] = sigma * V0 * V0 * s.a * s.a / std::pow(d, 4) * g.volume(i);
        }
      }
    }
    const AxiOperator op(g, kap, held, all_dirichlet(exact));
    op.solve(std::vector<double>(g.size(), 0.0), rhs, T, 1e-12);
    const double peak = sigma * V0 * V0 / (2.0 * k);
    double err = 0.0;
    for (int j = 0; j < g.nz; ++j) {
      for (int i = 0; i < g.nr; ++i) {
        if (held[g.at(i, j)]) continue;
        err = std::max(err, std::abs(T[g.at(i, j)] - exact(g.rc(i), g.zc(j))));
      }
    }
    RecordProperty(h > 7e-6 ? "relative_error_10um" : "relative_error_5um",
                   std::to_string(err / peak));
    EXPECT_LT(err / peak, 0.03) << "h = " << h;
    if (prev > 0.0) {
      EXPECT_LT(err, 0.5 * prev) << "halving h must at least halve the error";
    }
    prev = err;
  }
}

TEST(RfVerification, PennesSteadyStateDecaysExponentially) {
  // A slab held at T1 at the surface, perfused: T - Ta = (T1 - Ta) exp(-z / L),
  // L = sqrt(k / (w rho_b c_b)); no radial flux.
  const double k = 0.37, w = 2e-3, rho_b = 1050, c_b = 3617, Ta = 310.15, T1 = 330.0;
  const double L = std::sqrt(k / (w * rho_b * c_b));  // about 7 mm
  AxiGrid g;
  g.dr = 50e-6;
  g.dz = 100e-6;
  g.nr = 4;
  g.nz = static_cast<int>(std::lround(3.0 * L / g.dz));
  const auto exact = [&](double, double z) { return Ta + (T1 - Ta) * std::exp(-z / L); };
  AxiBoundaries b;
  b.top = {true, exact};
  b.bottom = {true, exact};
  const AxiOperator op(g, std::vector<double>(g.size(), k), std::vector<std::uint8_t>(g.size(), 0),
                       b);
  std::vector<double> diag(g.size()), rhs(g.size()), T(g.size(), Ta);
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const double W = w * rho_b * c_b * g.volume(i);
      diag[g.at(i, j)] = W;
      rhs[g.at(i, j)] = W * Ta;
    }
  }
  op.solve(diag, rhs, T, 1e-13);
  double err = 0.0;
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      err = std::max(err, std::abs(T[g.at(i, j)] - exact(0.0, g.zc(j))));
    }
  }
  RecordProperty("relative_error", std::to_string(err / (T1 - Ta)));
  EXPECT_LT(err / (T1 - Ta), 1e-3);
}
