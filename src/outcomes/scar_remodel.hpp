// Scar remodelling and side-effect links (docs/model.md "Scar remodelling"), shared by the 3D
// engine and the reduced model:
//  - new dermal matrix (collagen I + III + elastin above baseline, as a thickness of normal-density
//    matrix) under a scar floor and in the skin around it raises the floor relative to the rim;
//  - needles severing a rolling scar's tethering band release the part of its depth the band held;
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
  double scar_volume_fraction = 0.5;     // kappa: share of new matrix under a scar kept as volume
  double normal_volume_fraction = 0.05;  // kappa_n: same in normal dermis (raises the rim)
  double tether_share = 0.5;  // share of a tethered rolling scar's depth held by the band
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
/// $MNSIM_DATA_DIR/outcomes.toml or the source tree's data/outcomes.toml.
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
  double volume = 0.0;  // m^3, depression volume (0: not needed)
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
  // m, new-matrix thickness deposited under the scar floor: the largest over the course up to the
  // outcome time (matrix deposited into the matrix-deficient scar dermis is not remodelled away)
  double matrix_under = 0.0;
  double matrix_around = 0.0;   // m, new-matrix thickness in the skin around it at the outcome time
  double tether_release = 0.0;  // fraction of the footprint punctured through the tether depth
};

struct RemodelResult {
  double depth_before = 0.0, depth_after = 0.0;    // m
  double volume_before = 0.0, volume_after = 0.0;  // m^3 (0 if the volume was not given)
  double fill = 0.0;                               // m, floor rise relative to the rim (>= 0)
  double release = 0.0;                            // m, depth removed by tether release
  double reduction() const {                       // fraction of the depth removed
    return depth_before > 0 ? 1.0 - depth_after / depth_before : 0.0;
  }
};

/// depth_after = max(0, d - max(0, kappa T_under - kappa_n T_around) - tether_share d r) where the
/// last term applies to tethered scars only; the volume scales with the depth (same shape).
RemodelResult remodel_scar(const OutcomeParams& p, const ScarGeometry& s, const RemodelInput& in);

/// Fraction of a tethered scar's footprint punctured through its band after `sessions` sessions
/// of `density` punctures/m^2 of surface radius `radius` (m) that reach into the dermis below the
/// floor: 1 - (1 - rho pi r^2)^n; 0 if `reach_band` is false.
double tether_release_fraction(double density, double radius, int sessions, bool reach_band);

/// PIH risk 0..1 from the peak melanin-excess index of the course (logistic link).
double pih_risk(const OutcomeParams& p, double melanin_peak);

}  // namespace mnsim::outcomes
