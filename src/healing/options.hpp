// The [numerics] section of a scenario: the step control of the 3D healing engine
// (docs/numerics.md, "Step control": defaults and their measured accuracy and cost).
#pragma once

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "healing/engine.hpp"

namespace mnsim::healing {

schema::Key numerics_schema();

/// Reads [numerics] into engine options.
EngineOptions engine_options(const Table& numerics);

}  // namespace mnsim::healing
