// Microneedling devices (roller, automated pen, stamp), the technique that moves them over a
// treatment area, and the punctures they make. See docs/devices.md.
//
// A Device is built from a DeviceSpec (devices/spec.hpp) by the kind's factory in the registry
// (devices/registry.hpp, make_device), starting from a catalog entry (data/devices.toml,
// `model = "<id>"`) with per-key overrides. Device::generate
// lays out the strokes of a Technique over a rectangular area and returns every needle entry as
// a Puncture, deterministic in (seed, pass, stroke, needle) and identical for any thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/scenario.hpp"
#include "core/settings.hpp"
#include "devices/catalog.hpp"
#include "devices/puncture.hpp"
#include "mechanics/penetration.hpp"
#include "skin/profile.hpp"

namespace mnsim::devices {

/// An axis-aligned rectangle on the patch surface, m.
struct Rect {
  double x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
  double area() const { return width() * height(); }
  bool contains(double x, double y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

/// How the device is moved over the area.
struct Technique {
  int passes = 15;                     // passes over the whole area
  std::vector<double> directions;      // stroke directions, rad from +x; pass i uses [i % n]
  double speed = 0.05;                 // glide speed, m/s
  double overlap = 0.05;               // lateral overlap of adjacent strokes, fraction of swath
  double force = 3.0;                  // force applied on the device, N
  double reposition_time = 0.5;        // time to lift and re-place the device between strokes, s
  double jitter_position = 1e-3;       // sd of each stroke's lateral position, m
  double jitter_angle = 0.0523598776;  // sd of each stroke's direction, rad (3 deg)
  double jitter_force = 0.15;          // coefficient of variation of the force per stroke
  double jitter_speed = 0.15;          // coefficient of variation of the speed per stroke
  /// Where each setting was written (messages at its key); empty when made in code.
  Settings origin{"technique", {}};

  /// From the scenario's [technique] table (validated against technique_schema()).
  static Technique from_table(const Table& t);
  /// The technique of a [technique] section that sets nothing: technique_schema()'s defaults.
  static const Technique& defaults();
};

/// The interval [lo, hi] of s for which (x0 + ux s, y0 + uy s) lies in `r` grown by `margin`;
/// lo > hi when the line misses it.
std::pair<double, double> clip_line(double x0, double y0, double ux, double uy, const Rect& r,
                                    double margin);

/// Direction names accepted in technique.directions and their angles.
double direction_angle(std::string_view name);  // "horizontal" 0, "vertical" pi/2, ...

/// One stroke: a straight glide of the device across the area.
struct Stroke {
  std::uint32_t pass = 0, index = 0;
  double x0 = 0.0, y0 = 0.0;  // start of the device centre line, m
  double ux = 1.0, uy = 0.0;  // unit direction of travel
  double length = 0.0;        // m
  double speed = 0.0;         // m/s (jittered)
  double force = 0.0;         // N (jittered)
  double t0 = 0.0;            // s since the start of the session
  double phase = 0.0;         // uniform [0, 1): the device's phase at the stroke start
};

/// Lays out the strokes of a technique over `area` for a device of lateral swath `swath` (m).
/// Strokes are parallel bands spaced swath*(1-overlap), laid from the area's edge, each
/// running one swath beyond the area at both ends; alternate strokes run back and forth. Hand
/// jitter moves each pass and each stroke sideways, turns it, and varies its force and speed.
std::vector<Stroke> plan_strokes(const Technique& tq, const Rect& area, double swath,
                                 std::uint64_t seed);

class Device {
 public:
  virtual ~Device() = default;
  /// "roller", "pen" or "stamp".
  virtual std::string_view kind() const = 0;
  /// Catalog id the device started from ("" if none).
  const std::string& model() const { return model_; }
  /// Needle geometry (length = nominal length, spacing = nearest-neighbour distance).
  const mechanics::NeedleGeometry& needle() const { return needle_; }
  const std::string& material() const { return material_; }
  /// Number of needles on the device (drum, cartridge or stamp).
  virtual std::size_t needle_count() const = 0;
  /// Lateral width covered by one stroke, m.
  virtual double swath() const = 0;
  /// Analytic punctures per m^2 per pass for this technique (all needles puncturing).
  virtual double density_per_pass(const Technique& tq) const = 0;
  /// Number of needles sharing the applied force at any instant.
  virtual double needles_loaded(const Technique& tq) const = 0;
  /// One line describing the device.
  virtual std::string describe() const = 0;
  /// Time the device spends on one stroke, s (default: length / speed).
  virtual double stroke_duration(const Stroke& s, const Technique& tq) const;

  /// The thermal coagulation zone of one needle whose penetration at the technique's nominal
  /// force is `nominal`, in `skin` (the RF kind's; docs/rf.md). Default: none (mechanical). What
  /// `generate` attaches to each puncture and what the reduced model deposits as thermal injury.
  virtual ThermalZone thermal_zone(const skin::SkinProfile& /*skin*/,
                                   const mechanics::PenetrationResult& /*nominal*/) const {
    return {};
  }

  /// Every puncture of the technique inside `area`, ordered by (pass, stroke, time, needle).
  Punctures generate(const Technique& tq, const Rect& area, const skin::SkinProfile& skin,
                     const mechanics::PenetrationParams& mech, std::uint64_t seed) const;

 protected:
  /// Appends the punctures of one stroke that may fall inside `area` (the caller clips
  /// exactly); position, time, tilt, azimuth, surface length and needle index are set.
  virtual void stroke_punctures(const Stroke& s, const Technique& tq,
                                const mechanics::PenetrationResult& pen, const Rect& area,
                                Punctures& out) const = 0;
  /// Adds what the kind deposits beyond the channel to every puncture of a session (the RF
  /// kind's coagulation zone); `nominal` is the penetration at the technique's force. Default:
  /// nothing.
  virtual void complete(Punctures& /*out*/, const skin::SkinProfile& /*skin*/,
                        const mechanics::PenetrationResult& /*nominal*/) const {}

  std::string model_;
  std::string material_;
  mechanics::NeedleGeometry needle_;
};

}  // namespace mnsim::devices
