// Building the voxel tissue of a 10 x 10 mm cheek patch at 50 um with a seeded scar inventory.
// Reports voxels built per second, and per GB/s of the triad bandwidth measured in the same run
// (bench/triad.hpp).
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/scenario.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "triad.hpp"

namespace {

mnsim::Table patch_scenario() {
  return mnsim::parse_scenario_text(R"(
seed = 1
[patient]
site = "medial_cheek"
[tissue]
width = "10 mm"
length = "10 mm"
[inventory]
icepick = 6
boxcar_shallow = 2
boxcar_deep = 1
rolling = 1
)",
                                    "bench.toml", mnsim::scenario_schema());
}

void BM_MakePatch(benchmark::State& state) {
  const mnsim::Table sc = patch_scenario();
  for (auto _ : state)
    benchmark::DoNotOptimize(mnsim::skin::make_patch(mnsim::read_patch_spec(sc)));
}
BENCHMARK(BM_MakePatch)->Unit(benchmark::kMillisecond);

void BM_BuildTissue(benchmark::State& state) {
  const mnsim::Table sc = patch_scenario();
  const mnsim::skin::SkinPatch patch = mnsim::skin::make_patch(mnsim::read_patch_spec(sc));
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  double cells = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    mnsim::skin::Tissue t = mnsim::skin::build_tissue(patch, 50e-6, 2);
    benchmark::DoNotOptimize(t.fields.view(0).data);
    state.counters["cells"] = static_cast<double>(t.grid().cells());
    cells += static_cast<double>(t.grid().cells());
  }
  state.counters["voxels_per_s"] = benchmark::Counter(cells, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(
      state, "voxels_per_s", cells,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}
BENCHMARK(BM_BuildTissue)->Unit(benchmark::kMillisecond);

void BM_SurfaceQuery(benchmark::State& state) {
  const mnsim::skin::SkinPatch patch =
      mnsim::skin::make_patch(mnsim::read_patch_spec(patch_scenario()));
  double x = 0.0;
  for (auto _ : state) {
    x += 1.234e-5;
    if (x > 10e-3) x -= 10e-3;
    benchmark::DoNotOptimize(patch.profile_at(x, 10e-3 - x));
  }
}
BENCHMARK(BM_SurfaceQuery);

}  // namespace

BENCHMARK_MAIN();
