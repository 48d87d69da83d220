// Throughput of the cell transport of the 3D engine (healing/chemotaxis.hpp: implicit upwind
// chemotaxis and capacity-form motility of neutrophils, fibroblasts and vessels, each field's x,
// y and z sweeps) on the voxel tissue of examples/01 (100 x 100 x 18 cells), wounded by a lattice
// of bleeding 1.2 mm channels and healed for 12 h, steps of 0.05 h. Reports voxel-steps per second
// (per moving field: one voxel-step is one voxel of one field advanced by one step), and per GB/s
// of the triad bandwidth measured in the same run (bench/triad.hpp).
//
//   OMP_WAIT_POLICY=passive build/release/bench/chemotaxis_bench --benchmark_repetitions=5
//
// BM_CellTransport keeps one ChemotaxisOperator per field (static terms computed once), as the
// engine does; BM_CellTransportPerCall calls chemotaxis_step_implicit, which builds them at
// every call.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "devices/puncture.hpp"
#include "healing/chemotaxis.hpp"
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

/// The wounded tissue of the engine benchmarks (wounded.hpp) and what the engine's cell transport
/// needs per moving field.
struct Moving {
  bench::Wounded w;
  grid::FieldSet capacity;
  struct Field {
    int slot, attractant;
    double chi;
    std::vector<std::uint8_t> mask;
    healing::Motility motility;
    std::unique_ptr<healing::ChemotaxisOperator> op;
  };
  std::vector<Field> fields;
  Moving() : capacity(w.tissue.grid()) {
    const grid::Grid& g = w.tissue.grid();
    const auto& engine = w.engine;
    const auto layer_of = engine->layer_of();
    for (const healing::FieldSpec& s : engine->specs()) {  // as the engine's constructor
      std::array<double, skin::kLayers> cap{};
      const double mot = healing::capacity_motility(s, engine->baselines(), cap, engine->model());
      const bool chemo = s.chemoattractant >= 0 && s.chemotaxis > 0.0;
      if (!chemo && !(mot > 0.0)) continue;
      Field f{s.slot,
              chemo ? s.chemoattractant : -1,
              chemo ? s.chemotaxis : 0.0,
              healing::transport_mask(s, layer_of),
              {},
              nullptr};
      if (mot > 0.0) {
        const int id = capacity.add(s.name);
        grid::FieldView cv = capacity.view(id);
        for (int k = 0; k < g.nz; ++k)
          for (int j = 0; j < g.ny; ++j)
            for (int i = 0; i < g.nx; ++i) {
              const int l = layer_of[static_cast<std::size_t>(g.at(i, j, k))];
              cv(i, j, k) =
                  l == 0 ? 0.0f : static_cast<float>(cap[static_cast<std::size_t>(l - 1)]);
            }
        f.motility = {mot, capacity.view(id)};
      }
      f.op = std::make_unique<healing::ChemotaxisOperator>(g, f.mask, f.chi, f.motility);
      fields.push_back(std::move(f));
    }
  }
  grid::ConstFieldView attractant(const Field& f) const {
    return f.attractant >= 0 ? grid::ConstFieldView(w.engine->fields().view(f.attractant))
                             : grid::ConstFieldView{};
  }
};

void cell_transport(benchmark::State& state, bool kept) {
  omp_set_num_threads(static_cast<int>(state.range(0)));
  static Moving m;                  // built once for every thread count
  mnsim::bench::triad_bandwidth();  // measured before the timed loop
  const double dt = 0.05;           // h
  grid::FieldSet& fs = m.w.engine->fields();
  double voxels = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (const Moving::Field& f : m.fields) {
      if (kept) {
        f.op->step(fs.view(f.slot), m.attractant(f), dt);
      } else {
        healing::chemotaxis_step_implicit(fs.view(f.slot), m.attractant(f), f.chi, f.mask, dt,
                                          f.motility);
      }
    }
    benchmark::ClobberMemory();
    voxels += static_cast<double>(m.fields.size() * fs.grid().cells());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  state.counters["fields"] = static_cast<double>(m.fields.size());
  state.counters["voxels_per_s"] = benchmark::Counter(voxels, benchmark::Counter::kIsRate);
  mnsim::bench::report_per_bandwidth(state, "voxels_per_s", voxels, secs);
}

void BM_CellTransport(benchmark::State& state) {
  cell_transport(state, true);
}
BENCHMARK(BM_CellTransport)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

void BM_CellTransportPerCall(benchmark::State& state) {
  cell_transport(state, false);
}
BENCHMARK(BM_CellTransportPerCall)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("max", mnsim::bench::stat_max);

}  // namespace

BENCHMARK_MAIN();
