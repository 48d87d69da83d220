#include "devices/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/data_dir.hpp"
#include "core/units.hpp"
#include "devices/registry.hpp"

namespace mnsim::devices {

namespace {

void check_spec(const io::SourcedEntry& e, const CatalogKey& r) {
  const io::SourcedSpec& s = e.spec(r.key);
  if (s.source.empty()) e.fail(r.key, "specification without a source");
  switch (r.type) {
    case CatalogKey::Type::Quantity:
      if (!(e.quantity(r.key, r.dim) >= 0.0)) e.fail(r.key, "must not be negative");
      break;
    case CatalogKey::Type::Integer:
      if (e.integer(r.key) < 1) e.fail(r.key, "must be at least 1");
      break;
    case CatalogKey::Type::Text:
      e.text(r.key);
      break;
    case CatalogKey::Type::QuantityList:
      e.quantities(r.key, r.dim);
      break;
  }
}

/// What every device's catalog entry specifies: its needle.
const std::vector<CatalogKey>& common_keys() {
  static const std::vector<CatalogKey> c = {{"needle_diameter", CatalogKey::Type::Quantity},
                                            {"tip_radius", CatalogKey::Type::Quantity},
                                            {"tip_angle", CatalogKey::Type::Quantity, Dim::Angle},
                                            {"material", CatalogKey::Type::Text}};
  return c;
}

void check_entry(const io::SourcedEntry& e) {
  const std::string& kind = e.text("kind");
  const DeviceKind* k = find_device_kind(kind);
  if (!k) {
    std::string list;
    for (const auto& n : device_kind_names()) list += (list.empty() ? "" : ", ") + n;
    e.fail("kind", fmt::format("unknown device kind '{}'", kind), "one of " + list);
  }
  e.text("name");
  for (const auto& r : common_keys()) check_spec(e, r);
  for (const auto& r : k->catalog_keys) check_spec(e, r);
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
  const DeviceKind* k = find_device_kind(kind);
  return k ? k->default_model : std::string();
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
