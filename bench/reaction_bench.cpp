// Throughput of the healing reaction step (healing::react_fields, every field of every skin voxel
// advanced by its reactions) on the voxel tissue of examples/01 (1 x 1 cm cheek patch at 100 um,
// three scars), wounded by a lattice of bleeding 1.5 mm channels and healed for 12 h, so that
// every process of the cascade is active. Reports voxel-steps per second, and per GB/s of the
// triad bandwidth measured in the same run (bench/triad.hpp), so that numbers taken on a busy or
// another machine can be compared.
//
//   build/release/bench/reaction_bench --benchmark_repetitions=5
//
// The state evolves from one iteration to the next (steps of 0.05 h: the healing state changes
// little over a benchmark run).
//
// BM_ReducedColumn: the reduced driver that cohorts and the planner run per patient
// (healing::run_column: 5 monthly sessions, 6 months, 6 annuli, the epidermal channel healing
// computed once outside the loop as the cohort's cache does), one thread; runs per second.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "devices/puncture.hpp"
#include "healing/column.hpp"
#include "healing/engine.hpp"
#include "healing/kinetics.hpp"
#include "healing/params.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "triad.hpp"
#include "wounded.hpp"

namespace {

using namespace mnsim;

using mnsim::bench::Wounded;

void BM_ReactFields(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(state.range(0)));
  static Wounded w;                 // built once for every thread count
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  std::size_t skin_cells = 0;
  for (const std::uint8_t l : w.engine->layer_of()) skin_cells += l != 0 ? 1 : 0;
  double voxels = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    healing::react_fields(w.p, w.engine->baselines(), w.engine->layer_of(), w.engine->fields(),
                          0.05);
    benchmark::ClobberMemory();
    voxels += static_cast<double>(skin_cells);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.counters["skin_voxels"] = static_cast<double>(skin_cells);
  state.counters["voxels_per_s"] = benchmark::Counter(voxels, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(state, "voxels_per_s", voxels, secs);
}
BENCHMARK(BM_ReactFields)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

void BM_ReducedColumn(benchmark::State& state) {
  const skin::SkinProfile prof =
      skin::make_patch(mnsim::read_patch_spec(load_scenario(std::string(MNSIM_SOURCE_DIR) +
                                                            "/examples/01_default_cheek.toml")))
          .profile();
  const healing::Params p = healing::load_default_params().p;
  healing::ColumnProtocol pr;
  for (int s = 0; s < 5; ++s) pr.session_times.push_back(s * 28.0 * 24.0);
  pr.end_time = 183.0 * 24.0;
  pr.density = 250.0;
  pr.depth = 1000.0;
  pr.radius = 62.5;
  pr.annuli = 6;
  const healing::ChannelHealing channel = healing::heal_channel(
      p, healing::epidermal_channel_radius(p, prof, pr), healing::kChannelHealWindow);
  pr.channel = &channel;
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  double runs = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const healing::ColumnRun r = healing::run_column(p, prof, pr);
    benchmark::DoNotOptimize(r.samples.back().t);
    runs += 1.0;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.counters["runs_per_s"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(state, "runs_per_s", runs, secs);
}
BENCHMARK(BM_ReducedColumn)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

}  // namespace

BENCHMARK_MAIN();
