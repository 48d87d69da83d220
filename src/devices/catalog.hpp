// The device catalog (data/devices.toml): real products' specifications, every spec with its
// source. `mnsim catalog devices` lists it; the scenario's [device] model = "<id>" starts from
// an entry.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "io/sourced.hpp"

namespace mnsim::devices {

class DeviceCatalog {
 public:
  /// Reads and checks a catalog file (kind known, required specs present and well-formed).
  static DeviceCatalog load(const std::filesystem::path& path);
  /// The catalog at data/devices.toml, loaded once.
  static const DeviceCatalog& defaults();

  const std::vector<io::SourcedEntry>& entries() const { return entries_; }
  /// Entry by id, or nullptr.
  const io::SourcedEntry* find(const std::string& id) const;
  std::vector<std::string> ids() const;
  /// The reference entry used for a kind when the scenario names no model.
  static std::string default_model(const std::string& kind);
  /// Human listing for `mnsim catalog devices`.
  std::string listing() const;

 private:
  std::vector<io::SourcedEntry> entries_;
};

std::filesystem::path default_catalog_path();

}  // namespace mnsim::devices
