// The Lotfi 2013 histology windows (Lotfi R, Moneib H, Yehia H 2013, J Egypt Womens Dermatol Soc
// 10:152; docs/references.md): papillary-dermis collagen +53.2% (Masson) to
// +65.4% (silver stain) and epidermal thickness +50%, 8 weeks after five monthly 1.5 mm sessions,
// each within +-25% (the tolerance of the healing issue).
#pragma once

#include <gtest/gtest.h>

namespace mnsim::test {

/// Checks relative changes (0.5 = +50%) against the Lotfi windows.
inline void expect_within_lotfi(double papillary_collagen, double epidermal_thickness) {
  EXPECT_GE(papillary_collagen, 0.75 * 0.532);
  EXPECT_LE(papillary_collagen, 1.25 * 0.654);
  EXPECT_GE(epidermal_thickness, 0.75 * 0.50);
  EXPECT_LE(epidermal_thickness, 1.25 * 0.50);
}

}  // namespace mnsim::test
