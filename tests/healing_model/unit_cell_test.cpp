// Radial transport operators and the resolved unit cell versus the mean-field compartments.
#include <gtest/gtest.h>

#include <cmath>

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
