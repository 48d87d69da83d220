// What an RF session costs over a mechanical one (issue 23: an RF session on the default patch
// adds at most 50% to the run time of a mechanical session), and the coagulation zone of one
// needle against energy and pulse (docs/rf.md, "Zone size against energy and pulse").
//
//   OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1 build/release/bench/rf_bench
//       --benchmark_repetitions=3   (one command line)
//
// BM_Session/{0,1}/{hours}: one session of the RF cartridge on the tissue of examples/01 (the
// default 1 x 1 cm cheek patch at 100 um with its three scars), as `mnsim run` does it: the device
// stage (punctures, and for RF the needle's thermal solve), the injury deposited into a fresh
// engine, and the healing followed for `hours` (48 h; 672 h = the 4 weeks to the next session of a
// monthly course) with the run's own step control. Arg 0: the same needles
// insulated past the depth they reach (no electrode in the skin: a mechanical session with the
// same punctures); 1: RF, 20 mJ in 50 ms (each iteration a new energy by 1 nJ so that the
// thermal solve is not answered from thermal::coagulation_zone's memo). Compare the CPU column.
//
// BM_Zone/{energy uJ}/{pulse ms}/{bare um}/{frequency kHz}: one needle's solve (0.2 mm needle,
// tip 1.0 mm deep, the bare tip's length, the test cheek profile) with the zone as counters
// (radius_um, top_um, bottom_um, height_um, peak_C, denatured: the share of its collagen
// denatured).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/scenario.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "thermal/rf.hpp"

namespace {

using namespace mnsim;

struct Patch {
  Table scenario;
  skin::SkinPatch patch;
  skin::Tissue tissue;
  healing::Params p;
  Patch()
      : scenario(load_scenario(std::string(MNSIM_SOURCE_DIR) + "/examples/01_default_cheek.toml")),
        patch(skin::make_patch(read_patch_spec(scenario))),
        tissue(skin::build_tissue(read_patch_spec(scenario))),
        p(healing::load_default_params().p) {}
};

devices::DeviceSpec rf_spec(double insulated, double energy) {
  devices::DeviceSpec d;
  d.kind = "rf";
  d.model = "rf_7x7_insulated";
  const SourceLoc here{"rf_bench", 1, 1};
  d.settings.set_quantity("needle_length", 1.1e-3, Dim::Length, "1.1 mm", here);
  d.settings.set_quantity("insulated_length", insulated, Dim::Length, "x", here);
  d.settings.set_quantity("energy", energy, Dim::Energy, "x", here);
  return d;
}

void BM_Session(benchmark::State& state) {
  static Patch patch;
  const bool rf = state.range(0) != 0;
  const auto hours = static_cast<double>(state.range(1));
  devices::Technique tq = devices::Technique::defaults();
  tq.passes = 1;
  const grid::Grid& g = patch.tissue.grid();
  const devices::Rect area{0.0, 0.0, g.nx * g.dx, g.ny * g.dx};
  double energy = 20e-3, coag = 0.0, punctures = 0.0;
  for (auto _ : state) {
    // 1.1 mm needles reach about 0.77 mm on the cheek: 1.05 mm of insulation leaves no electrode.
    const devices::StageResult st = devices::run_device_stage(
        rf_spec(rf ? 0.5e-3 : 1.05e-3, energy), tq, patch.patch.profile(), area, 7);
    energy += 1e-9;
    healing::Engine engine(patch.tissue, patch.p);
    const healing::InjuryTally tally = engine.apply_session(st.punctures);
    engine.stepper().advance_to(hours * 3600.0);
    coag = tally.coag_volume * 1e9;
    punctures = static_cast<double>(st.punctures.size());
    benchmark::ClobberMemory();
  }
  state.counters["punctures"] = punctures;
  state.counters["coag_volume_mm3"] = coag;
  state.counters["follow_up_h"] = hours;
}
BENCHMARK(BM_Session)->ArgsProduct({{0, 1}, {48, 672}})->Iterations(1)->Unit(benchmark::kSecond);

void BM_Zone(benchmark::State& state) {
  // The test cheek profile of tests/support/skin.hpp: epidermis 62 um, dermis to 1.062 mm.
  skin::SkinProfile skin;
  skin.site = "test_cheek";
  skin.thickness = {17e-6, 45e-6, 100e-6, 900e-6, 2e-3};
  skin.youngs_modulus = {1.5e6, 1.5e6, 6.66e6, 6.66e6, 2.52e3};
  skin.tension = 8.5;
  skin.plexus_depth = 162e-6;
  thermal::RfPulse p;
  p.needle_radius = 0.1e-3;
  p.depth = 1.0e-3;
  p.insulated_length = p.depth - static_cast<double>(state.range(2)) * 1e-6;
  p.energy = static_cast<double>(state.range(0)) * 1e-6;
  p.duration = static_cast<double>(state.range(1)) * 1e-3;
  p.frequency = static_cast<double>(state.range(3)) * 1e3;
  const thermal::RfTissue tissue = thermal::RfTissue::defaults();  // a copy: no memo
  thermal::CoagulationZone z;
  for (auto _ : state) {
    z = thermal::coagulation_zone(p, skin, tissue);
    benchmark::DoNotOptimize(&z);
  }
  state.counters["radius_um"] = z.radius * 1e6;
  state.counters["top_um"] = z.top * 1e6;
  state.counters["bottom_um"] = z.bottom * 1e6;
  state.counters["height_um"] = (z.bottom - z.top) * 1e6;
  state.counters["peak_C"] = z.peak_temperature - 273.15;
  state.counters["denatured"] = z.denatured;
}
BENCHMARK(BM_Zone)
    ->ArgsProduct({{5000, 10000, 20000, 40000, 60000}, {20, 50, 200}, {300}, {1000}})
    ->ArgsProduct({{5000, 10000, 20000}, {50}, {100, 200}, {1000}})
    ->ArgsProduct({{10000, 20000}, {50}, {300}, {100, 500, 2000, 10000}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
