// The scar remodelling link, PIH link and device stand-ins against hand calculations.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "support/files.hpp"

#include "outcomes/scar_remodel.hpp"

namespace mnsim::outcomes {
namespace {

skin::SkinProfile profile() {
  skin::SkinProfile p;
  p.thickness = {20e-6, 60e-6, 200e-6, 1000e-6, 500e-6};  // dermis 280 .. 1280 um
  return p;
}

TEST(ScarRemodel, NewMatrixThicknessBelowTheFloor) {
  const DermalGain g{0.5, 0.2};
  // Whole dermis: 0.5 * 200 + 0.2 * 1000 = 300 um.
  EXPECT_NEAR(new_matrix_thickness(profile(), g, 0.0), 300e-6, 1e-12);
  // Floor at 180 um: epidermis 80 um and papillary 200 um follow the floor (260 .. 460 um), the
  // reticular dermis is what is left above 1280 um: 0.5 * 200 + 0.2 * 820 = 264 um.
  EXPECT_NEAR(new_matrix_thickness(profile(), g, 180e-6), 264e-6, 1e-12);
  // Floor at 780 um: papillary 860 .. 1060, reticular 1060 .. 1280: 100 + 44 = 144 um.
  EXPECT_NEAR(new_matrix_thickness(profile(), g, 780e-6), 144e-6, 1e-12);
  // Floor at 1100 um: papillary 1180 .. 1280 only: 50 um.
  EXPECT_NEAR(new_matrix_thickness(profile(), g, 1100e-6), 50e-6, 1e-12);
  EXPECT_NEAR(new_matrix_thickness(profile(), g, 2e-3), 0.0, 1e-15);
}

TEST(ScarRemodel, DepthFollowsTheFloorAgainstTheRim) {
  OutcomeParams p;
  p.tether_share = 0.5;
  ScarGeometry s{"rolling", 300e-6, 5e-3, true, 2e-9};
  // Floor up 200 um, rim up 120 um: 80 um shallower; the band is intact (no release).
  RemodelInput in{200e-6, 120e-6, 1.0};
  RemodelResult r = remodel_scar(p, s, in);
  EXPECT_NEAR(r.fill, 80e-6, 1e-12);
  EXPECT_FALSE(r.band_failed);
  EXPECT_EQ(r.release, 0.0);
  EXPECT_NEAR(r.depth_after, 220e-6, 1e-12);
  EXPECT_NEAR(r.volume_after, 2e-9 * 220.0 / 300.0, 1e-20);
  // As long as the band holds it pulls the floor down by its share of the depth; once it has
  // failed (TetherState) that share is released.
  in.band_intact = 0.1;
  EXPECT_FALSE(remodel_scar(p, s, in).band_failed);
  in.band_failed = true;
  r = remodel_scar(p, s, in);
  EXPECT_TRUE(r.band_failed);
  EXPECT_NEAR(r.release, 150e-6, 1e-12);
  EXPECT_NEAR(r.depth_after, 70e-6, 1e-12);
  EXPECT_NEAR(r.reduction(), 230.0 / 300.0, 1e-12);
  // Untethered scars have no band to fail; a rim rising more than the floor deepens the scar;
  // never above the surface.
  s.tethered = false;
  EXPECT_FALSE(remodel_scar(p, s, in).band_failed);
  in = RemodelInput{50e-6, 120e-6, 1.0};
  EXPECT_NEAR(remodel_scar(p, s, in).depth_after, 370e-6, 1e-12);
  EXPECT_LT(remodel_scar(p, s, in).reduction(), 0.0);
  in = RemodelInput{1e-3, 0.0, 1.0};
  EXPECT_EQ(remodel_scar(p, s, in).depth_after, 0.0);
}

TEST(ScarRemodel, UniformGrowthDeepensEveryScarByTheSameShare) {
  // The same relative growth g of every dermal layer under and around: the rim has d more dermis
  // than the floor, so every scar deepens by g d (reduction -g), whatever its depth.
  const OutcomeParams p = default_outcome_params();
  const DermalGain g{0.5, 0.5};
  const auto prof = profile();
  auto reduction = [&](const ScarGeometry& s) {
    RemodelInput in{new_matrix_thickness(prof, g, s.depth), new_matrix_thickness(prof, g, 0), 1};
    return remodel_scar(p, s, in).reduction();
  };
  EXPECT_NEAR(reduction({"icepick", 1000e-6, 1e-3, false, 0}), -0.5, 1e-12);
  EXPECT_NEAR(reduction({"boxcar", 300e-6, 3e-3, false, 0}), -0.5, 1e-12);
}

TEST(ScarRemodel, BandCutFraction) {
  // 250 /cm^2 = 2.5e6 /m^2, r = 62.5 um: a = 0.030680; 5 sessions: 1 - (1 - a)^5.
  const double a = 2.5e6 * M_PI * 62.5e-6 * 62.5e-6;
  EXPECT_NEAR(band_cut_fraction(2.5e6, 62.5e-6, 5, true), 1 - std::pow(1 - a, 5), 1e-12);
  EXPECT_EQ(band_cut_fraction(2.5e6, 62.5e-6, 5, false), 0.0);
  EXPECT_EQ(band_cut_fraction(1e12, 62.5e-6, 1, true), 1.0);
}

TEST(TetherBand, LoadFromTheSkinCapacityFromCollagenStrength) {
  // Rolling scar 300 um deep, 5 mm wide, band radius 0.15 mm at 1.5 x the dermis's collagen, on
  // skin under 8.5 N/m with a dermis of small-strain modulus 62.5 kPa (nu 0.49) 1280 um deep.
  OutcomeParams p;
  p.tether_share = 0.5;
  p.band_strength = 21.6e6;
  skin::SkinProfile prof = profile();
  prof.tension = 8.5;
  ScarGeometry s{"rolling", 300e-6, 5e-3, true, 0.0};
  s.band_radius = 0.15e-3;
  s.band_collagen = 1.5;
  const BandMechanics m = band_mechanics(p, prof, 62.5e3, 0.49, s);
  const double t = 980e-6, R = 2.5e-3;
  const double D = 62.5e3 * t * t * t / (12 * (1 - 0.49 * 0.49));
  const double k = 2 * M_PI * 8.5 / std::log(R / 0.15e-3) + 16 * M_PI * D / (R * R);
  EXPECT_NEAR(m.stiffness, k, 1e-9 * k);
  EXPECT_NEAR(m.load, k * 150e-6, 1e-12);
  EXPECT_NEAR(m.capacity, 21.6e6 * 1.5 * M_PI * 0.15e-3 * 0.15e-3, 1e-9);
  // A band of measured strength is far stronger than its load: a needle course cannot release
  // it (docs/model.md "Scar remodelling").
  EXPECT_GT(m.safety(), 50.0);
  // No band: nothing carried, nothing to break.
  s.tethered = false;
  EXPECT_EQ(band_mechanics(p, prof, 62.5e3, 0.49, s).load, 0.0);
}

TEST(TetherBand, FailsWhenWhatIsLeftCannotCarryTheLoad) {
  OutcomeParams p;
  p.band_reform_half_time = 40 * kDay;
  const BandMechanics m{1.0, 10.0, 0.0};  // intact: 10 x the load
  // One session cutting 89% leaves 0.11 x 10 = 1.1 >= 1: holds; 91% leaves 0.9 < 1: fails.
  TetherState held = tether_session(p, {}, 0.0, 0.89, 1.0, m);
  EXPECT_FALSE(held.failed);
  EXPECT_NEAR(held.strength(), 0.11, 1e-12);
  TetherState broke = tether_session(p, {}, 0.0, 0.91, 1.0, m);
  EXPECT_TRUE(broke.failed);
  // Matrix degradation counts with the cut: 85% cut and half the scar matrix left fails.
  EXPECT_TRUE(tether_session(p, {}, 0.0, 0.85, 0.5, m).failed);
  EXPECT_FALSE(tether_session(p, {}, 0.0, 0.85, 1.0, m).failed);
  // A failed band stays failed, however long it heals or lightly the next session cuts.
  broke = tether_session(p, broke, 365 * kDay, 0.0, 1.0, m);
  EXPECT_TRUE(broke.failed);
}

TEST(TetherBand, CutsHealBetweenSessions) {
  OutcomeParams p;
  p.band_reform_half_time = 40 * kDay;
  // Half cut; one half-time later half of the cut share has re-formed: 0.5 + 0.25.
  TetherState s = tether_session(p, {}, 0.0, 0.5, 1.0, BandMechanics{0.0, 1.0, 0.0});
  EXPECT_NEAR(s.strength(), 0.5, 1e-12);
  EXPECT_NEAR(tether_at(p, s, 40 * kDay).strength(), 0.75, 1e-12);
  EXPECT_NEAR(tether_at(p, s, 80 * kDay).strength(), 0.875, 1e-12);
  EXPECT_EQ(tether_at(p, s, 40 * kDay).uncut, 0.5);  // the cut fibres themselves stay cut
  // The state carries across sessions: two sessions cutting half each, against a load that
  // needs 30% of the band. A day apart the second leaves 0.254: fails; 80 days apart the band
  // has healed to 0.875 and keeps 0.4375: holds.
  const BandMechanics m{3.0, 10.0, 0.0};
  TetherState close = tether_session(p, {}, 0.0, 0.5, 1.0, m);
  close = tether_session(p, close, 1 * kDay, 0.5, 1.0, m);
  EXPECT_TRUE(close.failed);
  TetherState apart = tether_session(p, {}, 0.0, 0.5, 1.0, m);
  apart = tether_session(p, apart, 80 * kDay, 0.5, 1.0, m);
  EXPECT_FALSE(apart.failed);
  EXPECT_NEAR(apart.strength(), 0.4375, 1e-12);
}

TEST(PihRisk, ThresholdOverALognormalResponse) {
  const OutcomeParams& p = default_outcome_params();
  // Half of the patients respond above the threshold; one SD of ln response: 84.13%.
  EXPECT_NEAR(pih_risk(p, p.pih_mu_threshold), 0.5, 1e-12);
  EXPECT_NEAR(pih_risk(p, p.pih_mu_threshold * std::exp(p.pih_spread)), 0.841345, 1e-6);
  EXPECT_NEAR(pih_risk(p, p.pih_mu_threshold * std::exp(-2 * p.pih_spread)), 0.0227501, 1e-6);
  EXPECT_LT(pih_risk(p, 0.01), pih_risk(p, 0.05));
  EXPECT_EQ(pih_risk(p, 0.0), 0.0);
}

}  // namespace
}  // namespace mnsim::outcomes

namespace mnsim::outcomes {
namespace {

TEST(OutcomeParams, MalformedDataIsAnInputErrorAtTheKey) {
  const std::string text = mnsim::test::slurp(default_outcome_params_path());
  const std::string key = "band_strength = { value = \"";
  const auto pos = text.find(key);
  ASSERT_NE(pos, std::string::npos);
  const auto end = text.find('"', pos + key.size());
  ASSERT_NE(end, std::string::npos);
  std::string bad = text;
  bad.replace(pos, end + 1 - pos, "band_strength = { value = \"0.7 N\"");
  const auto path = std::filesystem::temp_directory_path() / "mnsim_bad_outcomes.toml";
  std::ofstream(path) << bad;
  try {
    load_outcome_params(path.string());
    FAIL() << "accepted a band strength in newtons";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path.string() + ":"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("remodel.band_strength"), std::string::npos) << e.line();
  }
}

}  // namespace
}  // namespace mnsim::outcomes
