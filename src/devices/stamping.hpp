// The base of devices that press a flat array of needles at discrete points along a stroke (the
// automated pen, the stamp and the RF cartridge): the punctures of one stroke from the needles'
// offsets; GridStamping, the rows x columns grid the stamp and the RF cartridge share.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "devices/device.hpp"

namespace mnsim::devices {

/// A device that presses a flat array of needles at discrete points along a stroke.
class Stamping : public Device {
 protected:
  /// Distance between successive stamps along the stroke, m.
  virtual double step(const Stroke& s, const Technique& tq) const = 0;
  /// Stamps per second.
  virtual double rate() const = 0;
  /// Fraction of a cycle during which the needles are in the skin (drags the channel).
  virtual double contact_fraction(double depth) const = 0;

  void stroke_punctures(const Stroke& s, const Technique& tq,
                        const mechanics::PenetrationResult& pen, const Rect& area,
                        Punctures& out) const override {
    const double st = step(s, tq);
    const double nx = -s.uy, ny = s.ux;
    const double az = std::atan2(s.uy, s.ux);
    const double drag = s.speed * contact_fraction(pen.depth) / rate();
    // Stamps whose footprint can touch the area (exact clip later).
    auto [lo, hi] = clip_line(s.x0, s.y0, s.ux, s.uy, area, reach_ + 1e-6);
    lo = std::max(lo, 0.0);
    hi = std::min(hi, s.length);
    if (lo > hi) return;
    const double first = std::max(0.0, std::ceil(lo / st - s.phase));
    for (double i = first;; i += 1.0) {
      const double k = s.phase + i;
      const double sd = k * st;
      if (sd > hi) break;
      const double t = s.t0 + k / rate();
      for (std::size_t n = 0; n < offsets_.size(); ++n) {
        const double a = sd + offsets_[n].first, b = offsets_[n].second;
        Puncture p;
        p.x = s.x0 + s.ux * a + nx * b;
        p.y = s.y0 + s.uy * a + ny * b;
        p.t = t;
        p.tilt = 0.0;
        p.azimuth = az;
        p.surface_length = 2.0 * pen.channel_radius + drag;
        p.needle = static_cast<std::uint32_t>(n);
        out.push_back(p);
      }
    }
  }

  void set_spacing_from_offsets() {
    double best = 1e300;
    for (std::size_t i = 0; i < offsets_.size(); ++i) {
      for (std::size_t j = i + 1; j < offsets_.size(); ++j) {
        best = std::min(best, std::hypot(offsets_[i].first - offsets_[j].first,
                                         offsets_[i].second - offsets_[j].second));
      }
    }
    needle_.spacing = offsets_.size() > 1 ? best : 10.0 * needle_.diameter;
    reach_ = 0.0;
    for (const auto& [a, b] : offsets_) reach_ = std::max(reach_, std::hypot(a, b));
  }

  std::vector<std::pair<double, double>> offsets_;  // (along, across) the stroke, m
  double reach_ = 0.0;                              // largest needle distance from the centre
};

/// A flat rows x columns grid of needles at `pitch`, pressed `press_rate` times per second and
/// moved one array length (less the technique's overlap) between presses: the stamp and the RF
/// cartridge (docs/devices.md, "Stamp"; docs/rf.md).
class GridStamping : public Stamping {
 public:
  std::size_t needle_count() const override {
    return static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_);
  }
  double swath() const override { return rows_ * pitch_; }
  double density_per_pass(const Technique& tq) const override {
    const double f = 1.0 - tq.overlap;
    return 1.0 / (pitch_ * pitch_ * f * f);
  }
  double needles_loaded(const Technique&) const override {
    return static_cast<double>(needle_count());
  }
  double stroke_duration(const Stroke& s, const Technique& tq) const override {
    return s.length / step(s, tq) / press_rate_;
  }

 protected:
  /// Reads rows, columns, pitch, needle_length and press_rate (scenario key or catalog entry),
  /// and lays out the grid.
  template <class SettingsResolver>
  void read_grid(const SettingsResolver& r) {
    model_ = r.entry().id();
    r.common_needle(needle_, material_);
    rows_ = static_cast<int>(r.integer("rows"));
    cols_ = static_cast<int>(r.integer("columns"));
    pitch_ = r.quantity("pitch", Dim::Length);
    needle_.length = r.quantity("needle_length", Dim::Length);
    press_rate_ = r.quantity("press_rate", Dim::Frequency);
    offsets_.clear();
    for (int i = 0; i < rows_; ++i) {
      for (int j = 0; j < cols_; ++j) {
        offsets_.emplace_back((j - 0.5 * (cols_ - 1)) * pitch_, (i - 0.5 * (rows_ - 1)) * pitch_);
      }
    }
    set_spacing_from_offsets();
  }
  double step(const Stroke&, const Technique& tq) const override {
    return cols_ * pitch_ * (1.0 - tq.overlap);
  }
  double rate() const override { return press_rate_; }
  double contact_fraction(double) const override { return 0.0; }

  int rows_ = 0, cols_ = 0;
  double pitch_ = 0.0, press_rate_ = 0.0;
};

}  // namespace mnsim::devices
