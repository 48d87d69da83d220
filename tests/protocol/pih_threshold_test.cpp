// The PIH threshold's posterior factorises from the other calibrated parameters'
// (docs/calibration.md, "The PIH threshold"): the PIH cohort case pih_fitzpatrick_1_4 does not
// move with collagen_synthesis, thickening_rate, erythema_half or seal_rate at either end of
// their priors (every patient's melanin peak, risk and event bit for bit), and the four
// single-patient cases do not move with mu_threshold; the incidence recomputed from one cohort
// for another threshold is bit for bit the full evaluation.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/calibration.hpp"
#include "protocol/sensitivity.hpp"
#include "protocol/validate.hpp"
#include "support/files.hpp"

namespace mnsim::protocol {
namespace {

// The five calibration cases and their five parameters, as a calibration file names them.
const char* kAll =
    "seed = 3\n[calibration]\nparticles = 10\n"
    "[[parameters]]\nkey = \"healing.matrix.collagen_synthesis\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.epidermis.thickening_rate\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.inflammation.erythema_half\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"outcomes.pih.mu_threshold\"\nfactor = 2\n";

constexpr std::size_t kPatients = 12;  // of the case's 200, for a short test

struct PihCase {
  CalibrationSpec spec;
  std::size_t pih = 0;  // index in spec.cases
  std::size_t mu = 0;   // index in spec.parameters
  ReducedModel model = ReducedModel::load_default();
  std::vector<double> nominal;
  const ValidationCase& pih_case() const { return spec.validation.cases[spec.cases[pih]]; }
};

PihCase make_setup() {
  PihCase s;
  s.spec = load_calibration(test::write_temp_file("mnsim_pih_factor.toml", kAll));
  EXPECT_EQ(s.spec.cases.size(), 5u);  // every calibration case
  for (std::size_t j = 0; j < s.spec.cases.size(); ++j) {
    auto& c = s.spec.validation.cases[s.spec.cases[j]];
    if (c.metric == "pih_incidence_pct") {
      s.pih = j;
      c.cohort_size = kPatients;
    }
  }
  EXPECT_EQ(s.pih_case().id, "pih_fitzpatrick_1_4");
  for (std::size_t a = 0; a < s.spec.parameters.size(); ++a) {
    s.nominal.push_back(s.spec.parameters[a].nominal);
    if (s.spec.parameters[a].key == "outcomes.pih.mu_threshold") s.mu = a;
  }
  return s;
}

/// Every patient's melanin peak, PIH risk and event, bit for bit.
void expect_same_rows(const CohortResult& a, const CohortResult& b, const std::string& what) {
  const auto& ra = a.arms.front().rows;
  const auto& rb = b.arms.front().rows;
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].outcome.melanin_peak, rb[i].outcome.melanin_peak) << what << " patient " << i;
    EXPECT_EQ(ra[i].outcome.pih_risk, rb[i].outcome.pih_risk) << what << " patient " << i;
    EXPECT_EQ(ra[i].pih, rb[i].pih) << what << " patient " << i;
  }
}

TEST(PihThreshold, CohortCaseIgnoresTheOtherCalibratedParameters) {
  const PihCase s = make_setup();
  const CohortResult base = run_case_cohort(with_values(s.model, s.spec.parameters, s.nominal),
                                            s.spec.validation, s.pih_case(), 2);
  ASSERT_EQ(base.arms.front().rows.size(), kPatients);
  for (std::size_t a = 0; a < s.spec.parameters.size(); ++a) {
    if (a == s.mu) continue;
    const auto& p = s.spec.parameters[a];
    for (double v : {p.low, p.high}) {
      std::vector<double> x = s.nominal;
      x[a] = v;
      expect_same_rows(base,
                       run_case_cohort(with_values(s.model, s.spec.parameters, x),
                                       s.spec.validation, s.pih_case(), 2),
                       p.key + " at " + std::to_string(v));
    }
  }
  // The comparison sees a change where there is one: the melanin rate (assumed, not calibrated)
  // moves every treated patient's peak.
  ReducedModel faster = with_values(s.model, s.spec.parameters, s.nominal);
  faster.params.melanin_rate *= 2.0;
  const CohortResult moved = run_case_cohort(faster, s.spec.validation, s.pih_case(), 2);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < kPatients; ++i) {
    changed += moved.arms.front().rows[i].outcome.melanin_peak !=
               base.arms.front().rows[i].outcome.melanin_peak;
  }
  EXPECT_GT(changed, kPatients / 2);
}

TEST(PihThreshold, SinglePatientCasesIgnoreTheThreshold) {
  const PihCase s = make_setup();
  const auto& mu = s.spec.parameters[s.mu];
  for (std::size_t j = 0; j < s.spec.cases.size(); ++j) {
    if (j == s.pih) continue;
    const ValidationCase& c = s.spec.validation.cases[s.spec.cases[j]];
    const double at =
        evaluate_case(with_values(s.model, s.spec.parameters, s.nominal), s.spec.validation, c, 1);
    for (double v : {mu.low, mu.high}) {
      std::vector<double> x = s.nominal;
      x[s.mu] = v;
      EXPECT_EQ(evaluate_case(with_values(s.model, s.spec.parameters, x), s.spec.validation, c, 1),
                at)
          << c.id << " with mu_threshold " << v;
    }
  }
}

TEST(PihThreshold, IncidenceFromOneCohortIsTheFullEvaluation) {
  const PihCase s = make_setup();
  const std::vector<SensitivityParameter> mu{s.spec.parameters[s.mu]};
  const CohortResult cohort = run_case_cohort(s.model, s.spec.validation, s.pih_case(), 2);
  std::vector<double> seen;
  // Far below the prior too, where most patients of the case have PIH.
  for (double v : {0.002, 0.01, 0.03, 0.1, mu[0].low, mu[0].nominal, mu[0].high}) {
    const ReducedModel m = with_values(s.model, mu, {v});
    const double fast = pih_incidence_with(m, s.spec.validation, s.pih_case(), cohort);
    EXPECT_EQ(fast, evaluate_case(m, s.spec.validation, s.pih_case(), 2)) << v;
    seen.push_back(fast);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_GE(std::unique(seen.begin(), seen.end()) - seen.begin(), 3);
  // Only a calibration of the threshold alone reads the cohorts once.
  CalibrationSpec alone = s.spec;
  alone.parameters = mu;
  const CaseCohorts once = threshold_case_cohorts(s.model, alone, 2);
  ASSERT_EQ(once.by_case.size(), alone.cases.size());
  EXPECT_TRUE(once.by_case[s.pih].has_value());
  EXPECT_FALSE(once.by_case[(s.pih + 1) % alone.cases.size()].has_value());
  EXPECT_TRUE(threshold_case_cohorts(s.model, s.spec, 2).by_case.empty());
  EXPECT_EQ(calibration_predictions(s.model, alone, {0.01}, &once),
            calibration_predictions(s.model, alone, {0.01}));
}

}  // namespace
}  // namespace mnsim::protocol
