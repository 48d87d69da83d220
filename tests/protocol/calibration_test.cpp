// Calibration files and the posterior sampler on the reduced model (protocol/calibration.hpp):
// the cases and parameters a file may name, the likelihood of a case's target, and a small run
// that is the same for any thread count.
#include "protocol/calibration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "support/files.hpp"

namespace {

using mnsim::InputError;
using mnsim::protocol::load_calibration;
using mnsim::protocol::ReducedModel;
using mnsim::test::write_temp_file;

// Two single-patient cases, two parameters, a few particles: a second or two.
const std::string kSmall =
    "seed = 4\n"
    "cases = [\"erythema\", \"barrier_recovery\"]\n"
    "[calibration]\nparticles = 16\nmoves = 1\nmax_generations = 8\n"
    "[[parameters]]\nkey = \"healing.inflammation.erythema_half\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n";

std::string error_of(const std::string& text) {
  const std::string f = write_temp_file("mnsim_calibration_bad.toml", text);
  try {
    (void)load_calibration(f);
  } catch (const InputError& e) {
    return e.line();
  }
  return "(no error)";
}

TEST(Calibration, ReadsTheFile) {
  const auto s = load_calibration(write_temp_file("mnsim_calibration_ok.toml", kSmall));
  ASSERT_EQ(s.cases.size(), 2u);
  EXPECT_EQ(s.validation.cases[s.cases[0]].id, "erythema");
  EXPECT_EQ(s.validation.cases[s.cases[1]].id, "barrier_recovery");
  ASSERT_EQ(s.parameters.size(), 2u);
  EXPECT_TRUE(s.parameters[0].log);
  EXPECT_EQ(s.smc.particles, 16u);
  EXPECT_EQ(s.smc.seed, 4u);
  EXPECT_EQ(mnsim::protocol::calibration_max_evaluations(s), 16u * (1 + 8));
}

TEST(Calibration, DefaultCasesAreEveryCalibrationCaseNeverACheck) {
  const auto s = load_calibration(write_temp_file(
      "mnsim_calibration_all.toml",
      "[calibration]\n[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n"));
  ASSERT_FALSE(s.cases.empty());
  for (std::size_t i : s.cases) {
    EXPECT_TRUE(s.validation.cases[i].calibration) << s.validation.cases[i].id;
    EXPECT_TRUE(s.validation.cases[i].target.has_value()) << s.validation.cases[i].id;
  }
  std::size_t calibration = 0;
  for (const auto& c : s.validation.cases) calibration += c.calibration ? 1 : 0;
  EXPECT_EQ(s.cases.size(), calibration);
}

TEST(Calibration, RefusesChecksAndUncalibratedParameters) {
  const std::string params = "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n";
  EXPECT_NE(error_of("cases = [\"majid_grades\"]\n[calibration]\n" + params)
                .find("cases: 'majid_grades' is a check"),
            std::string::npos);
  EXPECT_NE(error_of("[calibration]\n[[parameters]]\nkey = \"healing.epidermis.melanin_rate\"\n")
                .find("parameters[0].key: healing.epidermis.melanin_rate is not a calibrated"),
            std::string::npos);
  // A calibrated value has no cited range: its prior must be stated.
  EXPECT_NE(error_of("[calibration]\n[[parameters]]\nkey = \"healing.barrier.seal_rate\"\n")
                .find("is calibrated (not assumed)"),
            std::string::npos);
  EXPECT_NE(error_of("cases = [\"erythema\", \"erythema\"]\n[calibration]\n" + params)
                .find("1:22: cases: 'erythema' is listed twice"),
            std::string::npos);
  EXPECT_NE(error_of("[calibration]\nparticles = 5\n" + params).find("calibration.particles"),
            std::string::npos);
  EXPECT_NE(error_of("[calibration]\n").find("parameters"), std::string::npos);
}

TEST(Calibration, TargetScoresTheDistanceOutsideItsInterval) {
  mnsim::protocol::CaseTarget t;
  t.low = 10;
  t.high = 20;
  t.sd = 2;
  EXPECT_EQ(t.z(15), 0.0);
  EXPECT_EQ(t.z(24), 2.0);
  EXPECT_EQ(t.z(7), 1.5);
  t.high = std::numeric_limits<double>::infinity();  // one-sided: at least 10
  EXPECT_EQ(t.z(1e6), 0.0);
  EXPECT_EQ(t.z(8), 1.0);
}

TEST(Calibration, SmallRunIsTheSameForAnyThreadCount) {
  const auto s = load_calibration(write_temp_file("mnsim_calibration_run.toml", kSmall));
  const ReducedModel m = ReducedModel::load_default();
  const auto one = mnsim::protocol::run_calibration(m, s, 1);
  const auto two = mnsim::protocol::run_calibration(m, s, 2);
  ASSERT_TRUE(one.smc.complete);
  EXPECT_EQ(one.values, two.values);
  EXPECT_EQ(one.smc.evaluations, two.smc.evaluations);
  ASSERT_EQ(one.values.size(), 16u);
  // Every particle lies inside its prior range, and its predictions are the model's there.
  for (std::size_t i = 0; i < one.values.size(); ++i) {
    for (std::size_t a = 0; a < 2; ++a) {
      EXPECT_GE(one.values[i][a], s.parameters[a].low * (1 - 1e-12));
      EXPECT_LE(one.values[i][a], s.parameters[a].high * (1 + 1e-12));
    }
  }
  const auto p0 = mnsim::protocol::calibration_predictions(m, s, one.values[0]);
  EXPECT_EQ(p0, one.smc.evaluated[0].outputs);
  EXPECT_DOUBLE_EQ(mnsim::protocol::calibration_log_likelihood(s, p0),
                   one.smc.evaluated[0].log_likelihood);
  // The shipped values were fitted to these cases: inside both targets' intervals or close.
  EXPECT_GT(mnsim::protocol::calibration_log_likelihood(s, one.shipped_predictions), -2.0);
  ASSERT_EQ(one.correlation.size(), 2u);
  EXPECT_DOUBLE_EQ(one.correlation[0][0], 1.0);
}

TEST(Calibration, JsonAndCsvCarryTheSample) {
  const auto s = load_calibration(write_temp_file("mnsim_calibration_out.toml", kSmall));
  const auto r = mnsim::protocol::run_calibration(ReducedModel::load_default(), s, 2);
  const std::string csv = mnsim::protocol::calibration_csv(s, r);
  EXPECT_EQ(csv.rfind("particle,healing.inflammation.erythema_half,healing.barrier.seal_rate,"
                      "log_likelihood,erythema,barrier_recovery\n",
                      0),
            0u);
  std::size_t lines = 0;
  for (char c : csv) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 17u);
  const std::string json = mnsim::protocol::calibration_json(s, r, {});
  EXPECT_NE(json.find("\"generations\""), std::string::npos);
  EXPECT_NE(json.find("\"fitted_to\": [\n        \"erythema\""), std::string::npos);
}

}  // namespace
