// protocol::assess_protocol (one given protocol checked by the planner's rules, with its band)
// and make_plan's stop token (`mnsim serve`'s time limit).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "core/cancel.hpp"
#include "core/scenario.hpp"
#include "protocol/plan.hpp"
#include "skin/atlas.hpp"

namespace {

using namespace mnsim;

protocol::PlanPatient patient() {
  return protocol::read_plan_patient(parse_scenario_text(
      "[patient]\nsite = \"medial_cheek\"\n[inventory]\nrolling = 2\n[search]\nreplicates = 5\n"
      "posterior_draws = 5\n"
      "follow_up = \"8 weeks\"\n",
      "patient.toml", protocol::plan_schema(), "a TOML planner patient file"));
}

protocol::ReducedProtocol roller(double length) {
  protocol::ReducedProtocol pr;
  pr.needle_length = length;
  pr.passes = 8;
  pr.sessions = 2;
  pr.follow_up = 8 * kWeek;
  return pr;
}

// [inventory] counts: the n scars of a class spread over its depth range at the quantiles
// (i + 1/2)/n (data/lesions.toml rolling 0.1-0.5 mm), no deeper than 90% of the skin (icepick
// 0.6-1.5 mm on the medial cheek's 0.94 mm of epidermis and dermis); one scar: the mid-range one.
TEST(PlanPatient, InventoryScarsAreSpreadOverTheirDepthRange) {
  const auto p = protocol::read_plan_patient(parse_scenario_text(
      "[patient]\nsite = \"medial_cheek\"\n[inventory]\nicepick = 3\nboxcar_shallow = 1\n"
      "rolling = 4\n",
      "patient.toml", protocol::plan_schema(), "a TOML planner patient file"));
  const auto& scars = p.spec.scars;
  ASSERT_EQ(scars.size(), 8u);
  const double skin =
      skin::default_atlas()
          .make_profile(p.spec.site, p.spec.age_years, p.spec.sex, p.spec.fitzpatrick)
          .top_of(skin::Layer::Hypodermis);
  ASSERT_LT(0.9 * skin, 1.35e-3);  // the deepest icepick is capped
  const double icepick[] = {0.75e-3, 1.05e-3, 1.35e-3};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(scars[i].kind, "icepick");
    EXPECT_NEAR(scars[i].depth, std::min(icepick[i], 0.9 * skin), 1e-9);
  }
  EXPECT_NEAR(scars[3].depth, 0.3e-3, 1e-9);  // the one shallow boxcar: mid-range
  const double rolling[] = {0.15e-3, 0.25e-3, 0.35e-3, 0.45e-3};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(scars[4 + i].kind, "rolling");
    EXPECT_NEAR(scars[4 + i].depth, rolling[i], 1e-9);
    EXPECT_NEAR(scars[4 + i].width, 5e-3, 1e-9);  // mid-range width
  }
}

TEST(AssessProtocol, FlagsNeedlesPastTheDermisYetShowsTheOutcome) {
  const auto m = protocol::ReducedModel::load_default();
  double pih = 0, ery = 0;
  // 2.5 mm roller needles on the medial cheek reach past its dermis (0.94 mm).
  const auto deep = protocol::assess_protocol(m, patient(), roller(2.5e-3), pih, ery, 2);
  EXPECT_FALSE(deep.feasible);
  EXPECT_EQ(deep.excluded, "past the dermis");
  EXPECT_GT(deep.nominal.deepest, 0.9e-3);
  EXPECT_EQ(deep.kind, "roller");
  EXPECT_EQ(deep.model, "roller_192_mf8");
  EXPECT_GT(pih, 0.0);
  EXPECT_GT(ery, 0.0);
  const auto ok = protocol::assess_protocol(m, patient(), roller(0.5e-3), pih, ery, 2);
  EXPECT_TRUE(ok.feasible) << ok.excluded;
  EXPECT_DOUBLE_EQ(ok.setting, 0.5e-3);
  EXPECT_EQ(ok.passes, 8);
  EXPECT_LE(ok.variability_band.p10, ok.variability_band.p90);
  EXPECT_LE(ok.parameter_band.p10, ok.parameter_band.p90);
  EXPECT_GT(ok.nominal.depth_reduction_pct, 0.0);
  // The same assessment with one thread: the band does not depend on threads.
  const auto one = protocol::assess_protocol(m, patient(), roller(0.5e-3), pih, ery, 1);
  EXPECT_EQ(one.variability_band.p10, ok.variability_band.p10);
  EXPECT_EQ(one.variability_band.p90, ok.variability_band.p90);
  EXPECT_EQ(one.parameter_band.p10, ok.parameter_band.p10);
  EXPECT_EQ(one.parameter_band.p90, ok.parameter_band.p90);
}

TEST(AssessProtocol, AStopRequestInterruptsPlanAndAssessment) {
  const auto m = protocol::ReducedModel::load_default();
  StopToken stop;
  stop.request(SIGTERM);
  EXPECT_THROW((void)protocol::make_plan(m, patient(), 2, nullptr, &stop), Interrupted);
  double pih = 0, ery = 0;
  EXPECT_THROW(
      (void)protocol::assess_protocol(m, patient(), roller(0.5e-3), pih, ery, 2, nullptr, &stop),
      Interrupted);
}

}  // namespace
