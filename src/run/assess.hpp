// Assessment of `mnsim run` at the end of follow-up: the typed outcome (collagen, elastin and
// epidermis from the 3D engine; each scar remodelled by the new matrix under and around it;
// Goodman & Baron grades before and after, on the patch's scars or on the [face] inventory mapped
// from them; the per-channel side effects from the reduced model fed with what the device
// delivered). summary.json and the report are written from it (run/summary.hpp,
// run/report_data.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "devices/device.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "outcomes/face_inventory.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/bands.hpp"
#include "protocol/course.hpp"
#include "run/record.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// One scar before and after the course (SI units; summary.json shows um and mm^3).
struct ScarOutcome {
  std::string id;    // lesions::lesion_ids
  std::string type;  // lesion kind
  std::string description;
  double depth_before = 0.0, depth_after = 0.0;    // m
  double volume_before = 0.0, volume_after = 0.0;  // m^3
  double rise_under = 0.0;   // m, rise of the scar floor since the start (footprint mean)
  double rise_around = 0.0;  // m, rise of the skin around it
  double band_intact = 1.0;  // load-bearing share of a tethering band's cross-section
  bool band_failed = false;
};

/// Goodman & Baron grades, on the patch's scars or on the scenario's face inventory ([face]).
struct GoodmanBaron {
  int qualitative_before = 0, qualitative_after = 0;
  int quantitative_before = 0, quantitative_after = 0;
  bool face_inventory = false;  // graded on [face], mapped from the patch; else the patch's scars
  std::vector<outcomes::FaceClassOutcome> face;  // the face classes (face_inventory only)
  /// The quantitative score's change row by row and scar by scar, with its explanation (a score
  /// can rise when scars move to rows of fewer points: docs/model.md "Goodman & Baron grading").
  outcomes::GbScoreChange change;
  /// "face inventory" or "patch scars" (summary.json `graded_on`).
  const char* graded_on() const { return face_inventory ? "face inventory" : "patch scars"; }
};

/// One output's predictive bands around the run's point prediction (run/bands.hpp): each band
/// is the reduced model's quantile shifted by (point - reduced), the 3D run's value less the
/// reduced model's at the shipped parameters and nominal rates, clamped to the output's range.
struct OutcomeBand {
  std::string name;                       // summary.json key, e.g. "scar_depth_reduction_pct"
  std::string unit;                       // "%", "points", "grade", "days", "fraction", "h"
  double point = 0.0;                     // the run's value (3D engine, or the side-effect models)
  double reduced = 0.0;                   // the reduced model's value at the shipped parameters
  double low = 0.0, high = 0.0;           // the output's range (clamp)
  protocol::Band parameter, variability;  // reduced-model quantiles (not shifted)
  /// A reduced-model quantile moved onto the run's point and clamped.
  double around_point(double q) const;
};
/// The predictive bands of a run (none when [output] band_draws is 0).
struct OutcomeBands {
  std::vector<OutcomeBand> outputs;
  int posterior_draws = 0, variability_draws = 0;
  std::size_t evaluations = 0;
  double cpu_seconds = 0.0, wall_seconds = 0.0;
  std::string posterior_file, posterior_command;
};

struct Outcome {
  double collagen_change_pct_papillary = 0.0;
  double collagen_change_pct_reticular = 0.0;
  double elastin_change_pct = 0.0;
  double epidermal_thickness_change_pct = 0.0;
  double bleeding_fraction = 0.0;  // of all punctures of the course
  /// Share of all punctures of the course that reached past the dermis (the safety rule,
  /// skin::past_dermis); the run warns and the report shows a callout when it is not 0.
  double past_dermis_fraction = 0.0;
  double dermis_bottom = 0.0;  // m below the unlesioned surface at the site
  std::vector<ScarOutcome> scars;
  GoodmanBaron goodman_baron;
  double barrier_recovery_hours = 0.0;  // per session
  double channel_closure_hours = -1.0;  // epidermal channels re-epithelialised after a session
  std::vector<std::array<double, 3>> channel_course;  // h, open fraction, excess TEWL / baseline
  double erythema_days = 0.0;                         // per session
  double pih_risk = 0.0;                              // 0..1
  /// The reduced model's prediction of the same scenario (cross-check, docs/cohort.md).
  double reduced_collagen_change_pct_papillary = 0.0;
  double reduced_scar_depth_reduction_pct = 0.0;
  // What the device delivered (inputs of the scar and side-effect models).
  double density_mean = 0.0;  // punctures per m^2 per session
  double depth_mean = 0.0;    // m, mean depth reached in session 1
  double wound_radius = 0.0;  // m, a needle track after elastic recoil
  devices::ThermalZone zone;  // mean coagulation zone of session 1's RF needles (none: mechanical)
  /// Predictive bands from the reduced model (run/bands.hpp), when computed.
  std::optional<OutcomeBands> bands;
};

/// The safety rule's warning (one sentence), or "" when no puncture reached past the dermis.
std::string safety_warning(const Outcome& o, const std::string& site);

/// The "outcome" object of summary.json.
nlohmann::json to_json(const Outcome& o);

/// What the device has delivered in the sessions so far (the record's): the inputs of the scar
/// link and of the side-effect models.
struct Delivered {
  int sessions = 0;
  double density_mean = 0.0;  // punctures per m^2 per session
  double depth_mean = 0.0;    // m, mean depth reached in session 1
  double wound_radius = 0.0;  // m, a needle track after elastic recoil
  devices::ThermalZone zone;  // mean coagulation zone of session 1's RF needles (none: mechanical)
};
Delivered delivered(const RunRecord& rec, const devices::Rect& area, const healing::Params& params);

/// One scar by the remodelling link (outcomes/scar_remodel.hpp) at the engine's present state.
struct ScarNow {
  outcomes::RemodelInput in;  // floor and rim rise, intact share of the band
  outcomes::RemodelResult r;  // depth before and now
};
/// The geometry of every lesion of the patch, in order.
std::vector<outcomes::ScarGeometry> scar_geometries(const skin::SkinPatch& patch);
/// Where one lesion's outcome reads the engine's fields: the columns under the scar and in the
/// ring around it, each with the number of its 4 x 4 samples that fall there (the footprint's
/// area does not depend on where its edge falls between column centres), and the reticular
/// dermis cells under its depression (scar_matrix_left). The lesions do not move: computed once
/// per run (scar_footprints) instead of at every sample.
struct ScarFootprint {
  struct Column {
    std::size_t at = 0;  // i + j nx
    int under = 0, around = 0;
  };
  std::vector<Column> columns;  // row by row; columns with no sample left out
  /// The footprint under the scar and the ring around it, prepared for Engine::region_rise.
  healing::Engine::RiseRegion under, around;
  std::vector<std::ptrdiff_t> reticular;  // padded indices, (j, i, k) order
  double reticular_deficit = 0.0;         // the lesion's collagen deficit summed over them
  bool scar_matrix = false;               // the lesion starts with scar matrix to read
};
/// The footprint of every lesion of the patch on the engine's grid, in order.
std::vector<ScarFootprint> scar_footprints(const healing::Engine& engine,
                                           const skin::SkinPatch& patch);
/// Every lesion of the patch remodelled by the matrix laid down so far (Engine::column_rise) and
/// its tethering band's state (`tethers`, one per lesion, RunRecord::tethers) at time t: what the
/// outcome takes at the end of follow-up and scars.csv at each sample time.
std::vector<ScarNow> scars_now(const healing::Engine& engine,
                               const std::vector<outcomes::ScarGeometry>& geometry,
                               const std::vector<ScarFootprint>& footprints,
                               const std::vector<outcomes::TetherState>& tethers, double t);
/// Share of a lesion's scar matrix left in the reticular dermis under its footprint (1 when it
/// had none): what is left of a tethering band's matrix.
double scar_matrix_left(const ScarFootprint& f, const healing::Engine& engine);
/// Each lesion's tethering band after a session at time t of `punctures` on `area` (their wound
/// after elastic recoil, params.channel_recoil): cut where the needles reach below the floor's
/// epidermis, failed by the mechanical criterion (outcomes::tether_session). Untethered lesions
/// keep their state.
void band_session(std::vector<outcomes::TetherState>& tethers, const healing::Engine& engine,
                  const skin::SkinPatch& patch, const std::vector<outcomes::ScarGeometry>& geometry,
                  const std::vector<ScarFootprint>& footprints, const devices::Punctures& punctures,
                  const devices::Rect& area, const healing::Params& params, double t);

/// Assesses the run at the end of follow-up (the engine's state) from its record; `ids` names
/// the patch's lesions (lesions::lesion_ids). Goodman & Baron grade `face` when given (each class
/// mapped from the patch's scars, outcomes/face_inventory.hpp), else the patch's scars.
Outcome assess(const healing::Engine& engine, const skin::SkinPatch& patch, const RunRecord& rec,
               const protocol::Course& course, const devices::Rect& area,
               const healing::Params& params, const skin::PatchSpec& patch_spec,
               const std::vector<std::string>& ids,
               const std::optional<outcomes::FaceSpec>& face = std::nullopt);

}  // namespace mnsim
