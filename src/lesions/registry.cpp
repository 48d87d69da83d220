#include "lesions/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace mnsim::lesions {

// The shipped kinds: name_kind() of each line of kinds.def (lesions/kinds.cpp).
#define MNSIM_LESION_KIND(name) LesionKind name##_kind();
#include "lesions/kinds.def"
#undef MNSIM_LESION_KIND

namespace {

// A descriptor's hooks are there for what it claims (an internal error otherwise).
void check(const LesionKind& kind) {
  auto fail = [&](const std::string& what) {
    throw std::logic_error("internal: lesion kind '" + kind.name + "' " + what);
  };
  if (kind.placeable && !kind.make) fail("is placeable but has no factory");
  if (!kind.inventory_classes.empty() && (!kind.draw || !kind.shape)) {
    fail("has inventory classes but no draw or shape hook");
  }
  if (kind.plan_scar && !kind.shape) fail("is a planner scar kind but has no shape hook");
  for (const auto& cls : kind.inventory_classes) {
    if (std::find(kind.data_keys.begin(), kind.data_keys.end(), cls) == kind.data_keys.end()) {
      fail("draws inventory class '" + cls + "', which is not one of its data keys");
    }
  }
}

std::vector<LesionKind>& registry() {
  static std::vector<LesionKind> kinds = [] {
    std::vector<LesionKind> v = {
#define MNSIM_LESION_KIND(name) name##_kind(),
#include "lesions/kinds.def"
#undef MNSIM_LESION_KIND
    };
    for (const auto& k : v) check(k);
    return v;
  }();
  return kinds;
}

std::string mm_text(double m) {
  return fmt::format("{:.3g} mm", m * 1e3);
}

}  // namespace

bool fits(const Box& b, const PatchLimits& lim) {
  const double eps = 1e-12;
  return b.x0 >= -eps && b.y0 >= -eps && b.x1 <= lim.width + eps && b.y1 <= lim.length + eps;
}

const std::vector<LesionKind>& lesion_kinds() {
  return registry();
}

const LesionKind* find_lesion_kind(const std::string& name) {
  for (const auto& k : registry()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const LesionKind& lesion_kind(const std::string& name) {
  const LesionKind* k = find_lesion_kind(name);
  if (!k) throw std::invalid_argument("internal: unknown lesion kind '" + name + "'");
  return *k;
}

const LesionKind& grading_kind(const std::string& name) {
  const LesionKind* k = &lesion_kind(name);
  for (int hops = 0; !k->grades_as.empty(); ++hops) {
    if (hops > 8) throw std::logic_error("internal: lesion kinds grade as each other: " + name);
    k = &lesion_kind(k->grades_as);
  }
  return *k;
}

void register_lesion_kind(LesionKind kind) {
  if (find_lesion_kind(kind.name)) {
    throw std::logic_error("internal: lesion kind '" + kind.name + "' registered twice");
  }
  check(kind);
  registry().push_back(std::move(kind));
}

std::vector<std::string> placeable_kinds() {
  std::vector<std::string> out;
  for (const auto& k : registry()) {
    if (k.placeable) out.push_back(k.name);
  }
  return out;
}

std::vector<std::string> plan_scar_kinds() {
  std::vector<std::string> out;
  for (const auto& k : registry()) {
    if (k.plan_scar) out.push_back(k.name);
  }
  return out;
}

std::vector<std::string> inventory_classes() {
  std::vector<std::string> out;
  for (const auto& k : registry())
    out.insert(out.end(), k.inventory_classes.begin(), k.inventory_classes.end());
  return out;
}

const LesionKind& kind_of_class(const std::string& cls) {
  for (const auto& k : registry()) {
    for (const auto& c : k.inventory_classes) {
      if (c == cls) return k;
    }
  }
  throw std::invalid_argument("internal: unknown inventory class '" + cls + "'");
}

void draw_size(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) {
  s.width = r.uniform(k.width_min.si, k.width_max.si);
  s.depth = std::min(r.uniform(k.depth_min.si, k.depth_max.si), lim.max_depth);
}

LesionShape mid_range_shape(const KindData& k) {
  LesionShape s;
  s.width = 0.5 * (k.width_min.si + k.width_max.si);
  s.depth = 0.5 * (k.depth_min.si + k.depth_max.si);
  s.length = 0.5 * (k.length_min.si + k.length_max.si);
  s.wall_angle = 0.5 * (k.wall_angle_min.si + k.wall_angle_max.si);
  return s;
}

LesionPtr make_lesion(const LesionSpec& spec, const LesionData& data, const PatchLimits& lim) {
  const Settings& t = spec.settings;
  const LesionKind* kind = find_lesion_kind(spec.kind);
  if (!kind || !kind->placeable) {
    std::string list;
    for (const auto& n : placeable_kinds()) list += (list.empty() ? "" : ", ") + n;
    t.fail("kind", fmt::format("unknown lesion kind '{}'", spec.kind), "one of " + list);
  }
  const double x = spec.x, y = spec.y;
  if (x > lim.width)
    t.fail("x", fmt::format("{} is outside the patch", mm_text(x)),
           fmt::format("0 to {} ([tissue] width)", mm_text(lim.width)));
  if (y > lim.length)
    t.fail("y", fmt::format("{} is outside the patch", mm_text(y)),
           fmt::format("0 to {} ([tissue] length)", mm_text(lim.length)));
  auto too_deep = [&](double depth) {
    t.fail(t.has("depth") ? "depth" : "kind",
           fmt::format("{} is deeper than the skin", mm_text(depth)),
           fmt::format("less than the {} of epidermis and dermis at this site",
                       mm_text(lim.skin_depth)));
  };
  if (t.has("depth") && t.quantity("depth") >= lim.skin_depth) too_deep(t.quantity("depth"));
  LesionPtr l = kind->make(spec, data);
  if (l->max_depth() >= lim.skin_depth) too_deep(l->max_depth());
  const Box b = l->bounds();
  if (!fits(b, lim)) {
    const bool across = b.x0 < 0 || b.x1 > lim.width;
    t.fail(across ? "x" : "y",
           fmt::format("the {} extends outside the patch ({} to {} by {} to {})", spec.kind,
                       mm_text(b.x0), mm_text(b.x1), mm_text(b.y0), mm_text(b.y1)),
           fmt::format("the whole lesion inside the {} x {} patch", mm_text(lim.width),
                       mm_text(lim.length)));
  }
  return l;
}

LesionPtr draw_lesion(const std::string& cls, Rng& r, const LesionData& data, const DrawLimits& lim,
                      double x, double y) {
  const LesionKind& kind = kind_of_class(cls);
  const KindData& k = data.get(cls);
  LesionShape s;
  kind.draw(r, k, lim, s);
  return kind.shape(x, y, s, k.effects());
}

LesionPtr mid_range_lesion(const std::string& cls, const LesionData& data) {
  const KindData& k = data.get(cls);
  return kind_of_class(cls).shape(0.0, 0.0, mid_range_shape(k), k.effects());
}

double spread_depth(double lo, double hi, long long i, long long n) {
  return lo + (hi - lo) * (static_cast<double>(i) + 0.5) / static_cast<double>(n);
}

LesionPtr spread_lesion(const std::string& cls, long long i, long long n, const LesionData& data,
                        const DrawLimits& lim) {
  const KindData& k = data.get(cls);
  LesionShape s = mid_range_shape(k);
  s.depth = std::min(spread_depth(k.depth_min.si, k.depth_max.si, i, n), lim.max_depth);
  return kind_of_class(cls).shape(0.0, 0.0, s, k.effects());
}

}  // namespace mnsim::lesions
