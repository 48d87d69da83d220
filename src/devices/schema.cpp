#include "devices/schema.hpp"

#include "core/constants.hpp"
#include "devices/registry.hpp"

namespace mnsim::devices {

namespace {
// Angle bounds are whole degrees, so the documented range reads back exactly.
}  // namespace

schema::Key device_schema() {
  using namespace schema;
  Key k = table(
      "device",
      "The microneedling device. Starts from a catalog entry (mnsim catalog devices); any key "
      "given here overrides the entry's value.",
      {
          enumeration("kind", device_kind_names(), "roller",
                      "Device kind; selects the kind-specific keys."),
          string("model", "",
                 "Catalog id to start from (default: the kind's reference model, "
                 "roller_192_mf8, dermapen_2012 or stamp_35)."),
          quantity("needle_diameter", Dim::Length, "mm", "", "Needle shaft diameter.", 1e-6, 2e-3),
          quantity("tip_radius", Dim::Length, "um", "", "Radius of the blunted needle tip.", 0.1e-6,
                   200e-6),
          quantity("tip_angle", Dim::Angle, "deg", "", "Full cone angle of the needle tip.",
                   1 * kDeg, 150 * kDeg),
          string("material", "", "Needle material (descriptive)."),
      });
  k.discriminator = "kind";
  for (const auto& kind : device_kinds()) k.variants[kind.name] = kind.keys;
  return k;
}

schema::Key technique_schema() {
  using namespace schema;
  return table(
      "technique", "How the device is moved over the treatment area (one session).",
      {
          integer("passes", "15", "Passes over the whole area.", 1, 1000),
          enum_list("directions", {"horizontal", "vertical", "diagonal", "antidiagonal"},
                    "[\"horizontal\", \"vertical\", \"diagonal\", \"antidiagonal\"]",
                    "Stroke directions, used in turn by successive passes."),
          quantity("speed", Dim::Velocity, "cm/s", "5 cm/s", "Glide speed.", 1e-4, 2.0),
          quantity("overlap", Dim::Fraction, "%", "5 %",
                   "Lateral overlap of adjacent strokes (fraction of the device width).", 0.0, 0.9),
          quantity("force", Dim::Force, "N", "3 N", "Force applied on the device.", 1e-3, 100.0),
          quantity("reposition_time", Dim::Time, "s", "0.5 s",
                   "Time to lift and re-place the device between strokes.", 0.0, 60.0),
          quantity("jitter_position", Dim::Length, "mm", "1 mm",
                   "Hand variability: sd of each stroke's lateral position.", 0.0, 0.02),
          quantity("jitter_angle", Dim::Angle, "deg", "3 deg",
                   "Hand variability: sd of each stroke's direction.", 0.0, 45 * kDeg),
          quantity("jitter_force", Dim::Fraction, "%", "15 %",
                   "Hand variability: coefficient of variation of the force per stroke.", 0.0, 1.0),
          quantity("jitter_speed", Dim::Fraction, "%", "15 %",
                   "Hand variability: coefficient of variation of the speed per stroke.", 0.0, 1.0),
      });
}

}  // namespace mnsim::devices
