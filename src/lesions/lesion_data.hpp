// Lesion kinds as described in data/lesions.toml: geometry ranges used when lesions are generated
// from an inventory, and the dermal effects under each kind.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "io/data_file.hpp"
#include "lesions/lesion.hpp"

namespace mnsim::lesions {

using io::DataValue;

/// One table of data/lesions.toml. Ranges are uniform distributions [min, max]; entries that a
/// kind does not use have an empty `text` (which entries a table carries: its kind's DataFields,
/// lesions/registry.hpp).
struct KindData {
  std::string key;  // a data key of a registered kind: "icepick", "boxcar_shallow", ...
  std::string description;
  io::DataValue width_min, width_max, depth_min, depth_max;
  io::DataValue length_min, length_max;                               // striae, wrinkle
  io::DataValue wall_angle_min, wall_angle_max;                       // boxcar_*
  io::DataValue tether_radius, tether_depth, tether_collagen_factor;  // rolling
  io::DataValue deficit_threshold;                                    // measured
  io::DataValue collagen_deficit, disorder;
  Effects effects() const;
  /// Every data entry by its key in data/lesions.toml (those a kind does not set are empty).
  std::vector<std::pair<const char*, const io::DataValue*>> entries() const;
};

class LesionData {
 public:
  /// Loads and validates a lesion data file: the tables of every registered kind (its data_keys),
  /// no others; InputError on malformed data.
  static LesionData load(const std::string& path);
  const std::string& path() const { return path_; }
  const std::vector<KindData>& kinds() const { return kinds_; }
  /// Throws std::out_of_range for an unknown key.
  const KindData& get(const std::string& key) const;

 private:
  std::string path_;
  std::vector<KindData> kinds_;
};

/// lesions.toml in the data folder (core/data_dir.hpp).
std::string default_lesion_data_path();
/// The shipped lesion data, loaded once (immutable afterwards).
const LesionData& default_lesion_data();

}  // namespace mnsim::lesions
