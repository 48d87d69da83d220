// Sensitivity files and the evaluation of the reduced model at sampled parameters
// (protocol/sensitivity.hpp): ranges, errors, the mapping to the model, determinism.
#include "protocol/sensitivity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "healing/params.hpp"
#include "support/files.hpp"

namespace {

using mnsim::InputError;
using mnsim::protocol::load_sensitivity;
using mnsim::protocol::ReducedModel;
using mnsim::protocol::SensitivitySpec;
using mnsim::test::write_temp_file;

const std::string kExample =
    (std::filesystem::path(MNSIM_SOURCE_DIR) / "examples" / "09_sensitivity_acne.toml").string();

// A small, fast analysis: one boxcar scar, one session, four weeks.
const std::string kSmall =
    "seed = 3\n"
    "[patient]\nfitzpatrick = 3\n"
    "[inventory]\nboxcar_shallow = 1\n"
    "[protocol]\nneedle_length = \"1 mm\"\nsessions = 1\nfollow_up = \"4 weeks\"\n"
    "[sensitivity]\nmethod = \"morris\"\ntrajectories = 2\nlevels = 4\nbootstrap = 10\n"
    "outputs = [\"papillary_collagen_change_pct\", \"erythema_days\", \"pih_risk_pct\"]\n"
    "[[parameters]]\nkey = \"healing.matrix.collagen_synthesis\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.inflammation.macrophage_recruitment\"\n";

std::string error_of(const std::string& text) {
  const std::string f = write_temp_file("mnsim_sensitivity_bad.toml", text);
  try {
    (void)load_sensitivity(f);
  } catch (const InputError& e) {
    return e.line();
  }
  return "no error";
}

TEST(SensitivityFile, ParametersCoverHealingAndOutcomeKeys) {
  const auto& all = mnsim::protocol::sensitivity_parameters();
  EXPECT_EQ(all.size(), mnsim::healing::param_registry().size() + 5);
  const auto& c = all.at("healing.matrix.collagen_synthesis");
  EXPECT_DOUBLE_EQ(c.nominal, 8.7e-4);
  EXPECT_EQ(c.unit, "1/h");
  EXPECT_EQ(c.value_source.rfind("calibrated", 0), 0u);
  const auto& t = all.at("outcomes.remodel.tether_share");
  EXPECT_DOUBLE_EQ(t.nominal, 50.0);  // "50 %" in data/outcomes.toml
  EXPECT_EQ(t.unit, "%");
  EXPECT_DOUBLE_EQ(t.to_model, 0.01);
  const auto& b = all.at("outcomes.remodel.band_strength");
  EXPECT_DOUBLE_EQ(b.nominal, 21.6);  // "21.6 MPa"
  EXPECT_EQ(b.unit, "MPa");
  EXPECT_DOUBLE_EQ(all.at("outcomes.remodel.band_reform_half_time").nominal, 40.0);  // days
  EXPECT_EQ(all.count("outcomes.planner.erythema_cap"), 0u);  // not an input of the outputs
}

TEST(SensitivityFile, ShippedCitedRangesHoldTheDataFileValues) {
  const auto& ranges = mnsim::protocol::default_cited_ranges();
  EXPECT_GE(ranges.size(), 7u);
  const auto& all = mnsim::protocol::sensitivity_parameters();
  for (const auto& [key, r] : ranges) {
    const auto& p = all.at(key);
    EXPECT_LE(r.low, p.nominal) << key;
    EXPECT_GE(r.high, p.nominal) << key;
    EXPECT_EQ(p.value_source.rfind("assumed", 0), std::string::npos)
        << key << ": a cited range for a value its file calls assumed";
    EXPECT_FALSE(r.source.empty());
  }
  EXPECT_DOUBLE_EQ(ranges.at("healing.growth_factors.gf_diffusivity").low, 4.3e5);
}

TEST(SensitivityFile, BadRangesFileIsAnErrorAtTheKey) {
  auto error = [](const std::string& text) {
    const std::string f = write_temp_file("mnsim_ranges_bad.toml", text);
    try {
      (void)mnsim::protocol::load_cited_ranges(f);
    } catch (const InputError& e) {
      return e.line();
    }
    return std::string("no error");
  };
  const std::string head = "[\"healing.growth_factors\"]\n";
  EXPECT_NE(
      error(head + "gf_diffusion = { value = [\"1 um^2/h\", \"2 um^2/h\"], source = \"x\" }\n")
          .find(":2:16: healing.growth_factors.gf_diffusion: unknown parameter"),
      std::string::npos);
  EXPECT_NE(error(head + "gf_decay = { value = [\"1 1/s\", \"2 1/h\"], source = \"x\" }\n")
                .find("'1 1/s' is not in 1/h"),
            std::string::npos);
  EXPECT_NE(error(head + "gf_decay = { value = [\"2 1/h\", \"1 1/h\"], source = \"x\" }\n")
                .find("low is not below high"),
            std::string::npos);
}

TEST(SensitivityFile, ExampleResolvesEveryKindOfRange) {
  const SensitivitySpec s = load_sensitivity(kExample);
  EXPECT_EQ(s.method, mnsim::protocol::SensitivityMethod::Sobol);
  ASSERT_EQ(s.parameters.size(), 12u);
  EXPECT_EQ(mnsim::protocol::sensitivity_evaluations(s), s.samples * 14);
  for (const auto& p : s.parameters) {
    if (p.key == "healing.matrix.collagen_synthesis") {
      EXPECT_EQ(p.basis, "factor");
      EXPECT_TRUE(p.log);
      EXPECT_DOUBLE_EQ(p.low, 8.7e-4 / 1.5);
      EXPECT_DOUBLE_EQ(p.high, 8.7e-4 * 1.5);
    } else if (p.key == "healing.growth_factors.gf_macrophage") {
      EXPECT_EQ(p.basis, "assumed");
      EXPECT_DOUBLE_EQ(p.low, 0.25);
      EXPECT_DOUBLE_EQ(p.high, 1.0);
    } else if (p.key == "healing.matrix.packing_density") {
      EXPECT_EQ(p.basis, "range");
      EXPECT_FALSE(p.log);
      EXPECT_DOUBLE_EQ(p.at(0.5), 350.0);
    } else if (p.key == "healing.fibroblasts.fibroblast_motility") {
      EXPECT_EQ(p.basis, "cited");
      EXPECT_DOUBLE_EQ(p.low, 33.0);
      EXPECT_NE(p.range_source.find("Park"), std::string::npos);
    }
  }
}

TEST(SensitivityFile, BadInputIsOneErrorAtTheKey) {
  const std::string base =
      "[inventory]\nboxcar_shallow = 1\n[sensitivity]\nmethod = \"sobol\"\n[[parameters]]\n";
  // Unknown parameter, with a suggestion.
  EXPECT_NE(error_of(base + "key = \"healing.matrix.collagen_synthesys\"\n")
                .find(":6:7: parameters[0].key: unknown parameter "
                      "'healing.matrix.collagen_synthesys' (did you mean "
                      "'healing.matrix.collagen_synthesis'?)"),
            std::string::npos)
      << error_of(base + "key = \"healing.matrix.collagen_synthesys\"\n");
  // A calibrated value needs a stated range.
  EXPECT_NE(error_of(base + "key = \"healing.matrix.collagen_synthesis\"\n")
                .find("is calibrated (not assumed) and data/ranges.toml gives no cited range"),
            std::string::npos);
  // Ranges: two numbers, low below high, within what the data file accepts.
  EXPECT_NE(error_of(base + "key = \"healing.matrix.collagen_synthesis\"\nrange = [1e-3]\n")
                .find(":7:9: parameters[0].range: has 1 items"),
            std::string::npos);
  EXPECT_NE(error_of(base + "key = \"healing.matrix.collagen_synthesis\"\nrange = [2e-3, 1e-3]\n")
                .find("low 0.002 is not below high 0.001"),
            std::string::npos);
  EXPECT_NE(error_of(base + "key = \"healing.matrix.collagen_synthesis\"\nrange = [\"1\", 2]\n")
                .find("item \"1\" is not a number"),
            std::string::npos);
  EXPECT_NE(error_of(base + "key = \"outcomes.remodel.tether_share\"\nrange = [20, 150]\n")
                .find("beyond what its data file accepts (a range within [0, 100] %)"),
            std::string::npos);
  // The default factor of an assumed value may not leave what the data file accepts
  // (matrix_loss = 1, at most 1).
  EXPECT_NE(error_of(base + "key = \"healing.injury.matrix_loss\"\n")
                .find(":6:7: parameters[0].key: healing.injury.matrix_loss is sampled over [0.5, "
                      "2], beyond what its data file accepts (a range within [0, 1])"),
            std::string::npos);
  EXPECT_NE(error_of(base + "key = \"healing.barrier.seal_rate\"\nfactor = 2\nrange = [1, 2]\n")
                .find("parameters[0].factor: is given with range"),
            std::string::npos);
  EXPECT_NE(error_of(base + "key = \"healing.barrier.seal_rate\"\nfactor = 2\n[[parameters]]\n"
                            "key = \"healing.barrier.seal_rate\"\nfactor = 3\n")
                .find("parameters[1].key: 'healing.barrier.seal_rate' is named twice"),
            std::string::npos);
  // Unknown output (the schema's list), a setting of the other method, odd levels.
  const std::string p = "key = \"healing.barrier.seal_rate\"\nfactor = 2\n";
  EXPECT_NE(error_of("[inventory]\nboxcar_shallow = 1\n[sensitivity]\nmethod = \"sobol\"\n"
                     "outputs = [\"scar_depth\"]\n[[parameters]]\n" +
                     p)
                .find(":5:"),
            std::string::npos);
  EXPECT_NE(error_of("[inventory]\nboxcar_shallow = 1\n[sensitivity]\nmethod = \"sobol\"\n"
                     "trajectories = 5\n[[parameters]]\n" +
                     p)
                .find("sensitivity.trajectories: is a Morris setting, but method is sobol"),
            std::string::npos);
  EXPECT_NE(error_of("[inventory]\nboxcar_shallow = 1\n[sensitivity]\nmethod = \"morris\"\n"
                     "levels = 5\n[[parameters]]\n" +
                     p)
                .find("sensitivity.levels: 5 is odd"),
            std::string::npos);
  EXPECT_NE(error_of("[inventory]\nboxcar_shallow = 1\n[sensitivity]\nmethod = \"morris\"\n")
                .find("no parameters are named"),
            std::string::npos);
  EXPECT_NE(error_of("[inventory]\nboxcar_shallow = 1\n[protocol]\n[[protocol.session_counts]]\n"
                     "sessions = 2\n[sensitivity]\nmethod = \"morris\"\n[[parameters]]\n" +
                     p)
                .find(":4:12: protocol.session_counts: unknown key 'session_counts'"),
            std::string::npos);
}

TEST(SensitivityModel, ValuesReachTheModel) {
  const ReducedModel base = ReducedModel::load_default();
  const auto& all = mnsim::protocol::sensitivity_parameters();
  const std::vector<mnsim::protocol::SensitivityParameter> ps{
      all.at("healing.matrix.collagen_synthesis"), all.at("outcomes.remodel.tether_share")};
  const ReducedModel m = mnsim::protocol::with_values(base, ps, {2e-3, 30.0});
  EXPECT_DOUBLE_EQ(m.params.collagen_synthesis, 2e-3);
  EXPECT_DOUBLE_EQ(m.outcome.tether_share, 0.3);
  EXPECT_DOUBLE_EQ(m.params.elastin_synthesis, base.params.elastin_synthesis);
  // One cache for every parameter set: keyed by what the channel healing reads.
  EXPECT_EQ(m.channels.get(), base.channels.get());
}

TEST(SensitivityModel, TheCentreOfALogRangeIsTheNominalModel) {
  // At u = 0.5 a factor range gives the data file's value: the evaluation is the model's own
  // prediction for the patient; at the top of the range collagen synthesis raises the gain.
  const SensitivitySpec s = load_sensitivity(write_temp_file("mnsim_sens_small.toml", kSmall));
  const ReducedModel base = ReducedModel::load_default();
  const auto y = mnsim::protocol::evaluate(base, s, {0.5, 0.5});
  const auto o = base.simulate(s.patient, s.protocol);
  EXPECT_NEAR(y[0], 100.0 * o.papillary_collagen_change, 1e-9 * std::abs(y[0]));
  EXPECT_NEAR(y[1], o.erythema_days, 1e-9 * std::abs(y[1]) + 1e-12);
  EXPECT_NEAR(y[2], 100.0 * o.pih_risk, 1e-9 * std::abs(y[2]) + 1e-12);
  const auto hi = mnsim::protocol::evaluate(base, s, {1.0, 0.5});
  EXPECT_GT(hi[0], 1.5 * y[0]);
}

TEST(SensitivityModel, EvaluationsDoNotDependOnThreadsOrShards) {
  const SensitivitySpec s = load_sensitivity(write_temp_file("mnsim_sens_small.toml", kSmall));
  const ReducedModel m = ReducedModel::load_default();
  const std::size_t n = mnsim::protocol::sensitivity_evaluations(s);
  ASSERT_EQ(n, 6u);
  const auto one = mnsim::protocol::evaluate_indices(m, s, 0, n, 1);
  const auto three = mnsim::protocol::evaluate_indices(m, s, 0, n, 3);
  EXPECT_EQ(one, three);  // bit for bit
  // Evaluations 2..4 alone (a shard) are the same rows.
  const auto part = mnsim::protocol::evaluate_indices(m, s, 2, 3, 2);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(part[i], one[2 + i]);
  EXPECT_THROW(mnsim::protocol::evaluate_indices(m, s, 4, 3), std::invalid_argument);
  const auto r1 = mnsim::protocol::sensitivity_indices(s, one);
  const auto r3 = mnsim::protocol::sensitivity_indices(s, three);
  EXPECT_EQ(mnsim::protocol::sensitivity_csv(s, r1), mnsim::protocol::sensitivity_csv(s, r3));
  // Collagen synthesis moves the papillary collagen gain; its mu* is the larger.
  EXPECT_GT(r1.outputs[0].morris.mu_star[0].value, r1.outputs[0].morris.mu_star[1].value);
}

}  // namespace
