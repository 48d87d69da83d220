// Scenario schema sections of the device stage: [device] and [technique].
#pragma once

#include "core/schema.hpp"

namespace mnsim::devices {

/// [device]: kind = "roller" | "pen" | "stamp" (discriminator), model = catalog id, overrides.
schema::Key device_schema();
/// [technique]: passes, directions, speed, overlap, force, hand jitter.
schema::Key technique_schema();

}  // namespace mnsim::devices
