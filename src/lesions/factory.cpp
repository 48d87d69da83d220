#include "lesions/factory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/constants.hpp"
#include "core/rng.hpp"
#include "lesions/heightmap.hpp"

namespace mnsim::lesions {

namespace {

std::string mm_text(double m) {
  return fmt::format("{:.3g} mm", m * 1e3);
}

bool inside(const Box& b, const PatchLimits& lim) {
  const double eps = 1e-12;
  return b.x0 >= -eps && b.y0 >= -eps && b.x1 <= lim.width + eps && b.y1 <= lim.length + eps;
}

// Whether two footprints share a point: bounding boxes first, then the depressions sampled over the
// boxes' intersection on a lattice of 20 um (at most 256 x 256 points, at least 16 x 16).
bool overlaps(const Lesion& a, const Lesion& b) {
  const Box p = a.bounds(), q = b.bounds();
  const double x0 = std::max(p.x0, q.x0), x1 = std::min(p.x1, q.x1);
  const double y0 = std::max(p.y0, q.y0), y1 = std::min(p.y1, q.y1);
  if (x0 >= x1 || y0 >= y1) return false;
  const int nx = std::clamp(static_cast<int>(std::ceil((x1 - x0) / 20e-6)), 16, 256);
  const int ny = std::clamp(static_cast<int>(std::ceil((y1 - y0) / 20e-6)), 16, 256);
  for (int j = 0; j <= ny; ++j) {
    for (int i = 0; i <= nx; ++i) {
      const double x = x0 + (x1 - x0) * i / nx, y = y0 + (y1 - y0) * j / ny;
      if (a.depression(x, y) > 0.0 && b.depression(x, y) > 0.0) return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>& placeable_kinds() {
  static const std::vector<std::string> k = {"icepick", "boxcar", "rolling", "striae", "wrinkle"};
  return k;
}

schema::Key lesions_schema() {
  using namespace schema;
  auto len = [](std::string name, std::string doc, double lo, double hi) {
    return quantity(std::move(name), Dim::Length, "mm", "", std::move(doc), lo, hi).must();
  };
  Key k = table_array("lesions", "a lesion placed explicitly on the patch (see docs/skin.md)",
                      {enumeration("kind", placeable_kinds(), "", "lesion kind").must(),
                       quantity("x", Dim::Length, "mm", "",
                                "centre, across the patch width from its corner", 0.0, 1.0)
                           .must(),
                       quantity("y", Dim::Length, "mm", "",
                                "centre, along the patch length from its corner", 0.0, 1.0)
                           .must()},
                      10000);
  k.discriminator = "kind";
  auto round = [&](std::vector<Key> extra) {
    std::vector<Key> v = {
        len("width", "diameter at the surface", 10 * kUm, 50 * kMm),
        len("depth", "depth of the deepest point below the surface", 1 * kUm, 10 * kMm)};
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  auto linear = [&]() {
    return std::vector<Key>{
        len("length", "length along its axis", 10 * kUm, 500 * kMm),
        len("width", "width across its axis", 10 * kUm, 50 * kMm),
        len("depth", "depth of the deepest line below the surface", 1 * kUm, 10 * kMm),
        quantity("angle", Dim::Angle, "deg", "0 deg", "direction of the axis from +x", -360 * kDeg,
                 360 * kDeg)};
  };
  k.variants["icepick"] = round({});
  k.variants["boxcar"] = round({quantity("wall_angle", Dim::Angle, "deg", "",
                                         "wall angle from the vertical (default: middle of the "
                                         "data/lesions.toml range)",
                                         0.0, 88.2 * kDeg)});
  k.variants["rolling"] = round(
      {boolean("tether", "true", "fibrous tethering band from the scar centre to the subcutis")});
  k.variants["striae"] = linear();
  k.variants["wrinkle"] = linear();
  return k;
}

schema::Key inventory_schema() {
  using namespace schema;
  std::vector<Key> counts;
  for (const auto& c : kInventoryClasses) {
    counts.push_back(integer(c, "0", fmt::format("number of {} lesions to generate", c), 0, 10000));
  }
  return table("inventory",
               "lesions generated from counts by kind inside the patch (seeded by `seed`)", counts,
               false);
}

schema::Key surface_schema() {
  using namespace schema;
  return table(
      "surface", "a measured surface imported from a height map",
      {string("file", "", "16-bit grayscale PNG or CSV height map, relative to the scenario file")
           .must()
           .path(),
       quantity("pixel_size", Dim::Length, "um", "", "size of one pixel on the skin", 0.1 * kUm,
                5 * kMm)
           .must(),
       quantity("height_scale", Dim::Length, "um", "",
                "height of one unit of the map (one gray level or one CSV unit)", 1e-12, 1e-2)
           .must()},
      false);
}

LesionPtr make_lesion(const Table& t, const LesionData& data, const PatchLimits& lim) {
  const std::string& kind = t.str("kind");
  const double x = t.quantity("x"), y = t.quantity("y");
  if (x > lim.width)
    t.fail("x", fmt::format("{} is outside the patch", mm_text(x)),
           fmt::format("0 to {} ([tissue] width)", mm_text(lim.width)));
  if (y > lim.length)
    t.fail("y", fmt::format("{} is outside the patch", mm_text(y)),
           fmt::format("0 to {} ([tissue] length)", mm_text(lim.length)));
  const double depth = t.quantity("depth");
  if (depth >= lim.skin_depth) {
    t.fail("depth", fmt::format("{} is deeper than the skin", mm_text(depth)),
           fmt::format("less than the {} of epidermis and dermis at this site",
                       mm_text(lim.skin_depth)));
  }
  LesionPtr l;
  if (kind == "icepick") {
    l = std::make_shared<Icepick>(x, y, t.quantity("width"), depth, data.get("icepick").effects());
  } else if (kind == "boxcar") {
    const KindData& k = data.get(depth < 0.5 * kMm ? "boxcar_shallow" : "boxcar_deep");
    const double angle = t.has("wall_angle") ? t.quantity("wall_angle")
                                             : 0.5 * (k.wall_angle_min.si + k.wall_angle_max.si);
    l = std::make_shared<Boxcar>(x, y, t.quantity("width"), depth, angle, k.effects());
  } else if (kind == "rolling") {
    l = std::make_shared<Rolling>(x, y, t.quantity("width"), depth, t.flag("tether"),
                                  data.get("rolling").effects());
  } else {
    const auto p = kind == "striae" ? Linear::Profile::Striae : Linear::Profile::Wrinkle;
    l = std::make_shared<Linear>(p, x, y, t.quantity("length"), t.quantity("width"), depth,
                                 t.quantity("angle"), data.get(kind).effects());
  }
  const Box b = l->bounds();
  if (!inside(b, lim)) {
    const bool across = b.x0 < 0 || b.x1 > lim.width;
    t.fail(across ? "x" : "y",
           fmt::format("the {} extends outside the patch ({} to {} by {} to {})", kind,
                       mm_text(b.x0), mm_text(b.x1), mm_text(b.y0), mm_text(b.y1)),
           fmt::format("the whole lesion inside the {} x {} patch", mm_text(lim.width),
                       mm_text(lim.length)));
  }
  return l;
}

Lesions generate_inventory(const Table& inv, const LesionData& data, const PatchLimits& lim,
                           std::uint64_t seed, const Lesions& placed) {
  // Phase 1: the geometry of every lesion, each from its own stream (entity n).
  struct Draw {
    std::string cls;
    double width = 0, depth = 0, length = 0, angle = 0, wall = 0;
    Rng rng{0, 0, 0};
    double size = 0;  // largest footprint dimension, for placement order
  };
  std::vector<Draw> draws;
  std::uint64_t entity = 0;
  for (const auto& cls : kInventoryClasses) {
    const long long n = inv.integer(cls);
    const KindData& k = data.get(cls);
    for (long long i = 0; i < n; ++i, ++entity) {
      Draw d{cls, 0, 0, 0, 0, 0, Rng(seed, kStreamLesions, entity), 0};
      d.width = d.rng.uniform(k.width_min.si, k.width_max.si);
      d.depth = std::min(d.rng.uniform(k.depth_min.si, k.depth_max.si), 0.9 * lim.skin_depth);
      if (cls == "striae" || cls == "wrinkle") {
        d.length = std::min(d.rng.uniform(k.length_min.si, k.length_max.si),
                            0.9 * std::min(lim.width, lim.length));
        d.angle = d.rng.uniform(0.0, kPi);
      }
      if (cls.rfind("boxcar", 0) == 0) {
        d.wall = d.rng.uniform(k.wall_angle_min.si, k.wall_angle_max.si);
      }
      d.size = std::max(d.width, d.length);
      draws.push_back(d);
    }
  }
  // Phase 2: positions, largest lesions first (stable, so ties keep inventory order).
  std::vector<std::size_t> order(draws.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return draws[a].size > draws[b].size; });
  Lesions taken = placed;
  std::vector<LesionPtr> result(draws.size());
  for (const std::size_t idx : order) {
    Draw& d = draws[idx];
    const KindData& k = data.get(d.cls);
    LesionPtr l;
    for (int attempt = 0; attempt < 1000 && !l; ++attempt) {
      const double x = d.rng.uniform(0.0, lim.width), y = d.rng.uniform(0.0, lim.length);
      LesionPtr c;
      if (d.cls == "icepick") {
        c = std::make_shared<Icepick>(x, y, d.width, d.depth, k.effects());
      } else if (d.cls == "rolling") {
        c = std::make_shared<Rolling>(x, y, d.width, d.depth, true, k.effects());
      } else if (d.cls == "striae" || d.cls == "wrinkle") {
        c = std::make_shared<Linear>(
            d.cls == "striae" ? Linear::Profile::Striae : Linear::Profile::Wrinkle, x, y, d.length,
            d.width, d.depth, d.angle, k.effects());
      } else {
        c = std::make_shared<Boxcar>(x, y, d.width, d.depth, d.wall, k.effects());
      }
      if (!inside(c->bounds(), lim)) continue;
      if (std::any_of(taken.begin(), taken.end(),
                      [&](const LesionPtr& o) { return overlaps(*c, *o); })) {
        continue;
      }
      l = c;
    }
    if (!l) {
      inv.fail(d.cls,
               fmt::format("cannot place {} {} lesions without overlap in the {} x {} patch "
                           "together with the other lesions",
                           inv.integer(d.cls), d.cls, mm_text(lim.width), mm_text(lim.length)),
               "fewer lesions or a larger [tissue] patch");
    }
    taken.push_back(l);
    result[idx] = std::move(l);
  }
  return result;
}

LesionPtr import_surface(const Table& s, const LesionData& data, const PatchLimits& lim) {
  std::filesystem::path file = s.str("file");
  if (file.empty()) s.fail("file", "empty file name", "the path of a .png or .csv height map");
  if (file.is_relative()) {
    const std::string& from = s.loc_of("file").file;
    file = std::filesystem::path(from).parent_path() / file;
  }
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    s.fail("file", fmt::format("height map '{}' not found", file.string()),
           "an existing .png or .csv file, relative to the scenario file");
  }
  const HeightMap map = read_height_map(file.string(), s.key_path("file"));
  const double pixel = s.quantity("pixel_size");
  if (map.cols * pixel < lim.width - 1e-12 || map.rows * pixel < lim.length - 1e-12) {
    s.fail("pixel_size",
           fmt::format("the {} x {} pixel map covers {} x {}, smaller than the {} x {} patch",
                       map.cols, map.rows, mm_text(map.cols * pixel), mm_text(map.rows * pixel),
                       mm_text(lim.width), mm_text(lim.length)),
           "a map at least as large as [tissue] width x length");
  }
  const KindData& k = data.get("measured");
  auto m = std::make_shared<Measured>(map, pixel, s.quantity("height_scale"),
                                      k.deficit_threshold.si, k.effects(), file.string());
  if (m->max_depth() >= lim.skin_depth) {
    s.fail("height_scale",
           fmt::format("the measured relief is {} deep, deeper than the skin",
                       mm_text(m->max_depth())),
           fmt::format("relief shallower than the {} of epidermis and dermis",
                       mm_text(lim.skin_depth)));
  }
  return m;
}

Lesions scenario_lesions(const Table& scenario, const LesionData& data, const PatchLimits& lim) {
  Lesions out;
  if (scenario.has_table("surface"))
    out.push_back(import_surface(scenario.table("surface"), data, lim));
  Lesions placed;
  for (const Table& t : scenario.tables("lesions")) placed.push_back(make_lesion(t, data, lim));
  out.insert(out.end(), placed.begin(), placed.end());
  if (scenario.has_table("inventory")) {
    const Lesions gen =
        generate_inventory(scenario.table("inventory"), data, lim,
                           static_cast<std::uint64_t>(scenario.integer("seed")), placed);
    out.insert(out.end(), gen.begin(), gen.end());
  }
  return out;
}

}  // namespace mnsim::lesions
