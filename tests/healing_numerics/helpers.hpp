// Shared helpers of the numerics verification tests: analytic solutions and a plain textbook
// LOD/Thomas reference solver in double precision.
#pragma once

#include <cmath>
#include <numbers>
#include <vector>

#include "grid/grid.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing::testing {

/// Grid with n cells per axis on [0, L]^3, z faces stretched smoothly (a = 0: uniform):
/// z = L (xi + a sin(2 pi xi) / (2 pi)), so dz varies between (1 - a) and (1 + a) times L / n.
inline grid::Grid stretched_grid(int n, double L, double a) {
  grid::Grid g = grid::Grid::uniform(n, n, n, L / n);
  for (int k = 0; k <= n; ++k) {
    const double xi = static_cast<double>(k) / n;
    g.zf[static_cast<std::size_t>(k)] =
        L * (xi + a * std::sin(2.0 * std::numbers::pi * xi) / (2.0 * std::numbers::pi));
  }
  return g;
}

/// 1-D heat kernel of a unit mass released at x = L/2 in [0, L] with zero-flux walls (images).
inline double neumann_kernel_1d(double x, double L, double D, double t) {
  double s = 0.0;
  for (int m = -4; m <= 4; ++m) {
    const double d = x - 0.5 * L - m * L;
    s += std::exp(-d * d / (4.0 * D * t));
  }
  return s / std::sqrt(4.0 * std::numbers::pi * D * t);
}

/// Point mass at the box centre, time t, at cell (i, j, k) centre.
inline double gaussian_box(const grid::Grid& g, int i, int j, int k, double D, double t) {
  const double L = g.nx * g.dx;
  return neumann_kernel_1d(g.xc(i), L, D, t) * neumann_kernel_1d(g.yc(j), g.ny * g.dx, D, t) *
         neumann_kernel_1d(g.zc(k), g.depth(), D, t);
}

inline void fill_gaussian(grid::FieldView u, double D, double t) {
  const grid::Grid& g = *u.grid;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        u(i, j, k) = static_cast<float>(gaussian_box(g, i, j, k, D, t));
}

/// Relative L2 error (volume weighted) of u against the Gaussian at time t.
inline double gaussian_l2_error(grid::ConstFieldView u, double D, double t) {
  const grid::Grid& g = *u.grid;
  double num = 0.0, den = 0.0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const double a = gaussian_box(g, i, j, k, D, t);
        const double d = u(i, j, k) - a;
        num += d * d * g.dz(k);
        den += a * a * g.dz(k);
      }
  return std::sqrt(num / den);
}

/// Textbook LOD backward Euler (x, then y, then z) with decay folded in as an exact factor,
/// uniform D, zero-flux walls, double precision, one Thomas solve per line. Interior only,
/// array indexed [i + nx (j + ny k)].
inline void reference_lod_step(std::vector<double>& u, const grid::Grid& g, double D, double decay,
                               double dt) {
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const double f = std::exp(-decay * dt);
  for (double& v : u) v *= f;
  auto idx = [&](int i, int j, int k) { return static_cast<std::size_t>(i + nx * (j + ny * k)); };
  std::vector<double> a, b, c, d;
  // x and y: uniform spacing dx.
  const double r = D * dt / (g.dx * g.dx);
  for (int axis = 0; axis < 2; ++axis) {
    const int n = axis == 0 ? nx : ny;
    for (int k = 0; k < nz; ++k)
      for (int m = 0; m < (axis == 0 ? ny : nx); ++m) {
        a.assign(n, -r);
        c.assign(n, -r);
        a[0] = 0.0;
        c[static_cast<std::size_t>(n) - 1] = 0.0;
        b.assign(n, 1.0);
        d.assign(n, 0.0);
        for (int l = 0; l < n; ++l) {
          b[l] -= a[l] + c[l];
          d[l] = axis == 0 ? u[idx(l, m, k)] : u[idx(m, l, k)];
        }
        solve_tridiagonal(a, b, c, d);
        for (int l = 0; l < n; ++l) (axis == 0 ? u[idx(l, m, k)] : u[idx(m, l, k)]) = d[l];
      }
  }
  // z: non-uniform spacing, face conductance D / (distance between centres).
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      a.assign(nz, 0.0);
      c.assign(nz, 0.0);
      b.assign(nz, 1.0);
      d.assign(nz, 0.0);
      for (int k = 0; k < nz; ++k) {
        if (k > 0) a[k] = -dt * D / (g.zc(k) - g.zc(k - 1)) / g.dz(k);
        if (k + 1 < nz) c[k] = -dt * D / (g.zc(k + 1) - g.zc(k)) / g.dz(k);
        b[k] -= a[k] + c[k];
        d[k] = u[idx(i, j, k)];
      }
      solve_tridiagonal(a, b, c, d);
      for (int k = 0; k < nz; ++k) u[idx(i, j, k)] = d[k];
    }
}

}  // namespace mnsim::healing::testing
