// Per-channel re-epithelialisation (Sherratt & Murray 1990 style) and barrier recovery.
#include <gtest/gtest.h>

#include "healing/reepithelialization.hpp"

namespace mnsim::healing {
namespace {

const Params& P() {
  static const Params p = load_default_params().p;
  return p;
}

TEST(HealingReepithelialization, ClosureTimeGrowsWithChannelRadius) {
  double last = 0.0;
  for (double r : {10.0, 20.0, 35.5, 50.0, 75.0}) {
    const ChannelHealing h = heal_channel(P(), r, 96.0);
    ASSERT_GT(h.closure_time, 0.0) << "radius " << r;
    EXPECT_GT(h.closure_time, last) << "radius " << r;
    last = h.closure_time;
    // The open area only shrinks (closes from the rim).
    for (std::size_t i = 1; i < h.open_fraction.size(); ++i) {
      ASSERT_LE(h.open_fraction[i], h.open_fraction[i - 1] + 1e-12);
    }
  }
}

TEST(HealingReepithelialization, KalluriPoresCloseWithinAFewTensOfHours) {
  // Kalluri et al. 2011 (AAPS J): 71 +/- 10 um wide roller channels no longer visible by 12-18 h.
  // keratinocyte_motility is calibrated on this; the test checks the calibrated window.
  const ChannelHealing h = heal_channel(P(), 35.5, 96.0);
  EXPECT_GE(h.closure_time, 10.0);
  EXPECT_LE(h.closure_time, 18.0);
}

TEST(HealingReepithelialization, BarrierRecoversWithinHours) {
  // Gupta et al. 2011: TEWL back to baseline within about 2 h (no occlusion).
  for (double r : {20.0, 35.5, 62.5}) {
    const ChannelHealing h = heal_channel(P(), r, 48.0);
    EXPECT_GT(h.barrier_time, 0.5) << r;
    EXPECT_LE(h.barrier_time, 2.5) << r;
    EXPECT_LT(h.barrier_time, h.closure_time) << r;  // sealed before re-epithelialised
  }
}

TEST(HealingReepithelialization, NoMigrationNoMitosisNeverCloses) {
  Params p = P();
  p.keratinocyte_motility = 0.0;
  const ChannelHealing h = heal_channel(p, 30.0, 48.0);
  EXPECT_LT(h.closure_time, 0.0);  // cells cannot appear from n = 0 without movement
  EXPECT_NEAR(h.open_fraction.back(), 1.0, 0.05);
}

TEST(HealingReepithelialization, GridConverged) {
  const double a = heal_channel(P(), 35.5, 48.0, 1.0, 0.01).closure_time;
  const double b = heal_channel(P(), 35.5, 48.0, 0.5, 0.005).closure_time;
  EXPECT_NEAR(a, b, 0.05 * b);
}

}  // namespace
}  // namespace mnsim::healing
