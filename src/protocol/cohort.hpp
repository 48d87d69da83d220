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

namespace mnsim {
class Ranks;
}

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
  /// Shares of the patients by the cause of their scars, in lesions::scar_cause_names() order
  /// (acne first: scar_means; the others: data/causes.toml). Empty: every patient's scars are
  /// scar_means (no [population.cause]).
  std::vector<double> cause_shares;
  /// Relative weights of Glogau photoageing types 1..4 (all 0: no photoageing baseline, nothing
  /// drawn). Types 1 and 2 have no wrinkles at rest (Glogau 1996): their wrinkle means are 0.
  std::array<double, 4> glogau_weights{};
  // Inclusion criteria on the baseline Goodman & Baron grades (inventory redrawn until met).
  int min_baseline_grade = 0, max_baseline_grade = 4;     // qualitative grade
  int min_baseline_score = 0, max_baseline_score = 1000;  // quantitative score
  // Where the inclusion criteria were written (messages when no inventory meets them).
  SourceLoc inclusion_loc{"<cohort>", 0, 0};
  std::string inclusion_key = "population";
};

/// Lognormal SDs (of ln) of the rate multipliers.
struct Variability {
  double collagen_synthesis = 0.0, growth_factor_supply = 0.0, fibroblast_proliferation = 0.0,
         melanin_rate = 0.0;
};

/// One arm of a cohort: a named protocol. Arms of one cohort treat the same virtual patients
/// (split-face: the same people, one protocol on each side).
struct Arm {
  std::string name = "protocol";
  ReducedProtocol protocol;
};

struct CohortSpec {
  std::uint64_t seed = 1;
  Population population;
  Variability variability;
  std::vector<Arm> arms{Arm{}};  // [protocol] (one arm), or [[arms]]
  /// [bands] posterior_draws: the parameter-uncertainty band of each arm's summary statistics
  /// (every patient simulated again at each posterior draw; 0: no band).
  int posterior_draws = 0;
};

/// The schema of a cohort file (docs/scenario.md and `mnsim catalog keys` are generated from it).
const schema::Key& cohort_schema();
CohortSpec read_cohort(const Table& root);
CohortSpec load_cohort(const std::string& path, const std::vector<Override>& overrides = {});

/// One virtual patient as drawn (before simulation).
struct VirtualPatient {
  PatientSpec spec;
  int cause = 0;  // index in lesions::scar_cause_names() of the cause of the scars (0: acne)
  RateFactors rates;
  double session_draw = 0.0;  // uniform [0, 1): picks the session count of every arm
};
/// Sessions a patient with `session_draw` receives under `pr` (ReducedProtocol::session_counts).
int patient_sessions(const ReducedProtocol& pr, double session_draw);
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
/// One predictive band of one output (protocol/bands.hpp): the 10th, 50th and 90th percentiles
/// over `draws` evaluations.
struct Band {
  int draws = 0;  // evaluations it is made of; 0: not computed
  double p10 = 0, p50 = 0, p90 = 0;
  bool computed() const { return draws > 0; }
};
/// Improvement categories of the mean scar depth reduction (%): < 25, 25-50, 50-75, >= 75
/// (the quartile scale of scar trials).
inline constexpr std::array<const char*, 4> kImprovementCategories{"<25%", "25-50%", "50-75%",
                                                                   ">=75%"};

/// An arm's outcomes at one time after the last session.
struct TimeSummary {
  double follow_up = 0;  // s after each patient's last session
  Summary quant_after, qual_after;
  std::array<double, 5> qual_after_fractions{};  // share of patients at qualitative grade 0..4
  double quant_after_p10 = 0, quant_after_p50 = 0, quant_after_p90 = 0;
  double improved_1_grade_fraction = 0, improved_2_grades_fraction = 0;
  std::array<double, 4> improvement_fractions{};  // kImprovementCategories
  double responder_fraction = 0;                  // scar depth reduced by at least 50%
  Summary scar_depth_reduction_pct;
  Summary papillary_collagen_change_pct, reticular_collagen_change_pct, dermal_collagen_change_pct;
  Summary papillary_elastin_change_pct, reticular_elastin_change_pct;
  Summary dermal_thickness_change_um, epidermal_thickness_change_pct;
};

/// PIH by Fitzpatrick type (drawn events).
struct PihByType {
  std::size_t patients = 0, events = 0;
  double risk_mean = 0;
};

/// One arm's patients and summaries.
struct ArmResult {
  std::string name;
  std::string protocol;  // ReducedProtocol::describe() of the arm's protocol
  std::vector<PatientRow> rows;
  Summary quant_before, qual_before;
  std::array<double, 5> qual_before_fractions{};
  Summary sessions;
  std::vector<TimeSummary> times;  // ReducedProtocol::outcome_times() order
  std::size_t headline = 0;        // index of follow_up in `times`
  // The headline time's values (times[headline]) for the common case.
  Summary quant_after, qual_after;
  double improved_1_grade_fraction = 0, improved_2_grades_fraction = 0;
  double scar_depth_reduction_pct_mean = 0, collagen_change_pct_mean = 0;
  // Over the course.
  double pih_incidence = 0;
  std::array<PihByType, 6> pih_by_fitzpatrick{};
  Summary erythema_days, barrier_hours;
  double erythema_days_mean = 0;
  std::size_t past_dermis_patients = 0;  // patients with PatientRow::past_dermis
  double past_dermis_fraction = 0;       // their share
  /// The parameter-uncertainty band of the headline summary statistics (cohort_band_statistics
  /// order), when CohortSpec::posterior_draws > 0: each statistic over the same patients
  /// simulated at each posterior draw.
  std::vector<Band> parameter_bands;
  /// Per [[protocol.application]] (in order): the agent, the dose applied and delivered over the
  /// course per patient (ug/cm^2, PRP ng/cm^2 of growth factors) and by layer (PatientOutcome::
  /// applications).
  struct Applied {
    std::string agent, unit;
    Summary applied, delivered;
    std::array<Summary, skin::kLayers> by_layer{};
  };
  std::vector<Applied> applications;
};

/// The summary statistics of an arm that carry a parameter-uncertainty band: name and value.
std::vector<std::pair<std::string, double>> cohort_band_statistics(const ArmResult& a);

/// A paired difference (arm minus the reference arm, patient by patient).
struct PairedDifference {
  std::string metric;
  double mean = 0, sd = 0, ci_low = 0, ci_high = 0;  // 95% CI of the mean (Student t)
  double t = 0, p = 1;                               // paired t test, two-sided
  std::size_t better = 0, same = 0, worse = 0;       // patients (by the metric's direction)
};
/// Arm `arm` against arm 0 at one outcome time (matched by index in `times`).
struct PairedComparison {
  std::string arm, reference;
  double follow_up = 0;  // s
  std::vector<PairedDifference> metrics;
};

struct CohortResult {
  std::vector<ArmResult> arms;
  std::vector<PairedComparison> paired;  // every arm after the first against the first, per time
  int posterior_draws = 0;               // of ArmResult::parameter_bands; 0: none
  double band_cpu_seconds = 0;           // what the band cost (process CPU time; not in JSON)
};

/// The PIH event of cohort patient `patient` (0-based) with PIH risk `risk`: a uniform draw of
/// its own stream (seed, core/rng.hpp kStreamPih, patient) below the risk, independent of the
/// scars drawn and shared by the arms (a paired comparison sees the risks, not two coin tosses).
bool cohort_pih_event(std::uint64_t seed, std::uint64_t patient, double risk);

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
  /// Shard `shard` of `shards` (1-based; shards = 0: the whole cohort): only the patients p
  /// with p mod shards = shard - 1 are simulated, and the folder holds shard.json and shard.rec
  /// (their records) instead of the cohort's results; merge_cohort joins the shards.
  int shard = 0, shards = 0;
  /// The MPI ranks that share the patients (core/ranks.hpp; null or one rank: this process
  /// alone). With several, every rank calls run_cohort with the same spec and options: each
  /// draws and simulates patients p with p mod ranks = rank, the root opens the folder and
  /// writes the results (the same bytes as one process), the others return an empty CohortRun.
  /// No checkpoint is written: `resume` and `shards` must be off (std::invalid_argument).
  const Ranks* ranks = nullptr;
};
struct CohortRun {
  CohortResult result;               // empty for a shard
  std::size_t resumed_patients = 0;  // taken from the checkpoint, not simulated again
  std::size_t shard_patients = 0;    // a shard: the patients it holds
};
/// Throws InputError for a damaged checkpoint or one of another cohort or build (exit 2), and
/// for a checkpoint in OUT without `resume` or `force`.
CohortRun run_cohort(const ReducedModel& m, const CohortSpec& c, const CohortRunOptions& o);
/// Joins the shards of a cohort (the folders of `run_cohort` with shard i of N, every i once):
/// writes cohort.json and the patients CSVs into o.out_dir, byte for byte those of the run
/// without shards. InputError (exit 2, nothing written) for a folder that is not a shard of this
/// cohort file and build, a shard given twice, a missing or unfinished shard (named, with how to
/// rerun it alone).
CohortRun merge_cohort(const ReducedModel& m, const CohortSpec& c,
                       const std::vector<std::filesystem::path>& shard_dirs,
                       const CohortRunOptions& o);
/// Key of a cohort's checkpoint: the cohort's settings and the mnsim build.
std::uint64_t cohort_checkpoint_key(const CohortSpec& c);
/// Parses a patients.rec file: the recorded outcomes by patient index (PIH draw included). A torn
/// last record (a kill during an append) is dropped and `valid_bytes` says where the intact
/// records end; anything else damaged is an InputError naming `file`.
struct PatientRecord {
  std::uint64_t index = 0;  // patient * arms + arm
  PatientOutcome outcome;
  bool pih = false;
};
std::vector<PatientRecord> decode_patient_records(std::string_view bytes, const std::string& file,
                                                  std::uint64_t key, std::uint64_t patients,
                                                  std::size_t* valid_bytes = nullptr);

/// DIR/cohort.json text (keys of docs/cohort.md).
std::string cohort_json(const CohortResult& r);
/// DIR/patients.csv text of one arm (one row per patient; headline and every outcome time).
std::string patients_csv(const ArmResult& r);
/// The patients file of each arm: patients.csv for a single arm, patients_<arm>.csv for arms.
std::vector<std::string> patients_files(const CohortSpec& c);

}  // namespace mnsim::protocol
