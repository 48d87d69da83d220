// What the lesion stage is asked to make, read from a scenario's lesion sections: each
// [[lesions]] entry as a LesionSpec (kind, centre, the kind's own keys as Settings that carry the
// place they were written, so a later error names file:line:key), the [surface] height map and
// the [inventory] counts. The composing layer (run/specs.hpp) gathers them with the scenario's
// seed into a LesionsSpec; lesions/registry.hpp makes the lesions from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/settings.hpp"

namespace mnsim::lesions {

/// One [[lesions]] entry (validated against lesions_schema()).
struct LesionSpec {
  std::string kind;         // a registered lesion kind (lesions/registry.hpp)
  std::string id;           // its `id` as written (settings.has("id")), else empty
  double x = 0.0, y = 0.0;  // m, centre on the patch
  /// Every key of the entry (kind, x, y and the kind's keys) with its location.
  Settings settings{"lesions", {}};
};
LesionSpec read_lesion(const Table& entry);

/// The [surface] height map.
struct SurfaceSpec {
  std::string file;           // as written (relative to the scenario file's folder)
  std::string scenario_file;  // the file the section was read from
  double pixel_size = 0.0;    // m
  double height_scale = 0.0;  // m per map unit
  Settings settings{"surface", {}};
};
SurfaceSpec read_surface(const Table& surface);

/// The [inventory] counts, by inventory class (lesions/registry.hpp, inventory_classes()).
struct InventorySpec {
  Settings counts{"inventory", {}};
};
InventorySpec read_inventory(const Table& inventory);

/// Every lesion a scenario asks for: [surface], [[lesions]], then [inventory] (drawn with `seed`).
struct LesionsSpec {
  std::optional<SurfaceSpec> surface;
  std::vector<LesionSpec> placed;
  std::optional<InventorySpec> inventory;
  std::uint64_t seed = 1;
};

}  // namespace mnsim::lesions
