// The shipped lesion kinds (lesions/kinds.def): icepick, boxcar and rolling acne scars, striae,
// wrinkles, and measured surfaces. Their shapes are in lesions/shapes.cpp and heightmap.cpp;
// what each kind is (its keys, its data, its hooks) is here (lesions/registry.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "core/constants.hpp"
#include "lesions/heightmap.hpp"
#include "lesions/registry.hpp"

namespace mnsim::lesions {

namespace {

schema::Key len(std::string name, std::string doc, double lo, double hi) {
  return schema::quantity(std::move(name), Dim::Length, "mm", "", std::move(doc), lo, hi).must();
}

// Round scars: a diameter and a depth.
std::vector<schema::Key> round_keys(std::vector<schema::Key> extra) {
  std::vector<schema::Key> v = {
      len("width", "diameter at the surface", 10 * kUm, 50 * kMm),
      len("depth", "depth of the deepest point below the surface", 1 * kUm, 10 * kMm)};
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

// Linear lesions: a length along an axis, a width across it, a depth.
std::vector<schema::Key> linear_keys() {
  return {len("length", "length along its axis", 10 * kUm, 500 * kMm),
          len("width", "width across its axis", 10 * kUm, 50 * kMm),
          len("depth", "depth of the deepest line below the surface", 1 * kUm, 10 * kMm),
          schema::quantity("angle", Dim::Angle, "deg", "0 deg", "direction of the axis from +x",
                           -360 * kDeg, 360 * kDeg)};
}

// ---- icepick ----------------------------------------------------------------------------------

LesionPtr icepick_shape(double x, double y, const LesionShape& s, const Effects& e) {
  return std::make_shared<Icepick>(x, y, s.width, s.depth, e);
}

LesionPtr icepick_make(const LesionSpec& spec, const LesionData& data) {
  const Settings& t = spec.settings;
  return std::make_shared<Icepick>(spec.x, spec.y, t.quantity("width"), t.quantity("depth"),
                                   data.get("icepick").effects());
}

// ---- boxcar -----------------------------------------------------------------------------------

LesionPtr boxcar_shape(double x, double y, const LesionShape& s, const Effects& e) {
  return std::make_shared<Boxcar>(x, y, s.width, s.depth, s.wall_angle, e);
}

LesionPtr boxcar_make(const LesionSpec& spec, const LesionData& data) {
  const Settings& t = spec.settings;
  const double depth = t.quantity("depth");
  const KindData& k = data.get(depth < 0.5 * kMm ? "boxcar_shallow" : "boxcar_deep");
  const double angle = t.has("wall_angle") ? t.quantity("wall_angle")
                                           : 0.5 * (k.wall_angle_min.si + k.wall_angle_max.si);
  return std::make_shared<Boxcar>(spec.x, spec.y, t.quantity("width"), depth, angle, k.effects());
}

void boxcar_draw(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) {
  draw_size(r, k, lim, s);
  s.wall_angle = r.uniform(k.wall_angle_min.si, k.wall_angle_max.si);
}

// ---- rolling ----------------------------------------------------------------------------------

LesionPtr rolling_shape(double x, double y, const LesionShape& s, const Effects& e) {
  return std::make_shared<Rolling>(x, y, s.width, s.depth, s.tether, e);
}

LesionPtr rolling_make(const LesionSpec& spec, const LesionData& data) {
  const Settings& t = spec.settings;
  return std::make_shared<Rolling>(spec.x, spec.y, t.quantity("width"), t.quantity("depth"),
                                   t.flag("tether"), data.get("rolling").effects());
}

// ---- striae and wrinkles ----------------------------------------------------------------------

template <Linear::Profile P>
LesionPtr linear_shape(double x, double y, const LesionShape& s, const Effects& e) {
  return std::make_shared<Linear>(P, x, y, s.length, s.width, s.depth, s.angle, e);
}

template <Linear::Profile P>
LesionPtr linear_make(const LesionSpec& spec, const LesionData& data) {
  const Settings& t = spec.settings;
  return std::make_shared<Linear>(P, spec.x, spec.y, t.quantity("length"), t.quantity("width"),
                                  t.quantity("depth"), t.quantity("angle"),
                                  data.get(spec.kind).effects());
}

void linear_draw(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) {
  draw_size(r, k, lim, s);
  s.length = std::min(r.uniform(k.length_min.si, k.length_max.si), lim.max_length);
  s.angle = r.uniform(0.0, kPi);
}

void round_draw(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) {
  draw_size(r, k, lim, s);
}

template <Linear::Profile P>
LesionKind linear_kind(std::string name, std::string doc) {
  LesionKind k;
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.keys = linear_keys();
  k.data_keys = {k.name};
  k.data_fields.length = true;
  k.inventory_classes = {k.name};
  k.make = linear_make<P>;
  k.draw = linear_draw;
  k.shape = linear_shape<P>;
  k.grading = GradingClass::NotGraded;  // not acne scars
  k.width = WidthRule::Across;
  return k;
}

}  // namespace

LesionKind icepick_kind() {
  LesionKind k;
  k.name = "icepick";
  k.doc = "narrow deep acne scar: a cone, depth d (1 - r/R)";
  k.keys = round_keys({});
  k.data_keys = {"icepick"};
  k.inventory_classes = {"icepick"};
  k.make = icepick_make;
  k.draw = round_draw;
  k.shape = icepick_shape;
  k.grading = GradingClass::PunchedOutAbnormal;
  k.plan_scar = true;
  return k;
}

LesionKind boxcar_kind() {
  LesionKind k;
  k.name = "boxcar";
  k.doc = "punched-out acne scar: a flat floor with straight walls (frustum)";
  k.keys = round_keys({schema::quantity("wall_angle", Dim::Angle, "deg", "",
                                        "wall angle from the vertical (default: middle of the "
                                        "data/lesions.toml range)",
                                        0.0, 88.2 * kDeg)});
  // Post-varicella scars are boxcar-like ("similar to varicella scars", Jacob 2001): a class of
  // this kind with its own ranges (data/lesions.toml [varicella]).
  k.data_keys = {"boxcar_shallow", "boxcar_deep", "varicella"};
  k.data_fields.wall_angle = true;
  k.inventory_classes = {"boxcar_shallow", "boxcar_deep", "varicella"};
  k.make = boxcar_make;
  k.draw = boxcar_draw;
  k.shape = boxcar_shape;
  k.grading = GradingClass::PunchedOut;
  k.plan_scar = true;
  return k;
}

LesionKind rolling_kind() {
  LesionKind k;
  k.name = "rolling";
  k.doc = "broad rolling acne scar: a raised cosine, tethered to the subcutis";
  k.keys = round_keys({schema::boolean(
      "tether", "true", "fibrous tethering band from the scar centre to the subcutis")});
  k.data_keys = {"rolling"};
  k.data_fields.tether = true;
  k.inventory_classes = {"rolling"};
  k.make = rolling_make;
  k.draw = round_draw;
  k.shape = rolling_shape;
  k.grading = GradingClass::Atrophic;
  k.can_tether = true;
  k.plan_scar = true;
  return k;
}

LesionKind striae_kind() {
  return linear_kind<Linear::Profile::Striae>("striae",
                                              "stretch mark: a raised cosine across a band");
}

LesionKind wrinkle_kind() {
  return linear_kind<Linear::Profile::Wrinkle>("wrinkle", "fine wrinkle: a V across a band");
}

LesionKind linear_scar_kind() {
  // A depressed surgical or traumatic scar: the raised-cosine trough of striae, but an atrophic
  // scar that Goodman & Baron grading counts (as atrophy of its width across and its depth).
  LesionKind k = linear_kind<Linear::Profile::LinearScar>(
      "linear_scar",
      "depressed linear scar after surgery or trauma: a raised cosine across a band");
  k.grading = GradingClass::Atrophic;
  return k;
}

LesionKind measured_kind() {
  LesionKind k;
  k.name = "measured";
  k.doc = "a measured surface, the height map of [surface] (16-bit grayscale PNG or CSV)";
  k.placeable = false;
  k.data_keys = {"measured"};
  k.data_fields.size = false;
  k.data_fields.deficit_threshold = true;
  k.grades_as = "boxcar";
  return k;
}

}  // namespace mnsim::lesions
