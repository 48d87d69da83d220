// The root of the scenario schema, assembled from the sections each module contributes.
#pragma once

#include "core/schema.hpp"

namespace mnsim {

/// The full scenario schema (built once, immutable).
const schema::Key& scenario_schema();

}  // namespace mnsim
