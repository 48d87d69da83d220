#include "devices/spec.hpp"

namespace mnsim::devices {

DeviceSpec device_spec(const Table& device) {
  DeviceSpec s;
  s.kind = device.str("kind");
  s.model = device.has("model") ? device.str("model") : std::string();
  s.settings = Settings::from_table(device);
  return s;
}

}  // namespace mnsim::devices
