// Fast reduced driver of the healing kinetics: one well-mixed wound compartment per skin layer
// (the areal mean of every field over the treated patch), over a course of sessions. No 3D, no
// lateral transport: each compartment runs healing::react; the viable epidermis takes its cell
// density from the per-channel re-epithelialisation model (healing/reepithelialization.hpp) and
// its KGF from the papillary dermis (KGF crosses the ~50-100 um to the basal layer in minutes).
// Used for calibration, the physiology tests and, later, cohorts (docs/model.md, "Reduced
// driver").
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "healing/channel_closure.hpp"
#include "healing/kinetics.hpp"
#include "healing/reepithelialization.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// The column driver's largest step at `age` h after the last session: max_dt, but at most
/// age / kStepsPerAgeEfold (at least kAgeStepFloor h). Steps follow the wound's age, never the end
/// of the run, so the state at a given day does not depend on how long the follow-up is; the
/// healing phases (hours, days, weeks) get about the same number of steps each
/// (docs/numerics.md, "Time step and follow-up").
inline constexpr double kStepsPerAgeEfold = 50.0;
inline constexpr double kAgeStepFloor = 0.84;  // h
double age_limited_step(double max_dt, double age);

/// What one session's needles deliver (ColumnProtocol::doses).
struct SessionDose {
  double density = 250.0;  // punctures per cm^2
  double depth = 1000.0;   // um below the surface
  double radius = 62.5;    // um, channel radius above the tip taper
  bool bled = true;        // the punctures reached the superficial plexus
  // Optional precomputed epidermal channel healing for this radius (as ColumnProtocol::channel).
  const ChannelHealing* channel = nullptr;
  // Each needle's thermal coagulation zone (an RF needle's, docs/rf.md; 0: mechanical): a
  // spheroid on the channel's axis of radius coag_radius from coag_top to coag_bottom (um below
  // the surface), deposited as thermal injury (ColumnProtocol::coag_radius); coag_denatured: the
  // share of its collagen denatured (ColumnProtocol::coag_denatured).
  double coag_radius = 0.0, coag_top = 0.0, coag_bottom = 0.0;
  double coag_denatured = 0.0;
  // Optional precomputed closure of this session's channels (as ColumnProtocol::closure).
  const ChannelHealing* closure = nullptr;
  bool same_wound(const SessionDose& o) const {
    return density == o.density && depth == o.depth && radius == o.radius && bled == o.bled &&
           coag_radius == o.coag_radius && coag_top == o.coag_top && coag_bottom == o.coag_bottom &&
           coag_denatured == o.coag_denatured;
  }
};

/// Platelets put into the compartments at a time after a session (PRP filling the open channels;
/// healing/column_substances.hpp).
struct ColumnAddition {
  double t = 0.0;                                 // h since the first session
  std::array<double, skin::kLayers> platelets{};  // areal mean volume fraction added per layer
};

struct ColumnProtocol {
  std::vector<double> session_times;  // h, start of each session (one puncture wave each)
  // Per session, what its needles deliver (a course that changes device or settings between
  // sessions). Empty: every session delivers density, depth, radius and bled below, with
  // `channel`. Depth-resolved bands (band > 0) need one depth for every session.
  std::vector<SessionDose> doses;
  double density = 250.0;  // punctures per cm^2 per session
  double depth = 1000.0;   // um, depth reached below the surface (straight channels)
  double radius = 62.5;    // um, channel radius above the tip taper
  bool bled = true;        // the punctures reached the superficial plexus
  double end_time = 0.0;   // h
  double max_dt = 6.0;     // h, largest reaction step (growth x1.1 from 0.01 h)
  bool exchange = true;    // vertical exchange between layers (false: isolated layers,
                           // the comparison case of the unit cell, unit_cell.hpp)
  // Optional precomputed epidermal channel healing, heal_channel(p, epidermal_channel_radius(..),
  // 96 h), to reuse between runs with the same
  // keratinocyte parameters and radius (cohorts: it is ~90% of a run's cost). nullptr: computed by
  // run_column.
  const ChannelHealing* channel = nullptr;
  // Optional precomputed closure of the channels, close_channels(p, ClosureParams::defaults(),
  // session_geometry(p, prof, *this), 96 h) (healing/channel_closure.hpp: the mouth on the
  // session's lattice, its clot, its lumen's fill): what the session summaries' barrier and
  // closure and the samples' excess water loss come from. nullptr: computed by run_column.
  const ChannelHealing* closure = nullptr;
  // Lateral resolution of the treated patch: 0 or 1, every layer well mixed (one compartment);
  // n > 1, every layer resolved on n annuli of the axisymmetric unit cell around one channel of
  // the session's lattice (cell radius 1/sqrt(pi density); healing/radial.hpp, radial_mesh), with
  // the engine's lateral diffusion and chemotaxis and the vertical exchange annulus by annulus.
  // The injury of each annulus is the own channel's, scaled so each layer's areal means are
  // those of punctures at random positions; each new session starts from the areal means (its
  // channels land anywhere). Samples hold areal means either way.
  int annuli = 0;
  // Depth resolution: 0, one band per layer; b > 0, every layer cut where the channel ends and
  // where its tip starts to taper, and split into bands no thicker than b (um), exchanging
  // vertically as the layers do. Samples hold layer means either way.
  double band = 0.0;
  // Atrophic scar under the column (a scar floor's column, skin::profile_below): per layer, the
  // share of the normal matrix content missing at the start and held there by scar matrix
  // (collagen I + III and elastin start at (1 - d) of the baseline, the field scar_matrix at d,
  // scar_fibroblasts at Params::scar_phenotype_share; docs/model.md, "Scar remodelling"). Zero:
  // normal skin.
  std::array<double, skin::kLayers> scar_deficit{};
  // Each needle's thermal coagulation zone (an RF needle's; docs/rf.md, "In the reduced model"):
  // a spheroid on the channel's axis of radius coag_radius (um) from coag_top to coag_bottom (um
  // below the surface); 0: mechanical needles. Inside it, outside the lumen, the cells are killed,
  // the share coag_denatured of the collagen is moved to denatured_collagen (and as much of the
  // scar matrix's hold released), the elastin is lost (matrix_loss), and nothing bleeds, the
  // lumen inside the zone included (the 3D engine's healing::apply_puncture). Unused when
  // `doses` is given (each dose carries its own).
  double coag_radius = 0.0, coag_top = 0.0, coag_bottom = 0.0;
  double coag_denatured = 0.0;
  // Platelets added after sessions (PRP), ascending in time: each layer's amount goes into its
  // compartments as the session's blood does (in proportion to the lumen each holds), after the
  // session at the same time. The steps stop at each.
  std::vector<ColumnAddition> additions;
  // Times (h) at which the caller reads the run (ColumnRun::value): empty, a sample at every step;
  // else only the first sample and, for each time, the two steps around it, which is all that
  // ColumnRun::value interpolates between (the same values as with every sample). The session
  // summaries' erythema and peak times, which scan every sample, are then not computed (-1).
  // A scar floor's column (its rise at the outcome times) keeps about 1 sample in 100.
  std::vector<double> sample_at;
};

/// Per-layer mean number of coagulation zones covering a point, outside the channels' lumen
/// (rho times the zone's volume outside the lumen in the layer, over its thickness): what one
/// session of ColumnProtocol's zones deposits (0 without a zone).
std::array<double, skin::kLayers> zone_fractions(const Params& p, const skin::SkinProfile& prof,
                                                 const ColumnProtocol& pr);

struct ColumnSample {
  double t = 0;  // h since the first session
  std::array<State, skin::kLayers> s{};
  double erythema = 0;     // redness seen from above (erythema_seen), 0..1
  double tewl_excess = 0;  // excess water loss of the treated area over the baseline TEWL
};

struct SessionSummary {
  double start = 0;             // h
  double barrier_time = -1;     // h after the session, TEWL excess <= barrier_threshold
  double closure_time = -1;     // h after the session, channel mouths closed (close_channels)
  double erythema_time = -1;    // h after the session, last time erythema >= visible threshold
  double neutrophil_peak = -1;  // h after the session (papillary dermis)
  double macrophage_peak = -1;  // h after the session (papillary dermis)
};

struct ColumnRun {
  Baselines base{};
  // Per session and layer, for punctures at random positions (a point lies in a Poisson number
  // of channels, mean m = session_fractions): damage_fraction = 1 - e^{-m_damage}, the areal mean
  // of D added; matrix_keep = e^{-matrix_loss m_lumen}, the share of the matrix left (each lumen
  // removes matrix_loss of it, as the 3D engine does channel by channel); lumen_fraction =
  // m_lumen, the blood volume fraction before the cap at 1 (blood adds up, as in the engine).
  std::array<double, skin::kLayers> damage_fraction{};
  std::array<double, skin::kLayers> matrix_keep{};
  std::array<double, skin::kLayers> lumen_fraction{};
  ChannelHealing channel;               // epidermal channel
  std::vector<double> annulus_area;     // unit-cell annulus areas (um^2); {1} when well mixed
  std::vector<double> annulus_mid;      // unit-cell annulus mid-radii (um); {0} when well mixed
  std::vector<std::size_t> band_layer;  // per depth band: its layer (skin::layer_index)
  std::vector<double> band_top, band_bottom;  // per depth band: depth range (um)
  // State of every annulus at end_time, per layer (the bands' thickness-weighted mean).
  std::vector<std::array<State, skin::kLayers>> final_cell;
  std::vector<ColumnSample> samples;  // every step (ColumnProtocol::sample_at: those kept)
  std::vector<SessionSummary> sessions;

  /// Linear interpolation of one field (a healing_model() slot, or its name) of one layer at
  /// time t (h).
  double value(skin::Layer l, int slot, double t) const;
  double value(skin::Layer l, std::string_view field, double t) const;
  /// Relative change of collagen I + III of a layer at time t: C/C0 - 1.
  double collagen_change(skin::Layer l, double t) const;
  /// Relative change of epidermal thickness at time t: h - 1.
  double epidermal_thickness_change(double t) const;
  /// Time (h) of the maximum of the excess f - f0 of a field (slot or name) of a layer within
  /// [t0, t1].
  double peak_time(skin::Layer l, int slot, double t0, double t1) const;
  double peak_time(skin::Layer l, std::string_view field, double t0, double t1) const;
};

/// Per-layer mean number of channels covering a point, of one session of straight channels: by
/// their damage (damage-weighted area) and by their lumen (areal means of rho x area).
void session_fractions(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr,
                       std::array<double, skin::kLayers>& damage,
                       std::array<double, skin::kLayers>& lumen);

/// Radius (um) of the epidermal channel the driver heals: the channel at mid viable epidermis.
double epidermal_channel_radius(const Params& p, const skin::SkinProfile& prof,
                                const ColumnProtocol& pr);
/// The channels of a protocol's (current) dose as the closure sees them
/// (healing::channel_geometry, bled as the protocol says).
ChannelGeometry session_geometry(const Params& p, const skin::SkinProfile& prof,
                                 const ColumnProtocol& pr);
/// Length of the healing window run_column uses for the channel (h).
inline constexpr double kChannelHealWindow = 96.0;

/// The dose of session i (ColumnProtocol::doses, or the protocol's one dose).
SessionDose session_dose(const ColumnProtocol& pr, std::size_t i);

/// Runs the reduced driver. Throws std::invalid_argument on an inconsistent protocol.
ColumnRun run_column(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr);

/// run_column for several columns (profs[i] with prs[i]), each result identical bit for bit to
/// run_column's. Columns on the same course (session times, end time, largest step) are stepped
/// together: the reactions of all in one batch, the lateral transport of the columns on one unit
/// cell in one batch (a patient's columns under its scar floors; docs/cohort.md, "Cost").
std::vector<ColumnRun> run_columns(const Params& p, std::span<const skin::SkinProfile> profs,
                                   std::span<const ColumnProtocol> prs);

}  // namespace mnsim::healing
