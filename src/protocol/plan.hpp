// `mnsim plan PATIENT.toml`: a grid search over roller protocols (needle length, passes, sessions,
// interval) for one patient with the reduced model, under safety constraints (depth reached never
// past the dermis of the site, PIH risk cap by Fitzpatrick type, erythema (downtime) cap; home-use
// lengths flagged), ranked by predicted mean scar depth reduction, with an uncertainty band
// (10th-90th percentile over virtual replicates drawn with the biological variability).
#pragma once

#include <string>
#include <vector>

#include "core/constants.hpp"
#include "core/schema.hpp"
#include "protocol/cohort.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::protocol {

struct PlanPatient;
const schema::Key& plan_schema();

/// The [[scars]] and [inventory] keys of a planner patient file (shared by dose-response files).
std::vector<schema::Key> scar_keys();
/// The scars of a file with scar_keys() at its root, for the patient `pt` (a scar deeper than the
/// patient's skin at the site, or no scar at all, is an InputError at the key).
std::vector<outcomes::ScarGeometry> read_scars(const Table& root, const PatientSpec& pt);

struct PlanPatient {
  PatientSpec spec;
  double pih_cap = -1;       // fraction; < 0: data/outcomes.toml [planner] by type
  double erythema_cap = -1;  // s; < 0: data default
  double follow_up = 0;      // s after the last session (outcome time)
  int replicates = 20;
  int top = 10;
  std::uint64_t seed = 1;
  Variability variability;
  std::vector<double> lengths;  // m (catalogue lengths searched)
  std::vector<int> passes;
  int sessions_min = 1, sessions_max = 6;
  std::vector<double> intervals;  // s
  double time_step = 6 * kHour;   // s
};

/// The schema of a planner patient file (docs/scenario.md, `mnsim catalog keys`).
const schema::Key& plan_schema();
PlanPatient load_plan_patient(const std::string& path);

struct PlanEntry {
  ReducedProtocol protocol;
  PatientOutcome nominal;
  double reduction_p10 = 0, reduction_p90 = 0;  // % (replicates)
  bool feasible = true;
  bool home_use = false;
  std::string excluded;  // why infeasible
};

struct Plan {
  std::vector<PlanEntry> ranked;     // feasible, best first (top N)
  std::vector<PlanEntry> evaluated;  // every protocol searched, in search order (no band)
  int searched = 0, excluded_depth = 0, excluded_pih = 0, excluded_erythema = 0;
  double dermis_bottom = 0;  // m
};

Plan make_plan(const ReducedModel& m, const PlanPatient& p, int threads = 0);
/// The ranked protocols as a text table with a legend of its columns.
std::string plan_table(const PlanPatient& p, const Plan& plan);
/// The plan as JSON: the patient, what was searched, the ranked protocols with their bands, and
/// every evaluated protocol with its outcome or the reason it was excluded.
std::string plan_json(const PlanPatient& p, const Plan& plan);
/// Every evaluated protocol as CSV (rank empty when not ranked; units in the header).
std::string plan_csv(const Plan& plan);
/// Ranked protocol `rank` (1 = best) as a runnable scenario: the patient, one of each distinct
/// scar of the patient file on a patch that fits them, the roller, passes and course. Throws
/// InputError at `--export` when there is no such rank.
std::string plan_scenario(const PlanPatient& p, const Plan& plan, int rank);

}  // namespace mnsim::protocol
