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
  // The thermal coagulation zone of a radio-frequency needle (thermal/rf.hpp; docs/rf.md): a
  // spheroid on the channel's axis from coag_top to coag_bottom below the local surface, of
  // radius coag_radius; all 0 for a mechanical needle.
  double coag_radius = 0.0;     // m
  double coag_top = 0.0;        // m below the local surface
  double coag_bottom = 0.0;     // m below the local surface
  double coag_denatured = 0.0;  // mean share of the zone's collagen denatured (0..1)
  bool coagulated() const { return coag_radius > 0.0 && coag_bottom > coag_top; }
};

using Punctures = std::vector<Puncture>;

/// The thermal coagulation zone one needle of a session deposits (an RF needle's, docs/rf.md):
/// a spheroid on the channel's axis, `top` to `bottom` below the surface at the depth the
/// needles reach under the technique's nominal force; all 0 for a mechanical needle.
struct ThermalZone {
  double radius = 0.0;  // m
  double top = 0.0;     // m below the surface
  double bottom = 0.0;  // m below the surface
  // Mean share of the collagen inside the zone denatured, 1 - exp(-Omega_c) (thermal/rf.hpp).
  double denatured = 0.0;
  bool coagulated() const { return radius > 0.0 && bottom > top; }
};

}  // namespace mnsim::devices
