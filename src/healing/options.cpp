#include "healing/options.hpp"

#include "core/constants.hpp"

#include <algorithm>

namespace mnsim::healing {

schema::Key numerics_schema() {
  using namespace schema;
  return table(
      "numerics",
      "Step control of the 3D healing engine (docs/numerics.md). The defaults are the settings "
      "the model was calibrated with; tighten them for convergence studies.",
      {
          number("rtol", "0.001",
                 "Local error tolerance per step of the slow fields (cells, matrix, vessels, "
                 "epidermis, pigment), relative to their value: two steps are compared with one "
                 "step twice as long (after a session, on every 16th step and whenever steps "
                 "grow), the error taken as error_norm says. Steps do not depend on how long the "
                 "follow-up is.",
                 1e-6, 0.5),
          enumeration("error_norm", {"rms", "max"}, "rms",
                      "How the cells' errors make a step's error: rms, per slow field the root "
                      "mean square over each lesion's footprint and over the normal skin, layer "
                      "by layer, the largest of them, with no cell allowed more than "
                      "cell_tolerance times the tolerance (steps depend less on the grid); max, "
                      "the worst cell's (steps shrink as the grid resolves steeper fronts round "
                      "the channels and on the scars' walls)."),
          number("cell_tolerance", "10",
                 "With error_norm = \"rms\": the error any one cell may have, in units of the "
                 "tolerance (0: no bound beyond the root mean square).",
                 0.0, 1000.0),
          quantity(
              "max_step", Dim::Time, "hours", "6 hours",
              "Largest time step, reached during quiet remodelling. The error control does not "
              "see what this step adds to a slow drift (the epidermis thinning after the last "
              "session): at 12 h example 01 takes 7% fewer solves and its epidermal "
              "thickness's time error grows from 0.35 to 0.63 point (docs/numerics.md, \"The "
              "largest step\").",
              60.0, kWeek),
          quantity("first_step", Dim::Time, "seconds", "60 s",
                   "First time step after a session (steps then grow by at most 2x).", 1.0, kHour),
      });
}

EngineOptions engine_options(const Table& t) {
  EngineOptions o;
  o.rtol = t.number("rtol");
  o.dt_max = t.quantity("max_step");
  o.dt_after_event = t.quantity("first_step");
  o.dt_initial = o.dt_after_event;
  o.norm = t.str("error_norm") == "max" ? ErrorNorm::Max : ErrorNorm::Rms;
  o.cell_factor = t.number("cell_tolerance");
  if (o.dt_after_event > o.dt_max) o.dt_after_event = o.dt_initial = o.dt_max;
  return o;
}

}  // namespace mnsim::healing
