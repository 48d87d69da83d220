// Predictive bands (protocol/bands.hpp): resampling a weighted posterior sample, the quantiles of
// a band, the posterior sample file and its errors, and both bands of one patient (kept apart,
// independent of the thread count).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "protocol/bands.hpp"
#include "protocol/plan.hpp"

namespace {

using namespace mnsim;
using namespace mnsim::protocol;
namespace fs = std::filesystem;

TEST(Bands, SystematicResamplingKeepsTheWeights) {
  // Weights 0.8 / 0.1 / 0.1: 10 draws take 8, 1 and 1 for any uniform.
  for (double u : {0.0, 0.3, 0.99}) {
    const auto idx = resample_indices({0.8, 0.1, 0.1}, 10, u);
    std::map<std::size_t, int> n;
    for (std::size_t i : idx) ++n[i];
    EXPECT_EQ(n[0], 8) << u;
    EXPECT_EQ(n[1], 1) << u;
    EXPECT_EQ(n[2], 1) << u;
  }
  // Unnormalised weights 3 : 1 over 100 draws: 75 and 25.
  const auto idx = resample_indices({3.0, 1.0}, 100, 0.5);
  EXPECT_EQ(std::count(idx.begin(), idx.end(), 0u), 75);
}

TEST(Bands, QuantilesOfAKnownWeightedSample) {
  // Values 1, 2, 3 with weights 0.8, 0.1, 0.1, resampled to 1000 draws: 800 ones, 100 twos, 100
  // threes. Type-7 quantiles of that sample: p10 = p50 = 1; p90 at position 899.1 of 0..999
  // lies between the 900th value (2) and the 901st (3): 2.1.
  const std::vector<double> values{1.0, 2.0, 3.0};
  std::vector<double> drawn;
  for (std::size_t i : resample_indices({0.8, 0.1, 0.1}, 1000, 0.25)) drawn.push_back(values[i]);
  const Band b = band_of(drawn);
  EXPECT_EQ(b.draws, 1000);
  EXPECT_DOUBLE_EQ(b.p10, 1.0);
  EXPECT_DOUBLE_EQ(b.p50, 1.0);
  EXPECT_NEAR(b.p90, 2.1, 1e-12);
  EXPECT_FALSE(band_of({}).computed());
}

/// A posterior sample file with the given body after its [sample] header lines.
fs::path sample_file(const std::string& name, const std::string& rows,
                     const std::string& params =
                         "\"healing.matrix.collagen_synthesis\", "
                         "\"healing.barrier.seal_rate\"",
                     const std::string& units = "\"1/h\", \"1/h\"") {
  const fs::path p = fs::temp_directory_path() / ("mnsim_bands_" + name + ".toml");
  std::ofstream(p) << "[sample]\ncommand = \"test\"\nmade_with = \"test\"\nparameters = [" << params
                   << "]\nunits = [" << units << "]\nparticles = [\n"
                   << rows << "]\n";
  return p;
}

std::string load_error(const fs::path& p) {
  try {
    (void)load_posterior_sample(p.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Bands, PosteriorSampleFileIsReadAndNormalised) {
  const fs::path p = sample_file("ok", "  [3, 0.0009, 3.5],\n  [1, 0.0008, 4.0],\n");
  const PosteriorSample s = load_posterior_sample(p.string());
  ASSERT_EQ(s.parameters.size(), 2u);
  EXPECT_EQ(s.parameters[1].key, "healing.barrier.seal_rate");
  ASSERT_EQ(s.particles.size(), 2u);
  EXPECT_DOUBLE_EQ(s.weights[0], 0.75);
  EXPECT_DOUBLE_EQ(s.particles[1][1], 4.0);
  fs::remove(p);
}

TEST(Bands, BadPosteriorSampleLinesNameFileLineAndKey) {
  struct Case {
    const char* name;
    std::string rows, params, units, expect;
  };
  const std::string cs = "\"healing.matrix.collagen_synthesis\", \"healing.barrier.seal_rate\"";
  const std::string u = "\"1/h\", \"1/h\"";
  const std::vector<Case> cases{
      {"short_row", "  [1, 0.0009, 3.5],\n  [1, 0.0009],\n", cs, u,
       ":8:3: sample.particles: holds a row of 2 numbers"},
      {"negative_weight", "  [-1, 0.0009, 3.5],\n", cs, u,
       ":7:4: sample.particles: weight -1 is not allowed"},
      {"text_value", "  [1, \"fast\", 3.5],\n", cs, u, ":7:7: sample.particles: is not a number"},
      {"out_of_range", "  [1, 0.0009, -3.5],\n", cs, u,
       "sample.particles: healing.barrier.seal_rate = -3.5 is out of range"},
      {"no_weight", "  [0, 0.0009, 3.5],\n", cs, u, "sample.particles: has no weight"},
      {"unknown_key", "  [1, 0.0009, 3.5],\n",
       "\"healing.matrix.collagen_synthesis\", \"healing.barrier.seal_speed\"", u,
       ":4:52: sample.parameters: \"healing.barrier.seal_speed\" is not a model parameter"},
      {"not_calibrated", "  [1, 0.0009, 3.5],\n",
       "\"healing.matrix.collagen_synthesis\", \"healing.matrix.collagen_turnover\"", u,
       "is not a calibrated parameter"},
      {"wrong_unit", "  [1, 0.0009, 3.5],\n", cs, "\"1/h\", \"1/s\"",
       ":5:17: sample.units: \"1/s\" is not the unit of healing.barrier.seal_rate"},
      {"twice", "  [1, 0.0009, 0.0009],\n",
       "\"healing.matrix.collagen_synthesis\", \"healing.matrix.collagen_synthesis\"", u,
       "is given twice"},
  };
  for (const Case& c : cases) {
    const fs::path p = sample_file(c.name, c.rows, c.params, c.units);
    const std::string err = load_error(p);
    EXPECT_NE(err.find(p.string()), std::string::npos) << c.name << ": " << err;
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.name << ": " << err;
    fs::remove(p);
  }
}

TEST(Bands, ShippedPosteriorSampleIsTheCalibratedParameters) {
  const PosteriorSample& s = default_posterior_sample();
  EXPECT_EQ(s.particles.size(), 128u);  // example 11's particles, each with one of example 14's
  // Example 11's four calibrated parameters and example 14's PIH threshold, the posterior's
  // independent factor (docs/calibration.md, "The PIH threshold").
  ASSERT_EQ(s.parameters.size(), 5u);
  for (const auto& p : s.parameters) {
    EXPECT_EQ(p.value_source.rfind("calibrated", 0), 0u) << p.key;
  }
  EXPECT_EQ(s.parameters.back().key, "outcomes.pih.mu_threshold");
  EXPECT_NE(s.command.find("examples/11_calibrate.toml"), std::string::npos);
  EXPECT_NE(s.command.find("examples/14_calibrate_pih.toml"), std::string::npos);
}

/// A cheap course: one 0.5 mm roller session, one week of follow-up, one rolling scar.
PatientSpec patient() {
  static const PatientSpec pt =
      read_plan_patient(parse_scenario_text("[patient]\nsite = \"medial_cheek\"\n[inventory]\n"
                                            "rolling = 1\n",
                                            "patient.toml", plan_schema(),
                                            "a TOML planner patient file"))
          .spec;
  return pt;
}
ReducedProtocol course() {
  ReducedProtocol pr;
  pr.needle_length = 0.5e-3;
  pr.passes = 8;
  pr.sessions = 1;
  pr.follow_up = 1 * kWeek;
  return pr;
}

TEST(Bands, BothBandsKeptApartAndIndependentOfThreads) {
  const ReducedModel m = ReducedModel::load_default();
  BandSettings s;
  s.posterior_draws = 6;
  s.variability_draws = 6;
  s.seed = 3;
  const BandDesign d(m, default_posterior_sample(), s);
  ASSERT_EQ(d.size(), 12u);
  // A posterior draw runs at nominal rates with drawn parameters; a variability draw at the
  // shipped parameters with drawn rates (the planner's replicates: draw_rates).
  EXPECT_TRUE(d.is_posterior(5));
  EXPECT_EQ(d.rates(0).collagen_synthesis, 1.0);
  EXPECT_NE(d.model(0).params.collagen_synthesis, m.params.collagen_synthesis);
  EXPECT_EQ(&d.model(7), &m);
  EXPECT_EQ(d.rates(7).collagen_synthesis, draw_rates(s.variability, 3, 1).collagen_synthesis);
  const auto f = [&](const ReducedModel& model, const RateFactors& rf) {
    const PatientOutcome o = model.simulate(patient(), course(), rf);
    return std::vector<double>{o.depth_reduction_pct, 100.0 * o.papillary_collagen_change};
  };
  const PredictiveBands one = predictive_bands(d, {"depth", "collagen"}, f, 1);
  const PredictiveBands two = predictive_bands(d, {"depth", "collagen"}, f, 2);
  ASSERT_EQ(one.parameter.size(), 2u);
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_EQ(one.parameter[j].p10, two.parameter[j].p10);
    EXPECT_EQ(one.parameter[j].p90, two.parameter[j].p90);
    EXPECT_EQ(one.variability[j].p10, two.variability[j].p10);
    EXPECT_EQ(one.variability[j].p90, two.variability[j].p90);
    EXPECT_LE(one.parameter[j].p10, one.parameter[j].p50);
    EXPECT_LE(one.parameter[j].p50, one.parameter[j].p90);
    EXPECT_EQ(one.parameter[j].draws, 6);
  }
  // Both bands have a spread, and they are different bands.
  EXPECT_GT(one.parameter[1].p90 - one.parameter[1].p10, 0.0);
  EXPECT_GT(one.variability[1].p90 - one.variability[1].p10, 0.0);
  EXPECT_NE(one.parameter[1].p10, one.variability[1].p10);
  EXPECT_EQ(one.evaluations, 12u);
  EXPECT_GT(one.cpu_seconds, 0.0);
  // The variability band is the one the planner's replicates gave: the same draws.
  std::vector<double> rep;
  for (std::uint64_t r = 0; r < 6; ++r) {
    rep.push_back(
        100.0 *
        m.simulate(patient(), course(), draw_rates(s.variability, 3, r)).papillary_collagen_change);
  }
  EXPECT_EQ(band_of(rep).p90, one.variability[1].p90);
  // No draws: no band.
  BandSettings none = s;
  none.posterior_draws = 0;
  const BandDesign only(m, default_posterior_sample(), none);
  EXPECT_FALSE(predictive_bands(only, {"depth", "collagen"}, f, 1).parameter[0].computed());
}

}  // namespace
