// 1000 virtual patients of examples/02_cohort_acne.toml with the reduced model (issue 6: under
// 60 s on 2 cores). Reports patients per second.
#include <benchmark/benchmark.h>

#include <string>

#include "protocol/cohort.hpp"

namespace {

void BM_Cohort1000(benchmark::State& state) {
  const auto model = mnsim::protocol::ReducedModel::load_default();
  mnsim::protocol::CohortSpec spec =
      mnsim::protocol::load_cohort(std::string(MNSIM_SOURCE_DIR) + "/examples/02_cohort_acne.toml");
  spec.population.size = 1000;
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const auto r = mnsim::protocol::run_cohort(model, spec, threads);
    benchmark::DoNotOptimize(r.scar_depth_reduction_pct_mean);
  }
  state.counters["patients_per_s"] = benchmark::Counter(
      1000.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Cohort1000)->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
BENCHMARK_MAIN();
