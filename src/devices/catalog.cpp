#include "devices/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/data_dir.hpp"
#include "core/units.hpp"

namespace mnsim::devices {

namespace {

struct Required {
  const char* key;
  int type;  // 0 quantity, 1 integer, 2 text, 3 quantity list
  Dim dim;
};

const std::vector<Required>& required_for(const std::string& kind) {
  static const std::vector<Required> roller = {
      {"drum_diameter", 0, Dim::Length}, {"drum_width", 0, Dim::Length},
      {"rows", 1, Dim::Fraction},        {"needles_per_row", 1, Dim::Fraction},
      {"row_offset", 0, Dim::Angle},     {"needle_length", 0, Dim::Length},
      {"needle_lengths", 3, Dim::Length}};
  static const std::vector<Required> pen = {{"needles", 1, Dim::Fraction},
                                            {"layout", 2, Dim::Fraction},
                                            {"cartridge_diameter", 0, Dim::Length},
                                            {"frequency", 0, Dim::Frequency},
                                            {"depth", 0, Dim::Length},
                                            {"depth_min", 0, Dim::Length},
                                            {"depth_max", 0, Dim::Length},
                                            {"stroke_profile", 2, Dim::Fraction},
                                            {"stroke_amplitude", 0, Dim::Length}};
  static const std::vector<Required> stamp = {{"rows", 1, Dim::Fraction},
                                              {"columns", 1, Dim::Fraction},
                                              {"pitch", 0, Dim::Length},
                                              {"needle_length", 0, Dim::Length},
                                              {"press_rate", 0, Dim::Frequency}};
  if (kind == "roller") return roller;
  if (kind == "pen") return pen;
  return stamp;
}

const std::vector<Required>& common_required() {
  static const std::vector<Required> c = {{"needle_diameter", 0, Dim::Length},
                                          {"tip_radius", 0, Dim::Length},
                                          {"tip_angle", 0, Dim::Angle},
                                          {"material", 2, Dim::Fraction}};
  return c;
}

void check_entry(const io::SourcedEntry& e) {
  const std::string& kind = e.text("kind");
  if (kind != "roller" && kind != "pen" && kind != "stamp") {
    e.fail("kind", fmt::format("unknown device kind '{}'", kind), "roller, pen or stamp");
  }
  e.text("name");
  auto check = [&](const Required& r) {
    const io::SourcedSpec& s = e.spec(r.key);
    if (s.source.empty()) e.fail(r.key, "specification without a source");
    switch (r.type) {
      case 0:
        if (!(e.quantity(r.key, r.dim) >= 0.0)) e.fail(r.key, "must not be negative");
        break;
      case 1:
        if (e.integer(r.key) < 1) e.fail(r.key, "must be at least 1");
        break;
      case 2:
        e.text(r.key);
        break;
      case 3:
        e.quantities(r.key, r.dim);
        break;
    }
  };
  for (const auto& r : common_required()) check(r);
  for (const auto& r : required_for(kind)) check(r);
}

}  // namespace

std::filesystem::path default_catalog_path() {
  return data_file("devices.toml");
}

DeviceCatalog DeviceCatalog::load(const std::filesystem::path& path) {
  DeviceCatalog c;
  c.entries_ = io::read_sourced_file(path);
  for (const auto& e : c.entries_) check_entry(e);
  return c;
}

const DeviceCatalog& DeviceCatalog::defaults() {
  static const DeviceCatalog c = load(default_catalog_path());
  return c;
}

const io::SourcedEntry* DeviceCatalog::find(const std::string& id) const {
  for (const auto& e : entries_) {
    if (e.id() == id) return &e;
  }
  return nullptr;
}

std::vector<std::string> DeviceCatalog::ids() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.id());
  return out;
}

std::string DeviceCatalog::default_model(const std::string& kind) {
  if (kind == "pen") return "dermapen_2012";
  if (kind == "stamp") return "stamp_35";
  return "roller_192_mf8";
}

std::string DeviceCatalog::listing() const {
  std::string out =
      "Devices in the catalog (data/devices.toml); use [device] model = \"<id>\" and override "
      "any key.\n";
  for (const auto& e : entries_) {
    out += fmt::format("\n{}  ({}): {}\n", e.id(), e.text("kind"), e.text("name"));
    for (const auto& k : e.keys()) {
      if (k == "kind" || k == "name") continue;
      const io::SourcedSpec& s = e.spec(k);
      std::string v;
      switch (s.kind) {
        case io::SourcedSpec::Kind::Text:
          v = s.text;
          break;
        case io::SourcedSpec::Kind::Integer:
          v = fmt::format("{}", static_cast<long long>(s.number));
          break;
        case io::SourcedSpec::Kind::Number:
          v = fmt::format("{:g}", s.number);
          break;
        case io::SourcedSpec::Kind::List:
          for (const auto& i : s.items) v += (v.empty() ? "" : ", ") + i;
          break;
      }
      out += fmt::format("  {:<20} {:<28} {}\n", k, v, s.source);
    }
  }
  return out;
}

}  // namespace mnsim::devices
