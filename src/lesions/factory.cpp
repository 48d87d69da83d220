#include "lesions/factory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/constants.hpp"
#include "core/rng.hpp"
#include "lesions/heightmap.hpp"

namespace mnsim::lesions {

namespace {

std::string mm_text(double m) {
  return fmt::format("{:.3g} mm", m * 1e3);
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

schema::Key lesions_schema() {
  using namespace schema;
  Key k = table_array("lesions", "a lesion placed explicitly on the patch (see docs/skin.md)",
                      {enumeration("kind", placeable_kinds(), "", "lesion kind").must(),
                       string("id", "",
                              "name of this lesion in summary.json and scars.csv: letters, "
                              "digits, '_', '-' and '.', at most 64 (default: its kind and its "
                              "number among the lesions of that kind, e.g. icepick_2)"),
                       quantity("x", Dim::Length, "mm", "",
                                "centre, across the patch width from its corner", 0.0, 1.0)
                           .must(),
                       quantity("y", Dim::Length, "mm", "",
                                "centre, along the patch length from its corner", 0.0, 1.0)
                           .must()},
                      10000);
  k.discriminator = "kind";
  for (const auto& kind : lesion_kinds()) {
    if (kind.placeable) k.variants[kind.name] = kind.keys;
  }
  return k;
}

schema::Key inventory_schema() {
  using namespace schema;
  std::vector<Key> counts;
  for (const auto& c : inventory_classes()) {
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

Lesions generate_inventory(const InventorySpec& spec, const LesionData& data,
                           const PatchLimits& lim, std::uint64_t seed, const Lesions& placed) {
  const Settings& inv = spec.counts;
  // Phase 1: the shape of every lesion, each from its own stream (entity n).
  struct Draw {
    std::string cls;
    const LesionKind* kind = nullptr;
    LesionShape shape;
    Rng rng{0, 0, 0};
    double size = 0;  // largest footprint dimension, for placement order
  };
  DrawLimits caps;
  caps.max_depth = 0.9 * lim.skin_depth;
  caps.max_length = 0.9 * std::min(lim.width, lim.length);
  std::vector<Draw> draws;
  std::uint64_t entity = 0;
  for (const auto& kind : lesion_kinds()) {
    for (const auto& cls : kind.inventory_classes) {
      const long long n = inv.integer(cls);
      const KindData& k = data.get(cls);
      for (long long i = 0; i < n; ++i, ++entity) {
        Draw d{cls, &kind, {}, Rng(seed, kStreamLesions, entity), 0};
        kind.draw(d.rng, k, caps, d.shape);
        d.size = std::max(d.shape.width, d.shape.length);
        draws.push_back(d);
      }
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
    const Effects effects = data.get(d.cls).effects();
    LesionPtr l;
    for (int attempt = 0; attempt < 1000 && !l; ++attempt) {
      const double x = d.rng.uniform(0.0, lim.width), y = d.rng.uniform(0.0, lim.length);
      LesionPtr c = d.kind->shape(x, y, d.shape, effects);
      if (!fits(c->bounds(), lim)) continue;
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

LesionPtr import_surface(const SurfaceSpec& spec, const LesionData& data, const PatchLimits& lim) {
  const Settings& s = spec.settings;
  std::filesystem::path file = spec.file;
  if (file.empty()) s.fail("file", "empty file name", "the path of a .png or .csv height map");
  if (file.is_relative()) file = std::filesystem::path(spec.scenario_file).parent_path() / file;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    s.fail("file", fmt::format("height map '{}' not found", file.string()),
           "an existing .png or .csv file, relative to the scenario file");
  }
  const HeightMap map = read_height_map(file.string(), s.key_path("file"));
  const double pixel = spec.pixel_size;
  if (map.cols * pixel < lim.width - 1e-12 || map.rows * pixel < lim.length - 1e-12) {
    s.fail("pixel_size",
           fmt::format("the {} x {} pixel map covers {} x {}, smaller than the {} x {} patch",
                       map.cols, map.rows, mm_text(map.cols * pixel), mm_text(map.rows * pixel),
                       mm_text(lim.width), mm_text(lim.length)),
           "a map at least as large as [tissue] width x length");
  }
  return measured_surface(map, pixel, spec.height_scale, data, lim.skin_depth, s, file.string());
}

LesionPtr measured_surface(const HeightMap& map, double pixel_size, double height_scale,
                           const LesionData& data, double skin_depth, const Settings& s,
                           const std::string& name) {
  const KindData& k = data.get("measured");
  auto m = std::make_shared<Measured>(map, pixel_size, height_scale, k.deficit_threshold.si,
                                      k.effects(), name);
  if (m->max_depth() >= skin_depth) {
    s.fail(
        "height_scale",
        fmt::format("the measured relief is {} deep, deeper than the skin",
                    mm_text(m->max_depth())),
        fmt::format("relief shallower than the {} of epidermis and dermis", mm_text(skin_depth)));
  }
  return m;
}

Lesions make_lesions(const LesionsSpec& spec, const LesionData& data, const PatchLimits& lim) {
  Lesions out;
  if (spec.surface) out.push_back(import_surface(*spec.surface, data, lim));
  Lesions placed;
  for (const LesionSpec& l : spec.placed) placed.push_back(make_lesion(l, data, lim));
  out.insert(out.end(), placed.begin(), placed.end());
  if (spec.inventory) {
    const Lesions gen = generate_inventory(*spec.inventory, data, lim, spec.seed, placed);
    out.insert(out.end(), gen.begin(), gen.end());
  }
  return out;
}

std::vector<std::string> lesion_ids(const LesionsSpec& spec, const Lesions& lesions) {
  // The default ids: each lesion's kind and its number among the lesions of that kind.
  std::vector<std::string> ids;
  std::map<std::string, int> seen;
  for (const auto& l : lesions) {
    const std::string kind(l->kind());
    ids.push_back(fmt::format("{}_{}", kind, ++seen[kind]));
  }
  const std::size_t first = spec.surface ? 1 : 0;  // [[lesions]] follow the [surface]
  for (std::size_t i = 0; i < spec.placed.size() && first + i < ids.size(); ++i) {
    if (spec.placed[i].settings.has("id")) ids[first + i] = spec.placed[i].id;
  }
  for (std::size_t i = 0; i < spec.placed.size() && first + i < ids.size(); ++i) {
    const LesionSpec& p = spec.placed[i];
    if (!p.settings.has("id")) continue;
    const bool valid =
        !p.id.empty() && p.id.size() <= 64 && std::all_of(p.id.begin(), p.id.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (!valid) {
      p.settings.fail("id", fmt::format("'{}' is not a lesion id", printable(p.id)),
                      "letters, digits, '_', '-' and '.', at most 64");
    }
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (j == first + i || ids[j] != p.id) continue;
      const bool by_default = j < first || j >= first + spec.placed.size() ||
                              !spec.placed[j - first].settings.has("id");
      p.settings.fail("id",
                      fmt::format("id '{}' is also the {} of another lesion ({})", p.id,
                                  by_default ? "default id" : "id", lesions[j]->describe()),
                      "an id no other lesion has");
    }
  }
  return ids;
}

}  // namespace mnsim::lesions
