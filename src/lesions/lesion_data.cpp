#include "lesions/lesion_data.hpp"

#include <fmt/format.h>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"
#include "lesions/registry.hpp"

#include <cstdlib>
#include <stdexcept>

namespace mnsim::lesions {

using io::DataFile;

std::vector<std::pair<const char*, const io::DataValue*>> KindData::entries() const {
  return {{"width_min", &width_min},
          {"width_max", &width_max},
          {"depth_min", &depth_min},
          {"depth_max", &depth_max},
          {"length_min", &length_min},
          {"length_max", &length_max},
          {"wall_angle_min", &wall_angle_min},
          {"wall_angle_max", &wall_angle_max},
          {"tether_radius", &tether_radius},
          {"tether_depth", &tether_depth},
          {"tether_collagen_factor", &tether_collagen_factor},
          {"deficit_threshold", &deficit_threshold},
          {"collagen_deficit", &collagen_deficit},
          {"disorder", &disorder}};
}

Effects KindData::effects() const {
  Effects e;
  e.collagen_deficit = collagen_deficit.si;
  e.disorder = disorder.si;
  if (!tether_radius.text.empty()) {
    e.tether_radius = tether_radius.si;
    e.tether_depth = tether_depth.si;
    e.tether_collagen_factor = tether_collagen_factor.si;
  }
  return e;
}

namespace {

void range(const io::DataFile& f, const toml::table& t, const std::string& where,
           const std::string& name, Dim d, double lo, double hi, io::DataValue& vmin,
           io::DataValue& vmax) {
  vmin = f.value(t, where, name + "_min", d, lo, hi);
  vmax = f.value(t, where, name + "_max", d, lo, hi);
  if (vmax.si < vmin.si) {
    throw InputError(vmax.loc, where + "." + name + "_max",
                     fmt::format("'{}' is below {}_min '{}'", vmax.text, name, vmin.text),
                     "max >= min");
  }
}

}  // namespace

LesionData LesionData::load(const std::string& path) {
  const io::DataFile f(path);
  LesionData out;
  out.path_ = path;
  // The tables of every registered kind, with the entries its descriptor declares.
  std::vector<std::string> all;
  std::vector<DataFields> fields;
  for (const auto& kind : lesion_kinds()) {
    for (const auto& key : kind.data_keys) {
      all.push_back(key);
      fields.push_back(kind.data_fields);
    }
  }
  f.check_keys(f.root(), "", all);
  const double deg90 = kPi / 2;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string& key = all[i];
    const toml::table& t = f.table(f.root(), "", key);
    KindData k;
    k.key = key;
    std::vector<std::string> known = {"description", "collagen_deficit", "disorder"};
    const DataFields& has = fields[i];
    if (has.size) {
      for (const char* n : {"width_min", "width_max", "depth_min", "depth_max"}) known.push_back(n);
    }
    if (has.length) known.insert(known.end(), {"length_min", "length_max"});
    if (has.wall_angle) known.insert(known.end(), {"wall_angle_min", "wall_angle_max"});
    if (has.tether)
      known.insert(known.end(), {"tether_radius", "tether_depth", "tether_collagen_factor"});
    if (has.deficit_threshold) known.push_back("deficit_threshold");
    f.check_keys(t, key, known);
    const toml::node* desc = t.get("description");
    if (!desc || !desc->is_string() || desc->as_string()->get().empty()) {
      throw InputError(desc ? f.loc(*desc) : f.loc(t), key + ".description",
                       "missing or empty description", "description = \"...\"");
    }
    k.description = desc->as_string()->get();
    if (has.size) {
      range(f, t, key, "width", Dim::Length, 1e-6, 50 * kMm, k.width_min, k.width_max);
      range(f, t, key, "depth", Dim::Length, 1e-6, 10 * kMm, k.depth_min, k.depth_max);
    }
    if (has.length)
      range(f, t, key, "length", Dim::Length, 1e-6, 500 * kMm, k.length_min, k.length_max);
    if (has.wall_angle) {
      range(f, t, key, "wall_angle", Dim::Angle, 0.0, deg90 * 0.99, k.wall_angle_min,
            k.wall_angle_max);
    }
    if (has.tether) {
      k.tether_radius = f.value(t, key, "tether_radius", Dim::Length, 0.0, 10 * kMm);
      k.tether_depth = f.value(t, key, "tether_depth", Dim::Length, 0.0, 10 * kMm);
      k.tether_collagen_factor = f.value(t, key, "tether_collagen_factor", Dim::Number, 0.0, 10.0);
    }
    if (has.deficit_threshold) {
      k.deficit_threshold = f.value(t, key, "deficit_threshold", Dim::Length, 0.0, 10 * kMm);
    }
    k.collagen_deficit = f.value(t, key, "collagen_deficit", Dim::Fraction, 0.0, 1.0);
    k.disorder = f.value(t, key, "disorder", Dim::Fraction, 0.0, 1.0);
    out.kinds_.push_back(std::move(k));
  }
  return out;
}

const KindData& LesionData::get(const std::string& key) const {
  for (const auto& k : kinds_) {
    if (k.key == key) return k;
  }
  throw std::out_of_range("internal: unknown lesion kind '" + key + "'");
}

std::string default_lesion_data_path() {
  return data_file("lesions.toml").string();
}

const LesionData& default_lesion_data() {
  static const LesionData d = LesionData::load(default_lesion_data_path());
  return d;
}

}  // namespace mnsim::lesions
