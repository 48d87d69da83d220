// Virtual cohorts (docs/cohort.md): a population (size; distributions of age, sex, Fitzpatrick
// type, site, scar inventory; between-patient variability of key biological rates) treated with
// one protocol, each patient simulated with the reduced model (protocol/reduced.hpp).
// Patient i draws everything from Rng(seed, kStreamCohort, i) and Rng(seed, kStreamVariability, i),
// so results do not depend on threads or order.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::protocol {

/// Root schema of a COHORT.toml file.
const schema::Key& cohort_schema();
/// The [protocol] table shared by cohort and planner files.
schema::Key reduced_protocol_schema();
/// Reads a validated [protocol] table.
ReducedProtocol read_reduced_protocol(const Table& t);

/// Mean counts (Poisson) of each scar class of the inventory, in lesions::kInventoryClasses order
/// (icepick, boxcar_shallow, boxcar_deep, rolling, striae, wrinkle).
struct Population {
  long long size = 100;
  double age_mean = 30, age_sd = 8, age_min = 18, age_max = 65;  // years
  double female_fraction = 0.5;
  std::array<double, 6> fitzpatrick_weights{0, 0, 1, 0, 0, 0};
  std::vector<std::pair<std::string, double>> sites{{"medial_cheek", 1.0}};
  std::array<double, 6> scar_means{};
  int min_baseline_grade = 0;  // inclusion criterion (qualitative grade), inventory redrawn
};

/// Lognormal SDs (of ln) of the rate multipliers.
struct Variability {
  double collagen_synthesis = 0.0, growth_factor_supply = 0.0, fibroblast_proliferation = 0.0,
         melanin_rate = 0.0;
};

struct CohortSpec {
  std::uint64_t seed = 1;
  Population population;
  Variability variability;
  ReducedProtocol protocol;
};

CohortSpec read_cohort(const Table& root);
CohortSpec load_cohort(const std::string& path);

/// One virtual patient as drawn (before simulation).
struct VirtualPatient {
  PatientSpec spec;
  RateFactors rates;
};
VirtualPatient draw_patient(const ReducedModel& m, const CohortSpec& c, std::uint64_t index);
/// Rate multipliers of replicate `index` (stream kStreamVariability).
RateFactors draw_rates(const Variability& v, std::uint64_t seed, std::uint64_t index);

struct PatientRow {
  VirtualPatient patient;
  PatientOutcome outcome;
  bool pih = false;  // drawn PIH event (Bernoulli with pih_risk)
};

struct Summary {
  double mean = 0, sd = 0;
};
struct CohortResult {
  std::vector<PatientRow> rows;
  Summary quant_before, quant_after, qual_before, qual_after;
  double improved_1_grade_fraction = 0, improved_2_grades_fraction = 0;
  double pih_incidence = 0, erythema_days_mean = 0, scar_depth_reduction_pct_mean = 0;
  double collagen_change_pct_mean = 0;
};

/// Simulates every patient (OpenMP over patients; `threads` <= 0: the default).
CohortResult run_cohort(const ReducedModel& m, const CohortSpec& c, int threads = 0);

/// DIR/cohort.json text (keys of docs/cohort.md).
std::string cohort_json(const CohortResult& r);
/// DIR/patients.csv text.
std::string patients_csv(const CohortResult& r);
/// Prepares DIR and writes cohort.json and patients.csv atomically.
void write_cohort(const CohortResult& r, const std::filesystem::path& dir, bool force);

}  // namespace mnsim::protocol
