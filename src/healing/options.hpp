// The [numerics] section of a scenario: the step control of the 3D healing engine
// (docs/numerics.md). Defaults are the settings the model was calibrated with.
#pragma once

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "healing/engine.hpp"

namespace mnsim::healing {

schema::Key numerics_schema();

/// Steps per "tail" (the time from the last session to the end of follow-up) below which no step
/// may go: the scheme is first order, and a run judged a short time after its last session is
/// judged mid-transient (docs/numerics.md, "Time step and follow-up"). 200 keeps the papillary
/// collagen change of a two-week follow-up within about 5% of its converged value (measured:
/// +18% with 6 h steps, +4% with 1.5 h); tails of 7 weeks and more keep max_step.
inline constexpr double kStepsPerTail = 400.0;

/// The largest step for a run whose last session is `tail` seconds before its end: max_step, or
/// tail / kStepsPerTail if that is shorter (never below 60 s).
double tail_limited_step(double max_step, double tail);

/// Reads [numerics] into engine options; `tail` (s) is the time from the last session to the end
/// of follow-up (tail_limited_step).
EngineOptions engine_options(const Table& numerics, double tail);

}  // namespace mnsim::healing
