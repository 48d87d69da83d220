// Predictive bands of `mnsim run` (docs/outputs.md, "Predictive bands"): the reduced model of
// the scenario's patch, fed with what the run's device delivered (as the cross-check,
// protocol::predict_scenario), evaluated over posterior draws of the calibrated parameters and
// over draws of the patient's healing rates (protocol/bands.hpp). Each band is moved onto the 3D
// run's point prediction: the run gives the point, the reduced model the spread around it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>

#include "protocol/course.hpp"
#include "run/assess.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// The mean depth reduction (%) of the outcome's graded scars (striae and wrinkles are not
/// graded); none when no scar is graded.
std::optional<double> graded_depth_reduction_pct(const Outcome& o);

/// Both bands of the run's key outputs with `draws` evaluations each (seeded by `seed`), the
/// reduced model fed with `o`'s delivered depth, density and wound radius.
OutcomeBands run_bands(const Outcome& o, const skin::PatchSpec& patch_spec,
                       const protocol::Course& course, int draws, std::uint64_t seed,
                       int threads = 0);

/// summary.json `bands`.
nlohmann::json to_json(const OutcomeBands& b);

}  // namespace mnsim
