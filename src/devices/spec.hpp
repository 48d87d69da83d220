// What a device stage is asked to use: a device (kind, catalog model, settings that override the
// model's values) and the technique that moves it. Read from a scenario's [device] and
// [technique] sections (device_spec, Technique::from_table), or made in code by the reduced model
// and cohort protocols; make_device builds the device from it (devices/registry.hpp).
#pragma once

#include <string>

#include "core/scenario.hpp"
#include "core/settings.hpp"

namespace mnsim::devices {

struct DeviceSpec {
  std::string kind = "roller";  // a registered device kind (devices/registry.hpp)
  std::string model;            // catalog id; empty: the kind's default model
  /// The kind-specific keys given (overrides of the model's values); also holds `kind` and
  /// `model` with their locations, for messages at those keys.
  Settings settings{"device", {}};
};

/// The [device] section of a scenario (validated against device_schema()).
DeviceSpec device_spec(const Table& device);

}  // namespace mnsim::devices
