// The engine's trial steps on one team (Stepper::solve: the reactions, the transport stage and
// the health checks' scan in one parallel region, healing/team.hpp) give the bits of the serial
// step: step doubling's full steps (the reaction written into the backup buffers) and half steps
// (the reaction in place), on 1 and 2 threads, with the reactions' output streamed
// (healing/stream.hpp) or not.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.hpp"

#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "healing/stream.hpp"
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
/// step on one team); with `stream`, the reactions' output streamed whatever its size.
Result heal(const skin::Tissue& t, int threads, std::size_t min_cells, bool stream = false) {
  omp_set_num_threads(threads);
  set_thread_min_cells(min_cells);
  set_stream_min_bytes(stream ? 0 : kStreamMinBytesDefault);
  Engine e(t, load_default_params().p);
  e.apply_session(testing::bleeding_channels({0.3e-3, 0.7e-3, 1.0e-3}, 0.5e-3, 0.8e-3, 0.08e-3));
  e.stepper().advance_to(2.0 * 3600.0);
  set_thread_min_cells(kThreadMinCellsDefault);
  set_stream_min_bytes(kStreamMinBytesDefault);
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
  // (streamed: serially, then on a team of 1 and 2)
  for (const auto& [threads, min_cells, stream] :
       {std::tuple{1, std::size_t{0}, false}, std::tuple{2, std::size_t{0}, false},
        std::tuple{1, kThreadMinCellsDefault, true}, std::tuple{1, std::size_t{0}, true},
        std::tuple{2, std::size_t{0}, true}}) {
    const std::string what = std::to_string(threads) + " threads" +
                             (min_cells == 0 ? ", one team" : ", serial") +
                             (stream ? ", streamed" : "");
    const Result team = heal(t, threads, min_cells, stream);
    EXPECT_EQ(team.accepted, serial.accepted) << what;
    EXPECT_EQ(team.rejected, serial.rejected) << what;
    EXPECT_EQ(team.solves, serial.solves) << what;
    ASSERT_EQ(team.fields.size(), serial.fields.size());
    EXPECT_EQ(
        std::memcmp(team.fields.data(), serial.fields.data(), serial.fields.size() * sizeof(float)),
        0)
        << what;
  }
  omp_set_num_threads(saved);
}

/// A wounded patch healed for 2 h on `threads` threads (every step on one team), with the
/// reactions' health screen (Stepper::set_screened) or without it (every plane of every field
/// scanned after every solve), after `poke` has written into the fields. The fields, or the
/// failure's message.
struct Screened {
  Result r;
  std::string error;
};
Screened heal_screened(const skin::Tissue& t, int threads, bool screen,
                       const std::function<void(Engine&)>& poke, bool stream = false) {
  omp_set_num_threads(threads);
  set_thread_min_cells(0);
  set_stream_min_bytes(stream ? 0 : kStreamMinBytesDefault);
  Engine e(t, load_default_params().p);
  EXPECT_FALSE(e.stepper().screened().empty());
  if (!screen) e.stepper().set_screened({});
  e.apply_session(testing::bleeding_channels({0.3e-3, 0.7e-3, 1.0e-3}, 0.5e-3, 0.8e-3, 0.08e-3));
  poke(e);
  Screened out;
  try {
    e.stepper().advance_to(2.0 * 3600.0);
  } catch (const NumericalError& x) {
    out.error = x.what();
  }
  set_thread_min_cells(kThreadMinCellsDefault);
  set_stream_min_bytes(kStreamMinBytesDefault);
  for (int id = 0; id < e.fields().size(); ++id) {
    const float* d = e.fields().view(id).data;
    out.r.fields.insert(out.r.fields.end(), d, d + e.grid().padded_size());
  }
  out.r.accepted = e.stepper().stats().accepted;
  out.r.solves = e.stepper().times().solves;
  return out;
}

/// The first interior cell (padded index) of layer `layer` (skin::Layer + 1; 0 outside the skin).
std::ptrdiff_t first_cell(const Engine& e, int layer) {
  const grid::Grid& g = e.grid();
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        if (e.layer_of()[static_cast<std::size_t>(g.at(i, j, k))] == layer) return g.at(i, j, k);
      }
  return -1;
}

void set_cell(Engine& e, const char* field, int layer, float v) {
  const std::ptrdiff_t at = first_cell(e, layer);
  ASSERT_GE(at, 0) << "no cell of layer " << layer;
  e.fields().view(e.model().slot(field)).data[at] = v;
}

// The fields the reactions write last are screened as the reactions write them, the fields the
// permeability path writes last as its z sweep writes them, and the checks scan only the planes
// flagged: the same bits, the same clamping of small negatives and the same
// failures (message, field, cell) as a scan of every plane, inside the skin and outside it (cells
// the reactions copy or leave), on 1 and 2 threads, and on 2 with the reactions' output streamed
// (healing/stream.hpp: the screen then reads the row buffer).
TEST(EngineTeam, ReactionScreenGivesTheBitsAndFailuresOfAFullScan) {
  // A boxcar scar: cells above its floor lie outside the skin.
  const skin::Tissue t = testing::small_cheek_tissue("engine_screen_test.toml", R"(
[[lesions]]
kind = "boxcar"
x = "0.6 mm"
y = "0.6 mm"
width = "0.6 mm"
depth = "0.3 mm"
)");
  const int saved = omp_get_max_threads();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const int dermis = skin::layer_index(skin::Layer::ReticularDermis) + 1;
  const std::vector<std::pair<std::string, std::function<void(Engine&)>>> pokes = {
      {"nothing", [](Engine&) {}},
      {"small negatives",
       [&](Engine& e) {
         set_cell(e, "clot", dermis, -1e-9f);
         set_cell(e, "elastin", 0, -1e-9f);
         set_cell(e, "mmp", 0, -1e-12f);
         set_cell(e, "vegf", 0, -1e-12f);
         set_cell(e, "kgf", dermis, -1e-12f);
       }},
      {"NaN outside the skin", [&](Engine& e) { set_cell(e, "collagen1", 0, nan); }},
      {"negative outside the skin", [&](Engine& e) { set_cell(e, "scar_matrix", 0, -1.0f); }},
      // (inside the skin the reactions' own arithmetic clears some of these: either way the
      // same as the full scan; the infinite damage stays)
      {"NaN in the dermis", [&](Engine& e) { set_cell(e, "collagen1", dermis, nan); }},
      {"negative in the dermis", [&](Engine& e) { set_cell(e, "elastin", dermis, -1.0f); }},
      {"NaN scar matrix in the dermis",
       [&](Engine& e) { set_cell(e, "scar_matrix", dermis, nan); }},
      {"NaN denatured collagen in the dermis",
       [&](Engine& e) { set_cell(e, "denatured_collagen", dermis, nan); }},
      // (fields the transport writes last and screens: the permeability path's z sweep)
      {"NaN growth factor in the dermis",
       [&](Engine& e) { set_cell(e, "growth_factor", dermis, nan); }},
      {"negative signal outside the skin",
       [&](Engine& e) { set_cell(e, "inflammatory_signal", 0, -1.0f); }},
      {"infinite vegf outside the skin",
       [&](Engine& e) { set_cell(e, "vegf", 0, std::numeric_limits<float>::infinity()); }},
      {"infinite damage in the dermis",
       [&](Engine& e) { set_cell(e, "damage", dermis, std::numeric_limits<float>::infinity()); }},
  };
  for (const auto& [what, poke] : pokes) {
    const Screened full = heal_screened(t, 1, false, poke);
    if (what == "nothing" || what == "small negatives") {
      EXPECT_TRUE(full.error.empty()) << what << ": " << full.error;
      EXPECT_GT(full.r.accepted, 10) << what;
    } else if (what.find("outside") != std::string::npos || what.find("infinite") == 0) {
      EXPECT_NE(full.error.find("numerical failure"), std::string::npos) << what;
    }
    for (const auto& [threads, stream] :
         {std::pair{1, false}, std::pair{2, false}, std::pair{2, true}}) {
      const std::string how =
          what + ", " + std::to_string(threads) + " threads" + (stream ? ", streamed" : "");
      const Screened s = heal_screened(t, threads, true, poke, stream);
      EXPECT_EQ(s.error, full.error) << how;
      EXPECT_EQ(s.r.accepted, full.r.accepted) << how;
      EXPECT_EQ(s.r.solves, full.r.solves) << how;
      ASSERT_EQ(s.r.fields.size(), full.r.fields.size());
      // (NaN compares unequal: the bytes are compared)
      EXPECT_EQ(std::memcmp(s.r.fields.data(), full.r.fields.data(),
                            full.r.fields.size() * sizeof(float)),
                0)
          << how;
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace mnsim::healing
