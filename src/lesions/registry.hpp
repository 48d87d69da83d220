// Lesion kinds as an open registry (docs/extending.md, "A lesion kind"): each kind is a
// descriptor (its name, the keys it adds to [[lesions]], the tables of data/lesions.toml it reads,
// a factory from a LesionSpec, an inventory-draw hook, and how grading and remodelling treat it),
// listed once in lesions/kinds.def (the shipped kinds are described in lesions/kinds.cpp).
// Everything that lists kinds or asks what a kind is (the scenario schema, the data file, the
// inventory, cohorts, the planner, validation, Goodman & Baron grading, the remodelling link)
// iterates or queries the registry. The hooks are data: outcomes reads them, lesions does not
// know outcomes.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/schema.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/spec.hpp"

namespace mnsim::lesions {

/// How Goodman & Baron grading (outcomes/goodman_baron.hpp) sees a kind.
enum class GradingClass {
  NotGraded,           // not an acne scar (striae, wrinkles): counts in no score or load
  PunchedOut,          // punched-out, normal-appearing base (boxcar)
  PunchedOutAbnormal,  // punched-out, deep abnormal base (icepick)
  Atrophic,            // dish-like or rolling atrophy: mild, moderate, shallow/deep broad
};

/// Which side of a lesion's footprint is its width for remodelling and grading.
enum class WidthRule {
  Largest,  // the larger side of its bounding box (round scars, measured surfaces)
  Across,   // the smaller side (linear lesions: the width across their axis)
};

/// The entries a kind's tables in data/lesions.toml carry besides description, collagen_deficit
/// and disorder (KindData's fields; LesionData::load checks exactly these).
struct DataFields {
  bool size = true;                // width_min/max, depth_min/max
  bool length = false;             // length_min/max
  bool wall_angle = false;         // wall_angle_min/max
  bool tether = false;             // tether_radius, tether_depth, tether_collagen_factor
  bool deficit_threshold = false;  // deficit_threshold
};

/// A lesion's geometry apart from its place: what an inventory draws, and how cohorts, the
/// planner and validation describe a scar. A kind uses the fields it needs.
struct LesionShape {
  double width = 0.0;       // m, at the surface (across the axis for linear kinds)
  double depth = 0.0;       // m, deepest point
  double length = 0.0;      // m, along the axis (linear kinds)
  double angle = 0.0;       // rad from +x, direction of the axis (linear kinds)
  double wall_angle = 0.0;  // rad from the vertical (boxcar)
  bool tether = true;       // a tethering band (kinds that can be tethered)
};

/// Caps on drawn sizes: depth at 90 % of the skin, length at 90 % of the smaller patch side.
struct DrawLimits {
  double max_depth = std::numeric_limits<double>::infinity();
  double max_length = std::numeric_limits<double>::infinity();
};

/// What a lesion must fit into.
struct PatchLimits {
  double width = 0.0;       // m, x in [0, width]
  double length = 0.0;      // m, y in [0, length]
  double skin_depth = 0.0;  // m, epidermis + dermis: no lesion may be deeper
};
/// Whether a footprint lies inside the patch (1e-12 m tolerance).
bool fits(const Box& b, const PatchLimits& lim);

struct LesionKind {
  std::string name;               // kind = "<name>" in [[lesions]]; Lesion::kind()
  std::string doc;                // one line for `mnsim catalog lesions`
  bool placeable = true;          // may be given in [[lesions]] (measured surfaces: [surface])
  std::vector<schema::Key> keys;  // the keys this kind adds to [[lesions]] (schema variant)
  /// Tables of data/lesions.toml this kind reads, in file order, and the entries they carry.
  std::vector<std::string> data_keys;
  DataFields data_fields;
  /// The data tables that are inventory classes ([inventory] counts, cohort scar classes,
  /// validation and planner mid-range scars), each drawn as this kind.
  std::vector<std::string> inventory_classes;

  /// Builds the lesion of a [[lesions]] entry (placeable kinds): reads the kind's keys from
  /// spec.settings, errors at those keys. The registry checks the place and the depth.
  LesionPtr (*make)(const LesionSpec& spec, const LesionData& data) = nullptr;
  /// Draws a shape from an inventory class's ranges, consuming `r` in the kind's own order
  /// (width, depth first: draw_size). Needed when the kind has inventory classes.
  void (*draw)(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) = nullptr;
  /// The lesion of a shape centred at (x, y) (inventories, cohorts, the planner, validation).
  LesionPtr (*shape)(double x, double y, const LesionShape& s, const Effects& e) = nullptr;

  // How grading and remodelling treat it.
  GradingClass grading = GradingClass::Atrophic;
  std::string grades_as;  // grade as that kind instead (measured -> boxcar); empty: itself
  WidthRule width = WidthRule::Largest;
  bool can_tether = false;  // its tethering band can hold part of its depth (rolling)
  /// A [[scars]] kind of planner files: a scar described by its width and depth alone.
  bool plan_scar = false;
};

/// Every registered kind, in registration order (the kinds of lesions/kinds.def first).
const std::vector<LesionKind>& lesion_kinds();
/// The kind of that name, or nullptr.
const LesionKind* find_lesion_kind(const std::string& name);
/// The kind of that name; std::invalid_argument if there is none (an internal error: lesions
/// are made by the registry).
const LesionKind& lesion_kind(const std::string& name);
/// The kind a lesion of `name` is graded as (its grades_as, followed).
const LesionKind& grading_kind(const std::string& name);
/// Registers a kind (a test's own kind, a plug-in). Must run before the scenario schema or the
/// lesion data is first used (both are built once); a name that exists already is an error.
void register_lesion_kind(LesionKind kind);
/// Names of the kinds that may be given in [[lesions]].
std::vector<std::string> placeable_kinds();
/// Names of the planner's [[scars]] kinds.
std::vector<std::string> plan_scar_kinds();
/// The inventory classes of every kind, in registration order (the [inventory] keys).
std::vector<std::string> inventory_classes();
/// The kind that draws an inventory class; std::invalid_argument for an unknown class.
const LesionKind& kind_of_class(const std::string& cls);

/// width, then depth (capped at lim.max_depth), uniform within the class's ranges.
void draw_size(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s);
/// The middle of every range of a class (axis along +x, tethered).
LesionShape mid_range_shape(const KindData& k);

/// One [[lesions]] entry. Throws InputError at the key for an unknown kind, a lesion outside the
/// patch or deeper than the skin.
LesionPtr make_lesion(const LesionSpec& spec, const LesionData& data, const PatchLimits& lim);
/// A lesion of an inventory class drawn with `r` (kind_of_class(cls).draw), centred at (x, y).
LesionPtr draw_lesion(const std::string& cls, Rng& r, const LesionData& data, const DrawLimits& lim,
                      double x = 0.0, double y = 0.0);
/// The mid-range lesion of an inventory class at the origin.
LesionPtr mid_range_lesion(const std::string& cls, const LesionData& data);

/// The depth of the i-th of n scars of a class whose depths are spread over [lo, hi]: the
/// quantile (i + 1/2) / n of the uniform distribution on it (the distribution draw_size draws a
/// cohort's scars from; docs/model.md "Goodman & Baron grading", "A spread inventory"). n = 1
/// gives the middle. 0 <= i < n.
double spread_depth(double lo, double hi, long long i, long long n);
/// The i-th of n scars of an inventory class counted in an [inventory]: mid-range in every size
/// but its depth, spread_depth over the class's depth range, no deeper than lim.max_depth.
LesionPtr spread_lesion(const std::string& cls, long long i, long long n, const LesionData& data,
                        const DrawLimits& lim);

}  // namespace mnsim::lesions
