// The figure of `mnsim sensitivity` (sensitivity.png, docs/sensitivity.md): for each output a
// panel of horizontal bars, one per parameter, of its total-order Sobol' index (first order as a
// narrower bar inside) or its Morris mu*, with the bootstrap confidence interval as a whisker.
#pragma once

#include <string>

#include "protocol/sensitivity.hpp"

namespace mnsim::report {

/// Logical size (CSS pixels) of the figure for `s`: two panels side by side, as many rows as
/// needed.
struct FigureSize {
  double width = 0, height = 0;
};
FigureSize sensitivity_figure_size(const protocol::SensitivitySpec& s);

/// The figure as PNG bytes (OutputError if cairo fails).
std::string sensitivity_png(const protocol::SensitivitySpec& s,
                            const protocol::SensitivityResult& r);

}  // namespace mnsim::report
