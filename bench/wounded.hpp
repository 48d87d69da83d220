// The wounded tissue the engine benchmarks run on: the voxel tissue of examples/01 (1 x 1 cm
// cheek patch at 100 um, three scars) with the engine's fields, punctured by a 0.5 mm lattice of
// bleeding 1.2 mm channels and healed for 12 h, so that every process of the cascade is active.
#pragma once

#include <memory>
#include <string>

#include "core/scenario.hpp"
#include "devices/puncture.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

namespace mnsim::bench {

/// One session of bleeding 1.2 mm channels on a 0.5 mm lattice over the grid's patch.
inline devices::Punctures wound_lattice(const grid::Grid& g) {
  devices::Punctures session;
  const double pitch = 0.5e-3;  // m
  for (double x = 0.25e-3; x < g.nx * g.dx; x += pitch) {
    for (double y = 0.25e-3; y < g.ny * g.dx; y += pitch) {
      devices::Puncture pu;
      pu.x = x;
      pu.y = y;
      pu.depth = 1.2e-3;
      pu.radius = 0.1e-3;
      pu.bled = true;
      session.push_back(pu);
    }
  }
  return session;
}

struct Wounded {
  skin::Tissue tissue;
  healing::Params p;
  std::unique_ptr<healing::Engine> engine;
  Wounded()
      : tissue(skin::build_tissue(mnsim::read_patch_spec(
            load_scenario(std::string(MNSIM_SOURCE_DIR) + "/examples/01_default_cheek.toml")))),
        p(healing::load_default_params().p),
        engine(std::make_unique<healing::Engine>(tissue, p)) {
    engine->apply_session(wound_lattice(tissue.grid()));
    engine->stepper().advance_to(12.0 * 3600.0);
  }
};

}  // namespace mnsim::bench
