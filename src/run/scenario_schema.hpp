// The root of the scenario schema, assembled from the sections each module contributes (the
// composing layer: nothing below src/run knows the whole scenario).
#pragma once

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace mnsim {

/// The full scenario schema (built once, immutable).
const schema::Key& scenario_schema();

/// The scenario key at a dotted path (schema::find_key on the root).
const schema::Key& scenario_key(const std::string& path);

/// Reads and validates a scenario file against the full mnsim schema.
/// `overrides`: keys set on the command line (`--set`), validated with the file.
Table load_scenario(const std::string& path, const std::vector<Override>& overrides = {});

}  // namespace mnsim
