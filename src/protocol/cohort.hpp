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
#include "lesions/registry.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::protocol {

/// Root schema of a COHORT.toml file.
const schema::Key& cohort_schema();
/// The [protocol] table shared by cohort and planner files.
schema::Key reduced_protocol_schema();
/// Reads a validated [protocol] table.
ReducedProtocol read_reduced_protocol(const Table& t);

/// Who is treated. scar_means: mean counts (Poisson) of each inventory class, in
/// lesions::inventory_classes() order (icepick, boxcar_shallow, boxcar_deep, rolling, striae,
/// wrinkle, then any registered kind's classes).
struct Population {
  long long size = 100;
  double age_mean = 30, age_sd = 8, age_min = 18, age_max = 65;  // years
  double female_fraction = 0.5;
  std::array<double, 6> fitzpatrick_weights{0, 0, 1, 0, 0, 0};
  std::vector<std::pair<std::string, double>> sites{{"medial_cheek", 1.0}};
  std::vector<double> scar_means = std::vector<double>(lesions::inventory_classes().size());
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

/// The schema of a cohort file (docs/scenario.md and `mnsim catalog keys` are generated from it).
const schema::Key& cohort_schema();
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
  /// The needles reach past this patient's dermis (skin::past_dermis on the patient's profile,
  /// from the unlesioned surface: the rule of mnsim run and the planner).
  bool past_dermis = false;
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
  std::size_t past_dermis_patients = 0;  // patients with PatientRow::past_dermis
  double past_dermis_fraction = 0;       // their share
};

/// Simulates every patient (OpenMP over patients; `threads` <= 0: the default).
CohortResult run_cohort(const ReducedModel& m, const CohortSpec& c, int threads = 0);

/// A cohort run into the output folder OUT (io::OutputFolder: locked while it runs, results
/// committed together): it records finished patients in OUT/checkpoint/patients.rec
/// (append-only, one checksummed record per patient, flushed at least every half second), so a
/// killed cohort resumes without redoing them (docs/reliability.md), and writes OUT/cohort.json
/// and OUT/patients.csv at the end.
struct CohortRunOptions {
  int threads = 0;
  std::filesystem::path out_dir;  // the output folder
  bool resume = false;            // keep the patients recorded there (none: start over)
  bool force = false;             // a foreign non-empty folder, or discard a checkpoint
};
struct CohortRun {
  CohortResult result;
  std::size_t resumed_patients = 0;  // taken from the checkpoint, not simulated again
};
/// Throws InputError for a damaged checkpoint or one of another cohort or build (exit 2), and
/// for a checkpoint in OUT without `resume` or `force`.
CohortRun run_cohort(const ReducedModel& m, const CohortSpec& c, const CohortRunOptions& o);
/// Key of a cohort's checkpoint: the cohort's settings and the mnsim build.
std::uint64_t cohort_checkpoint_key(const CohortSpec& c);
/// Parses a patients.rec file: the recorded outcomes by patient index (PIH draw included). A torn
/// last record (a kill during an append) is dropped and `valid_bytes` says where the intact
/// records end; anything else damaged is an InputError naming `file`.
struct PatientRecord {
  std::uint64_t index = 0;
  PatientOutcome outcome;
  bool pih = false;
};
std::vector<PatientRecord> decode_patient_records(std::string_view bytes, const std::string& file,
                                                  std::uint64_t key, std::uint64_t patients,
                                                  std::size_t* valid_bytes = nullptr);

/// DIR/cohort.json text (keys of docs/cohort.md).
std::string cohort_json(const CohortResult& r);
/// DIR/patients.csv text.
std::string patients_csv(const CohortResult& r);

}  // namespace mnsim::protocol
