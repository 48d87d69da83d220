// The automated pen: a cartridge of needles stamping at a set frequency and depth while it glides
// (docs/devices.md, "Pens").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "devices/registry.hpp"
#include "devices/stamping.hpp"

namespace mnsim::devices {

namespace {

class Pen final : public Stamping {
 public:
  explicit Pen(const Resolver& r) {
    model_ = r.entry().id();
    r.common_needle(needle_, material_);
    needles_ = static_cast<int>(r.integer("needles"));
    layout_ = r.text("layout");
    cartridge_ = r.quantity("cartridge_diameter", Dim::Length);
    frequency_ = r.quantity("frequency", Dim::Frequency);
    needle_.length = r.quantity("depth", Dim::Length);
    const double lo = r.entry().quantity("depth_min", Dim::Length);
    const double hi = r.entry().quantity("depth_max", Dim::Length);
    if (needle_.length < lo - 0.5e-6 || needle_.length > hi + 0.5e-6) {
      r.settings().fail("depth",
                        fmt::format("model '{}' cannot be set to {}", model_, mm(needle_.length)),
                        fmt::format("a depth from {} to {}", mm(lo), mm(hi)));
    }
    profile_ = r.text("stroke_profile");
    if (profile_ != "sinusoidal" && profile_ != "square") {
      r.settings().fail("stroke_profile", fmt::format("unknown stroke profile '{}'", profile_),
                        "sinusoidal or square");
    }
    amplitude_ = r.quantity("stroke_amplitude", Dim::Length);
    if (amplitude_ < needle_.length) {
      r.settings().fail("stroke_amplitude",
                        fmt::format("needle travel {} is shorter than the depth setting {}",
                                    mm(amplitude_), mm(needle_.length)),
                        "a travel at least the depth");
    }
    const double R = 0.5 * cartridge_;
    if (layout_ == "grid") {
      const int n = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(needles_))));
      const double p = cartridge_ / n;
      for (int k = 0; k < needles_; ++k) {
        offsets_.emplace_back((k % n + 0.5) * p - R, (k / n + 0.5) * p - R);
      }
    } else if (layout_ == "round") {
      // Vogel's sunflower pattern: even cover of a disc by any number of needles.
      const double golden = kPi * (3.0 - std::sqrt(5.0));
      for (int k = 0; k < needles_; ++k) {
        const double rho = R * std::sqrt((k + 0.5) / needles_);
        offsets_.emplace_back(rho * std::cos(k * golden), rho * std::sin(k * golden));
      }
    } else {
      r.settings().fail("layout", fmt::format("unknown layout '{}'", layout_), "round or grid");
    }
    set_spacing_from_offsets();
  }
  std::string_view kind() const override { return "pen"; }
  std::size_t needle_count() const override { return static_cast<std::size_t>(needles_); }
  double swath() const override { return cartridge_; }
  double density_per_pass(const Technique& tq) const override {
    return needles_ * frequency_ / (tq.speed * cartridge_ * (1.0 - tq.overlap));
  }
  double needles_loaded(const Technique&) const override { return needles_; }
  std::string describe() const override {
    return fmt::format("pen '{}': {} needles ({} layout, {} face) at {:g} Hz, depth {}", model_,
                       needles_, layout_, mm(cartridge_), frequency_, mm(needle_.length));
  }

 protected:
  double step(const Stroke& s, const Technique&) const override { return s.speed / frequency_; }
  double rate() const override { return frequency_; }
  double contact_fraction(double depth) const override {
    if (profile_ == "square") return 0.5;
    const double x = std::clamp(1.0 - 2.0 * depth / amplitude_, -1.0, 1.0);
    return std::acos(x) / kPi;
  }

 private:
  int needles_ = 0;
  std::string layout_, profile_;
  double cartridge_ = 0.0, frequency_ = 0.0, amplitude_ = 0.0;
};

std::unique_ptr<Device> make_pen(const Resolver& r) {
  return std::make_unique<Pen>(r);
}

}  // namespace

DeviceKind pen_kind() {
  using namespace schema;
  using T = CatalogKey::Type;
  DeviceKind k;
  k.name = "pen";
  k.doc = "an automated pen: a cartridge of needles stamping at a set frequency and depth";
  k.keys = {
      integer("needles", "", "Needles in the cartridge.", 1, 1000),
      enumeration("layout", {"round", "grid"}, "", "Needle layout on the cartridge face."),
      quantity("cartridge_diameter", Dim::Length, "mm", "", "Width of the cartridge face.", 1e-4,
               0.05),
      quantity("frequency", Dim::Frequency, "Hz", "", "Stamping frequency.", 1.0, 1000.0),
      quantity("depth", Dim::Length, "mm", "", "Depth setting (needle protrusion).", 1e-5, 5e-3),
      enumeration("stroke_profile", {"sinusoidal", "square"}, "",
                  "Needle motion in one cycle (sets how long the needle stays in the skin)."),
      quantity("stroke_amplitude", Dim::Length, "mm", "", "Needle travel per cycle.", 1e-4, 0.02),

  };
  k.catalog_keys = {{"needles", T::Integer},
                    {"layout", T::Text},
                    {"cartridge_diameter", T::Quantity, Dim::Length},
                    {"frequency", T::Quantity, Dim::Frequency},
                    {"depth", T::Quantity, Dim::Length},
                    {"depth_min", T::Quantity, Dim::Length},
                    {"depth_max", T::Quantity, Dim::Length},
                    {"stroke_profile", T::Text},
                    {"stroke_amplitude", T::Quantity, Dim::Length}};
  k.default_model = "dermapen_2012";
  k.make = make_pen;
  // A pen is searched over its depth settings in 0.25 mm steps (the dial of the pens in the
  // catalog: FDA DEN160029) within the model's range, at 1 to 3 passes.
  k.search_settings = [](const io::SourcedEntry& e) {
    std::vector<Settings> out;
    const SourceLoc here{"<protocol search>", 1, 1};
    const double lo = e.quantity("depth_min", Dim::Length);
    const double hi = e.quantity("depth_max", Dim::Length);
    for (int i = 0;; ++i) {
      const double d = std::round((lo + 0.25e-3 * i) * 1e7) / 1e7;  // no drift from the steps
      if (d > hi + 1e-9) break;
      Settings s("device", here);
      s.set_quantity("depth", d, Dim::Length, mm(d), here);
      out.push_back(std::move(s));
    }
    return out;
  };
  k.search_passes = {1, 2, 3};
  return k;
}

}  // namespace mnsim::devices
