// The radio-frequency (RF) microneedle device: a flat array of needles, insulated from the hub
// down to `insulated_length`, pressed along the stroke like a stamp; at each press every needle
// delivers `energy` (or `power` x `pulse_duration`) at `frequency` through its uninsulated tip.
// Each puncture carries the coagulation zone of one needle's pulse (thermal/rf.hpp), solved once
// per session in the session's skin at the depth the needles reach (docs/rf.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "devices/registry.hpp"
#include "devices/stamping.hpp"
#include "thermal/rf.hpp"

namespace mnsim::devices {

namespace {

class RfNeedles final : public GridStamping {
 public:
  explicit RfNeedles(const Resolver& r) {
    read_grid(r);
    insulated_ = r.quantity("insulated_length", Dim::Length);
    pulse_ = r.quantity("pulse_duration", Dim::Time);
    frequency_ = r.quantity("frequency", Dim::Frequency);
    const Settings& s = r.settings();
    if (s.has("power")) {
      if (s.has("energy")) {
        s.fail("power", "both energy and power are given",
               "energy per needle or power per needle, not both");
      }
      energy_ = s.quantity("power") * pulse_;
    } else {
      energy_ = r.quantity("energy", Dim::Energy);
    }
    const std::string where = s.has("insulated_length") ? "insulated_length" : "";
    const double cell = thermal::RfTissue::defaults().cell;
    if (insulated_ + cell > needle_.length) {
      s.fail(where.empty() ? "needle_length" : where,
             fmt::format("the insulation ({}) leaves less than {} of the {} needle exposed",
                         mm(insulated_), mm(cell), mm(needle_.length)),
             "an insulated length shorter than the needle by at least the model's cell");
    }
    if (pulse_ * press_rate_ >= 1.0) {
      s.fail(s.has("pulse_duration") ? "pulse_duration" : "press_rate",
             fmt::format("a pulse of {} does not fit between presses at {:g} per second",
                         format_nice(pulse_, Dim::Time), press_rate_),
             "pulse_duration x press_rate below 1");
    }
  }
  std::string_view kind() const override { return "rf"; }
  std::string describe() const override {
    return fmt::format(
        "RF microneedles '{}': {} x {} needles at {} pitch, {} long ({} insulated), {:g} mJ per "
        "needle in {}, {:g} MHz, {:g} presses/s",
        model_, rows_, cols_, mm(pitch_), mm(needle_.length), mm(insulated_), energy_ * 1e3,
        format_nice(pulse_, Dim::Time), frequency_ * 1e-6, press_rate_);
  }

  ThermalZone thermal_zone(const skin::SkinProfile& skin,
                           const mechanics::PenetrationResult& nominal) const override {
    // Needles that do not reach past their insulation have no electrode in the skin: no current
    // flows and they deposit no heat (docs/rf.md); their punctures are mechanical only.
    if (!nominal.punctured || nominal.depth < insulated_ + thermal::RfTissue::defaults().cell) {
      return {};
    }
    thermal::RfPulse p;
    p.needle_radius = 0.5 * needle_.diameter;
    p.depth = nominal.depth;
    p.insulated_length = insulated_;
    p.energy = energy_;
    p.duration = pulse_;
    p.frequency = frequency_;
    const thermal::CoagulationZone z = thermal::coagulation_zone(p, skin);
    if (!z.coagulated()) return {};
    return {z.radius, z.top, z.bottom, z.denatured};
  }

 protected:
  void complete(Punctures& out, const skin::SkinProfile& skin,
                const mechanics::PenetrationResult& nominal) const override {
    const ThermalZone z = thermal_zone(skin, nominal);
    if (!z.coagulated()) return;
    // The zone moves with each needle's depth (the hand's force varies per stroke).
    for (Puncture& q : out) {
      const double shift = q.depth - nominal.depth;
      q.coag_radius = z.radius;
      q.coag_top = std::max(0.0, z.top + shift);
      q.coag_bottom = std::max(q.coag_top, z.bottom + shift);
      q.coag_denatured = z.denatured;
    }
  }

 private:
  double insulated_ = 0.0, pulse_ = 0.0, frequency_ = 0.0;
  double energy_ = 0.0;
};

std::unique_ptr<Device> make_rf(const Resolver& r) {
  return std::make_unique<RfNeedles>(r);
}

}  // namespace

DeviceKind rf_kind() {
  using namespace schema;
  using T = CatalogKey::Type;
  DeviceKind k;
  k.name = "rf";
  k.doc =
      "RF microneedles: an insulated needle array pressed along the stroke, each needle "
      "heating the dermis around its tip with a radio-frequency pulse";
  k.keys = {
      integer("rows", "", "Needle rows across the stroke.", 1, 100),
      integer("columns", "", "Needle columns along the stroke.", 1, 100),
      quantity("pitch", Dim::Length, "mm", "", "Needle spacing.", 1e-4, 0.01),
      quantity("needle_length", Dim::Length, "mm", "", "Needle length (depth setting).", 1e-4,
               5e-3),
      quantity("insulated_length", Dim::Length, "mm", "",
               "Insulated part of each needle from the hub; only the tip below it conducts.", 0.0,
               5e-3),
      quantity("energy", Dim::Energy, "mJ", "", "Energy delivered per needle per pulse.", 1e-5,
               0.1),
      quantity("power", Dim::Power, "W", "",
               "Power per needle during the pulse (instead of energy: energy = power x pulse).",
               1e-3, 10.0),
      quantity("pulse_duration", Dim::Time, "ms", "", "RF pulse duration.", 1e-3, 1.0),
      quantity("frequency", Dim::Frequency, "MHz", "",
               "RF carrier frequency: each layer's conductivity is Gabriel's Cole-Cole model of "
               "its tissue at this frequency.",
               thermal::kRfFrequencyMin, thermal::kRfFrequencyMax),
      quantity("press_rate", Dim::Frequency, "Hz", "", "Presses (pulses) per second.", 0.01, 10.0),
  };
  k.catalog_keys = {{"rows", T::Integer},
                    {"columns", T::Integer},
                    {"pitch", T::Quantity, Dim::Length},
                    {"needle_length", T::Quantity, Dim::Length},
                    {"insulated_length", T::Quantity, Dim::Length},
                    {"energy", T::Quantity, Dim::Energy},
                    {"pulse_duration", T::Quantity, Dim::Time},
                    {"frequency", T::Quantity, Dim::Frequency},
                    {"press_rate", T::Quantity, Dim::Frequency}};
  k.default_model = "rf_7x7_insulated";
  k.make = make_rf;
  // The planner searches the catalogued cartridge at 1, 2 and 3 passes; the reduced model
  // deposits each needle's coagulation zone (Device::thermal_zone) as thermal injury.
  k.search_passes = {1, 2, 3};
  return k;
}

}  // namespace mnsim::devices
