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

class Stamp final : public GridStamping {
 public:
  explicit Stamp(const Resolver& r) { read_grid(r); }
  std::string_view kind() const override { return "stamp"; }
  std::string describe() const override {
    return fmt::format("stamp '{}': {} x {} needles at {} pitch, {} long, {:g} presses/s", model_,
                       rows_, cols_, mm(pitch_), mm(needle_.length), press_rate_);
  }
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
