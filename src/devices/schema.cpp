#include "devices/schema.hpp"
#include "core/constants.hpp"

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
          enumeration("kind", {"roller", "pen", "stamp"}, "roller",
                      "Device kind; selects the kind-specific keys."),
          string("model", "",
                 "Catalog id to start from (default: roller_192_mf8, dermapen_2012 or "
                 "stamp_35 by kind)."),
          quantity("needle_diameter", Dim::Length, "mm", "", "Needle shaft diameter.", 1e-6, 2e-3),
          quantity("tip_radius", Dim::Length, "um", "", "Radius of the blunted needle tip.", 0.1e-6,
                   200e-6),
          quantity("tip_angle", Dim::Angle, "deg", "", "Full cone angle of the needle tip.",
                   1 * kDeg, 150 * kDeg),
          string("material", "", "Needle material (descriptive)."),
      });
  k.discriminator = "kind";
  k.variants["roller"] = {
      quantity("drum_diameter", Dim::Length, "cm", "", "Drum diameter (needle bases).", 2e-3, 0.2),
      quantity("drum_width", Dim::Length, "cm", "", "Drum width.", 1e-3, 0.2),
      integer("rows", "", "Rows (rings of needles) across the drum width.", 1, 1000),
      integer("needles_per_row", "", "Needles around each ring.", 1, 10000),
      quantity("row_offset", Dim::Angle, "deg", "", "Angular stagger of each row on the previous.",
               -360 * kDeg, 360 * kDeg),
      quantity("needle_length", Dim::Length, "mm", "",
               "Needle length (one of the model's lengths).", 1e-5, 5e-3),
  };
  k.variants["pen"] = {
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
  k.variants["stamp"] = {
      integer("rows", "", "Needle rows across the stroke.", 1, 1000),
      integer("columns", "", "Needle columns along the stroke.", 1, 1000),
      quantity("pitch", Dim::Length, "mm", "", "Needle spacing.", 1e-5, 0.01),
      quantity("needle_length", Dim::Length, "mm", "", "Needle length.", 1e-5, 5e-3),
      quantity("press_rate", Dim::Frequency, "Hz", "", "Presses per second.", 0.01, 100.0),
  };
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
