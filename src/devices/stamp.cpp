// The stamp: a flat array of needles pressed down and lifted at a set rate along the stroke
// (docs/devices.md, "Stamps").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "devices/registry.hpp"
#include "devices/stamping.hpp"

namespace mnsim::devices {

namespace {

class Stamp final : public Stamping {
 public:
  explicit Stamp(const Resolver& r) {
    model_ = r.entry().id();
    r.common_needle(needle_, material_);
    rows_ = static_cast<int>(r.integer("rows"));
    cols_ = static_cast<int>(r.integer("columns"));
    pitch_ = r.quantity("pitch", Dim::Length);
    needle_.length = r.quantity("needle_length", Dim::Length);
    press_rate_ = r.quantity("press_rate", Dim::Frequency);
    for (int i = 0; i < rows_; ++i) {
      for (int j = 0; j < cols_; ++j) {
        offsets_.emplace_back((j - 0.5 * (cols_ - 1)) * pitch_, (i - 0.5 * (rows_ - 1)) * pitch_);
      }
    }
    set_spacing_from_offsets();
  }
  std::string_view kind() const override { return "stamp"; }
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
  std::string describe() const override {
    return fmt::format("stamp '{}': {} x {} needles at {} pitch, {} long, {:g} presses/s", model_,
                       rows_, cols_, mm(pitch_), mm(needle_.length), press_rate_);
  }

 protected:
  double step(const Stroke&, const Technique& tq) const override {
    return cols_ * pitch_ * (1.0 - tq.overlap);
  }
  double rate() const override { return press_rate_; }
  double contact_fraction(double) const override { return 0.0; }

 private:
  int rows_ = 0, cols_ = 0;
  double pitch_ = 0.0, press_rate_ = 0.0;
};

std::unique_ptr<Device> make_stamp(const Resolver& r) {
  return std::make_unique<Stamp>(r);
}

}  // namespace

DeviceKind stamp_kind() {
  using namespace schema;
  using T = CatalogKey::Type;
  DeviceKind k;
  k.name = "stamp";
  k.doc = "a stamp: a flat needle array pressed down and lifted along the stroke";
  k.keys = {
      integer("rows", "", "Needle rows across the stroke.", 1, 1000),
      integer("columns", "", "Needle columns along the stroke.", 1, 1000),
      quantity("pitch", Dim::Length, "mm", "", "Needle spacing.", 1e-5, 0.01),
      quantity("needle_length", Dim::Length, "mm", "", "Needle length.", 1e-5, 5e-3),
      quantity("press_rate", Dim::Frequency, "Hz", "", "Presses per second.", 0.01, 100.0),

  };
  k.catalog_keys = {{"rows", T::Integer},
                    {"columns", T::Integer},
                    {"pitch", T::Quantity, Dim::Length},
                    {"needle_length", T::Quantity, Dim::Length},
                    {"press_rate", T::Quantity, Dim::Frequency}};
  k.default_model = "stamp_35";
  k.make = make_stamp;
  return k;
}

}  // namespace mnsim::devices
