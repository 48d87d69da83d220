// Upwind chemotaxis: conservation, positivity, direction, stability bound.
#include <gtest/gtest.h>

#include <cmath>

#include "healing/chemotaxis.hpp"

namespace mnsim::healing {
namespace {

TEST(HealingChemotaxis, ConservesMovesUpGradientStaysPositive) {
  grid::FieldSet fs(grid::Grid::uniform(16, 8, 12, 10e-6));
  const int u = fs.add("u"), c = fs.add("c");
  const grid::Grid& g = fs.grid();
  std::vector<std::uint8_t> active(g.padded_size(), 0);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        active[static_cast<std::size_t>(g.at(i, j, k))] = k < 10 ? 1 : 0;  // bottom 2 inactive
        fs.view(u)(i, j, k) = 1.0f;
        fs.view(c)(i, j, k) = static_cast<float>(std::exp(-(i - 12) * (i - 12) / 8.0));
      }
  auto total = [&]() {
    double s = 0;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) s += fs.view(u)(i, j, k);
    return s;
  };
  const double m0 = total();
  const double chi = 500.0;
  const double lim = chemotaxis_max_dt(fs.view(c), chi, active);
  ASSERT_TRUE(std::isfinite(lim));
  const int steps = chemotaxis_step(fs.view(u), fs.view(c), chi, active, 20.0 * lim);
  EXPECT_GE(steps, 40);
  EXPECT_NEAR(total(), m0, 1e-4 * m0);
  double mn = 1e9;
  for (int k = 0; k < g.nz; ++k)
    for (int i = 0; i < g.nx; ++i) mn = std::min(mn, static_cast<double>(fs.view(u)(i, 3, k)));
  EXPECT_GE(mn, 0.0);
  EXPECT_GT(fs.view(u)(12, 3, 5), 1.5f);   // accumulated at the attractant peak
  EXPECT_LT(fs.view(u)(9, 3, 5), 1.0f);    // depleted on the slope
  EXPECT_EQ(fs.view(u)(12, 3, 11), 1.0f);  // inactive cells untouched
}

TEST(HealingChemotaxis, ConservesAmountOnNonUniformDepthGrid) {
  grid::Grid g = grid::Grid::uniform(6, 6, 8, 10e-6);
  g.zf = {0, 5e-6, 12e-6, 30e-6, 45e-6, 70e-6, 80e-6, 110e-6, 150e-6};
  grid::FieldSet fs(g);
  const int u = fs.add("u"), c = fs.add("c");
  const grid::Grid& gg = fs.grid();
  std::vector<std::uint8_t> active(gg.padded_size(), 0);
  for (int k = 0; k < gg.nz; ++k)
    for (int j = 0; j < gg.ny; ++j)
      for (int i = 0; i < gg.nx; ++i) {
        active[static_cast<std::size_t>(gg.at(i, j, k))] = 1;
        fs.view(u)(i, j, k) = static_cast<float>(1.0 + 0.1 * ((i + 2 * j + 3 * k) % 5));
        fs.view(c)(i, j, k) = static_cast<float>(gg.zc(k) * 1e4);
      }
  auto amount = [&]() {
    double s = 0;
    for (int k = 0; k < gg.nz; ++k)
      for (int j = 0; j < gg.ny; ++j)
        for (int i = 0; i < gg.nx; ++i) s += fs.view(u)(i, j, k) * gg.dz(k);
    return s;
  };
  const double a0 = amount();
  chemotaxis_step(fs.view(u), fs.view(c), 2000.0, active, 5.0);
  EXPECT_NEAR(amount(), a0, 1e-5 * a0);
  // Cells moved down the depth gradient of c (c grows with depth): the deepest layer gained,
  // the top layer lost.
  double top = 0, bottom = 0, top0 = 0, bottom0 = 0;
  for (int j = 0; j < gg.ny; ++j)
    for (int i = 0; i < gg.nx; ++i) {
      top += fs.view(u)(i, j, 0);
      bottom += fs.view(u)(i, j, gg.nz - 1);
      top0 += 1.0 + 0.1 * ((i + 2 * j) % 5);
      bottom0 += 1.0 + 0.1 * ((i + 2 * j + 3 * (gg.nz - 1)) % 5);
    }
  EXPECT_LT(top, top0);
  EXPECT_GT(bottom, bottom0);
}

TEST(HealingChemotaxis, StabilityBoundMatchesHandCalculation) {
  // Linear attractant in x: c = a i; every cell's only outflow is +x with speed chi*a/dx.
  grid::FieldSet fs(grid::Grid::uniform(5, 1, 1, 20e-6));
  const int c = fs.add("c");
  const grid::Grid& g = fs.grid();
  std::vector<std::uint8_t> active(g.padded_size(), 0);
  for (int i = 0; i < 5; ++i) {
    active[static_cast<std::size_t>(g.at(i, 0, 0))] = 1;
    fs.view(c)(i, 0, 0) = static_cast<float>(0.5 * i);
  }
  const double chi = 100.0, dx = 20.0;  // um^2/h, um
  const double w = chi * 0.5 / dx;      // um/h
  EXPECT_NEAR(chemotaxis_max_dt(fs.view(c), chi, active), dx / w, 1e-9);
}

}  // namespace
}  // namespace mnsim::healing
