// `mnsim plan PATIENT.toml`: a search over protocols with every catalog device (each kind's
// search settings and passes, then sessions and interval for the leading device settings) for
// one patient with the reduced model, under safety constraints (depth reached never
// past the dermis of the site, PIH risk cap by Fitzpatrick type, erythema (downtime) cap; home-use
// lengths flagged), ranked by predicted mean scar depth reduction, with two predictive bands
// (protocol/bands.hpp; 10th-90th percentiles): parameter uncertainty (posterior draws of the
// calibrated parameters) and patient variability (virtual replicates drawn with the biological
// variability), kept apart.
// Outputs: a text table, JSON, CSV, a runnable scenario; the printable HTML page is
// report::plan_html (report/plan_page.hpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/constants.hpp"
#include "core/progress.hpp"
#include "core/schema.hpp"
#include "protocol/bands.hpp"
#include "protocol/cohort.hpp"
#include "protocol/reduced.hpp"

namespace mnsim {
class Ranks;
class StageRunner;
}  // namespace mnsim

namespace mnsim::protocol {

struct PlanPatient;
const schema::Key& plan_schema();

/// The [[scars]] and [inventory] keys of a planner patient file (shared by dose-response files).
std::vector<schema::Key> scar_keys();
/// The scars of a file with scar_keys() at its root, for the patient `pt`, after `first` (a scar
/// deeper than the patient's skin at the site, or no scar at all, is an InputError at the key).
std::vector<outcomes::ScarGeometry> read_scars(const Table& root, const PatientSpec& pt,
                                               std::vector<outcomes::ScarGeometry> first = {});
/// The [patient] table of a planner patient file (site, age, sex, Fitzpatrick type; shared by
/// sensitivity files).
schema::Key plan_patient_table();
/// Scars that come from elsewhere than the file's keys, made for the patient read from it (its
/// site, age, sex and type set, no scars yet): the consultation app's uploaded height map.
using MoreScars = std::function<std::vector<outcomes::ScarGeometry>(const PatientSpec&)>;
/// The patient of a file with plan_patient_table() and scar_keys() at its root: [patient] and
/// its scars (`more`'s first, then read_scars).
PatientSpec read_patient_spec(const Table& root, const MoreScars& more = {});

struct PlanPatient {
  std::string title;  // the file's title (untrusted text)
  PatientSpec spec;
  double pih_cap = -1;       // fraction; < 0: data/outcomes.toml [planner] by type
  double erythema_cap = -1;  // s; < 0: data default
  double follow_up = 0;      // s after the last session (outcome time)
  int replicates = 20;       // patient-variability draws per ranked protocol (0: no band)
  int posterior_draws = 20;  // posterior draws per ranked protocol (0: no band)
  int top = 10;
  std::uint64_t seed = 1;
  Variability variability;
  // Catalog devices searched (data/devices.toml ids; empty: every catalog device), each over its
  // kind's search settings and passes (devices::DeviceKind::search_settings, search_passes).
  std::vector<std::string> devices;
  int expand = 10;  // device settings searched over every course (stage 2)
  int sessions_min = 1, sessions_max = 6;
  std::vector<double> intervals;  // s
  double time_step = 6 * kHour;   // s
  // Topical agents applied with every candidate ([[application]]; healing/column_substances.hpp).
  std::vector<healing::Application> applications;
};

/// The schema of a planner patient file (docs/scenario.md, `mnsim catalog keys`).
const schema::Key& plan_schema();
PlanPatient load_plan_patient(const std::string& path, const std::vector<Override>& overrides = {});
/// The patient of a planner patient file already parsed against plan_schema() (a file, or text
/// such as the Python module's dicts).
PlanPatient read_plan_patient(const Table& root, const MoreScars& more = {});

struct PlanEntry {
  ReducedProtocol protocol;  // protocol.device: the device and technique of every session
  std::string kind, model;   // the device
  std::string setting_key;   // what was set: "needle_length" (rollers, stamps) or "depth" (pens)
  double setting = 0;        // m: the needle length or depth setting
  int passes = 0;            // passes per session
  int stage = 1;             // 1: the reference course; 2: the course grid of a leading device
  PatientOutcome nominal;
  // Bands of the scar depth reduction (%, ranked protocols and assess_protocol only).
  Band parameter_band;    // parameter uncertainty: posterior draws, the patient at nominal rates
  Band variability_band;  // patient variability: replicates, the shipped parameters
  bool feasible = true;
  bool home_use = false;
  std::string excluded;  // why infeasible
};

/// The device of a protocol in plain words: "roller_192_mf8 roller with 1.50 mm needles",
/// "dermapen_2012 pen set to 1.00 mm deep".
std::string device_words(const PlanEntry& e);

struct Plan {
  std::vector<PlanEntry> ranked;     // feasible, best first (top N)
  std::vector<PlanEntry> evaluated;  // every protocol searched, in search order (no band)
  int searched = 0, excluded_depth = 0, excluded_pih = 0, excluded_erythema = 0,
      excluded_no_puncture = 0;
  int device_settings = 0;   // device x setting x passes combinations (stage 1)
  double dermis_bottom = 0;  // m
  double pih_cap = 0;        // fraction: the PIH risk cap in force (the file's or by type)
  double erythema_cap = 0;   // s: the erythema cap in force
};

/// The predictive bands' settings of a planner patient: p.posterior_draws, p.replicates (the
/// variability draws), p.seed and p.variability.
BandSettings band_settings(const PlanPatient& p);

/// Searches the grid of `p`. `progress` (may be null) hears two stages, "protocols evaluated"
/// (every protocol of the grid) and "uncertainty replicates" (the simulations of both bands of
/// the ranked protocols: p.posterior_draws + p.replicates each), each followed by advance(done,
/// total) calls that count simulations, not seconds, from one thread at a time, the last with done
/// == total. It prints nothing. `stop` (may be null): when a stop is requested, the simulations not
/// yet started are skipped and make_plan throws Interrupted at the end of the stage (`mnsim
/// serve`'s time limit). With several `ranks` (core/ranks.hpp; every rank calls make_plan with the
/// same patient), each stage's simulations are split over them (simulation i on rank i mod N) and
/// every rank returns the same plan, the one a single process finds; `progress` then counts this
/// rank's share. With `stages` (core/stages.hpp: a state folder of a job array), each of the
/// three stages (device settings, courses, band replicates) is handed to it instead, in that
/// order; it may end the call with StagePending.
Plan make_plan(const ReducedModel& m, const PlanPatient& p, int threads = 0,
               Progress* progress = nullptr, const StopToken* stop = nullptr,
               const Ranks* ranks = nullptr, StageRunner* stages = nullptr);

/// One given protocol for the patient of `p`, checked by the planner's rules: simulated (even
/// past the dermis, so that the outcome can be shown beside the warning), then marked infeasible
/// with the planner's reason ("does not puncture", "past the dermis" at the deepest session,
/// "PIH risk", "erythema" over the caps in force, returned in `pih_cap` and `erythema_cap` (s)),
/// with the bands of make_plan (p.posterior_draws and p.replicates, protocol/bands.hpp).
/// `progress` hears one stage, "uncertainty replicates"; `stop` as for make_plan.
PlanEntry assess_protocol(const ReducedModel& m, const PlanPatient& p, const ReducedProtocol& pr,
                          double& pih_cap, double& erythema_cap, int threads = 0,
                          Progress* progress = nullptr, const StopToken* stop = nullptr);

/// One visit of a protocol's calendar.
struct PlanVisit {
  int session = 0;   // 1-based; 0: the outcome assessment
  long day = 0;      // whole days since the first session
  std::string date;  // ISO date when a start date is given, else empty
};
/// The sessions of `protocol` (the first on day 0, the others every interval) and the outcome
/// assessment at the follow-up after the last session; dated from `start_date` (ISO, a valid
/// date: mnsim::parse_date_option) when it is not empty, with protocol::add_days.
std::vector<PlanVisit> plan_calendar(const ReducedProtocol& protocol,
                                     const std::string& start_date);
/// A mean erythema (visible redness) duration for a reader: "1.4 d" from a day on, whole hours
/// below ("5 h"), "<1 h" for less than an hour and "none" for none; with `words`, "1.4 days",
/// "5 hours", "<1 hour".
std::string erythema_text(double days, bool words = false);

/// The ranked protocols as a text table with a legend of its columns; with a `start_date`, the
/// dated calendar of each ranked protocol follows the table.
std::string plan_table(const PlanPatient& p, const Plan& plan, const std::string& start_date = {});
/// The plan as JSON: the patient, what was searched, the ranked protocols with their bands and
/// calendars (dated with a `start_date`, else days and weeks only), and every evaluated protocol
/// with its outcome or the reason it was excluded.
std::string plan_json(const PlanPatient& p, const Plan& plan, const std::string& start_date = {});
/// Every evaluated protocol as CSV (rank empty when not ranked; units in the header).
std::string plan_csv(const Plan& plan);
/// A measured surface among the patient's scars (kind "measured", made from a height map as a
/// scenario's [surface] makes it): what the exported scenario's [surface] says.
struct SurfaceExport {
  std::string file;           // the height map's file name, beside the scenario file
  double pixel_size = 0.0;    // m
  double height_scale = 0.0;  // m per map unit
  int cols = 0, rows = 0;     // the map's size in pixels
};
/// Ranked protocol `rank` (1 = best) as a runnable scenario: the patient, one of each distinct
/// scar of the patient file on a patch that fits them, the roller, passes and course (with
/// `start_date`, the course's start_date). With a `surface`, the patch is the height map instead
/// (its extent, at most the largest patch; [surface] names the file) and the other scars are left
/// out (said in a comment). Throws InputError at `--export` when there is no such rank.
/// `exporter` names what exported it in the first comment line.
std::string plan_scenario(const PlanPatient& p, const Plan& plan, int rank,
                          const std::string& start_date = {},
                          const std::string& exporter = "mnsim plan",
                          const SurfaceExport* surface = nullptr);

}  // namespace mnsim::protocol
