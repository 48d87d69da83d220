// A small medial-cheek patch and bleeding channels for the engine tests that need real tissue
// (extending_test.cpp, mass_balance_test.cpp).
#pragma once

#include <initializer_list>
#include <string>

#include "core/scenario.hpp"
#include "devices/puncture.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

namespace mnsim::healing::testing {

/// A 1.2 mm x 1.2 mm medial-cheek patch at 60 um; `file` names it in messages; `extra` is
/// appended to the scenario (e.g. its [[lesions]]).
inline skin::Tissue small_cheek_tissue(const std::string& file, const std::string& extra = "") {
  const std::string text = R"(
seed = 3
[patient]
site = "medial_cheek"
[tissue]
width = "1.2 mm"
length = "1.2 mm"
resolution = "60 um"
)";
  const Table sc = parse_scenario_text(text + extra, file, scenario_schema());
  return skin::build_tissue(read_patch_spec(sc));
}

/// Bleeding vertical channels at (x, y) for each x, `depth` deep with `radius` (m).
inline devices::Punctures bleeding_channels(std::initializer_list<double> xs, double y,
                                            double depth, double radius) {
  devices::Punctures v;
  for (double x : xs) {
    devices::Puncture pu;
    pu.x = x;
    pu.y = y;
    pu.depth = depth;
    pu.radius = radius;
    pu.bled = true;
    v.push_back(pu);
  }
  return v;
}

}  // namespace mnsim::healing::testing
