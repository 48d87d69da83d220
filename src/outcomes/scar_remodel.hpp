// Scar remodelling and side-effect links (docs/model.md "Scar remodelling"), shared by the 3D
// engine and the reduced model:
//  - matrix deposited since the start (collagen I + III + elastin, laid down at the layer's normal
//    density: a growth law from partial volumes) raises each column's surface; a scar floor's
//    column starts with its kind's dermal deficit held by scar matrix (healing field
//    scar_matrix), which the wound response degrades and fibroblasts fill. The scar gets
//    shallower by the floor's rise less the rim's;
//  - a rolling scar's tethering band is course state (TetherState): each session's needles cut
//    part of its cross-section, healing re-forms the cut part between sessions, and the band
//    fails when what is left cannot carry the load of the depth it holds (its failure load from
//    the strength of skin collagen, its load from the skin's stiffness): the part of the depth it
//    held is released;
//  - post-inflammatory hyperpigmentation (PIH) risk from the peak epidermal melanin excess index.
// Parameters: data/outcomes.toml (sources, calibrated/assumed marked there).
#pragma once

#include <array>
#include <string>

#include "core/constants.hpp"
#include "lesions/lesion.hpp"
#include "skin/profile.hpp"

namespace mnsim::outcomes {

struct OutcomeParams {
  // [remodel]
  double tether_share = 0.5;      // share of a tethered rolling scar's depth held by the band
  double band_strength = 21.6e6;  // Pa, tensile strength of tissue at the dermis's collagen
  double band_reform_half_time = 40 * kDay;  // s, half-time of a cut band's strength recovery
  // [pih]
  double pih_mu_threshold = 0.23;  // melanin-excess index of visible PIH (median responder)
  double pih_spread = 0.3;         // SD of ln(melanogenic response) between patients of a type
  // [roller]
  double channel_radius = 62.5e-6;  // m, wound radius of a roller needle (after recoil)
  // [planner]
  std::array<double, 6> pih_cap{0.05, 0.05, 0.05, 0.03, 0.03, 0.03};  // by Fitzpatrick type
  double erythema_cap = 3 * kDay;                                     // s
  double home_use_max = 0.3e-3;                                       // m
  // [variability] default SDs of ln(multiplier)
  double var_collagen_synthesis = 0.25, var_growth_factor_supply = 0.2,
         var_fibroblast_proliferation = 0.15, var_melanin_rate = 0.3;
  std::string file;
};

/// Loads data/outcomes.toml (InputError at file:line:col on malformed data).
OutcomeParams load_outcome_params(const std::string& path);
/// outcomes.toml in the data folder (core/data_dir.hpp).
std::string default_outcome_params_path();
/// The shipped parameters, loaded once.
const OutcomeParams& default_outcome_params();

/// Text for `mnsim catalog outcomes`: every entry of data/outcomes.toml with value and source.
std::string catalog_text(const std::string& path);

/// A scar as the remodelling link sees it (m).
struct ScarGeometry {
  std::string kind;  // a registered lesion kind: "icepick", "boxcar", "rolling", ..., "measured"
  double depth = 0.0;
  double width = 0.0;
  bool tethered = false;
  double volume = 0.0;         // m^3, depression volume (0: not needed)
  double deficit = 0.0;        // share of the normal matrix missing under the floor (lesion kind)
  double band_radius = 0.0;    // m, radius of the tethering band (tethered scars)
  double band_collagen = 1.0;  // band collagen relative to the reticular dermis's
  /// Floor depths over the footprint (where the depression is > 0): the midpoints of
  /// kFloorQuantiles equal-area quantiles, ascending, m. The 3D engine averages the new matrix
  /// over the footprint's columns; the reduced model averages over these depths.
  static constexpr int kFloorQuantiles = 8;
  std::array<double, kFloorQuantiles> floor{};
};
/// From a lesion of a registered kind: width by the kind's WidthRule (the larger side of the
/// bounding box, or the smaller for linear lesions), tethered when the kind can be and the lesion
/// has a band (lesions/registry.hpp).
ScarGeometry scar_geometry(const lesions::Lesion& l);
/// scar_geometry without the floor depths (`floor` left at zero): the scar's kind, depth, width,
/// band, volume and deficit, at a fraction of the cost (the floor depths sample the footprint).
ScarGeometry scar_outline(const lesions::Lesion& l);

/// Relative matrix gain of the two dermal layers: (C1 + C3 + E)/(C1 + C3 + E)_0 - 1.
struct DermalGain {
  double papillary = 0.0;
  double reticular = 0.0;
};

/// New-matrix thickness (m) of the column under a scar floor `floor_depth` below the unlesioned
/// surface, laid out as the tissue builder lays it (skin::SkinPatch::interfaces): the epidermis
/// and the papillary dermis follow the floor, the reticular dermis is what is left above the
/// unchanged dermis bottom. Sum over the papillary and reticular dermis of gain x thickness;
/// floor_depth = 0 gives the thickness for normal skin around a scar.
double new_matrix_thickness(const skin::SkinProfile& prof, const DermalGain& g, double floor_depth);

/// Inputs of the link for one scar.
struct RemodelInput {
  double rise_under = 0.0;   // m, rise of the scar floor (footprint mean) since the start
  double rise_around = 0.0;  // m, rise of the skin around it
  /// Load-bearing share of the tethering band's cross-section (TetherState::strength x scar
  /// matrix left); 1 for an untouched band.
  double band_intact = 1.0;
  /// The band has failed (TetherState::failed): the depth it held is released.
  bool band_failed = false;
};

struct RemodelResult {
  double depth_before = 0.0, depth_after = 0.0;    // m
  double volume_before = 0.0, volume_after = 0.0;  // m^3 (0 if the volume was not given)
  double fill = 0.0;                               // m, floor rise relative to the rim
  double release = 0.0;                            // m, depth released by a failed band
  bool band_failed = false;
  double reduction() const {  // fraction of the depth removed
    return depth_before > 0 ? 1.0 - depth_after / depth_before : 0.0;
  }
};

/// depth_after = clamp(d - (rise_under - rise_around) - release, 0, ...) where release =
/// tether_share d for a tethered scar whose band has failed (in.band_failed): as long as the band
/// holds it pulls the floor down by that share of the depth. The volume scales with the depth
/// (same shape). A floor that sinks relative to the rim deepens the scar.
RemodelResult remodel_scar(const OutcomeParams& p, const ScarGeometry& s, const RemodelInput& in);

/// The mechanics of a tethering band (N): the load it carries holding the floor down and the
/// load at which it breaks while intact.
struct BandMechanics {
  double load = 0.0;       // N: skin stiffness k_s x the depth held (tether_share d)
  double capacity = 0.0;   // N: band_strength x band_collagen x pi band_radius^2
  double stiffness = 0.0;  // N/m: k_s
  /// capacity / load (infinite with no load).
  double safety() const;
};
/// The band of a tethered scar `s` on skin `prof`: the floor held tether_share d below where the
/// skin around would put it is pulled back by the skin, a pre-tensioned membrane (prof.tension,
/// N) loaded at the band (radius b) and held at the scar's edge (R = width/2): 2 pi N / ln(R/b),
/// plus the bending of the dermis under the floor as a clamped plate loaded at its centre,
/// 16 pi D / R^2 with D = E t^3 / (12 (1 - nu^2)), E = `dermis_modulus` (small-strain), t the
/// dermis left under the floor. The capacity is band_strength x band_collagen (the fibres carry
/// the load, so strength scales with the collagen) x pi b^2. No band: zero load and capacity.
BandMechanics band_mechanics(const OutcomeParams& p, const skin::SkinProfile& prof,
                             double dermis_modulus, double poisson, const ScarGeometry& s);

/// A tethering band as course state: cut by each session's needles, re-formed by healing between
/// sessions, failed (for good: the floor has risen away from it) once a session leaves it unable
/// to carry its load. Shares of the intact band's cross-section.
struct TetherState {
  double uncut = 1.0;     // share never cut by a needle
  double reformed = 0.0;  // share re-formed across the cuts (strength equivalent)
  bool failed = false;
  double t = 0.0;  // s, time the state refers to
  /// Load-bearing share of the cross-section before matrix degradation.
  double strength() const { return uncut + reformed; }
  bool operator==(const TetherState&) const = default;
};
/// The state at time t >= s.t: the cut share re-forms toward full strength with half-time
/// band_reform_half_time (healing incisions regain their strength on that time scale); a failed
/// band stays failed.
TetherState tether_at(const OutcomeParams& p, TetherState s, double t);
/// A session at time t: re-formed up to t, then `cut` (band_cut_fraction of one session) of the
/// uncut and re-formed fibres alike is cut; the band fails when strength x matrix_left x
/// capacity < load (matrix_left: share of the band's scar matrix left).
TetherState tether_session(const OutcomeParams& p, TetherState s, double t, double cut,
                           double matrix_left, const BandMechanics& m);

/// Share of a tethering band's cross-section cut after `sessions` sessions of `density`
/// punctures/m^2 of wound radius `radius` (m) that reach the band below the floor: the band's
/// fibres run with the needles, so each session cuts the area fraction rho pi r^2 of what is
/// left: 1 - (1 - rho pi r^2)^n; 0 if `reach_band` is false.
double band_cut_fraction(double density, double radius, int sessions, bool reach_band);

/// PIH risk 0..1 from the peak melanin-excess index of the course (logistic link).
double pih_risk(const OutcomeParams& p, double melanin_peak);

}  // namespace mnsim::outcomes
