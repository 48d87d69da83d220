// Unwounded skin is at rest: the 3D engine and the reduced driver leave every field of every layer
// at its homeostatic baseline when nothing is injured (reactions and transport alike).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/scenario.hpp"
#include "healing/column.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "test_profile.hpp"

namespace mnsim::healing {
namespace {

const int kFields = static_cast<int>(healing_model().size());

// Fibroblasts are 20000 / 8000 / 2000 per mm^3 in the papillary, reticular dermis and
// hypodermis and move by random motility: before motility took the capacity form
// (capacity_motility), the papillary dermis drained to 76% of its baseline in 90 days. The
// tolerance allows float32 rounding over a year of steps (measured 1.7e-5, keratinocytes).
TEST(HealingRest, UnwoundedEngineStaysAtItsBaselineForAYear) {
  const Table sc =
      load_scenario(std::string(MNSIM_TEST_DIR) + "/scenarios/calibration/lotfi_flat_cheek.toml");
  const skin::Tissue tissue = skin::build_tissue(read_patch_spec(sc));
  Engine e(tissue, load_default_params().p);
  const LayerMeans m0 = e.layer_means();
  e.stepper().advance_to(365.0 * 86400.0);
  const LayerMeans m1 = e.layer_means();
  for (int l = 0; l < skin::kLayers; ++l)
    for (int f = 0; f < kFields; ++f) {
      const double a = m0[static_cast<std::size_t>(l)][static_cast<std::size_t>(f)];
      const double b = m1[static_cast<std::size_t>(l)][static_cast<std::size_t>(f)];
      EXPECT_NEAR(b, a, 1e-4 * std::max(1.0, std::fabs(a))) << "layer " << l << " field " << f;
    }
}

/// Every field of every layer of the run's last sample equals its layer baseline to 1e-9.
void expect_last_sample_at_baseline(const ColumnRun& run) {
  for (int l = 0; l < skin::kLayers; ++l) {
    const State b = baseline_state(run.base[static_cast<std::size_t>(l)]);
    for (int f = 0; f < kFields; ++f) {
      const double x =
          run.samples.back().s[static_cast<std::size_t>(l)][static_cast<std::size_t>(f)];
      EXPECT_NEAR(x, b[static_cast<std::size_t>(f)],
                  1e-9 * std::max(1.0, std::fabs(b[static_cast<std::size_t>(f)])))
          << "layer " << l << " field " << f;
    }
  }
}

TEST(HealingRest, ReducedDriverWithoutPuncturesStaysAtItsBaseline) {
  ColumnProtocol pr;
  pr.session_times = {0.0};
  pr.density = 0.0;  // a session that punctures nothing
  pr.end_time = 365.0 * 24.0;
  const ColumnRun run = run_column(load_default_params().p, testing::cheek_profile(), pr);
  expect_last_sample_at_baseline(run);
}

TEST(HealingRest, DepthBandsWithoutPuncturesStayAtTheBaseline) {
  ColumnProtocol pr;
  pr.session_times = {0.0};
  pr.density = 0.0;
  pr.band = 50.0;  // every layer split into bands of <= 50 um
  pr.end_time = 365.0 * 24.0;
  const ColumnRun run = run_column(load_default_params().p, testing::cheek_profile(), pr);
  EXPECT_GT(run.band_layer.size(), 20u);
  expect_last_sample_at_baseline(run);
}

}  // namespace
}  // namespace mnsim::healing
