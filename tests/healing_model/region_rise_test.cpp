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

// A scar's regions are prepared once per run (Engine::rise_region) and read at every sample:
// the preparation holds only what does not change (the cells' layers and the dermis depths), so
// a region prepared before the fields change reads them, after, as one prepared then does.
TEST(RegionRise, APreparedRegionReadsTheFieldsAsTheyAreNow) {
  Patch p;
  std::vector<double> w(static_cast<std::size_t>(p.g().nx * p.g().ny), 0.0);
  for (int j = 1; j < 6; ++j)
    for (int i = 2; i < 7; ++i) w[static_cast<std::size_t>(i + j * p.g().nx)] = 0.25 * (i % 4);
  const Engine::RiseRegion early = p.engine.rise_region(w, 7.5);
  EXPECT_FALSE(early.sources.empty());
  const double before = p.engine.region_rise(early);
  EXPECT_EQ(before, p.engine.region_rise(w, 7.5));
  p.scale_reticular(3, 3, 0.8f);
  p.scale_reticular(4, 2, 1.2f);
  p.scale_reticular(5, 4, 0.95f);
  const double now = p.engine.region_rise(w, 7.5);
  EXPECT_GT(std::abs(now - before), 1e-9);  // the fields changed the rise
  EXPECT_EQ(p.engine.region_rise(early), now);
  // No column with a weight: no region, no rise.
  const Engine::RiseRegion none = p.engine.rise_region(std::vector<double>(w.size(), 0.0));
  EXPECT_TRUE(none.sources.empty());
  EXPECT_EQ(p.engine.region_rise(none), 0.0);
}

TEST(RegionRise, WantsOneWeightPerColumn) {
  Patch p;
  EXPECT_THROW(p.engine.region_rise(std::vector<double>(3, 1.0)), std::invalid_argument);
}

}  // namespace
}  // namespace mnsim::healing

namespace mnsim::healing {
namespace {

/// The deficit a scar's footprint holds per area, d times the dermis under each point, on a
/// 400 x 400 lattice over its bounds.
double footprint_deficit(const skin::SkinPatch& patch, const lesions::Lesion& scar) {
  const double d = scar.effects().collagen_deficit;
  const auto top = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const auto bottom = static_cast<std::size_t>(skin::layer_index(skin::Layer::Hypodermis));
  const lesions::Box b = scar.bounds();
  double lacking = 0.0, inside = 0.0;
  constexpr int kLattice = 400;
  for (int j = 0; j < kLattice; ++j)
    for (int i = 0; i < kLattice; ++i) {
      const double x = b.x0 + (i + 0.5) * (b.x1 - b.x0) / kLattice;
      const double y = b.y0 + (j + 0.5) * (b.y1 - b.y0) / kLattice;
      if (!(scar.depression(x, y) > 0.0)) continue;
      const auto z = patch.interfaces(x, y);
      lacking += d * (z[bottom] - z[top]);
      inside += 1.0;
    }
  return lacking / inside;
}

/// The deficit the engine holds under the scar on a grid of `res`: the rise of the footprint
/// (every column the scar touches, over the footprint's area, 4 x 4 samples per column, as the
/// scars' read-out takes it, run/assess.cpp) with every cell restored to its baseline.
double held_deficit(const skin::SkinPatch& patch, const lesions::Lesion& scar, double res) {
  const skin::Tissue t = skin::build_tissue(patch, res, 2);
  Engine e(t, load_default_params().p);
  const grid::Grid& g = e.grid();
  // Restore every cell to its baseline, with no scar matrix left.
  const int s = e.model().slot("scar_matrix");
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const auto at = g.at(i, j, k);
        const int l = e.layer_of()[static_cast<std::size_t>(at)];
        if (l == 0) continue;
        const Baseline& base = e.baselines()[static_cast<std::size_t>(l - 1)];
        e.fields().view(e.model().slot("collagen1")).data[at] = static_cast<float>(base.collagen1);
        e.fields().view(e.model().slot("collagen3")).data[at] = static_cast<float>(base.collagen3);
        e.fields().view(e.model().slot("elastin")).data[at] = static_cast<float>(base.elastin);
        e.fields().view(s).data[at] = 0.0f;
      }
  std::vector<double> touched(static_cast<std::size_t>(g.nx * g.ny), 0.0);
  double area = 0.0;
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      int n = 0;
      for (int c = 0; c < 4; ++c)
        for (int a = 0; a < 4; ++a)
          n += scar.depression(g.xc(i) + ((a + 0.5) / 4 - 0.5) * g.dx,
                               g.yc(j) + ((c + 0.5) / 4 - 0.5) * g.dx) > 0.0;
      touched[static_cast<std::size_t>(i + j * g.nx)] = n > 0 ? 1.0 : 0.0;
      area += n / 16.0;
    }
  return e.region_rise(touched, area);
}

// The deficit a scar puts into the engine is the deficit its footprint holds, d times the dermis
// under each point, whatever the grid (Engine::seed_lesions): with every cell then restored to
// its baseline, the footprint rises by that amount. Until 2026-12-07 each column took d or
// nothing by its centre and the amount was off by up to 6% (docs/numerics.md, "Scar depths").
TEST(ScarSeeding, TheDeficitIsTheFootprintsAtEveryGrid) {
  const skin::Tissue fine = testing::small_cheek_tissue("scar_seeding.toml", R"(
[[lesions]]
kind = "boxcar"
x = "0.6 mm"
y = "0.55 mm"
width = "0.8 mm"
depth = "0.2 mm"
wall_angle = "10 deg"
)");
  const skin::SkinPatch& patch = fine.patch;
  const lesions::Lesion& scar = *patch.lesions().front();
  const double exact = footprint_deficit(patch, scar);
  ASSERT_GT(exact, 100e-6);
  for (const double res : {60e-6, 75e-6, 90e-6, 110e-6, 130e-6}) {
    EXPECT_NEAR(held_deficit(patch, scar, res), exact, 0.01 * exact) << "resolution " << res;
  }
}

// Example 01's icepick (1 mm wide, 0.8 mm deep: 0.14 mm of dermis left under its tip). With the
// tip on a column centre at 200 um, the five columns round it held their dermis only inside the
// lining and the hypodermis cell below it, so they had no dermal cell: their deficit was dropped
// (and their rise read 0), and the icepick's depth at 200 um depended on where its tip fell
// between column centres by 24 um (docs/numerics.md, "The icepick"). Every column with dermis
// now holds a dermal cell (skin::build_tissue).
TEST(ScarSeeding, AnIcepicksDeficitIsHeldUnderItsTipAtEveryGrid) {
  const skin::Tissue fine = testing::small_cheek_tissue("scar_seeding_icepick.toml", R"(
[[lesions]]
kind = "icepick"
x = "0.7 mm"
y = "0.7 mm"
width = "1 mm"
depth = "0.8 mm"
)");
  const skin::SkinPatch& patch = fine.patch;
  const lesions::Lesion& scar = *patch.lesions().front();
  const double exact = footprint_deficit(patch, scar);
  ASSERT_GT(exact, 50e-6);
  for (const double res : {200e-6, 171.43e-6, 150e-6, 100e-6}) {
    EXPECT_NEAR(held_deficit(patch, scar, res), exact, 0.01 * exact) << "resolution " << res;
  }
}

}  // namespace
}  // namespace mnsim::healing
