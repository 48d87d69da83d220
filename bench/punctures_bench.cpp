// Puncture generation for a full-face treatment: about 300 cm^2 (15 cm x 20 cm), 15 passes in
// four directions with the default roller; and 3 passes of an 11-needle pen. Reports punctures/s,
// and per GB/s of the triad bandwidth measured in the same run (bench/triad.hpp).
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/scenario.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "run/scenario_schema.hpp"
#include "skin/atlas.hpp"
#include "triad.hpp"

namespace {

using namespace mnsim;

void full_face(benchmark::State& state, const char* device_toml, int passes) {
  const Table sc = parse_scenario_text(
      std::string(device_toml) + "[technique]\npasses = " + std::to_string(passes) + "\n",
      "bench.toml", scenario_schema());
  const auto dev = devices::make_device(devices::device_spec(sc.table("device")),
                                        devices::DeviceCatalog::defaults());
  const devices::Technique tq = devices::Technique::from_table(sc.table("technique"));
  const skin::SkinProfile skin =
      skin::default_atlas().make_profile("medial_cheek", 35.0, skin::Sex::Female, 3);
  const auto& mech = mechanics::PenetrationParams::defaults();
  const devices::Rect face{0.0, 0.0, 0.15, 0.20};
  std::uint64_t seed = 1;
  std::size_t total = 0;
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const devices::Punctures p = dev->generate(tq, face, skin, mech, seed++);
    total += p.size();
    benchmark::DoNotOptimize(p.data());
  }
  state.counters["punctures"] =
      benchmark::Counter(static_cast<double>(total) / static_cast<double>(state.iterations()));
  state.counters["punctures_per_s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(
      state, "punctures_per_s", static_cast<double>(total),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

void BM_FullFaceRoller(benchmark::State& s) {
  full_face(s, "[device]\nmodel = \"roller_192_mf8\"\n", 15);
}
void BM_FullFacePen(benchmark::State& s) {
  full_face(s, "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\n", 3);
}

}  // namespace

BENCHMARK(BM_FullFaceRoller)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FullFacePen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
