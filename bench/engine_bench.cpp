// Throughput of the whole healing engine step as `mnsim run` takes it: the backup copy of every
// field, the reactions of every process on every skin voxel, the implicit diffusion of every
// transported field, the cell transport (motility and chemotaxis) and the health checks, i.e.
// one call of Stepper::advance_to over one step (issue 19, item 5).
//
//   OMP_WAIT_POLICY=passive build/release/bench/engine_bench --benchmark_repetitions=5
//
// Two grids, each wounded by a 0.5 mm lattice of bleeding 1.2 mm channels (wound_lattice) and
// healed for 12 h with the run's own step control, so that every process of the cascade is active:
//   * default: the tissue of examples/01 (1 x 1 cm medial cheek at 100 um, three scars);
//   * fine: a 2 x 2 mm patch of the same cheek and scar kinds at 20 um (the resolution of a
//     detailed run; per voxel the same work on a grid 125x finer per mm^3).
//   * small: square patches of the same cheek at 100 um, 2 to 6 mm wide (7 200 to 64 800 cells),
//     with threads allowed on any grid (healing::set_thread_min_cells(0)): where two threads
//     start to beat one (the threshold healing::threads_pay applies, healing/team.hpp).
// The timed steps are single steps of 0.05 h (the unmeasured steps that make up most of a run;
// a step of the run's step doubling costs three of them).
// Reported: transport_cpu_ms and reaction_cpu_ms (CPU time of all threads per step in those
// stages, Stepper::times), voxel_field_steps_per_s (cells x fields per second), voxels_per_s, and
// each of them over the triad bandwidth measured in the same run (bench/triad.hpp);
// bytes_per_voxel_field is the least traffic of a step (every field read and written once by each
// of: the backup, the reactions, the transport, the checks: 32 bytes) and bw_of_triad that traffic
// over the triad.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "core/scenario.hpp"
#include "devices/puncture.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "healing/stream.hpp"
#include "healing/team.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "triad.hpp"
#include "wounded.hpp"

namespace {

using namespace mnsim;

constexpr double kStepS = 0.05 * 3600.0;

mnsim::Table fine_scenario() {
  return parse_scenario_text(R"(
seed = 42
[patient]
site = "medial_cheek"
age = "35 years"
sex = "female"
fitzpatrick = 3
[tissue]
width = "2 mm"
length = "2 mm"
resolution = "20 um"
[[lesions]]
kind = "boxcar"
x = "0.8 mm"
y = "0.8 mm"
width = "1 mm"
depth = "0.35 mm"
[[lesions]]
kind = "icepick"
x = "1.5 mm"
y = "1.4 mm"
width = "0.4 mm"
depth = "0.6 mm"
)",
                             "engine_bench_fine.toml", scenario_schema());
}

/// A square patch of the default cheek at 100 um, `mm` wide, with one boxcar scar.
mnsim::Table small_scenario(int mm) {
  return parse_scenario_text(fmt::format(R"(
seed = 42
[patient]
site = "medial_cheek"
age = "35 years"
sex = "female"
fitzpatrick = 3
[tissue]
width = "{0} mm"
length = "{0} mm"
resolution = "100 um"
[[lesions]]
kind = "boxcar"
x = "{1} mm"
y = "{1} mm"
width = "1 mm"
depth = "0.35 mm"
)",
                                         mm, 0.5 * mm),
                             "engine_bench_small.toml", scenario_schema());
}

/// A wounded tissue and an engine taking fixed single steps from its 12 h state.
struct Case {
  skin::Tissue tissue;
  healing::Params p;
  std::unique_ptr<healing::Engine> engine;
  explicit Case(const mnsim::Table& scenario)
      : tissue(skin::build_tissue(read_patch_spec(scenario))), p(healing::load_default_params().p) {
    healing::Engine heal(tissue, p);  // the run's own step control up to 12 h
    const grid::Grid& g = tissue.grid();
    heal.apply_session(bench::wound_lattice(g));
    heal.stepper().advance_to(12.0 * 3600.0);
    // Fixed single steps: no error measure (Change with a tolerance no step reaches), one size.
    healing::EngineOptions o;
    o.dt_initial = o.dt_after_event = o.dt_max = kStepS;
    o.max_growth = 1.0;
    o.step_doubling = false;
    o.rtol = 1e30;
    engine = std::make_unique<healing::Engine>(tissue, p, o);
    const std::size_t bytes = g.padded_size() * sizeof(float);
    for (int f = 0; f < heal.fields().size(); ++f)
      std::memcpy(engine->fields().view(f).data, heal.fields().view(f).data, bytes);
  }
};

void run_steps(benchmark::State& state, Case& c) {
  omp_set_num_threads(static_cast<int>(state.range(0)));
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  const grid::Grid& g = c.tissue.grid();
  const auto cells = static_cast<double>(g.cells());
  const auto nf = static_cast<double>(c.engine->fields().size());
  double steps = 0.0;
  const healing::StepTimes times0 = c.engine->stepper().times();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    c.engine->stepper().advance_to(c.engine->time() + kStepS);
    benchmark::ClobberMemory();
    steps += 1.0;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // CPU time (all threads) of the step's stages per step (Stepper::times).
  const healing::StepTimes& times = c.engine->stepper().times();
  const double per = steps > 0.0 ? 1e3 / steps : 0.0;
  state.counters["transport_cpu_ms"] = (times.transport.cpu - times0.transport.cpu) * per;
  state.counters["reaction_cpu_ms"] = (times.reaction.cpu - times0.reaction.cpu) * per;
  state.counters["cells"] = cells;
  state.counters["fields"] = nf;
  state.counters["voxels_per_s"] = benchmark::Counter(steps * cells, benchmark::Counter::kIsRate);
  state.counters["voxel_field_steps_per_s"] =
      benchmark::Counter(steps * cells * nf, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(state, "voxel_field_steps_per_s", steps * cells * nf, secs);
  const double bw = mnsim::bench::triad_bandwidth();
  state.counters["bytes_per_voxel_field"] = 32.0;
  state.counters["bw_of_triad"] = secs > 0.0 ? 32.0 * steps * cells * nf / secs / bw : 0.0;
}

void BM_EngineStepDefault(benchmark::State& state) {
  static Case c(load_scenario(std::string(MNSIM_SOURCE_DIR) + "/examples/01_default_cheek.toml"));
  run_steps(state, c);
}
BENCHMARK(BM_EngineStepDefault)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

Case& fine_case() {
  static Case c(fine_scenario());
  return c;
}

void BM_EngineStepFine(benchmark::State& state) {
  run_steps(state, fine_case());
}
BENCHMARK(BM_EngineStepFine)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

// The fine grid with the reactions' output streamed (healing/stream.hpp) although it writes
// less than the threshold: whether streaming pays at its size (docs/numerics.md, "The
// reactions' output streamed, and the checks of the diffused fields fused into the z sweep").
void BM_EngineStepFineStreamed(benchmark::State& state) {
  healing::set_stream_min_bytes(0);
  run_steps(state, fine_case());
  healing::set_stream_min_bytes(healing::kStreamMinBytesDefault);
}
BENCHMARK(BM_EngineStepFineStreamed)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

void BM_EngineStepSmall(benchmark::State& state) {
  static std::map<int, std::unique_ptr<Case>> cases;
  const int mm = static_cast<int>(state.range(1));
  auto& c = cases[mm];
  if (!c) c = std::make_unique<Case>(small_scenario(mm));
  healing::set_thread_min_cells(0);  // threads on any grid: the crossover is what is measured
  run_steps(state, *c);
  healing::set_thread_min_cells(healing::kThreadMinCellsDefault);
}
BENCHMARK(BM_EngineStepSmall)
    ->ArgsProduct({{1, 2}, {2, 3, 4, 6}})
    ->ArgNames({"threads", "mm"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

}  // namespace

BENCHMARK_MAIN();
