// `mnsim validate`: the shipped reference cases (data/validation.toml: the clinical studies the
// model was calibrated to or is checked against, docs/references.md, and the physiology checks of
// the healing model) evaluated on the reduced model, each with its published value, predicted
// value, tolerance window and pass/fail.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "protocol/cohort.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::protocol {

/// Root schema of a validation file.
const schema::Key& validation_schema();

/// The published figure of a calibration case as the likelihood of `mnsim calibrate` reads it
/// (docs/calibration.md, "Likelihood"): an interval [low, high] of the metric (low = high: one
/// value; an infinite bound: a one-sided figure) and a scale `sd` (the study's SD or CI, or a
/// stated one; `basis` says which). A prediction p scores z = (how far p lies outside the
/// interval) / sd and adds -z^2 / 2 to the log-likelihood.
struct CaseTarget {
  double low = 0, high = 0, sd = 1;
  std::string basis;
  double z(double predicted) const;
};

struct ValidationCase {
  std::string id, reference, published, tolerance, metric;
  /// A calibration case: parameters were fitted to it (`fitted`: data entries "file:path", each
  /// marked calibrated and naming this case); it shows the fit still holds. Otherwise a check:
  /// no parameter was fitted to it.
  bool calibration = false;
  std::vector<std::string> fitted;
  std::optional<CaseTarget> target;  // calibration cases: the figure as a likelihood
  std::string note;                  // caveat printed under the table
  double low = 0, high = 0;          // pass window of the predicted value (metric units)
  ReducedProtocol protocol;
  PatientSpec patient;                    // single-patient metrics
  std::vector<std::string> scar_classes;  // depth_reduction_pct: one scar of each (mid-range)
  long long cohort_size = 0;              // cohort metrics
  int fitzpatrick_max = 6;                // cohort metrics: only these types counted (pih)
  std::optional<CohortSpec> cohort;       // cohort metrics: the case's own population, if any
};

struct ValidationSet {
  std::vector<ValidationCase> cases;
  CohortSpec cohort;  // default population of the cohort metrics (file named by `cohort`)
};

/// The schema of a validation file (docs/scenario.md, `mnsim catalog keys`).
const schema::Key& validation_schema();
ValidationSet load_validation(const std::string& path);

/// Every data entry of the data folder marked calibrated (source starting "calibrated"), as
/// "file:dotted.path" -> its source text (validation files not included).
const std::map<std::string, std::string>& calibrated_entries();
/// validation.toml in the data folder (core/data_dir.hpp).
std::string default_validation_path();

/// A scar of an inventory class at the middle of its data/lesions.toml ranges.
outcomes::ScarGeometry mid_range_scar(const std::string& inventory_class);

struct ValidationRow {
  const ValidationCase* c = nullptr;
  double predicted = 0;
  bool pass = false;
};
/// Evaluates a single case.
double evaluate_case(const ReducedModel& m, const ValidationSet& set, const ValidationCase& c,
                     int threads = 0);
/// The simulated cohort of a cohort case (cohort_size patients of its population, its protocol
/// as the one arm): what evaluate_case reads its metric from.
CohortResult run_case_cohort(const ReducedModel& m, const ValidationSet& set,
                             const ValidationCase& c, int threads = 0);
/// A pih_incidence_pct case's prediction from its simulated cohort `cr` (run_case_cohort, with
/// any model) as the model `m` gives it: each patient's PIH risk recomputed with m's PIH
/// threshold and spread from its melanin peak (outcomes::pih_risk) and its event drawn again
/// from its own stream (cohort_pih_event). The threshold and spread are read only there, so this
/// is bit for bit evaluate_case(m, ...) whenever the cohort was run with m's other values.
double pih_incidence_with(const ReducedModel& m, const ValidationSet& set, const ValidationCase& c,
                          const CohortResult& cr);
std::vector<ValidationRow> run_validation(const ReducedModel& m, const ValidationSet& set,
                                          int threads = 0);
/// The printed table: reference, published, predicted, tolerance, pass/fail.
std::string validation_table(const std::vector<ValidationRow>& rows);

}  // namespace mnsim::protocol
