#include "healing/chemotaxis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace mnsim::healing {

namespace {

struct Faces {
  // Neighbour offsets and centre distances (um) for the 6 faces of a cell; distance 0 = none.
  std::ptrdiff_t off[6];
  double dist[6];
  double area_over_vol[6];  // 1/um
};

Faces faces_of(const grid::Grid& g, int i, int j, int k) {
  const double um = 1e6;
  const double dx = g.dx * um;
  const double dz = g.dz(k) * um;
  Faces f{};
  f.off[0] = -1;
  f.off[1] = +1;
  f.off[2] = -g.sy();
  f.off[3] = +g.sy();
  f.off[4] = -g.sz();
  f.off[5] = +g.sz();
  f.dist[0] = i > 0 ? dx : 0.0;
  f.dist[1] = i < g.nx - 1 ? dx : 0.0;
  f.dist[2] = j > 0 ? dx : 0.0;
  f.dist[3] = j < g.ny - 1 ? dx : 0.0;
  f.dist[4] = k > 0 ? (g.zc(k) - g.zc(k - 1)) * um : 0.0;
  f.dist[5] = k < g.nz - 1 ? (g.zc(k + 1) - g.zc(k)) * um : 0.0;
  for (int q = 0; q < 4; ++q) f.area_over_vol[q] = 1.0 / dx;
  f.area_over_vol[4] = f.area_over_vol[5] = 1.0 / dz;
  return f;
}

void check(const grid::Grid& g, std::span<const std::uint8_t> active) {
  if (active.size() != g.padded_size()) {
    throw std::invalid_argument("chemotaxis: active mask must cover the padded grid");
  }
}

}  // namespace

double chemotaxis_max_dt(grid::ConstFieldView c, double chi, std::span<const std::uint8_t> active) {
  const grid::Grid& g = *c.grid;
  check(g, active);
  double worst = 0.0;  // max over cells of sum of outflow rates (1/h)
#pragma omp parallel for collapse(2) reduction(max : worst) schedule(static)
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      for (int i = 0; i < g.nx; ++i) {
        const std::ptrdiff_t a = g.at(i, j, k);
        if (!active[static_cast<std::size_t>(a)]) continue;
        const Faces f = faces_of(g, i, j, k);
        double out = 0.0;
        for (int q = 0; q < 6; ++q) {
          if (f.dist[q] <= 0.0) continue;
          const std::ptrdiff_t b = a + f.off[q];
          if (!active[static_cast<std::size_t>(b)]) continue;
          const double w = chi * (c.data[b] - c.data[a]) / f.dist[q];
          if (w > 0.0) out += w * f.area_over_vol[q];
        }
        worst = std::max(worst, out);
      }
    }
  }
  return worst > 0.0 ? 1.0 / worst : std::numeric_limits<double>::infinity();
}

int chemotaxis_step(grid::FieldView u, grid::ConstFieldView c, double chi,
                    std::span<const std::uint8_t> active, double dt) {
  const grid::Grid& g = *u.grid;
  check(g, active);
  if (!(dt > 0.0) || chi == 0.0) return 0;
  const double limit = 0.5 * chemotaxis_max_dt(c, chi, active);
  const int steps = std::isfinite(limit) ? std::max(1, static_cast<int>(std::ceil(dt / limit))) : 1;
  const double h = dt / steps;
  std::vector<float> old(g.padded_size());
  for (int s = 0; s < steps; ++s) {
    std::copy(u.data, u.data + g.padded_size(), old.begin());
#pragma omp parallel for collapse(2) schedule(static)
    for (int k = 0; k < g.nz; ++k) {
      for (int j = 0; j < g.ny; ++j) {
        for (int i = 0; i < g.nx; ++i) {
          const std::ptrdiff_t a = g.at(i, j, k);
          if (!active[static_cast<std::size_t>(a)]) continue;
          const Faces f = faces_of(g, i, j, k);
          double du = 0.0;
          for (int q = 0; q < 6; ++q) {
            if (f.dist[q] <= 0.0) continue;
            const std::ptrdiff_t b = a + f.off[q];
            if (!active[static_cast<std::size_t>(b)]) continue;
            const double w = chi * (c.data[b] - c.data[a]) / f.dist[q];  // a -> b
            const double up =
                w > 0.0 ? old[static_cast<std::size_t>(a)] : old[static_cast<std::size_t>(b)];
            du -= w * up * f.area_over_vol[q];
          }
          u.data[a] = static_cast<float>(std::max(0.0, old[static_cast<std::size_t>(a)] + h * du));
        }
      }
    }
  }
  return steps;
}

}  // namespace mnsim::healing
