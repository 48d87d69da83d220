// Radial transport operators and the resolved unit cell versus the mean-field compartments.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "healing/radial.hpp"
#include "healing/unit_cell.hpp"
#include "test_profile.hpp"

namespace mnsim::healing {
namespace {

double amount(const std::vector<double>& u, double dr) {
  double s = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double rl = static_cast<double>(i) * dr, rr = rl + dr;
    s += u[i] * 0.5 * (rr * rr - rl * rl);
  }
  return s;
}

TEST(HealingRadial, DiffusionAndChemotaxisConserveAndStayPositive) {
  const double dr = 2.0;
  std::vector<double> u(100), c(100);
  for (std::size_t i = 0; i < u.size(); ++i) {
    u[i] = i < 20 ? 0.0 : 1.0;
    c[i] = std::exp(-static_cast<double>(i) / 15.0);
  }
  const double a0 = amount(u, dr);
  radial_diffusion_implicit(u, 50.0, 3.0, dr);
  EXPECT_NEAR(amount(u, dr), a0, 1e-9 * a0);
  const int steps = radial_chemotaxis(u, c, 2000.0, 5.0, dr);
  EXPECT_GT(steps, 1);
  EXPECT_NEAR(amount(u, dr), a0, 1e-9 * a0);
  for (double x : u) EXPECT_GE(x, 0.0);
  EXPECT_GT(u[0], 0.0);  // moved in towards the attractant at the centre
}

TEST(HealingRadialMesh, CoversTheCellFinestAtTheChannelWall) {
  const RadialMesh m = radial_mesh(62.5, 361.0, 16);
  ASSERT_EQ(m.size(), 16u);
  EXPECT_DOUBLE_EQ(m.edge.front(), 0.0);
  EXPECT_DOUBLE_EQ(m.edge.back(), 361.0);
  EXPECT_NEAR(m.total_area(), 3.14159265358979 * 361.0 * 361.0, 1e-6);
  EXPECT_DOUBLE_EQ(m.edge[4], 62.5);  // 16 / 4 annuli inside the channel
  for (std::size_t i = 5; i < m.size(); ++i) {
    EXPECT_GT(m.edge[i + 1] - m.edge[i], m.edge[i] - m.edge[i - 1]);  // widths grow outside
  }
  const RadialMesh u = radial_mesh(500.0, 100.0, 4);  // channel wider than the cell: uniform
  EXPECT_NEAR(u.edge[1], 25.0, 1e-12);
  EXPECT_THROW(radial_mesh(62.5, 361.0, 0), std::invalid_argument);
  EXPECT_THROW(radial_mesh(0.0, 361.0, 8), std::invalid_argument);
}

// Verification: a 2D point release spreads as M / (4 pi D t) exp(-r^2 / 4 D t); started from the
// analytic profile at t0, the implicit step on the geometric mesh converges to it at t1 as the
// mesh and the steps are refined together (measured errors in the test properties).
TEST(HealingRadialMesh, DiffusionConvergesToThePointSourceSolution) {
  const double D = 100.0, t0 = 5.0, t1 = 10.0, R = 400.0;
  auto exact = [&](double r, double t) {
    return std::exp(-r * r / (4.0 * D * t)) / (4.0 * 3.14159265358979 * D * t);
  };
  double last = 1e300;
  for (int n : {16, 32, 64}) {
    const RadialMesh m = radial_mesh(20.0, R, n);
    std::vector<double> u(m.size());
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = exact(m.mid[i], t0);
    const double a0 = m.mean(u.data()) * m.total_area();
    const int steps = n * 4;
    for (int k = 0; k < steps; ++k) radial_transport_implicit(m, u.data(), D, (t1 - t0) / steps);
    EXPECT_NEAR(m.mean(u.data()) * m.total_area(), a0, 1e-12 * a0);
    double err = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < u.size(); ++i) {
      err += m.area[i] * std::abs(u[i] - exact(m.mid[i], t1));
      norm += m.area[i] * exact(m.mid[i], t1);
    }
    err /= norm;
    RecordProperty("l1_error_n" + std::to_string(n), std::to_string(err));
    EXPECT_LT(err, 0.6 * last) << n;
    last = err;
  }
  EXPECT_LT(last, 0.02);
}

// Verification: with a fixed attractant, diffusion and chemotaxis reach the Boltzmann profile
// u ~ exp(chi c / D); the upwind scheme is first-order accurate in chi dc / D per face.
TEST(HealingRadialMesh, ChemotaxisReachesTheBoltzmannSteadyState) {
  const double D = 50.0, chi = 2000.0;
  double last = 1e300;
  for (int n : {16, 32, 64}) {
    const RadialMesh m = radial_mesh(30.0, 300.0, n);
    std::vector<double> u(m.size(), 1.0), c(m.size());
    for (std::size_t i = 0; i < u.size(); ++i) c[i] = 0.05 * std::exp(-m.mid[i] / 100.0);
    const double a0 = m.mean(u.data());
    for (int k = 0; k < 200; ++k) radial_transport_implicit(m, u.data(), D, 1e4, c.data(), chi);
    EXPECT_NEAR(m.mean(u.data()), a0, 1e-9 * a0);
    for (double x : u) EXPECT_GT(x, 0.0);
    // Compare the ratio centre / edge with exp(chi (c_0 - c_n) / D).
    const double want = chi * (c.front() - c.back()) / D;
    const double got = std::log(u.front() / u.back());
    const double err = std::abs(got / want - 1.0);
    RecordProperty("boltzmann_error_n" + std::to_string(n), std::to_string(err));
    EXPECT_LT(err, 0.7 * last) << n;
    last = err;
  }
  EXPECT_LT(last, 0.05);
}

// The resolved reduced driver (ColumnProtocol::annuli): one pen-like session judged at 14 days.
ColumnProtocol pen_session(int annuli, double band = 0.0) {
  ColumnProtocol pr;
  pr.session_times = {0.0};
  pr.density = 1166.0;
  pr.depth = 400.0;
  pr.radius = 50.0;
  pr.end_time = 14.0 * 24.0;
  pr.max_dt = 14.0 * 24.0 / 200.0;
  pr.annuli = annuli;
  pr.band = band;
  return pr;
}

TEST(HealingResolvedColumn, InjuryMeansEqualTheWellMixedDriversAndConvergeInAnnuli) {
  const Params p = load_default_params().p;
  const auto prof = testing::cheek_profile();
  const ColumnRun wm = run_column(p, prof, pen_session(0));
  const ColumnRun r8 = run_column(p, prof, pen_session(8));
  const ColumnRun r32 = run_column(p, prof, pen_session(32));
  // Right after the injury (the first step is 0.01 h) the layer means agree: the annuli carry
  // the same areal damage, matrix loss and blood as punctures at random positions.
  for (skin::Layer l : {skin::Layer::PapillaryDermis, skin::Layer::ReticularDermis}) {
    for (const char* f : {"damage", "collagen1", "platelets"}) {
      EXPECT_NEAR(r8.value(l, f, 0.01), wm.value(l, f, 0.01),
                  2e-3 * std::max(1e-3, wm.value(l, f, 0.01)))
          << static_cast<int>(l) << " " << f;
    }
  }
  const double t = 14.0 * 24.0;
  const double c8 = r8.collagen_change(skin::Layer::PapillaryDermis, t);
  const double c32 = r32.collagen_change(skin::Layer::PapillaryDermis, t);
  const double cw = wm.collagen_change(skin::Layer::PapillaryDermis, t);
  RecordProperty("collagen_change_wm_8_32",
                 std::to_string(cw) + " " + std::to_string(c8) + " " + std::to_string(c32));
  EXPECT_NEAR(c8 / c32, 1.0, 0.03);
  // Resolving the wounds matters: the tissue near each channel responds more than the mean.
  EXPECT_GT(c8, cw);
  ASSERT_EQ(r8.final_cell.size(), 8u);
  EXPECT_NEAR(r8.annulus_area.size(), 8u, 0);
}

TEST(HealingResolvedColumn, DepthBandsConverge) {
  const Params p = load_default_params().p;
  const auto prof = testing::cheek_profile();
  const double t = 14.0 * 24.0;
  const double b100 =
      run_column(p, prof, pen_session(8, 100.0)).collagen_change(skin::Layer::PapillaryDermis, t);
  const double b50 =
      run_column(p, prof, pen_session(8, 50.0)).collagen_change(skin::Layer::PapillaryDermis, t);
  RecordProperty("collagen_change_band_100_50", std::to_string(b100) + " " + std::to_string(b50));
  EXPECT_NEAR(b100 / b50, 1.0, 0.03);
}

TEST(HealingUnitCell, ResolvedCellStaysNearTheMeanFieldDriver) {
  const Params p = load_default_params().p;
  const auto prof = testing::cheek_profile();
  ColumnProtocol pr;
  for (int s = 0; s < 5; ++s) pr.session_times.push_back(s * 30.0 * 24.0);
  pr.end_time = (4 * 30 + 56) * 24.0 + 1.0;
  const double t = (4 * 30 + 56) * 24.0;
  const Params& open = p;
  // The unit cell has no layers above or below it: compare with isolated compartments.
  ColumnProtocol iso = pr;
  iso.exchange = false;
  const ColumnRun col = run_column(open, prof, iso);
  const UnitCellRun uc = run_unit_cell(p, baselines_from_profile(prof)[2], pr);
  const double mf = col.collagen_change(skin::Layer::PapillaryDermis, t);
  const double res = uc.collagen_at(t);
  RecordProperty("mean_field", std::to_string(mf));
  RecordProperty("resolved", std::to_string(res));
  EXPECT_NEAR(uc.cell_radius, 356.8, 0.1);
  // Not tuned: the resolved cell and the isolated mean field of the same equations give gains of
  // the same order (measured +117% resolved vs +93% mean field: with diffusion coupled to decay the
  // mediators are nearly uniform over the 357 um cell). The 3D engine, not the unit cell, is the
  // reference of the reduced model's closure (tests/cli/calibration_test.cpp).
  EXPECT_GT(res, 0.5 * mf);
  EXPECT_LT(res, 2.0 * mf);
  // The re-injured lumen has lost matrix; the wall and the rim have gained.
  EXPECT_LT(uc.final_collagen.front(), 0.0);
  const std::size_t wall = static_cast<std::size_t>(80.0 / 2.0);
  EXPECT_GT(uc.final_collagen[wall], 0.5 * uc.final_collagen.back());
}

}  // namespace
}  // namespace mnsim::healing
