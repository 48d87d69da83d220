// Throughput of one diffusion-decay step on 100^3 voxels with one field, the problem of BioFVM's
// examples/performance_test_voxels.cpp (dx = 10 um, D = 1e5 um^2/min, decay 0.1/min,
// dt = 0.01 min, implicit LOD), in voxel-steps per second, and the memory bandwidth this
// achieves as a fraction of a STREAM-like triad bandwidth measured in the same run.
//
//   build/release/bench/diffusion_bench --benchmark_repetitions=5
//
// Counters: items_per_second = voxel-steps/s; bw_GBps = bytes the kernel's passes move over
// the field (read + write per pass, see kBytesPerVoxel) per second; bw_of_triad = that over the
// triad bandwidth; min_bw_of_triad = the same for the minimum possible traffic (one read and one
// write of the field per step).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "grid/grid.hpp"
#include "healing/diffusion.hpp"
#include "triad.hpp"

namespace {

using mnsim::bench::kTriadN;
using mnsim::bench::triad_bandwidth;
using mnsim::bench::triad_once;
using mnsim::bench::TriadArrays;
using mnsim::grid::FieldSet;
using mnsim::grid::Grid;
using mnsim::healing::Diffusion;
using mnsim::healing::DiffusionSpec;

// Implicit uniform path: the xy pass (decay fused) reads and writes the field once, the z
// solve twice (forward elimination, back substitution): 3 x (4 + 4) bytes per voxel. (With the
// 4 MB field resident in the last-level cache these passes need not all reach DRAM.)
constexpr double kBytesPerVoxel = 24.0;

// With --benchmark_repetitions, "min"/"max" aggregates: max items_per_second is the best
// throughput, the least disturbed by other processes on a shared machine.
double stat_min(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
void BM_Triad(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(state.range(0)));
  TriadArrays t;
  double secs = 0.0;
  for (auto _ : state) {
    const double s = triad_once(t.a, t.b, t.c);
    state.SetIterationTime(s);
    secs += s;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 12 *
                          static_cast<std::int64_t>(kTriadN));
}
BENCHMARK(BM_Triad)
    ->Arg(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", stat_min)
    ->ComputeStatistics("max", mnsim::bench::stat_max);

enum class Kind { ImplicitUniform, ImplicitPermeability, ImplicitPermeabilityFixed, Explicit };

void diffusion_step(benchmark::State& state, Kind kind) {
  const int threads = static_cast<int>(state.range(0));
  const double triad = triad_bandwidth();  // always with 2 threads: the machine's bandwidth
  omp_set_num_threads(threads);
  const double um = 1e-6, minute = 60.0;
  FieldSet fs(Grid::uniform(100, 100, 100, 10.0 * um));
  const int u = fs.add("substrate", 100.0f);
  const int p = fs.add("permeability", 1.0f);
  DiffusionSpec spec{{1e5 * um * um / minute}, {}, 0.1 / minute, 0.0, {}};
  if (kind == Kind::ImplicitPermeability || kind == Kind::ImplicitPermeabilityFixed) {
    spec.permeability = fs.view(p);
    spec.permeability_fixed = kind == Kind::ImplicitPermeabilityFixed;
  }
  Diffusion op(fs.grid(), spec);
  const double dt = 0.01 * minute;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (kind == Kind::Explicit) {
      op.step_explicit(fs.view(u), op.explicit_dt_limit());
    } else {
      op.step_implicit(fs.view(u), dt);
    }
    benchmark::ClobberMemory();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double voxels = static_cast<double>(fs.grid().cells());
  const double steps = static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(steps * voxels));
  const double bw = kind == Kind::ImplicitUniform ? kBytesPerVoxel * voxels * steps / secs : 0.0;
  state.counters["triad_GBps"] = triad * 1e-9;
  state.counters["voxels_per_s_per_triad_GBps"] = voxels * steps / secs / (triad * 1e-9);
  if (bw > 0.0) {
    state.counters["bw_GBps"] = bw * 1e-9;
    state.counters["bw_of_triad"] = bw / triad;
    state.counters["min_bw_of_triad"] = 8.0 * voxels * steps / secs / triad;
  }
}

void BM_DiffusionDecay100(benchmark::State& state) {
  diffusion_step(state, Kind::ImplicitUniform);
}
BENCHMARK(BM_DiffusionDecay100)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", stat_min)
    ->ComputeStatistics("max", mnsim::bench::stat_max);

void BM_DiffusionDecay100Permeability(benchmark::State& state) {
  diffusion_step(state, Kind::ImplicitPermeability);
}
BENCHMARK(BM_DiffusionDecay100Permeability)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

/// The permeability path with the face conductances computed once (a fixed permeability, as in
/// the healing engine).
void BM_DiffusionDecay100PermeabilityFixed(benchmark::State& state) {
  diffusion_step(state, Kind::ImplicitPermeabilityFixed);
}
BENCHMARK(BM_DiffusionDecay100PermeabilityFixed)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

void BM_ExplicitStep100(benchmark::State& state) {
  diffusion_step(state, Kind::Explicit);
}
BENCHMARK(BM_ExplicitStep100)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
