// 1000 virtual patients of examples/02_cohort_acne.toml with the reduced model, treated with its
// roller protocol (issue 6) and with a pen (issue 18): each under 60 s on 2 cores. Reports patients
// per second, and per GB/s of the machine's triad bandwidth measured in the same run
// (bench/triad.hpp). Also the first evaluations of example 09's Sobol' design (issue 20: about 12k
// reduced-model evaluations within 10 min on 2 cores), CPU time per evaluation.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "protocol/cohort.hpp"
#include "protocol/sensitivity.hpp"
#include "triad.hpp"

namespace {

/// The 1000 patients of example 02 with its protocol.
mnsim::protocol::CohortSpec example_cohort() {
  mnsim::protocol::CohortSpec spec =
      mnsim::protocol::load_cohort(std::string(MNSIM_SOURCE_DIR) + "/examples/02_cohort_acne.toml");
  spec.population.size = 1000;
  return spec;
}

/// Times one cohort run at state.range(0) threads and reports patients/s, also per GB/s of the
/// triad bandwidth measured in the same run.
void time_cohort(benchmark::State& state, const mnsim::protocol::CohortSpec& spec) {
  const auto model = mnsim::protocol::ReducedModel::load_default();
  const int threads = static_cast<int>(state.range(0));
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const auto r = mnsim::protocol::run_cohort(model, spec, threads);
    benchmark::DoNotOptimize(r.arms.front().scar_depth_reduction_pct_mean);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double patients =
      static_cast<double>(spec.population.size) * static_cast<double>(state.iterations());
  state.counters["patients_per_s"] = benchmark::Counter(patients, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(state, "patients_per_s", patients, secs);
}

void BM_Cohort1000(benchmark::State& state) {
  time_cohort(state, example_cohort());
}
BENCHMARK(BM_Cohort1000)->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// The same 1000 patients treated with an automated pen (issue 18: under 60 s on 2 cores): the
// Dermapen of the catalog at 1.0 mm, 2 passes at 2 cm/s, three monthly sessions.
void BM_CohortPen1000(benchmark::State& state) {
  mnsim::protocol::CohortSpec spec = example_cohort();
  mnsim::protocol::SessionDevice pen;
  pen.device.kind = "pen";
  pen.device.model = "dermapen_2012";
  pen.device.settings.set_quantity("depth", 1.0e-3, mnsim::Dim::Length, "1.0 mm",
                                   {"cohort_bench", 1, 1});
  pen.technique = mnsim::devices::Technique::defaults();
  pen.technique.passes = 2;
  pen.technique.speed = 0.02;
  spec.arms.front().protocol.device = pen;
  time_cohort(state, spec);
}
BENCHMARK(BM_CohortPen1000)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// The first 32 evaluations of example 09's Sobol' design on one thread, as `mnsim sensitivity`
// runs them (one channel cache for every parameter set): CPU seconds per evaluation.
void BM_SensitivityEval(benchmark::State& state) {
  const auto spec = mnsim::protocol::load_sensitivity(std::string(MNSIM_SOURCE_DIR) +
                                                      "/examples/09_sensitivity_acne.toml");
  const auto model = mnsim::protocol::ReducedModel::load_default();
  constexpr std::size_t kEvaluations = 32;
  for (auto _ : state) {
    const auto v = mnsim::protocol::evaluate_indices(model, spec, 0, kEvaluations, 1);
    benchmark::DoNotOptimize(v.back().front());
  }
  const double n = static_cast<double>(kEvaluations) * static_cast<double>(state.iterations());
  state.counters["evaluations_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_evaluation"] =
      benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SensitivityEval)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
BENCHMARK_MAIN();
