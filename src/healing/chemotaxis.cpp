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

/// Calls fn(b, w, area_over_vol) for each face of the active cell a = (i, j, k) whose neighbour b
/// is active: w = chi (c_b - c_a) / distance is the advection velocity from a to b (um/h).
template <class Fn>
void for_each_flux(const grid::Grid& g, const float* c, double chi,
                   std::span<const std::uint8_t> active, int i, int j, int k, std::ptrdiff_t a,
                   Fn fn) {
  const Faces f = faces_of(g, i, j, k);
  for (int q = 0; q < 6; ++q) {
    if (f.dist[q] <= 0.0) continue;
    const std::ptrdiff_t b = a + f.off[q];
    if (!active[static_cast<std::size_t>(b)]) continue;
    fn(b, chi * (c[b] - c[a]) / f.dist[q], f.area_over_vol[q]);
  }
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
        double out = 0.0;
        for_each_flux(g, c.data, chi, active, i, j, k, a, [&](std::ptrdiff_t, double w, double av) {
          if (w > 0.0) out += w * av;
        });
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
          double du = 0.0;
          for_each_flux(
              g, c.data, chi, active, i, j, k, a, [&](std::ptrdiff_t b, double w, double av) {
                const double up =
                    w > 0.0 ? old[static_cast<std::size_t>(a)] : old[static_cast<std::size_t>(b)];
                du -= w * up * av;
              });
          u.data[a] = static_cast<float>(std::max(0.0, old[static_cast<std::size_t>(a)] + h * du));
        }
      }
    }
  }
  return steps;
}

namespace {

/// A batch of `lanes` parallel grid lines of `n` cells each, solved together and vectorised over
/// the lanes: the m-th cell of lane i sits at first + m * stride + i * lane_stride. Widths and
/// centre distances (um) come from width(m) and dist(m). Per lane, the tridiagonal system of the
/// backward-Euler upwind fluxes is solved by the Thomas algorithm (stable without pivoting: the
/// width-weighted matrix is column diagonally dominant), in double precision, in place.
struct BatchScratch {
  std::vector<double> lower, diag, upper, rhs;
  BatchScratch(std::size_t n, std::size_t lanes)
      : lower(n * lanes), diag(n * lanes), upper(n * lanes), rhs(n * lanes) {}
};

template <class WidthFn, class DistFn>
void solve_batch(float* u, const float* c, const std::uint8_t* active, std::ptrdiff_t first,
                 std::ptrdiff_t stride, int n, std::ptrdiff_t lane_stride, int lanes, double chi,
                 double dt, WidthFn width, DistFn dist, BatchScratch& s, double mot = 0.0,
                 const float* cap = nullptr) {
  const auto w = static_cast<std::size_t>(lanes);
  double* lo = s.lower.data();
  double* di = s.diag.data();
  double* up = s.upper.data();
  double* r = s.rhs.data();
  for (int m = 0; m < n; ++m) {
    const float* um = u + first + m * stride;
    const std::size_t o = static_cast<std::size_t>(m) * w;
#pragma omp simd
    for (int i = 0; i < lanes; ++i) {
      lo[o + i] = 0.0;
      up[o + i] = 0.0;
      di[o + i] = 1.0;
      r[o + i] = um[i * lane_stride];
    }
  }
  for (int m = 0; m + 1 < n; ++m) {
    const std::ptrdiff_t a0 = first + m * stride, b0 = a0 + stride;
    const double inv_d = chi / dist(m);
    const double dm = cap ? mot / dist(m) : 0.0;  // um/h per unit of u / c
    const double ka = dt / width(m), kb = dt / width(m + 1);
    const std::size_t oa = static_cast<std::size_t>(m) * w, ob = oa + w;
#pragma omp simd
    for (int i = 0; i < lanes; ++i) {
      const std::ptrdiff_t a = a0 + i * lane_stride, b = b0 + i * lane_stride;
      const bool on = active[a] && active[b];
      const double v = on && c ? inv_d * (static_cast<double>(c[b]) - c[a]) : 0.0;  // um/h, a -> b
      // Face flux F = wp u_a - wm u_b leaves a and enters b.
      double wp = v > 0.0 ? v : 0.0, wm = v < 0.0 ? -v : 0.0;
      if (on && dm > 0.0) {  // capacity-form motility: D c_f (u_a / c_a - u_b / c_b) / dist
        const double ca = cap[a], cb = cap[b];
        if (ca > 0.0 && cb > 0.0) {
          const double g = dm * 2.0 / (ca + cb);  // D c_f / dist / (c_a c_b)
          wp += g * cb;
          wm += g * ca;
        }
      }
      di[oa + i] += ka * wp;
      up[oa + i] -= ka * wm;
      di[ob + i] += kb * wm;
      lo[ob + i] -= kb * wp;
    }
  }
  for (int m = 1; m < n; ++m) {
    const std::size_t o = static_cast<std::size_t>(m) * w, op = o - w;
#pragma omp simd
    for (int i = 0; i < lanes; ++i) {
      const double f = lo[o + i] / di[op + i];
      di[o + i] -= f * up[op + i];
      r[o + i] -= f * r[op + i];
    }
  }
  {
    const std::size_t o = static_cast<std::size_t>(n - 1) * w;
    float* um = u + first + (n - 1) * stride;
#pragma omp simd
    for (int i = 0; i < lanes; ++i) {
      r[o + i] /= di[o + i];
      um[i * lane_stride] = static_cast<float>(r[o + i] > 0.0 ? r[o + i] : 0.0);
    }
  }
  for (int m = n - 2; m >= 0; --m) {
    const std::size_t o = static_cast<std::size_t>(m) * w, on = o + w;
    float* um = u + first + m * stride;
#pragma omp simd
    for (int i = 0; i < lanes; ++i) {
      r[o + i] = (r[o + i] - up[o + i] * r[on + i]) / di[o + i];
      um[i * lane_stride] = static_cast<float>(r[o + i] > 0.0 ? r[o + i] : 0.0);
    }
  }
}

}  // namespace

void chemotaxis_step_implicit(grid::FieldView u, grid::ConstFieldView c, double chi,
                              std::span<const std::uint8_t> active, double dt,
                              const Motility& motility) {
  const grid::Grid& g = *u.grid;
  check(g, active);
  const float* cap = motility.diffusivity > 0.0 ? motility.capacity.data : nullptr;
  if (motility.diffusivity > 0.0 && !cap) {
    throw std::invalid_argument("chemotaxis: motility needs a capacity field");
  }
  const double mot = cap ? motility.diffusivity : 0.0;
  if (!(dt > 0.0) || (chi == 0.0 && !cap)) return;
  if (chi != 0.0 && !c.data) throw std::invalid_argument("chemotaxis: chi needs an attractant");
  const double um = 1e6;
  const double dx = g.dx * um;
  const std::uint8_t* act = active.data();
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const auto uniform_w = [dx](int) { return dx; };
  // x lines, then y lines, then z lines (each pass reads the previous pass's result). Each batch
  // holds the lines of one plane (x, y) or one row (z), vectorised across them.
  const std::size_t most = static_cast<std::size_t>(std::max({nx, ny, nz}));
#pragma omp parallel
  {
    BatchScratch b(most, most);
#pragma omp for schedule(static)
    for (int k = 0; k < nz; ++k)
      solve_batch(u.data, c.data, act, g.at(0, 0, k), 1, nx, g.sy(), ny, chi, dt, uniform_w,
                  uniform_w, b, mot, cap);
#pragma omp for schedule(static)
    for (int k = 0; k < nz; ++k)
      solve_batch(u.data, c.data, act, g.at(0, 0, k), g.sy(), ny, 1, nx, chi, dt, uniform_w,
                  uniform_w, b, mot, cap);
#pragma omp for schedule(static)
    for (int j = 0; j < ny; ++j)
      solve_batch(
          u.data, c.data, act, g.at(0, j, 0), g.sz(), nz, 1, nx, chi, dt,
          [&g, um](int k) { return g.dz(k) * um; },
          [&g, um](int k) { return (g.zc(k + 1) - g.zc(k)) * um; }, b, mot, cap);
  }
}

}  // namespace mnsim::healing
