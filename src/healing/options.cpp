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
          number("rtol", "0.2",
                 "Largest relative change per step of the slow fields (cells, matrix, vessels, "
                 "epidermis, pigment).",
                 1e-3, 0.5),
          quantity("max_step", Dim::Time, "hours", "6 hours",
                   "Largest time step, reached during quiet remodelling. Steps are also kept "
                   "below 1/400 of the time from the last session to the end of follow-up (a "
                   "two-week follow-up steps at most 0.84 h).",
                   60.0, kWeek),
          quantity("first_step", Dim::Time, "seconds", "60 s",
                   "First time step after a session (steps then grow by at most 2x).", 1.0, kHour),
      });
}

double tail_limited_step(double max_step, double tail) {
  if (!(tail > 0.0)) return max_step;
  return std::min(max_step, std::max(60.0, tail / kStepsPerTail));
}

EngineOptions engine_options(const Table& t, double tail) {
  EngineOptions o;
  o.rtol = t.number("rtol");
  o.dt_max = tail_limited_step(t.quantity("max_step"), tail);
  o.dt_after_event = t.quantity("first_step");
  o.dt_initial = o.dt_after_event;
  if (o.dt_after_event > o.dt_max) o.dt_after_event = o.dt_initial = o.dt_max;
  return o;
}

}  // namespace mnsim::healing
