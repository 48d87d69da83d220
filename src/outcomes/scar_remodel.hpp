// Scar remodelling and side-effect links (docs/model.md "Scar remodelling"), shared by the 3D
// engine and the reduced model:
//  - matrix deposited since the start (collagen I + III + elastin, laid down at the layer's normal
//    density: a growth law from partial volumes) raises each column's surface; a scar floor's
//    column starts with its kind's dermal deficit held by scar matrix (healing field
//    scar_matrix), which the wound response degrades and fibroblasts fill. The scar gets
//    shallower by the floor's rise less the rim's;
//  - a rolling scar's tethering band fails when needles and matrix degradation have left less of
//    its cross-section than its load needs (safety factor): the part of the depth it held is
//    released;
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
  double tether_share = 0.5;        // share of a tethered rolling scar's depth held by the band
  double band_safety_factor = 2.0;  // failure load of an intact band / the load it carries
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
  double volume = 0.0;   // m^3, depression volume (0: not needed)
  double deficit = 0.0;  // share of the normal matrix missing under the floor (lesion kind)
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
  /// Intact share of the tethering band's cross-section: (1 - cut by needles) x (scar matrix
  /// left); 1 for an untouched band.
  double band_intact = 1.0;
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
/// tether_share d for a tethered scar whose band failed (band_intact x band_safety_factor < 1);
/// the volume scales with the depth (same shape). A floor that sinks relative to the rim deepens
/// the scar.
RemodelResult remodel_scar(const OutcomeParams& p, const ScarGeometry& s, const RemodelInput& in);

/// Share of a tethering band's cross-section cut after `sessions` sessions of `density`
/// punctures/m^2 of wound radius `radius` (m) that reach the band below the floor: the band's
/// fibres run with the needles, so each session cuts the area fraction rho pi r^2 of what is
/// left: 1 - (1 - rho pi r^2)^n; 0 if `reach_band` is false.
double band_cut_fraction(double density, double radius, int sessions, bool reach_band);

/// PIH risk 0..1 from the peak melanin-excess index of the course (logistic link).
double pih_risk(const OutcomeParams& p, double melanin_peak);

}  // namespace mnsim::outcomes
