// The skin patch of a scenario: the site profile (atlas + patient), the lesions on it, and the
// voxel tissue built from them.
//
// Geometry: x across the patch width, y along its length, z downward from the plane of the
// unlesioned surface (z = 0). Under a lesion the surface sits at z = s(x, y) = the deepest
// depression of any lesion there; the epidermis and papillary dermis follow the depressed surface
// with their normal thickness, the bottom of the dermis stays flat (the reticular dermis is
// thinned, then the papillary dermis), and the hypodermis lies below. Under a lesion's footprint
// the dermis has less collagen (collagen_deficit) and disorganised collagen (collagen_order =
// 1 - disorder); rolling scars add tethering bands of dense collagen into the hypodermis.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "core/settings.hpp"
#include "grid/grid.hpp"
#include "lesions/lesion.hpp"
#include "lesions/spec.hpp"
#include "skin/atlas.hpp"
#include "skin/profile.hpp"

namespace mnsim::skin {

/// Scenario schema sections contributed by this module.
schema::Key patient_schema();  // [patient]
schema::Key tissue_schema();   // [tissue]

/// The patient and the treated site: the [patient] section.
struct PatientSpec {
  std::string site = "medial_cheek";
  double age_years = 35.0;
  Sex sex = Sex::Female;
  int fitzpatrick = 3;
  int glogau = 0;  // photoageing baseline, Glogau type 1..4 (0: none)
};
/// From the scenario's [patient] section (validated against patient_schema()).
PatientSpec read_patient(const Table& patient);

/// The simulated patch and its voxel grid: the [tissue] section.
struct TissueSpec {
  double width = 10e-3, length = 10e-3;  // m, patch size across (x) and along (y)
  double hypodermis = 0.5e-3;            // m of hypodermis modelled below the dermis
  double resolution = 50e-6;             // m, voxel size in x and y; target in z
  int z_min_cells = 2;                   // minimum cells across each layer
  /// Where each key was written (messages at its key); empty when made in code.
  Settings settings{"tissue", {}};
};
/// From the scenario's [tissue] section (validated against tissue_schema()).
TissueSpec read_tissue(const Table& tissue);

/// What a skin patch is built from: the patient, the [tissue] patch and grid, the lesions.
struct PatchSpec {
  PatientSpec patient;
  TissueSpec tissue;
  lesions::LesionsSpec lesions;
};

/// The patch with its lesions: per-point queries that need no voxels (for the device model).
class SkinPatch {
 public:
  SkinPatch() = default;
  SkinPatch(SkinProfile profile, double width, double length, lesions::Lesions lesions);

  /// The unlesioned skin of the site for this patient.
  const SkinProfile& profile() const { return profile_; }
  double width() const { return width_; }
  double length() const { return length_; }
  const lesions::Lesions& lesions() const { return lesions_; }
  /// Depth of the unlesioned bottom of the dermis (= epidermis + dermis), m.
  double dermis_bottom() const { return profile_.top_of(Layer::Hypodermis); }

  /// Local surface depth s(x, y) >= 0 below the unlesioned surface plane, m.
  double surface_depth(double x, double y) const;
  /// Depths below the surface plane (z) of the top of each tissue layer at (x, y), and the
  /// bottom of the modelled hypodermis as the last entry. Layers may have zero thickness.
  std::array<double, kLayers + 1> interfaces(double x, double y) const;
  /// The skin under (x, y) as a profile measured from the local surface: thicknesses of the
  /// local layers (thinned dermis under scars), plexus and melanocyte depths below the local
  /// surface; composition and mechanics of the site.
  SkinProfile profile_at(double x, double y) const;
  /// Layer at depth z below the surface plane (Outside above the local surface).
  Layer layer_at(double x, double y, double z) const;
  /// Dermal changes at (x, y): the largest collagen deficit and disorder of lesions covering it.
  double collagen_deficit(double x, double y) const;
  double disorder(double x, double y) const;
  /// The tethering band covering (x, y), or nullptr.
  const lesions::Lesion* tether_at(double x, double y) const;

 private:
  SkinProfile profile_;
  double width_ = 0.0, length_ = 0.0;
  lesions::Lesions lesions_;
};

/// The patch of a spec (InputError at the offending key for lesions outside the patch or deeper
/// than the skin). Uses the shipped atlas and lesion data.
SkinPatch make_patch(const PatchSpec& spec);

/// Field names of a Tissue's FieldSet.
namespace field {
inline constexpr const char* kLayer = "layer";          // Layer enum value stored as float (0..5)
inline constexpr const char* kCollagen1 = "collagen1";  // kg/m^3
inline constexpr const char* kCollagen3 = "collagen3";  // kg/m^3
inline constexpr const char* kElastin = "elastin";      // kg/m^3
inline constexpr const char* kFibroblasts = "fibroblasts";       // cells/m^3
inline constexpr const char* kVascular = "vascular";             // volume fraction
inline constexpr const char* kCollagenOrder = "collagen_order";  // 1 normal, 0 disorganised
inline constexpr const char* kTether = "tether";                 // 1 in tethering bands, else 0
}  // namespace field

/// Voxel tissue: the grid with per-voxel layer and composition.
struct Tissue {
  SkinPatch patch;
  grid::FieldSet fields{grid::Grid{}};
  /// Index k of the first tissue cell (below the local surface) per column, i + j * nx.
  std::vector<int> surface_k;
  const grid::Grid& grid() const { return fields.grid(); }
  Layer layer(int i, int j, int k) const {
    return static_cast<Layer>(static_cast<int>(fields.view(field::kLayer)(i, j, k)));
  }
};

/// z faces of the grid for a profile: every layer of the unlesioned skin is cut into
/// max(z_min_cells, ceil(thickness / resolution)) equal cells, so layer interfaces lie exactly on
/// faces.
std::vector<double> layer_faces(const SkinProfile& p, double resolution, int z_min_cells);

/// Largest grid built (cells); larger requests are an InputError at [tissue] resolution.
inline constexpr double kMaxTissueCells = 5e8;
/// Cell counts the grid of a patch would have at a resolution (no allocation).
struct GridDims {
  double nx = 0, ny = 0, nz = 0;
  double cells() const { return nx * ny * nz; }
};
GridDims grid_dims(const SkinPatch& patch, double resolution, int z_min_cells);

/// Builds the voxel tissue of a patch. dx = width / round(width / resolution); ny =
/// round(length / dx). A voxel is Outside when its centre lies above the local surface.
Tissue build_tissue(const SkinPatch& patch, double resolution, int z_min_cells);
/// make_patch + build_tissue with the spec's resolution and z_min_cells (InputError at
/// tissue.resolution for a grid of more than kMaxTissueCells).
Tissue build_tissue(const PatchSpec& spec);

}  // namespace mnsim::skin
