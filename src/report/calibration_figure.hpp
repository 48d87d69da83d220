// The figure of `mnsim calibrate` (calibration.png, docs/calibration.md): a histogram of each
// parameter's posterior sample over its prior range, with the data file's value marked, then a
// histogram of each case's predictions over the sample, with the published figure's interval
// marked.
#pragma once

#include <string>

#include "protocol/calibration.hpp"

namespace mnsim::report {

/// The figure as PNG bytes (OutputError if cairo fails).
std::string calibration_png(const protocol::CalibrationSpec& s,
                            const protocol::CalibrationResult& r);

}  // namespace mnsim::report
