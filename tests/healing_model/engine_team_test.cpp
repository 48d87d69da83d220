// The engine's trial steps on one team (Stepper::solve: the reactions, the transport stage and
// the health checks' scan in one parallel region, healing/team.hpp) give the bits of the serial
// step: step doubling's full steps (the reaction written into the backup buffers) and half steps
// (the reaction in place), on 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "healing/team.hpp"
#include "skin/tissue.hpp"
#include "test_tissue.hpp"

namespace mnsim::healing {
namespace {

struct Result {
  std::vector<float> fields;
  long accepted = 0, rejected = 0, solves = 0;
};

/// A wounded patch healed for 2 h on `threads` threads with threads used from `min_cells` cells
/// (the grid is below the default threshold, so the default runs serially, and 0 puts every
/// step on one team).
Result heal(const skin::Tissue& t, int threads, std::size_t min_cells) {
  omp_set_num_threads(threads);
  set_thread_min_cells(min_cells);
  Engine e(t, load_default_params().p);
  e.apply_session(testing::bleeding_channels({0.3e-3, 0.7e-3, 1.0e-3}, 0.5e-3, 0.8e-3, 0.08e-3));
  e.stepper().advance_to(2.0 * 3600.0);
  set_thread_min_cells(kThreadMinCellsDefault);
  Result r;
  for (int id = 0; id < e.fields().size(); ++id) {
    const float* d = e.fields().view(id).data;
    r.fields.insert(r.fields.end(), d, d + e.grid().padded_size());
  }
  r.accepted = e.stepper().stats().accepted;
  r.rejected = e.stepper().stats().rejected;
  r.solves = e.stepper().times().solves;
  return r;
}

TEST(EngineTeam, OneTeamPerStepGivesTheSerialBits) {
  const skin::Tissue t = testing::small_cheek_tissue("engine_team_test.toml");
  ASSERT_LT(t.grid().cells(), kThreadMinCellsDefault);
  const int saved = omp_get_max_threads();
  const Result serial = heal(t, 1, kThreadMinCellsDefault);
  ASSERT_GT(serial.accepted, 10);
  ASSERT_GT(serial.solves, serial.accepted);  // step doubling: full and half steps
  for (const int threads : {1, 2}) {
    const Result team = heal(t, threads, 0);
    EXPECT_EQ(team.accepted, serial.accepted) << threads << " threads";
    EXPECT_EQ(team.rejected, serial.rejected) << threads << " threads";
    EXPECT_EQ(team.solves, serial.solves) << threads << " threads";
    ASSERT_EQ(team.fields.size(), serial.fields.size());
    EXPECT_EQ(
        std::memcmp(team.fields.data(), serial.fields.data(), serial.fields.size() * sizeof(float)),
        0)
        << threads << " threads";
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace mnsim::healing
