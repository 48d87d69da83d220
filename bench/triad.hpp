// The machine's memory bandwidth, measured in the same run as each benchmark: every benchmark
// reports its throughput next to this figure and as a ratio to it, so results from different
// machines (or a busy one) can be compared.
#pragma once

#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "grid/grid.hpp"

namespace mnsim::bench {

inline constexpr std::size_t kTriadN = std::size_t{1} << 24;  // 64 MiB per float array

/// a = b + s c over float arrays far larger than the caches; STREAM counts 12 bytes/element.
inline double triad_once(grid::AlignedBuffer& a, const grid::AlignedBuffer& b,
                         const grid::AlignedBuffer& c) {
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  const auto n = static_cast<std::ptrdiff_t>(a.size());
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < n; ++i) pa[i] = pb[i] + 3.0f * pc[i];
  const auto t1 = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(pa);
  return std::chrono::duration<double>(t1 - t0).count();
}

struct TriadArrays {
  grid::AlignedBuffer a{kTriadN, 0.0f}, b{kTriadN, 1.0f}, c{kTriadN, 2.0f};
};

/// Best-of-10 triad bandwidth (bytes/s) on 2 threads (the machine's bandwidth, whatever thread
/// count the benchmark itself uses); measured once per run.
inline double triad_bandwidth() {
  static const double bw = [] {
    const int before = omp_get_max_threads();
    omp_set_num_threads(2);
    TriadArrays t;
    double best = 1e300;
    for (int r = 0; r < 10; ++r) best = std::min(best, triad_once(t.a, t.b, t.c));
    omp_set_num_threads(before);
    return 12.0 * static_cast<double>(kTriadN) / best;
  }();
  return bw;
}

/// Largest of the repetitions (ComputeStatistics("max", stat_max)): the least disturbed run of a
/// throughput measured as a time.
inline double stat_max(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

/// Adds triad_GBps and `<name>_per_triad_GBps` (the rate per GB/s of triad bandwidth) for a
/// throughput of `items` over the benchmark's real time.
inline void report_per_bandwidth(benchmark::State& state, const std::string& name, double items,
                                 double seconds) {
  const double triad = triad_bandwidth();
  state.counters["triad_GBps"] = triad * 1e-9;
  if (seconds > 0.0) state.counters[name + "_per_triad_GBps"] = items / seconds / (triad * 1e-9);
}

}  // namespace mnsim::bench
