// The scar remodelling link, PIH link and device stand-ins against hand calculations.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  p.band_safety_factor = 2.0;
  ScarGeometry s{"rolling", 300e-6, 5e-3, true, 2e-9};
  // Floor up 200 um, rim up 120 um: 80 um shallower; the band is intact (no release).
  RemodelInput in{200e-6, 120e-6, 1.0};
  RemodelResult r = remodel_scar(p, s, in);
  EXPECT_NEAR(r.fill, 80e-6, 1e-12);
  EXPECT_FALSE(r.band_failed);
  EXPECT_EQ(r.release, 0.0);
  EXPECT_NEAR(r.depth_after, 220e-6, 1e-12);
  EXPECT_NEAR(r.volume_after, 2e-9 * 220.0 / 300.0, 1e-20);
  // The band holds while more than 1/2 of it is intact (safety factor 2), fails below.
  in.band_intact = 0.51;
  EXPECT_FALSE(remodel_scar(p, s, in).band_failed);
  in.band_intact = 0.49;
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
  const std::string key = "band_safety_factor = { value = \"";
  const auto pos = text.find(key);
  ASSERT_NE(pos, std::string::npos);
  const auto end = text.find('"', pos + key.size());
  ASSERT_NE(end, std::string::npos);
  std::string bad = text;
  bad.replace(pos, end + 1 - pos, "band_safety_factor = { value = \"0.7\"");
  const auto path = std::filesystem::temp_directory_path() / "mnsim_bad_outcomes.toml";
  std::ofstream(path) << bad;
  try {
    load_outcome_params(path.string());
    FAIL() << "accepted a safety factor of 0.7";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path.string() + ":"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("remodel.band_safety_factor"), std::string::npos) << e.line();
  }
}

}  // namespace
}  // namespace mnsim::outcomes
