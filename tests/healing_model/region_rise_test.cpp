// Engine::region_rise, the surface rise of a region (a scar's footprint, its rim) read from the
// region's mean matrix per cell level and layer (docs/model.md, "Scar remodelling" 4): equal to
// the mean of the column rises wherever the growth law is linear over the region, and a channel's
// deficit beside packed matrix of the same level and layer counts against it, so the reading does
// not depend on how finely the grid resolves a channel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <utility>
#include <vector>

#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "skin/tissue.hpp"
#include "test_tissue.hpp"

namespace mnsim::healing {
namespace {

struct Patch {
  skin::Tissue tissue = testing::small_cheek_tissue("region_rise_test.toml");
  Engine engine{tissue, load_default_params().p};
  const grid::Grid& g() const { return engine.grid(); }
  std::vector<double> weights(std::initializer_list<std::pair<int, int>> columns) const {
    std::vector<double> w(static_cast<std::size_t>(g().nx * g().ny), 0.0);
    for (const auto& [i, j] : columns) w[static_cast<std::size_t>(i + j * g().nx)] = 1.0;
    return w;
  }
  /// Scales the matrix (collagen I + III + elastin) of the reticular cells of column (i, j).
  void scale_reticular(int i, int j, float f) {
    const auto rd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::ReticularDermis) + 1);
    for (const char* name : {"collagen1", "collagen3", "elastin"}) {
      float* u = engine.fields().view(engine.model().slot(name)).data;
      for (int k = 0; k < g().nz; ++k) {
        const auto at = g().at(i, j, k);
        if (engine.layer_of()[static_cast<std::size_t>(at)] == rd) u[at] *= f;
      }
    }
  }
  double column(int i, int j) const {
    return engine.column_rise()[static_cast<std::size_t>(i + j * g().nx)];
  }
};

TEST(RegionRise, ZeroAtTheStartAndTheMeanOfTheColumnsWhereTheLawIsLinear) {
  Patch p;
  const auto both = p.weights({{3, 3}, {4, 3}});
  EXPECT_NEAR(p.engine.region_rise(both), 0.0, 1e-12);
  // Two columns short of matrix (below their set point the law is linear): the region's rise
  // is the mean of theirs.
  p.scale_reticular(3, 3, 0.8f);
  p.scale_reticular(4, 3, 0.9f);
  const double a = p.column(3, 3), b = p.column(4, 3);
  EXPECT_LT(a, b);
  EXPECT_LT(b, 0.0);
  EXPECT_NEAR(p.engine.region_rise(both), 0.5 * (a + b), 1e-6 * std::abs(a));
}

TEST(RegionRise, PackedMatrixBesideAChannelClosesItsDeficit) {
  Patch p;
  // One column short of 10% of its reticular matrix (a lumen not yet refilled), the next with
  // 10% more, packed below the packing limit (no swelling of its own).
  p.scale_reticular(3, 3, 0.9f);
  p.scale_reticular(4, 3, 1.1f);
  EXPECT_LT(p.column(3, 3), -10e-6);
  EXPECT_DOUBLE_EQ(p.column(4, 3), 0.0);
  // Cell by cell the pair sinks by half the deficit; as a region it holds its matrix at the
  // baseline mean, and so its volume.
  EXPECT_NEAR(p.engine.region_rise(p.weights({{3, 3}, {4, 3}})), 0.0, 1e-9);
  // A region of the short column alone keeps its deficit.
  EXPECT_NEAR(p.engine.region_rise(p.weights({{3, 3}})), p.column(3, 3), 1e-12);
}

TEST(RegionRise, WantsOneWeightPerColumn) {
  Patch p;
  EXPECT_THROW(p.engine.region_rise(std::vector<double>(3, 1.0)), std::invalid_argument);
}

}  // namespace
}  // namespace mnsim::healing
