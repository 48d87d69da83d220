// Needle penetration into layered skin: the skin dimples before it is punctured, so a needle
// reaches less than its nominal length. Quasi-static model (docs/devices.md, "Penetration"):
//
//   puncture force     F_p = sigma_p * A_i,  A_i = pi r_tip^2      (Davis et al. 2004 area law)
//   skin stiffness     k   = 2 a E_ind / (1 - nu^2)  +  2 pi T / ln(b / a)
//                            (flat punch on a half-space + membrane under tension T)
//                      E_ind = c_E * (thickness-weighted Young's modulus over the top 3a)
//   shaft resistance   R(d) = F_p + f d,  f = tau * pi * D          (cutting + wall friction)
//   dimple             u = R(d) / k
//   depth reached      d = min( (L - F_p/k) / (1 + f/k),  (F - F_p) / f ),  0 if F < F_p
//
// with a = D/2 the needle radius, b = half the spacing to the nearest needle (the device holds
// the skin there), L the nominal length and F the force on this needle. Parameters (sigma_p,
// tau, nu, c_E) come from data/mechanics.toml with their sources; c_E is calibrated to the
// human in-vivo OCT observation (Donnelly et al. 2010: 600 um needles reached about 460 um).
#pragma once

#include <filesystem>
#include <string>

#include "skin/profile.hpp"

namespace mnsim::mechanics {

struct NeedleGeometry {
  double length = 0.0;      // nominal length protruding from the hub or drum, m
  double diameter = 0.0;    // shaft diameter, m
  double tip_radius = 0.0;  // radius of the blunted tip, m
  double tip_angle = 0.0;   // full cone angle of the tip, rad
  double spacing = 0.0;     // centre distance to the nearest needle on the device, m
};

struct PenetrationParams {
  double puncture_stress = 0.0;  // sigma_p, Pa (force per interfacial area)
  double friction_stress = 0.0;  // tau, Pa (shaft wall shear while advancing)
  double poisson = 0.0;          // nu of skin
  double modulus_factor = 0.0;   // c_E: indentation modulus / tabulated Young's modulus
  double stiffness_depth = 0.0;  // depth over which E is averaged, in needle radii (3)

  /// Reads data/mechanics.toml ([penetration] entry). InputError on malformed data.
  static PenetrationParams load(const std::filesystem::path& path);
  /// The parameters from the default data file, loaded once.
  static const PenetrationParams& defaults();
};

struct PenetrationResult {
  bool punctured = false;
  double depth = 0.0;           // depth reached below the undeformed surface, m
  double puncture_force = 0.0;  // F_p, N
  double stiffness = 0.0;       // k, N/m
  double dimple = 0.0;          // surface depression at the needle when fully in, m
  double channel_radius = 0.0;  // radius of the channel at the surface, m
  double force = 0.0;           // force on this needle, N
};

/// Interfacial (tip) area, m^2.
double interfacial_area(const NeedleGeometry& g);
/// F_p, N.
double puncture_force(const NeedleGeometry& g, const PenetrationParams& p);
/// Young's modulus averaged by thickness over [0, depth] of the profile, Pa.
double mean_modulus(const skin::SkinProfile& s, double depth);
/// k, N/m.
double skin_stiffness(const NeedleGeometry& g, const skin::SkinProfile& s,
                      const PenetrationParams& p);
/// Radius of the channel at the surface for a tip that went `depth` in, m.
double channel_radius(const NeedleGeometry& g, double depth);
/// Depth reached by one needle pressed with `force` N.
PenetrationResult penetrate(const NeedleGeometry& g, double force, const skin::SkinProfile& s,
                            const PenetrationParams& p);

/// A skin profile from an entry of data/mechanics.toml (the calibration case [donnelly2010]): layer
/// thicknesses stratum_corneum .. hypodermis, modulus_epidermis / modulus_dermis /
/// modulus_hypodermis and tension. The superficial vascular plexus is placed at the
/// papillary/reticular border (Braverman 1997). Composition is left empty: mechanics only.
skin::SkinProfile mechanics_profile(const std::filesystem::path& path, const std::string& entry);

/// Default path of the mechanics data file.
std::filesystem::path default_mechanics_path();

}  // namespace mnsim::mechanics
