#include "lesions/spec.hpp"

namespace mnsim::lesions {

LesionSpec read_lesion(const Table& entry) {
  LesionSpec s;
  s.kind = entry.str("kind");
  if (entry.has("id")) s.id = entry.str("id");
  s.x = entry.quantity("x");
  s.y = entry.quantity("y");
  s.settings = Settings::from_table(entry);
  return s;
}

SurfaceSpec read_surface(const Table& surface) {
  SurfaceSpec s;
  s.file = surface.str("file");
  s.scenario_file = surface.loc_of("file").file;
  s.pixel_size = surface.quantity("pixel_size");
  s.height_scale = surface.quantity("height_scale");
  s.settings = Settings::from_table(surface);
  return s;
}

InventorySpec read_inventory(const Table& inventory) {
  return {Settings::from_table(inventory)};
}

}  // namespace mnsim::lesions
