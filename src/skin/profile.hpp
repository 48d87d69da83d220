// The skin at one point of the patch, before any lesion: layers, composition and mechanics, with
// the patient's age, sex and Fitzpatrick type applied. Built from the site atlas (data/sites.toml)
// by skin/atlas.hpp; consumed by the voxel tissue builder, the device/penetration model and the
// healing model.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mnsim::skin {

enum class Layer : std::uint8_t {
  Outside = 0,  // air above the (possibly depressed) surface
  StratumCorneum = 1,
  ViableEpidermis = 2,
  PapillaryDermis = 3,
  ReticularDermis = 4,
  Hypodermis = 5,
};
inline constexpr int kLayers = 5;  // tissue layers, Layer 1..5
/// Index 0..4 of a tissue layer (StratumCorneum = 0).
constexpr int layer_index(Layer l) {
  return static_cast<int>(l) - 1;
}
constexpr Layer layer_from_index(int i) {
  return static_cast<Layer>(i + 1);
}
/// "stratum_corneum", "viable_epidermis", "papillary_dermis", "reticular_dermis", "hypodermis".
std::string_view layer_name(Layer l);

/// Baseline composition of a layer. Concentrations in kg/m^3 (= mg/mL), cells per m^3,
/// vascular density as a volume fraction.
struct Composition {
  double collagen1 = 0.0;
  double collagen3 = 0.0;
  double elastin = 0.0;
  double fibroblasts = 0.0;
  double vascular = 0.0;
};

struct SkinProfile {
  std::string site;                         // atlas key, e.g. "medial_cheek"
  std::array<double, kLayers> thickness{};  // m; hypodermis: modelled thickness
  std::array<Composition, kLayers> composition{};
  std::array<double, kLayers> youngs_modulus{};  // Pa, small-strain
  double tension = 0.0;                          // in-plane skin tension, N/m
  double plexus_depth = 0.0;                     // superficial vascular plexus, m below the surface
  double melanocyte_density = 0.0;               // basal melanocytes per m^2
  double melanocyte_depth = 0.0;  // basal layer (bottom of the viable epidermis), m below surface
  double melanocyte_activity = 1.0;  // relative to Fitzpatrick I = 1 (PIH propensity)
  int fitzpatrick = 3;               // I..VI as 1..6

  /// Depth (m below the surface) of the top of a tissue layer.
  double top_of(Layer l) const {
    double z = 0.0;
    for (int i = 0; i < layer_index(l); ++i) z += thickness[static_cast<std::size_t>(i)];
    return z;
  }
  double bottom_of(Layer l) const {
    return top_of(l) + thickness[static_cast<std::size_t>(layer_index(l))];
  }
  double total_thickness() const {
    double z = 0.0;
    for (double t : thickness) z += t;
    return z;
  }
  /// Layer at a depth below the local surface (Outside above 0, Hypodermis below the dermis).
  Layer layer_at(double depth) const {
    if (depth < 0.0) return Layer::Outside;
    double z = 0.0;
    for (int i = 0; i < kLayers - 1; ++i) {
      z += thickness[static_cast<std::size_t>(i)];
      if (depth < z) return layer_from_index(i);
    }
    return Layer::Hypodermis;
  }
};

/// The safety rule that `mnsim run`, its report, `mnsim punctures` and the planner share: a needle
/// must stay in the dermis. True when a channel `depth` m below the local surface reaches past the
/// dermis into the hypodermis (docs/devices.md, "Safety").
inline bool past_dermis(double depth, const SkinProfile& p) {
  return p.layer_at(depth) == Layer::Hypodermis;
}

/// The skin under a depression whose floor lies `floor_depth` below the unlesioned surface, as a
/// profile measured from the floor: stratum corneum, viable epidermis and papillary dermis keep
/// their thickness and follow the floor, the reticular dermis is what is left above the
/// unchanged bottom of the dermis (layers may reach zero thickness); plexus and melanocyte depths
/// follow. The layout the tissue builder uses under scars (SkinPatch::interfaces).
SkinProfile profile_below(const SkinProfile& p, double floor_depth);

}  // namespace mnsim::skin
