// Needle penetration into layered skin: the skin dimples before it is punctured and stays
// depressed around the needle, so a needle reaches less than its nominal length. Quasi-static
// model (docs/devices.md, "Penetration"):
//
//   puncture force     F_p  = sigma_p * pi r_tip^2               (Davis et al. 2004 area law)
//   resistance         R(d) = F_p + f d,  f = tau pi D           (cutting at the tip + wall
//   friction) hub pressure       p_h  = max(0, F - R(d)) / s^2             (force carried by the
//   hub, drum or
//                                                                 array base between needles)
//   tangent modulus    E_t  = c_E Ebar(3a) + beta (T / h + p_h)  (J-shaped skin stiffens with the
//                                                                 stress it carries)
//   funnel stiffness   k    = 2 a E_t / (1 - nu^2) + 2 pi T / ln(b / a)
//                             (flat punch on a half-space + membrane under tension T)
//   dimple             u(d) = R(d) / k
//   depth reached      d solves d + u(d) = L (the hub reaches the skin), or d = (F - F_p) / f
//                      if that is smaller (the needle's force is spent first); no puncture if
//                      F < F_p or u(0) >= L
//
// with a = D/2, b = max(s/2, 2a), s the spacing to the nearest needle, h the thickness of the
// epidermis and dermis, T the in-plane skin tension, L the nominal length and F the force on
// this needle. A needle with s = 0 has no hub (a single needle driven to a displacement L): then
// p_h = 0 and the membrane term vanishes (b -> infinity). Parameters (sigma_p, tau, nu, c_E,
// beta) come from data/mechanics.toml with their sources; c_E and beta are calibrated to the
// human in-vivo and rat ex-vivo observations (Donnelly 2010, Kalluri 2011).
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
  double spacing = 0.0;     // centre distance to the nearest needle on the device, m (0: no hub)
};

struct PenetrationParams {
  double puncture_stress = 0.0;  // sigma_p, Pa (force per interfacial area)
  double friction_stress = 0.0;  // tau, Pa (shaft wall shear while advancing)
  double poisson = 0.0;          // nu of skin
  double modulus_factor = 0.0;   // c_E: small-strain indentation modulus / tabulated modulus
  double stiffening = 0.0;       // beta: rise of the tangent modulus per unit stress carried
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
  double resistance = 0.0;      // R(d) at the depth reached, N
  double hub_pressure = 0.0;    // p_h, Pa
  double modulus = 0.0;         // tangent modulus E_t, Pa
  double stiffness = 0.0;       // k, N/m
  double dimple = 0.0;          // surface depression at the needle when fully in, m
  double channel_radius = 0.0;  // radius of the channel at the surface, m
  double force = 0.0;           // force on this needle, N
};

/// Interfacial (tip) area, m^2.
double interfacial_area(const NeedleGeometry& g);
/// F_p, N.
double puncture_force(const NeedleGeometry& g, const PenetrationParams& p);
/// Resistance per unit depth f = tau pi D, N/m.
double friction_per_depth(const NeedleGeometry& g, const PenetrationParams& p);
/// Young's modulus averaged by thickness over [0, depth] of the profile, Pa.
double mean_modulus(const skin::SkinProfile& s, double depth);
/// Pressure of the hub on the skin around a needle carrying `force` of which `resistance` goes
/// into the needle, Pa (0 without a hub).
double hub_pressure(const NeedleGeometry& g, double force, double resistance);
/// Tangent modulus E_t of the skin under the needle at hub pressure p_h, Pa.
double tangent_modulus(const NeedleGeometry& g, const skin::SkinProfile& s,
                       const PenetrationParams& p, double hub_pressure);
/// k, N/m, at hub pressure p_h.
double skin_stiffness(const NeedleGeometry& g, const skin::SkinProfile& s,
                      const PenetrationParams& p, double hub_pressure = 0.0);
/// Radius of the channel at the surface for a tip that went `depth` in, m.
double channel_radius(const NeedleGeometry& g, double depth);
/// Depth reached by one needle pressed with `force` N.
PenetrationResult penetrate(const NeedleGeometry& g, double force, const skin::SkinProfile& s,
                            const PenetrationParams& p);

/// A skin profile from a tissue-preparation entry of data/mechanics.toml (e.g.
/// [human_forearm_in_vivo], [rat_ex_vivo], [pig_ex_vivo]): layer thicknesses stratum_corneum ..
/// hypodermis, modulus_epidermis / modulus_dermis / modulus_hypodermis and tension. The
/// superficial vascular plexus is placed at the papillary/reticular border (Braverman 1997).
/// Composition is left empty: mechanics only. InputError on a missing entry or bad values.
skin::SkinProfile mechanics_profile(const std::filesystem::path& path, const std::string& entry);

/// A validation case of data/mechanics.toml ([donnelly2010], [kalluri2011], [lam2008]): the
/// needle, the force on it, the tissue preparation it was pressed into and what was observed.
struct PenetrationCase {
  std::string id;
  NeedleGeometry needle;
  double force = 0.0;       // per needle, N
  std::string preparation;  // entry id of the tissue preparation
  skin::SkinProfile skin;   // that preparation's profile
};
/// Reads the needle (needle_length, needle_diameter, tip_radius, tip_angle, spacing),
/// force_per_needle and preparation of a case. InputError on a missing entry or bad values.
PenetrationCase penetration_case(const std::filesystem::path& path, const std::string& entry);

/// Default path of the mechanics data file.
std::filesystem::path default_mechanics_path();

}  // namespace mnsim::mechanics
