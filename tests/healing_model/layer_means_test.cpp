// Engine::layer_means sums runs of cells of one layer, several fields at a time; its result must
// be that of the plain cell-by-cell loop in (k, j, i) order, bit for bit, on any number of
// threads, over all columns and over the columns outside every lesion.
#include <gtest/gtest.h>
#include <omp.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "healing/team.hpp"
#include "skin/tissue.hpp"
#include "test_tissue.hpp"

namespace mnsim::healing {
namespace {

/// The cell-by-cell loop layer_means replaced (its code before the runs).
LayerMeans reference_means(const Engine& e, bool outside_lesions) {
  const grid::Grid& g = e.grid();
  const int nf = static_cast<int>(e.model().size());
  // The engine's own mask of normal-skin columns (lesion footprints and the columns beside a
  // scar's wall excluded, Engine::seed_lesions): this test is of the sums, not of the mask.
  const auto mask = e.normal_columns();
  const std::vector<std::uint8_t> normal(mask.begin(), mask.end());
  bool any = false;
  for (auto n : normal) any = any || n != 0;
  const bool masked = outside_lesions && any;
  const auto layer_of = e.layer_of();
  LayerMeans sum{};
  std::array<double, skin::kLayers> vol{};
  for (int k = 0; k < g.nz; ++k) {
    const double dv = g.dx * g.dx * g.dz(k);
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const int l = layer_of[static_cast<std::size_t>(g.at(i, j, k))];
        if (l != 0 && (!masked || normal[static_cast<std::size_t>(i + j * g.nx)]))
          vol[static_cast<std::size_t>(l - 1)] += dv;
      }
  }
  for (int f = 0; f < nf; ++f) {
    const float* u = e.fields().view(f).data;
    std::array<double, skin::kLayers> s{};
    for (int k = 0; k < g.nz; ++k) {
      const double dv = g.dx * g.dx * g.dz(k);
      for (int j = 0; j < g.ny; ++j) {
        const std::ptrdiff_t row = g.at(0, j, k);
        for (int i = 0; i < g.nx; ++i) {
          const int l = layer_of[static_cast<std::size_t>(row + i)];
          if (l != 0 && (!masked || normal[static_cast<std::size_t>(i + j * g.nx)]))
            s[static_cast<std::size_t>(l - 1)] += dv * u[row + i];
        }
      }
    }
    for (int l = 0; l < skin::kLayers; ++l) {
      const auto lu = static_cast<std::size_t>(l);
      sum[lu][static_cast<std::size_t>(f)] = s[lu];
      if (vol[lu] > 0) sum[lu][static_cast<std::size_t>(f)] /= vol[lu];
    }
  }
  return sum;
}

TEST(LayerMeans, RunsGiveTheBitsOfTheCellByCellSum) {
  const skin::Tissue t = testing::small_cheek_tissue("layer_means_test.toml", R"(
[[lesions]]
kind = "boxcar"
x = "0.4 mm"
y = "0.5 mm"
width = "0.5 mm"
depth = "0.3 mm"
)");
  Engine e(t, load_default_params().p);
  e.apply_session(testing::bleeding_channels({0.3e-3, 0.7e-3, 1.0e-3}, 0.5e-3, 0.8e-3, 0.08e-3));
  e.stepper().advance_to(6.0 * 3600.0);  // every field away from its layer's baseline
  const std::size_t keep = thread_min_cells();
  set_thread_min_cells(1);  // threads on this small grid too
  for (const bool outside : {false, true}) {
    const LayerMeans ref = reference_means(e, outside);
    for (const int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const LayerMeans m = e.layer_means(outside);
      for (int l = 0; l < skin::kLayers; ++l)
        for (std::size_t f = 0; f < e.model().size(); ++f) {
          const double a = ref[static_cast<std::size_t>(l)][f];
          const double b = m[static_cast<std::size_t>(l)][f];
          EXPECT_EQ(a, b) << "layer " << l << " field " << f << " outside lesions " << outside
                          << " threads " << threads;
        }
    }
  }
  set_thread_min_cells(keep);
  omp_set_num_threads(omp_get_num_procs());
  // Not trivially equal: the wound and the lesion make the two means differ.
  const LayerMeans all = e.layer_means(false), out = e.layer_means(true);
  bool differ = false;
  for (int l = 0; l < skin::kLayers; ++l)
    for (std::size_t f = 0; f < e.model().size(); ++f)
      differ = differ || all[static_cast<std::size_t>(l)][f] != out[static_cast<std::size_t>(l)][f];
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace mnsim::healing
