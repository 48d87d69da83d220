#include "outcomes/face_inventory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/constants.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/scar_remodel.hpp"

namespace mnsim::outcomes {

double FaceClass::depth_of(long long i) const {
  return lesions::spread_depth(depth_min, depth_max, i, count);
}

long long FaceSpec::scars() const {
  long long n = 0;
  for (const auto& c : classes) n += c.count;
  return n;
}

std::vector<std::string> face_classes() {
  std::vector<std::string> out;
  for (const auto& cls : lesions::inventory_classes()) {
    const lesions::LesionKind& kind = lesions::kind_of_class(cls);
    if (lesions::grading_kind(kind.name).grading != lesions::GradingClass::NotGraded) {
      out.push_back(cls);
    }
  }
  return out;
}

schema::Key face_schema() {
  using namespace schema;
  std::vector<Key> classes;
  for (const auto& cls : face_classes()) {
    classes.push_back(table(
        cls, fmt::format("The patient's {} scars (a class of [inventory]).", cls),
        {integer("count", "", fmt::format("number of {} scars on the face", cls), 0, 10000).must(),
         quantity("depth", Dim::Length, "mm", "",
                  fmt::format("depth of each (default: the scars spread evenly over the {} "
                              "depth range of data/lesions.toml, at its quantiles (i + 1/2)/count)",
                              cls),
                  1 * kUm, 10 * kMm),
         quantity("width", Dim::Length, "mm", "",
                  fmt::format("width of each (default: the middle of the {} width range of "
                              "data/lesions.toml)",
                              cls),
                  10 * kUm, 50 * kMm)},
        false));
  }
  return table("face",
               "The patient's whole-face scar inventory, graded instead of the patch's scars: "
               "each class takes the mean relative depth change of the patch's scars of its kind "
               "(docs/model.md \"Goodman & Baron grading\"). Striae and wrinkles are not graded.",
               classes, false);
}

FaceSpec read_face(const Table& face) {
  FaceSpec spec;
  const lesions::LesionData& data = lesions::default_lesion_data();
  for (const auto& cls : face_classes()) {
    if (!face.has_table(cls)) continue;
    const Table& t = face.table(cls);
    FaceClass c;
    c.cls = cls;
    c.kind = lesions::kind_of_class(cls).name;
    c.count = t.integer("count");
    if (c.count == 0) continue;
    const ScarGeometry mid = scar_geometry(*lesions::mid_range_lesion(cls, data));
    c.depth_given = t.has("depth");
    c.width_given = t.has("width");
    const lesions::KindData& range = data.get(cls);
    c.depth = c.depth_given ? t.quantity("depth") : mid.depth;
    c.depth_min = c.depth_given ? c.depth : range.depth_min.si;
    c.depth_max = c.depth_given ? c.depth : range.depth_max.si;
    c.width = c.width_given ? t.quantity("width") : mid.width;
    spec.classes.push_back(c);
  }
  if (spec.classes.empty()) {
    std::string tables;
    for (const auto& cls : face_classes()) tables += (tables.empty() ? "" : ", ") + cls;
    throw InputError(face.loc(), face.path(), "the face inventory has no scars",
                     fmt::format("[face.<class>] count of at least 1 for a class of {}", tables));
  }
  return spec;
}

std::string depth_class(const std::string& kind, double depth) {
  const lesions::LesionKind* k = lesions::find_lesion_kind(kind);
  if (!k || k->inventory_classes.empty()) return {};
  const lesions::LesionData& data = lesions::default_lesion_data();
  std::string nearest;
  double best = std::numeric_limits<double>::infinity();
  for (const auto& cls : k->inventory_classes) {
    const lesions::KindData& d = data.get(cls);
    const double lo = d.depth_min.si, hi = d.depth_max.si;
    if (depth >= lo && depth < hi) return cls;
    const double gap = depth < lo ? lo - depth : depth - hi;
    if (gap < best) {
      best = gap;
      nearest = cls;
    }
  }
  return nearest;
}

namespace {

std::string scars_text(int n) {
  return fmt::format("{} patch scar{}", n, n == 1 ? "" : "s");
}

/// The patch scars a face class takes its change from: those of its kind and depth class when
/// its kind has several classes and there are any, else all of its kind.
FaceClassOutcome map_class(const FaceClass& c, const std::vector<PatchScar>& patch) {
  FaceClassOutcome o;
  o.face = c;
  const bool several = lesions::kind_of_class(c.cls).inventory_classes.size() > 1;
  auto mean_change = [&](bool same_class) {
    double sum = 0.0;
    int n = 0;
    for (const auto& s : patch) {
      if (s.kind != c.kind || !(s.depth_before > 0.0)) continue;
      if (same_class && depth_class(s.kind, s.depth_before) != c.cls) continue;
      sum += (s.depth_after - s.depth_before) / s.depth_before;
      ++n;
    }
    o.patch_scars = n;
    o.relative_change = n > 0 ? sum / n : 0.0;
  };
  if (several) {
    mean_change(true);
    if (o.simulated()) o.patch_class = c.cls;
  }
  if (!o.simulated()) mean_change(false);
  o.depth_after = std::max(0.0, c.depth * (1.0 + o.relative_change));
  if (!o.simulated()) {
    o.how = "not simulated: no patch scar of this kind";
  } else if (!several) {
    o.how = fmt::format("mapped from {} of kind {}", scars_text(o.patch_scars), c.kind);
  } else if (!o.patch_class.empty()) {
    o.how = fmt::format("mapped from {} of kind {} in depth class {}", scars_text(o.patch_scars),
                        c.kind, o.patch_class);
  } else {
    o.how = fmt::format("mapped from {} of kind {}; none in depth class {}, so all of the kind",
                        scars_text(o.patch_scars), c.kind, c.cls);
  }
  return o;
}

}  // namespace

FaceMapping map_onto_face(const FaceSpec& face, const std::vector<PatchScar>& patch) {
  FaceMapping m;
  for (const auto& c : face.classes) {
    FaceClassOutcome o = map_class(c, patch);
    for (long long i = 0; i < c.count; ++i) {
      const double d = c.depth_of(i);
      m.before.push_back({c.kind, d, c.width});
      m.after.push_back({c.kind, std::max(0.0, d * (1.0 + o.relative_change)), c.width});
    }
    m.classes.push_back(std::move(o));
  }
  return m;
}

}  // namespace mnsim::outcomes
