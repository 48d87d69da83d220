#include "healing/chemotaxis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/kernel.hpp"
#include "healing/team.hpp"
#include "healing/transpose.hpp"

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

constexpr double kUmPerM = 1e6;

/// One thread's scratch: the Thomas arrays of a batch of lines (n cells x lanes: inverse pivots,
/// upper coefficients, eliminated right-hand sides), rows of carried coefficients, and the
/// transposed planes of the x sweep.
struct Scratch {
  grid::AlignedBuffer iv, up, r, ex, cw, cp, on, gm;
  grid::AlignedBuffer ut, ct;
  /// Grows the buffers to these sizes (each value is written before it is read).
  void reserve(std::size_t cells, std::size_t lanes, std::size_t plane) {
    for (grid::AlignedBuffer* b : {&iv, &up, &r}) grow(*b, cells);
    for (grid::AlignedBuffer* b : {&ex, &cw, &cp, &on, &gm}) grow(*b, lanes);
    for (grid::AlignedBuffer* b : {&ut, &ct}) grow(*b, plane);
  }

 private:
  static void grow(grid::AlignedBuffer& b, std::size_t n) {
    if (b.size() < n) b = grid::AlignedBuffer(n);
  }
};
/// Each thread's scratch, kept from one step to the next.
thread_local Scratch thread_scratch;

/// A batch of `lanes` parallel lines of n cells: cell m of lane i is u[m * us + i] (likewise the
/// attractant c and the capacity cap), face m (between cells m and m + 1) of lane i is
/// on[m * os + i] (1: both cells active). inv_d[m] = chi / distance of face m (um), dm[m] =
/// motility / distance of face m (um/h), k[m] = dt / width of cell m (h/um).
struct Batch {
  float* u;
  std::ptrdiff_t us;
  const float* c;
  std::ptrdiff_t cs;
  const float* cap;
  std::ptrdiff_t caps;
  const std::uint8_t* on;
  std::ptrdiff_t os;
  int n, lanes;
  const float* inv_d;
  const float* dm;
  const float* k;
};

/// Backward-Euler upwind fluxes of every line of the batch, solved in place. Face m's flux
/// F = w+ u_m - w- u_{m+1}: w+- from the chemotactic speed v = chi (c_{m+1} - c_m) / dist
/// (upwind) and the capacity-form motility gm c_{m+1}, gm c_m with gm = 2 dm / (c_m + c_{m+1}) on
/// faces between active cells of positive capacity (else 0). Row m of the system is
///     -k_m w+_{m-1} x_{m-1} + (1 + k_m w+_m + k_m w-_{m-1}) x_m - k_m w-_m x_{m+1} = u_m.
/// Thomas algorithm in single precision without subtractions (the elimination of an M-matrix
/// whose columns, weighted by the cell widths, sum to the widths; as in the
/// Grassmann-Taksar-Heyman algorithm): the pivot is D_m = E_m + k_m w+_m with
///     E_0 = 1,  E_m = 1 + k_m w-_{m-1} E_{m-1} / D_{m-1},
/// the eliminated right-hand side r_m = u_m + k_m w+_{m-1} r_{m-1} / D_{m-1} and the solution
/// x_m = (r_m + k_m w-_m x_{m+1}) / D_m: sums and products of non-negative numbers, so every
/// value is accurate to a few float roundings for any dt (the textbook pivot, a difference of
/// large terms at long steps, lost digits in single precision), positive where u is, and a line
/// with no flux returns u unchanged. One division per cell (the inverse pivot). Assembly and
/// forward elimination share one pass over the cells.
template <bool Chemo, bool Motile>
MNSIM_KERNEL void solve_batch(const Batch& b, Scratch& s) {
  const int n = b.n, L = b.lanes;
  float* ex = s.ex.data();  // E_m: the pivot without the face below
  float* cw = s.cw.data();  // k_m w-_{m-1}: the face above, seen from this cell (0 in the first)
  float* cp = s.cp.data();  // k_m w+_{m-1}
  float* on = s.on.data();
  float* gm = s.gm.data();
#pragma omp simd
  for (int i = 0; i < L; ++i) {
    ex[i] = 1.0f;
    cw[i] = 0.0f;
    cp[i] = 0.0f;
  }
  for (int m = 0; m < n; ++m) {
    const std::size_t o = static_cast<std::size_t>(m) * static_cast<std::size_t>(L);
    const float* um = b.u + m * b.us;
    float* iv = s.iv.data() + o;
    float* up = s.up.data() + o;
    float* r = s.r.data() + o;
    // The previous cell's inverse pivot and right-hand side; for the first cell the zero row
    // cw (nothing to eliminate).
    const float* ivp = m > 0 ? iv - L : cw;
    const float* rp = m > 0 ? r - L : cw;
    if (m + 1 < n) {
      const float* c0 = Chemo ? b.c + m * b.cs : nullptr;
      const float* c1 = Chemo ? c0 + b.cs : nullptr;
      const float* ca = Motile ? b.cap + m * b.caps : nullptr;
      const float* cb = Motile ? ca + b.caps : nullptr;
      const float id = Chemo ? b.inv_d[m] : 0.0f, ka = b.k[m], kb = b.k[m + 1];
      {
        const std::uint8_t* ob = b.on + m * b.os;
#pragma omp simd
        for (int i = 0; i < L; ++i) on[i] = ob[i];
      }
      if constexpr (Motile) {  // the motility coefficient D c_f / (dist c_a c_b) of the face
        const float dmf = b.dm[m];
#pragma omp simd
        for (int i = 0; i < L; ++i) {
          const float a = ca[i], bb = cb[i];
          gm[i] = on[i] != 0.0f && a > 0.0f && bb > 0.0f ? dmf * 2.0f / (a + bb) : 0.0f;
        }
      }
#pragma omp simd
      for (int i = 0; i < L; ++i) {
        float wp = 0.0f, wm = 0.0f;
        if constexpr (Chemo) {
          const float dv = id * (c1[i] - c0[i]);
          const float v = on[i] != 0.0f ? dv : 0.0f;
          wp = v > 0.0f ? v : 0.0f;
          wm = v < 0.0f ? -v : 0.0f;
        }
        if constexpr (Motile) {
          const float g = gm[i];  // 0 where the face carries no flux
          wp += g * cb[i];
          wm += g * ca[i];
        }
        const float q = ivp[i];
        const float e = m > 0 ? 1.0f + cw[i] * ex[i] * q : 1.0f;
        r[i] = um[i] + cp[i] * rp[i] * q;
        iv[i] = 1.0f / (e + ka * wp);
        up[i] = ka * wm;
        ex[i] = e;
        cw[i] = kb * wm;
        cp[i] = kb * wp;
      }
    } else {
#pragma omp simd
      for (int i = 0; i < L; ++i) {
        const float q = ivp[i];
        const float e = m > 0 ? 1.0f + cw[i] * ex[i] * q : 1.0f;
        r[i] = um[i] + cp[i] * rp[i] * q;
        iv[i] = 1.0f / e;
        up[i] = 0.0f;
      }
    }
  }
  {
    const std::size_t o = static_cast<std::size_t>(n - 1) * static_cast<std::size_t>(L);
    float* r = s.r.data() + o;
    const float* iv = s.iv.data() + o;
    float* um = b.u + (n - 1) * b.us;
#pragma omp simd
    for (int i = 0; i < L; ++i) {
      const float x = r[i] * iv[i];
      r[i] = x;
      um[i] = x > 0.0f ? x : 0.0f;
    }
  }
  for (int m = n - 2; m >= 0; --m) {
    const std::size_t o = static_cast<std::size_t>(m) * static_cast<std::size_t>(L);
    float* r = s.r.data() + o;
    const float* iv = s.iv.data() + o;
    const float* up = s.up.data() + o;
    float* um = b.u + m * b.us;
#pragma omp simd
    for (int i = 0; i < L; ++i) {
      const float x = (r[i] + up[i] * r[i + L]) * iv[i];
      r[i] = x;
      um[i] = x > 0.0f ? x : 0.0f;
    }
  }
}

/// What the sweeps of one cell-transport step read (ChemotaxisOperator::sweep).
struct SweepPass {
  const grid::Grid* g;
  int w;
  float* u;
  const float* c;     // attractant (Chemo)
  const float* cap;   // capacity, padded (Motile)
  const float* capx;  // capacity, transposed planes (Motile)
  const std::uint8_t* on[3];
  const FaceBox* box[3];  // where faces carry flux: x and y per plane, z per row of columns
  const float* inv_dx;    // per-face chi / distance, motility / distance, dt / width
  const float* dm_dx;
  const float* k_dx;
  const float* inv_dz;
  const float* dm_dz;
  const float* k_dz;
};

/// The x and y lines of every plane, then the z lines, as worksharing loops of the calling team
/// (an enclosing parallel region: each member calls this once). Each direction takes only the
/// lanes and cells of its slab's FaceBox: lines and cells outside have no flux, and the solve
/// returns them as they are (but for the clamp of negative values to 0, which they do not hold:
/// docs/numerics.md, "Transport kernels").
template <bool Chemo, bool Motile>
MNSIM_KERNEL void sweep_lines(const SweepPass& p) {
  const grid::Grid& g = *p.g;
  const int nx = g.nx, ny = g.ny, nz = g.nz, w = p.w;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
  const std::size_t most = at(std::max({nx, ny, nz}));
  const std::size_t plane = at(nx) * at(w);
  Scratch& s = thread_scratch;
  s.reserve(std::max(plane, most * at(nx)), std::max(at(w), at(nx)), plane);
  // x lines, then y lines of each plane (each pass reads the previous pass's result).
#pragma omp for schedule(dynamic, 2)
  for (int k = 0; k < nz; ++k) {
    const FaceBox& bx = p.box[0][at(k)];
    if (!bx.empty()) {
      // Lanes from a multiple of 16 (the last within the tables' w), the cells of the faces
      // with flux.
      const int j0 = bx.lane_lo / transpose::kLanes * transpose::kLanes;
      const int nj = bx.lane_hi + 1 - j0, wj = transpose::lanes_for(nj);
      const int i0 = bx.face_lo, ni = bx.cells();
      float* up = p.u + g.at(i0, j0, k);
      const float* cp = Chemo ? p.c + g.at(i0, j0, k) : nullptr;
      const std::size_t qx = at(k) * plane + at(i0) * at(w) + at(j0);
      transpose::load_plane_t(up, sy, ni, nj, wj, s.ut.data());
      if (Chemo) transpose::load_plane_t(cp, sy, ni, nj, wj, s.ct.data());
      solve_batch<Chemo, Motile>(
          {s.ut.data(), wj, s.ct.data(), wj, Motile ? p.capx + qx : nullptr, w, p.on[0] + qx, w, ni,
           wj, p.inv_dx + i0, p.dm_dx + i0, p.k_dx + i0},
          s);
      transpose::store_plane_t(s.ut.data(), ni, nj, wj, up, sy);
    }
    const FaceBox& by = p.box[1][at(k)];
    if (!by.empty()) {
      const int i0 = by.lane_lo, j0 = by.face_lo;
      const std::ptrdiff_t a = g.at(i0, j0, k);
      const std::size_t qy = (at(k) * at(ny) + at(j0)) * at(nx) + at(i0);
      solve_batch<Chemo, Motile>(
          {p.u + a, sy, Chemo ? p.c + a : nullptr, sy, Motile ? p.cap + a : nullptr, sy,
           p.on[1] + qy, nx, by.cells(), by.lanes(), p.inv_dx + j0, p.dm_dx + j0, p.k_dx + j0},
          s);
    }
  }
  // No barrier at the end: on a team whoever reads this field waits at a barrier of its own
  // (healing/team.hpp).
#pragma omp for schedule(dynamic, 2) nowait
  for (int j = 0; j < ny; ++j) {
    const FaceBox& bz = p.box[2][at(j)];
    if (bz.empty()) continue;
    const int i0 = bz.lane_lo, k0 = bz.face_lo;
    const std::ptrdiff_t a = g.at(i0, j, k0);
    const std::size_t qz = (at(j) * at(nz) + at(k0)) * at(nx) + at(i0);
    solve_batch<Chemo, Motile>(
        {p.u + a, sz, Chemo ? p.c + a : nullptr, sz, Motile ? p.cap + a : nullptr, sz, p.on[2] + qz,
         nx, bz.cells(), bz.lanes(), p.inv_dz + k0, p.dm_dz + k0, p.k_dz + k0},
        s);
  }
}

}  // namespace

ChemotaxisOperator::ChemotaxisOperator(const grid::Grid& g, std::span<const std::uint8_t> active,
                                       double chi, const Motility& motility)
    : g_(&g), chi_(chi), mot_(0.0), w_(transpose::lanes_for(g.ny)) {
  check(g, active);
  const float* cap = motility.diffusivity > 0.0 ? motility.capacity.data : nullptr;
  if (motility.diffusivity > 0.0 && !cap) {
    throw std::invalid_argument("chemotaxis: motility needs a capacity field");
  }
  if (cap && motility.capacity.grid->padded_size() != g.padded_size()) {
    throw std::invalid_argument("chemotaxis: capacity field is on a different grid");
  }
  mot_ = cap ? motility.diffusivity : 0.0;
  const int nx = g.nx, ny = g.ny, nz = g.nz, w = w_;
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
  const std::size_t cells = at(nx) * at(ny) * at(nz);
  const bool chemo = chi != 0.0, motile = mot_ > 0.0;
  for (int d = 0; d < 3; ++d) {
    const std::size_t size = d == 0 ? at(nx) * at(w) * at(nz) : cells;
    if (chemo || motile) on_[d].assign(size, 0);
  }
  if (motile) {
    cap_.assign(cap, cap + g.padded_size());
    capx_.assign(at(nx) * at(w) * at(nz), 0.0f);
  }
  // Face from a to its + neighbour b at index q of direction d.
  const auto face = [&](int d, std::size_t q, std::ptrdiff_t a, std::ptrdiff_t b) {
    on_[d][q] = active[at(a)] && active[at(b)] ? 1 : 0;
  };
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const std::ptrdiff_t a = g.at(i, j, k);
        const std::size_t qx = (at(k) * at(nx) + at(i)) * at(w) + at(j);
        if (motile) capx_[qx] = cap[a];
        if (i + 1 < nx) face(0, qx, a, a + 1);
        if (j + 1 < ny) face(1, (at(k) * at(ny) + at(j)) * at(nx) + at(i), a, a + g.sy());
        if (k + 1 < nz) face(2, (at(j) * at(nz) + at(k)) * at(nx) + at(i), a, a + g.sz());
      }
  if (!chemo && !motile) return;
  box_[0].resize(at(nz));
  box_[1].resize(at(nz));
  box_[2].resize(at(ny));
  for (int k = 0; k < nz; ++k) {
    box_[0][at(k)] = face_box(on_[0].data() + at(k) * at(nx) * at(w), w, nx, ny);
    box_[1][at(k)] = face_box(on_[1].data() + at(k) * at(ny) * at(nx), nx, ny, nx);
  }
  for (int j = 0; j < ny; ++j) {
    box_[2][at(j)] = face_box(on_[2].data() + at(j) * at(nz) * at(nx), nx, nz, nx);
  }
}

void ChemotaxisOperator::step(grid::FieldView u, grid::ConstFieldView c, double dt) const {
  const bool chemo = chi_ != 0.0, motile = mot_ > 0.0;
  if (!(dt > 0.0) || (!chemo && !motile)) return;
  if (chemo && !c.data) throw std::invalid_argument("chemotaxis: chi needs an attractant");
  if (u.grid->padded_size() != g_->padded_size() ||
      (chemo && c.grid->padded_size() != g_->padded_size())) {
    throw std::invalid_argument("chemotaxis: field on a different grid");
  }
  if (chemo && motile) {
    sweep<true, true>(u, c, dt);
  } else if (chemo) {
    sweep<true, false>(u, c, dt);
  } else {
    sweep<false, true>(u, c, dt);
  }
}

template <bool Chemo, bool Motile>
MNSIM_KERNEL void ChemotaxisOperator::sweep(grid::FieldView u, grid::ConstFieldView c,
                                            double dt) const {
  const grid::Grid& g = *g_;
  const int nx = g.nx, ny = g.ny, nz = g.nz, w = w_;
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
  const double dx = g.dx * kUmPerM;
  // Per-face chi / distance and per-cell dt / width: uniform in x and y, by depth in z.
  const auto f = [](double v) { return static_cast<float>(v); };
  const std::vector<float> inv_dx(at(std::max(nx, ny)), f(chi_ / dx)),
      k_dx(inv_dx.size(), f(dt / dx)), dm_dx(inv_dx.size(), f(mot_ / dx));
  std::vector<float> inv_dz(at(nz), 0.0f), k_dz(at(nz)), dm_dz(at(nz), 0.0f);
  for (int k = 0; k < nz; ++k) {
    if (k + 1 < nz) {
      const double dist = (g.zc(k + 1) - g.zc(k)) * kUmPerM;
      inv_dz[at(k)] = f(chi_ / dist);
      dm_dz[at(k)] = f(mot_ / dist);  // um/h per unit of u / c
    }
    k_dz[at(k)] = f(dt / (g.dz(k) * kUmPerM));
  }
  const float* cd = Chemo ? c.data : nullptr;
  const float* capd = Motile ? cap_.data() : nullptr;
  const SweepPass pass{&g,
                       w,
                       u.data,
                       cd,
                       capd,
                       Motile ? capx_.data() : nullptr,
                       {on_[0].data(), on_[1].data(), on_[2].data()},
                       {box_[0].data(), box_[1].data(), box_[2].data()},
                       inv_dx.data(),
                       dm_dx.data(),
                       k_dx.data(),
                       inv_dz.data(),
                       dm_dz.data(),
                       k_dz.data()};
  if (in_team()) {
    sweep_lines<Chemo, Motile>(pass);  // the team's loops (healing/team.hpp)
  } else {
#pragma omp parallel if (threads_pay(g))
    sweep_lines<Chemo, Motile>(pass);
  }
}

void chemotaxis_step_implicit(grid::FieldView u, grid::ConstFieldView c, double chi,
                              std::span<const std::uint8_t> active, double dt,
                              const Motility& motility) {
  const grid::Grid& g = *u.grid;
  check(g, active);
  const bool motile = motility.diffusivity > 0.0;
  if (motile && !motility.capacity.data) {
    throw std::invalid_argument("chemotaxis: motility needs a capacity field");
  }
  if (!(dt > 0.0) || (chi == 0.0 && !motile)) return;
  if (chi != 0.0 && !c.data) throw std::invalid_argument("chemotaxis: chi needs an attractant");
  ChemotaxisOperator(g, active, chi, motility).step(u, c, dt);
}

}  // namespace mnsim::healing
