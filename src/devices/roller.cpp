// The roller: a drum of needle rings rolled over the skin (docs/devices.md, "Rollers").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "devices/registry.hpp"

namespace mnsim::devices {

namespace {

class Roller final : public Device {
 public:
  explicit Roller(const Resolver& r) {
    model_ = r.entry().id();
    r.common_needle(needle_, material_);
    diameter_ = r.quantity("drum_diameter", Dim::Length);
    width_ = r.quantity("drum_width", Dim::Length);
    rows_ = static_cast<int>(r.integer("rows"));
    per_row_ = static_cast<int>(r.integer("needles_per_row"));
    row_offset_ = r.quantity("row_offset", Dim::Angle);
    needle_.length = r.quantity("needle_length", Dim::Length);
    if (r.entry().has("needle_lengths")) {
      const auto offered = r.entry().quantities("needle_lengths", Dim::Length);
      const bool ok = std::any_of(offered.begin(), offered.end(),
                                  [&](double l) { return std::abs(l - needle_.length) < 0.5e-6; });
      if (!ok) {
        std::string list;
        for (double l : offered) list += (list.empty() ? "" : ", ") + mm(l);
        r.settings().fail(
            "needle_length",
            fmt::format("model '{}' is not made with {} needles", model_, mm(needle_.length)),
            "one of " + list);
      }
    }
    needle_.spacing = std::min(width_ / rows_, kPi * diameter_ / per_row_);
  }
  std::string_view kind() const override { return "roller"; }
  std::size_t needle_count() const override {
    return static_cast<std::size_t>(rows_) * static_cast<std::size_t>(per_row_);
  }
  double swath() const override { return width_; }
  double density_per_pass(const Technique& tq) const override {
    return static_cast<double>(needle_count()) / (kPi * diameter_ * width_) / (1.0 - tq.overlap);
  }
  double needles_loaded(const Technique&) const override {
    const double r = 0.5 * diameter_;
    const double beta = std::acos(r / (r + needle_.length));
    return std::max(static_cast<double>(rows_), static_cast<double>(needle_count()) * beta / kPi);
  }
  std::string describe() const override {
    return fmt::format(
        "roller '{}': {} needles ({} rows x {}), drum {} diameter x {} wide, needles {} long, "
        "{} diameter",
        model_, needle_count(), rows_, per_row_, mm(diameter_), mm(width_), mm(needle_.length),
        mm(needle_.diameter));
  }

 protected:
  void stroke_punctures(const Stroke& s, const Technique&, const mechanics::PenetrationResult& pen,
                        const Rect& area, Punctures& out) const override {
    const double R = 0.5 * diameter_;
    const double circ = 2.0 * kPi * R;
    const double nx = -s.uy, ny = s.ux;
    const double d = pen.depth;
    // The needle enters at angle beta before the vertical and leaves beta after it; the point
    // where it crosses the skin plane moves by +-half_open along the stroke (docs/devices.md).
    const double beta = std::acos(R / (R + d));
    const double half_open = std::sqrt((R + d) * (R + d) - R * R) - R * beta;
    const double az = std::atan2(s.uy, s.ux);
    for (int r = 0; r < rows_; ++r) {
      const double lat = -0.5 * width_ + (r + 0.5) * width_ / rows_;
      // Only the part of this row's track that crosses the area (1 um margin; exact clip later).
      auto [lo, hi] = clip_line(s.x0 + nx * lat, s.y0 + ny * lat, s.ux, s.uy, area, 1e-6);
      lo = std::max(lo, 0.0);
      hi = std::min(hi, s.length);
      if (lo > hi) continue;
      for (int j = 0; j < per_row_; ++j) {
        double alpha = 2.0 * kPi * (static_cast<double>(j) / per_row_ + s.phase) + r * row_offset_;
        alpha = std::fmod(alpha, 2.0 * kPi);
        if (alpha < 0.0) alpha += 2.0 * kPi;
        const double first = R * alpha;
        const double skip = first < lo ? std::ceil((lo - first) / circ) : 0.0;
        for (double m = skip;; m += 1.0) {
          const double sd = first + m * circ;
          if (sd > hi) break;
          Puncture p;
          p.x = s.x0 + s.ux * sd + nx * lat;
          p.y = s.y0 + s.uy * sd + ny * lat;
          p.t = s.t0 + sd / s.speed;
          p.tilt = beta;
          p.azimuth = az;
          p.surface_length = 2.0 * half_open + 2.0 * pen.channel_radius;
          p.needle = static_cast<std::uint32_t>(r * per_row_ + j);
          out.push_back(p);
        }
      }
    }
  }

 private:
  double diameter_ = 0.0, width_ = 0.0, row_offset_ = 0.0;
  int rows_ = 0, per_row_ = 0;
};

std::unique_ptr<Device> make_roller(const Resolver& r) {
  return std::make_unique<Roller>(r);
}

}  // namespace

DeviceKind roller_kind() {
  using namespace schema;
  using T = CatalogKey::Type;
  DeviceKind k;
  k.name = "roller";
  k.doc = "a drum of needle rings rolled over the skin (dermaroller)";
  k.keys = {
      quantity("drum_diameter", Dim::Length, "cm", "", "Drum diameter (needle bases).", 2e-3, 0.2),
      quantity("drum_width", Dim::Length, "cm", "", "Drum width.", 1e-3, 0.2),
      integer("rows", "", "Rows (rings of needles) across the drum width.", 1, 1000),
      integer("needles_per_row", "", "Needles around each ring.", 1, 10000),
      quantity("row_offset", Dim::Angle, "deg", "", "Angular stagger of each row on the previous.",
               -360 * kDeg, 360 * kDeg),
      quantity("needle_length", Dim::Length, "mm", "",
               "Needle length (one of the model's lengths).", 1e-5, 5e-3),

  };
  k.catalog_keys = {{"drum_diameter", T::Quantity, Dim::Length},
                    {"drum_width", T::Quantity, Dim::Length},
                    {"rows", T::Integer},
                    {"needles_per_row", T::Integer},
                    {"row_offset", T::Quantity, Dim::Angle},
                    {"needle_length", T::Quantity, Dim::Length},
                    {"needle_lengths", T::QuantityList, Dim::Length}};
  k.default_model = "roller_192_mf8";
  k.make = make_roller;
  // A roller is searched over the lengths it is made with, at 8, 16 and 24 passes (about 120,
  // 245 and 365 punctures/cm^2 with the 192-needle drum).
  k.search_settings = [](const io::SourcedEntry& e) {
    std::vector<Settings> out;
    const SourceLoc here{"<protocol search>", 1, 1};
    for (double len : e.quantities("needle_lengths", Dim::Length)) {
      Settings s("device", here);
      s.set_quantity("needle_length", len, Dim::Length, mm(len), here);
      out.push_back(std::move(s));
    }
    return out;
  };
  k.search_passes = {8, 16, 24};
  return k;
}

}  // namespace mnsim::devices
