// The fast reduced model of one patient (docs/cohort.md): the healing kinetics of the treated patch
// as well-mixed layer compartments (healing::run_column) on the patient's site profile, the scar
// remodelling link per scar (outcomes/scar_remodel.hpp), Goodman & Baron grading before and after,
// PIH risk, erythema and barrier recovery. Used by cohorts, the planner and `mnsim validate`, and
// by the cross-check against the 3D engine (predict_scenario).
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/constants.hpp"
#include "core/scenario.hpp"
#include "devices/device.hpp"
#include "devices/spec.hpp"
#include "healing/channel_closure.hpp"
#include "healing/params.hpp"
#include "healing/reepithelialization.hpp"
#include "healing/substances.hpp"
#include "outcomes/goodman_baron.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/course.hpp"
#include "skin/atlas.hpp"
#include "skin/tissue.hpp"

namespace mnsim::io {
class ByteWriter;
class ByteReader;
}  // namespace mnsim::io

namespace mnsim::protocol {

/// Annuli of the unit cell around each channel that the reduced model resolves every layer on
/// (healing::ColumnProtocol::annuli; docs/cohort.md "Cross-check": example 04's papillary
/// collagen change is +3.39% with 6, +3.28% with 16, +3.27% with 32 annuli).
inline constexpr int kReducedAnnuli = 6;

/// Times (h after a session) of PatientOutcome::channel_course.
inline constexpr std::array<double, 13> kChannelCourseHours{0,  0.5, 1,  2,  4,  8, 12,
                                                            18, 24,  36, 48, 72, 96};

/// What one session uses: a device as a scenario's [device] section builds it (any registered
/// kind: catalog model plus overrides) and how it is moved. The reduced model reads from the
/// technique the passes, glide speed, lateral overlap and hand force (the nominal values: it does
/// not draw hand jitter).
struct SessionDevice {
  devices::DeviceSpec device;
  devices::Technique technique;
};

/// A course for the reduced model: any catalog device with its settings, the same every session
/// or listed session by session. SI units.
struct ReducedProtocol {
  // The catalog roller shorthand, used when `device` is empty: `device_model` fitted with
  // `needle_length`, `passes` passes at the [technique] defaults.
  double needle_length = 1.5e-3;                // m, nominal
  int passes = 16;                              // roller passes per session
  std::string device_model = "roller_192_mf8";  // catalog roller (data/devices.toml)
  std::optional<SessionDevice> device;          // every session's device (unless listed below)
  std::vector<SessionDevice> listed;            // session i < listed.size() uses listed[i]
  double density = 0.0;                         // punctures/m^2 per session; 0 = from the device
  double depth_reached = 0.0;                   // m; 0 = from the device and penetration model
  int sessions = 3;                             // sessions (a cohort may draw them per patient)
  // Per-patient distribution of the number of sessions (cohorts): (sessions, weight) pairs;
  // empty: every patient has `sessions`.
  std::vector<std::pair<int, double>> session_counts;
  double interval = 28 * kDay;   // s between sessions
  double follow_up = 56 * kDay;  // s after the last session (the headline outcome time)
  std::vector<double> also_at;   // s after the last session: further outcome times
  double time_step = 6 * kHour;  // s, largest reaction step of the column driver
  // Topical agents applied after the sessions ([[protocol.application]], the scenario's
  // [[application]] keys; docs/substances.md, "In the reduced model").
  std::vector<healing::Application> applications;

  // Each needle's coagulation zone (RF devices, Device::thermal_zone), given with depth_reached
  // and density by a caller that asked the device already (the planner); nullopt: from the
  // device when depth_reached or density is, else none.
  std::optional<devices::ThermalZone> zone_reached;

  /// The device and technique of session i (0-based).
  SessionDevice session_device(int i) const;
  /// Every outcome time (s after the last session), ascending, follow_up among them.
  std::vector<double> outcome_times() const;
  /// One line naming the device(s): "roller roller_192_mf8 1.5 mm x 16 passes".
  std::string describe() const;
};

/// What a session's device delivers on a patient's skin, from the device and penetration model
/// of `mnsim run` (devices/, mechanics/) at the technique's nominal force: depth reached, wound
/// radius after recoil (healing.toml channel_recoil, as the 3D engine) and punctures per m^2.
struct SessionReach {
  bool punctured = false;
  double depth = 0.0;    // m below the surface (0 when the needles do not puncture)
  double radius = 0.0;   // m, the wound's radius after elastic recoil
  double density = 0.0;  // punctures/m^2 in the session (passes x density per pass)
  // Each needle's thermal coagulation zone (an RF device's, Device::thermal_zone; docs/rf.md):
  // none for a mechanical device.
  devices::ThermalZone zone;
};
/// Throws InputError (at the device's keys) for a device the catalog cannot build.
SessionReach session_reach(const SessionDevice& d, const skin::SkinProfile& prof,
                           const healing::Params& p);
/// The roller shorthand's device: catalog roller `model` fitted with `needle_length`, `passes`
/// passes at the [technique] defaults.
SessionDevice roller_session(const std::string& model, double needle_length, int passes);

/// What a catalog roller does on a patient's skin, from the same device and penetration model
/// as `mnsim run` (devices/, mechanics/): the roller `model` fitted with `needle_length` (m),
/// pressed with the default hand force of [technique] (3 N, no jitter).
struct RollerReach {
  bool punctured = false;
  double depth = 0.0;             // m below the surface
  double channel_radius = 0.0;    // m, the track's radius at the surface (before recoil)
  double density_per_pass = 0.0;  // punctures/m^2
};
/// Throws InputError for an unknown model or a length the catalog entry does not accept.
RollerReach roller_reach(const std::string& model, double needle_length,
                         const skin::SkinProfile& prof);
/// Throws the InputError roller_reach would throw for this model and length, if any.
void check_roller_length(const std::string& model, double needle_length);

/// A patient for the reduced model.
struct PatientSpec {
  std::string site = "medial_cheek";
  double age_years = 30.0;
  skin::Sex sex = skin::Sex::Female;
  int fitzpatrick = 3;
  int glogau = 0;  // photoageing baseline, Glogau type 1..4 (0: none; skin::Atlas::photoage)
  std::vector<outcomes::ScarGeometry> scars;
};
/// The patient's skin at the site: age, sex, Fitzpatrick type and photoageing baseline.
skin::SkinProfile patient_profile(const skin::Atlas& atlas, const PatientSpec& pt);

/// Between-patient multipliers of key biological rates (1 = the calibrated value).
struct RateFactors {
  double collagen_synthesis = 1.0;        // matrix.collagen_synthesis and elastin_synthesis
  double growth_factor_supply = 1.0;      // growth_factors.gf_macrophage
  double fibroblast_proliferation = 1.0;  // fibroblasts.fibroblast_proliferation
  double melanin_rate = 1.0;              // epidermis.melanin_rate
};

/// The outcome of a patient at one time after the last session.
struct TimedOutcome {
  double follow_up = 0.0;  // s after the last session
  outcomes::DermalGain gain;
  double papillary_collagen_change = 0.0;  // (C1 + C3)/(C1 + C3)_0 - 1
  double reticular_collagen_change = 0.0;
  double dermal_collagen_change = 0.0;  // papillary and reticular, thickness-weighted
  double papillary_elastin_change = 0.0, reticular_elastin_change = 0.0;
  double epidermal_thickness_change = 0.0;
  double dermal_thickness_change = 0.0;  // m: rise of untreated-scar skin from new matrix
  std::vector<outcomes::RemodelResult> scars;
  double depth_reduction_pct = 0.0;
  int gb_quant_after = 0, gb_qual_after = 0;
};

struct PatientOutcome {
  int sessions = 0;                        // sessions given
  double depth_reached = 0.0;              // m, mean over sessions
  double deepest = 0.0;                    // m, the deepest session's depth reached
  double density = 0.0;                    // punctures/m^2 per session, mean over sessions
  bool bled = false;                       // depth reached beyond the superficial plexus
  outcomes::DermalGain gain;               // relative matrix gain at the outcome time
  double papillary_collagen_change = 0.0;  // (C1 + C3)/(C1 + C3)_0 - 1 at the outcome time
  double reticular_collagen_change = 0.0;
  double epidermal_thickness_change = 0.0;
  double collagen1_share = 0.0;  // papillary C1/(C1 + C3) at the outcome time
  double melanin_peak = 0.0;     // peak epidermal melanin-excess index of the course
  double pih_risk = 0.0;
  double erythema_days = 0.0;           // mean over sessions
  double barrier_hours = 0.0;           // mean over sessions
  double channel_closure_hours = -1.0;  // epidermal channels re-epithelialised (-1: not in 96 h)
  // The channels after a session: hours, open fraction of each channel, excess TEWL over the
  // baseline TEWL (healing/reepithelialization.hpp), at kChannelCourseHours.
  std::vector<std::array<double, 3>> channel_course;
  double neutrophil_peak_h = 0.0, macrophage_peak_h = 0.0;  // first session, papillary dermis
  double collagen3_peak_h = 0.0, collagen1_peak_h = 0.0;    // whole course, papillary excess
  std::vector<outcomes::RemodelResult> scars;
  double depth_reduction_pct = 0.0;  // mean over graded scars (kinds other than striae/wrinkle)
  int gb_quant_before = 0, gb_quant_after = 0;
  int gb_qual_before = 0, gb_qual_after = 0;
  double dermal_collagen_change = 0.0, papillary_elastin_change = 0.0,
         reticular_elastin_change = 0.0, dermal_thickness_change = 0.0;  // at follow_up
  std::vector<TimedOutcome> at;  // at every outcome time (ReducedProtocol::outcome_times)
  std::size_t headline = 0;      // index in `at` of the headline time (follow_up)
  // Per [[protocol.application]] (ReducedProtocol::applications, in order; empty without): the
  // dose applied and delivered over the course (ug/cm^2 of a solute, ng/cm^2 of PRP's growth
  // factors; saline 0), and by layer the dose in the tissue 1 h after its first application
  // (PRP: as it is applied), healing/column_substances.hpp.
  struct AppliedDose {
    double applied = 0.0, delivered = 0.0;
    std::array<double, skin::kLayers> by_layer{};
  };
  std::vector<AppliedDose> applications;

  /// Makes at[j] the headline: sets `headline` and copies its values into the fields above.
  void use_headline(std::size_t j);
};

/// Every field of an outcome as bytes, doubles bit for bit (a field added above must be added
/// to both): what MPI ranks send each other (core/ranks.hpp, make_plan over ranks).
void encode_outcome(io::ByteWriter& w, const PatientOutcome& o);
/// What encode_outcome wrote (InputError naming the reader's file when it is damaged).
PatientOutcome decode_outcome(io::ByteReader& r);

/// Epidermal channel healings shared between threads and parameter sets, by what each depends
/// on (healing::channel_key: the radius and the keratinocyte parameters, which RateFactors and
/// most sensitivity parameters do not vary). Holds the kCapacity most recently added; a pure
/// function of its key, so hits and misses give the same results.
struct ChannelCache {
  static constexpr std::size_t kCapacity = 32;  // ~0.23 MB each (96 h at 0.01 h)
  std::mutex mu;
  std::map<healing::ChannelKey, std::shared_ptr<const healing::ChannelHealing>> by_key;
  std::deque<healing::ChannelKey> order;  // insertion order, oldest first
  /// heal_channel(p, radius_um, healing::kChannelHealWindow's 96 h, cell_radius_um), from the
  /// cache or computed (outside the lock) and added.
  std::shared_ptr<const healing::ChannelHealing> get(const healing::Params& p, double radius_um,
                                                     double cell_radius_um = 0.0);
};

/// Loaded data of the reduced model (share between threads: simulate is thread-safe).
struct ReducedModel {
  healing::Params params;
  outcomes::OutcomeParams outcome;
  outcomes::GradingRules grading;
  const skin::Atlas* atlas = nullptr;
  std::shared_ptr<ChannelCache> channels = std::make_shared<ChannelCache>();
  /// Closure of the channels as a path (data/substances.toml [channels]).
  healing::ClosureParams closure = healing::ClosureParams::defaults();

  /// The shipped data (data/healing.toml, outcomes.toml, grading.toml, sites.toml).
  static ReducedModel load_default();

  /// Simulates one patient. Throws std::invalid_argument on an inconsistent protocol and
  /// std::out_of_range for an unknown site.
  PatientOutcome simulate(const PatientSpec& pt, const ReducedProtocol& pr,
                          const RateFactors& rf = {}) const;
  /// Same with an explicit skin profile (the 3D cross-check passes the scenario's).
  PatientOutcome simulate(const skin::SkinProfile& prof,
                          const std::vector<outcomes::ScarGeometry>& scars,
                          const ReducedProtocol& pr, const RateFactors& rf = {}) const;
};

/// Path of grading.toml in the data folder (core/data_dir.hpp).
std::string default_grading_path();

/// Reduced-model predictions for a scenario's patch (its patient, tissue and lesion specs) treated
/// over its course, for the cross-check against the 3D engine (run/specs.hpp reads both from a
/// scenario). The device is given by what it delivers: `depth_reached` (m), `density`
/// (punctures/m^2 per session), `wound_radius` (m, the needle track after recoil; 0: the
/// roller's of data/outcomes.toml) and `zone` (each needle's coagulation zone, RF devices), e.g.
/// from the device model, so its spec and technique are not inputs. The outcome time is the
/// course's end_time.
struct ScenarioPrediction {
  double scar_depth_reduction_pct = 0.0;  // mean over the scenario's graded lesions
  double collagen_change_pct = 0.0;       // papillary dermis, (C1 + C3) at the end of the course
  double reticular_collagen_change_pct = 0.0;
  PatientOutcome outcome;
};
ScenarioPrediction predict_scenario(const skin::PatchSpec& patch, const Course& course,
                                    double depth_reached, double density, double wound_radius = 0.0,
                                    double time_step = 6 * kHour,
                                    const devices::ThermalZone& zone = {});
/// The same with a given model (a posterior draw: protocol/bands.hpp), the patch's profile and
/// scars (patch_scars) already built, and the patient's rate multipliers.
ScenarioPrediction predict_scenario(const ReducedModel& m, const skin::SkinProfile& prof,
                                    const std::vector<outcomes::ScarGeometry>& scars,
                                    const Course& course, double depth_reached, double density,
                                    double wound_radius, double time_step, const RateFactors& rf,
                                    const devices::ThermalZone& zone = {});
/// The geometry of every lesion of a patch, in order (outcomes::scar_geometry).
std::vector<outcomes::ScarGeometry> patch_scars(const skin::SkinPatch& patch);

/// The tethering band of scar `s` on skin `prof` (outcomes::band_mechanics with the reticular
/// dermis's small-strain modulus, youngs_modulus x modulus_factor, and the Poisson ratio of the
/// penetration model, data/mechanics.toml).
outcomes::BandMechanics band_mechanics(const outcomes::OutcomeParams& p,
                                       const skin::SkinProfile& prof,
                                       const outcomes::ScarGeometry& s);

/// Allocator settings for a process that runs many reduced-model patients (cohort, plan,
/// sensitivity, calibration, validation; called by their commands): a patient holds its columns'
/// samples (about 20 MB) at once, and with glibc's defaults each patient's blocks were mapped,
/// faulted in and returned to the system again (plan with 2 threads: 3.2 s of 29 s of CPU in
/// the kernel). Blocks up to 32 MiB come from the heap and up to 256 MiB of free heap is kept for
/// the next patient. Changes no result; a no-op without glibc.
void keep_memory_for_patients();

}  // namespace mnsim::protocol
