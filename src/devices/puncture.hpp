// One needle entry: the event the device model produces and the healing model consumes.
#pragma once

#include <cstdint>
#include <vector>

#include "skin/profile.hpp"

namespace mnsim::devices {

struct Puncture {
  double x = 0.0, y = 0.0;      // entry point on the patch surface (centre of the opening), m
  double t = 0.0;               // time since the start of the session, s
  double tilt = 0.0;            // angle of the channel from the skin normal, rad
  double azimuth = 0.0;         // direction of the tilt in the x-y plane, rad from +x
  double nominal_length = 0.0;  // needle length, m
  double depth = 0.0;           // depth actually reached below the local surface, m
  double radius = 0.0;          // channel radius at the surface, m
  double surface_length = 0.0;  // length of the channel's opening along the tilt, m (roller arcs)
  double force = 0.0;           // insertion force on this needle, N
  skin::Layer layer = skin::Layer::Outside;  // deepest layer reached
  bool bled = false;                         // reached the superficial vascular plexus
  std::uint32_t pass = 0;                    // stroke pass index within the session
  std::uint32_t needle = 0;                  // needle index on the device
  std::uint32_t stroke = 0;                  // stroke index within the pass
};

using Punctures = std::vector<Puncture>;

}  // namespace mnsim::devices
