// Device kinds as an open registry (docs/extending.md): each kind is a descriptor (its name, the
// keys it adds to [device], the specifications its catalog entries must carry, its default
// catalog model, and a factory), defined in its own file (devices/roller.cpp, pen.cpp,
// stamp.cpp) and listed once in devices/kinds.def. Everything that lists kinds (the scenario
// schema, the catalog check, `mnsim catalog`, the factory) iterates the registry.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/schema.hpp"
#include "core/settings.hpp"
#include "core/units.hpp"
#include "devices/catalog.hpp"
#include "devices/device.hpp"
#include "devices/spec.hpp"
#include "io/sourced.hpp"

namespace mnsim::devices {

/// A length as device descriptions and messages show it ("1.5 mm").
inline std::string mm(double m) {
  return format_quantity(m, Dim::Length, "mm");
}

/// A device key from the scenario's settings if given there, else from the catalog entry; a
/// problem is reported at the scenario key (or at the section, naming the model).
class Resolver {
 public:
  Resolver(const Settings& s, const io::SourcedEntry& e) : s_(s), e_(e) {}
  double quantity(const std::string& key, Dim d) const;
  long long integer(const std::string& key) const;
  std::string text(const std::string& key) const;
  const Settings& settings() const { return s_; }
  const io::SourcedEntry& entry() const { return e_; }
  /// The needle shared by every kind: diameter, tip radius and angle, material.
  void common_needle(mechanics::NeedleGeometry& g, std::string& material) const;

 private:
  [[noreturn]] void missing(const std::string& key) const;
  const Settings& s_;
  const io::SourcedEntry& e_;
};

/// A specification a catalog entry of the kind must carry (checked when the catalog loads).
struct CatalogKey {
  enum class Type { Quantity, Integer, Text, QuantityList };
  std::string key;
  Type type = Type::Quantity;
  Dim dim = Dim::Length;  // Quantity and QuantityList
};

struct DeviceKind {
  std::string name;                      // kind = "<name>" in [device] and in the catalog
  std::string doc;                       // one line for `mnsim catalog devices` and docs
  std::vector<schema::Key> keys;         // the keys this kind adds to [device]
  std::vector<CatalogKey> catalog_keys;  // what its catalog entries must specify
  std::string default_model;             // catalog id used when [device] names no model
  /// Builds the device; errors at the scenario key through the resolver's settings.
  std::unique_ptr<Device> (*make)(const Resolver&) = nullptr;
  /// What a protocol search (`mnsim plan`) tries for one catalog entry of this kind: each
  /// element is a set of [device] overrides (a roller's catalogued needle lengths, a pen's depth
  /// steps). nullptr or empty: the entry as catalogued.
  std::vector<Settings> (*search_settings)(const io::SourcedEntry& entry) = nullptr;
  /// The passes per session a protocol search tries with this kind.
  std::vector<int> search_passes{1, 2, 3};
};

/// The settings a protocol search tries for catalog entry `entry` (DeviceKind::search_settings;
/// one empty set when the kind gives none).
std::vector<Settings> search_settings(const io::SourcedEntry& entry);

/// Every registered kind, in registration order (the kinds of devices/kinds.def first).
const std::vector<DeviceKind>& device_kinds();
/// The kind of that name, or nullptr.
const DeviceKind* find_device_kind(const std::string& name);
/// Registers a kind (a test's own kind, a plug-in). Must run before the scenario schema or the
/// catalog is first used (schemas are built once); a name that exists already is an error.
void register_device_kind(DeviceKind kind);
/// The names of the registered kinds.
std::vector<std::string> device_kind_names();

/// Builds a device from a spec, resolving its model in the catalog and applying the settings as
/// overrides. Errors name the scenario key (the spec's settings carry its locations).
std::unique_ptr<Device> make_device(const DeviceSpec& spec, const DeviceCatalog& catalog);

}  // namespace mnsim::devices
