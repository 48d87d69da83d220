#include "healing/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/kernel.hpp"
#include "healing/screen.hpp"
#include "healing/team.hpp"
#include "healing/transpose.hpp"

namespace mnsim::healing {

namespace {

using grid::ConstFieldView;
using grid::FieldView;
using grid::Grid;
using transpose::load_plane_t;
using transpose::store_plane_t;

/// Heavy loops use dynamic scheduling over planes/rows: on a shared machine a thread that is
/// descheduled does not hold the others at the barrier. Every plane/row is computed by the same
/// code whichever thread takes it, so results do not depend on the schedule.
/// Small grids run serially (threads_pay, healing/team.hpp): thread start-up and barriers would
/// cost more than the work (the arithmetic per cell is the same either way).
inline bool worth_threads(const Grid& g) {
  return threads_pay(g);
}

/// u <- u f + s is the exact solution of u' = -decay u + source over dt.
inline void decay_factors(double dt, double decay, double source, float& f, float& s) {
  f = static_cast<float>(std::exp(-decay * dt));
  s = static_cast<float>(decay > 0.0 ? source * (-std::expm1(-decay * dt)) / decay : source * dt);
}

/// Conductance coefficient of a face between two equal half cells: harmonic mean of e1, e2.
inline float harmonic(float e1, float e2) {
  const float s = e1 + e2;
  return s > 0.0f ? 2.0f * e1 * e2 / s : 0.0f;
}

/// Thomas factors of -a_l u_{l-1} + b_l u_l - c_l u_{l+1} = d_l, written to p, q, c at offset.
void factor_line(const std::vector<double>& a, const std::vector<double>& b,
                 const std::vector<double>& c, float* p, float* q, float* cp) {
  const std::size_t n = b.size();
  double cprev = 0.0;
  for (std::size_t l = 0; l < n; ++l) {
    const double den = b[l] - a[l] * cprev;
    const double r = 1.0 / den;
    p[l] = static_cast<float>(r);
    q[l] = static_cast<float>(a[l] * r);
    cprev = c[l] * r;
    cp[l] = static_cast<float>(cprev);
  }
}

}  // namespace

Diffusion::Diffusion(const Grid& g, DiffusionSpec spec) : g_(&g), spec_(std::move(spec)) {
  const auto nz = static_cast<std::size_t>(g.nz);
  if (g.nx < 1 || g.ny < 1 || g.nz < 1 || g.zf.size() != nz + 1 || !(g.dx > 0.0)) {
    throw std::invalid_argument("internal: Diffusion on an empty or malformed grid");
  }
  if (spec_.diffusivity.size() == 1) {
    dk_.assign(nz, spec_.diffusivity[0]);
  } else if (spec_.diffusivity.size() == nz) {
    dk_ = spec_.diffusivity;
  } else {
    throw std::invalid_argument("internal: diffusivity needs 1 or nz = " + std::to_string(nz) +
                                " values, got " + std::to_string(spec_.diffusivity.size()));
  }
  for (double d : dk_) {
    if (!(d >= 0.0) || !std::isfinite(d)) {
      throw std::invalid_argument("internal: diffusivity must be finite and >= 0");
    }
    diffuses_ = diffuses_ || d > 0.0;
  }
  // One diffusivity on every layer: the permeability path keeps its face conductances without
  // it (of p alone, shared by every field on the same permeability) and multiplies it into the
  // step's coefficients.
  d_free_ = diffuses_ && std::all_of(dk_.begin(), dk_.end(), [&](double d) { return d == dk_[0]; });
  if (!(spec_.decay >= 0.0) || !std::isfinite(spec_.decay) || !std::isfinite(spec_.source)) {
    throw std::invalid_argument("internal: decay must be finite and >= 0, source finite");
  }
  if (spec_.top_value && !std::isfinite(*spec_.top_value)) {
    throw std::invalid_argument("internal: Dirichlet top value must be finite");
  }
  if (spec_.permeability.data && spec_.permeability.grid->padded_size() != g.padded_size()) {
    throw std::invalid_argument("internal: permeability field is on a different grid");
  }
  // z-face conductances (permeability 1): series of the two half cells.
  gz_.assign(nz + 1, 0.0);
  for (int k = 1; k < g.nz; ++k) {
    const double d1 = dk_[static_cast<std::size_t>(k) - 1], d2 = dk_[static_cast<std::size_t>(k)];
    if (d1 > 0.0 && d2 > 0.0) {
      gz_[static_cast<std::size_t>(k)] = 1.0 / (g.dz(k - 1) / (2.0 * d1) + g.dz(k) / (2.0 * d2));
    }
  }
  if (spec_.top_value) gz_[0] = 2.0 * dk_[0] / g.dz(0);
  // Explicit limit: dt * (sum of neighbour coefficients) <= 1 in every cell (permeability
  // <= 1 only lowers the face coefficients, harmonic and series means being monotone).
  double smax = 0.0;
  const double nxy = (g.nx > 1 ? 2.0 : 0.0) + (g.ny > 1 ? 2.0 : 0.0);
  for (int k = 0; k < g.nz; ++k) {
    const auto kk = static_cast<std::size_t>(k);
    const double s = nxy * dk_[kk] / (g.dx * g.dx) + (gz_[kk] + gz_[kk + 1]) / g.dz(k);
    smax = std::max(smax, s);
  }
  dt_explicit_ = smax > 0.0 ? 1.0 / smax : std::numeric_limits<double>::infinity();
}

void Diffusion::factorize(double dt) {
  if (dt == factored_dt_) return;
  const Grid& g = *g_;
  const auto nx = static_cast<std::size_t>(g.nx), ny = static_cast<std::size_t>(g.ny),
             nz = static_cast<std::size_t>(g.nz);
  fx_.p.assign(nx * nz, 1.0f);
  fx_.q.assign(nx * nz, 0.0f);
  fx_.c.assign(nx * nz, 0.0f);
  fy_.p.assign(ny * nz, 1.0f);
  fy_.q.assign(ny * nz, 0.0f);
  fy_.c.assign(ny * nz, 0.0f);
  std::vector<double> a, b, c;
  auto uniform_axis = [&](std::size_t n, double coef, Factor& f, std::size_t k) {
    a.assign(n, coef);
    c.assign(n, coef);
    a[0] = 0.0;
    c[n - 1] = 0.0;
    b.assign(n, 1.0);
    for (std::size_t l = 0; l < n; ++l) b[l] += a[l] + c[l];
    factor_line(a, b, c, f.p.data() + k * n, f.q.data() + k * n, f.c.data() + k * n);
  };
  for (std::size_t k = 0; k < nz; ++k) {
    const double coef = dt * dk_[k] / (g.dx * g.dx);
    uniform_axis(nx, coef, fx_, k);
    uniform_axis(ny, coef, fy_, k);
  }
  a.assign(nz, 0.0);
  c.assign(nz, 0.0);
  b.assign(nz, 1.0);
  for (std::size_t k = 0; k < nz; ++k) {
    const double h = g.dz(static_cast<int>(k));
    if (k > 0) a[k] = dt * gz_[k] / h;
    if (k + 1 < nz) c[k] = dt * gz_[k + 1] / h;
    b[k] += a[k] + c[k];
  }
  double top = 0.0;
  if (spec_.top_value) {
    top = dt * gz_[0] / g.dz(0);
    b[0] += top;
  }
  top_rhs_coef_ = static_cast<float>(top * spec_.top_value.value_or(0.0));
  fz_.p.resize(nz);
  fz_.q.resize(nz);
  fz_.c.resize(nz);
  factor_line(a, b, c, fz_.p.data(), fz_.q.data(), fz_.c.data());
  factored_dt_ = dt;
}

void Diffusion::step_implicit(FieldView u, double dt) {
  if (!(dt > 0.0)) throw std::invalid_argument("internal: implicit step needs dt > 0");
  if (u.grid->padded_size() != g_->padded_size()) {
    throw std::invalid_argument("internal: field is on a different grid");
  }
  if (!diffuses_ && !spec_.top_value) {
    decay_source(u, dt, spec_.decay, spec_.source);
  } else if (spec_.permeability.data) {
    decay_source(u, dt, spec_.decay, spec_.source);
    Diffusion* self = this;
    implicit_variable({&self, 1}, {&u, 1}, {&dt, 1});
  } else {
    implicit_uniform(u, dt);  // decay/source fused into its first pass
  }
}

// ---------------------------------------------------------------------------------------------
// Implicit LOD, uniform permeability: precomputed Thomas factors, lines solved as SIMD lanes.

MNSIM_KERNEL void Diffusion::implicit_uniform(FieldView u, double dt) {
  factorize(dt);
  const Grid& g = *g_;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  float* const base = u.data + g.at(0, 0, 0);
  const bool big = worth_threads(g);
  float decay_f = 1.0f, source_s = 0.0f;
  decay_factors(dt, spec_.decay, spec_.source, decay_f, source_s);

#pragma omp parallel if (big)
  {
    // The x sweep solves all ny lines of a plane together: transposed, one SIMD lane per line,
    // so that the recurrence along x runs on ny / 16 independent vectors at a time.
    const int w = transpose::lanes_for(ny);
    grid::AlignedBuffer bufstore(static_cast<std::size_t>(nx) * static_cast<std::size_t>(w));
    float* buf = bufstore.data();
#pragma omp for schedule(dynamic, 2)
    for (int k = 0; k < nz; ++k) {
      float* plane = base + k * sz;
      const std::size_t kk = static_cast<std::size_t>(k);
      if (decay_f != 1.0f || source_s != 0.0f) {  // exact decay/source, same as decay_source()
        for (int j = 0; j < ny; ++j) {
          float* row = plane + j * sy;
          for (int i = 0; i < nx; ++i) row[i] = row[i] * decay_f + source_s;
        }
      }
      if (nx > 1 && dk_[kk] > 0.0) {
        const float* p = fx_.p.data() + kk * nx;
        const float* q = fx_.q.data() + kk * nx;
        const float* c = fx_.c.data() + kk * nx;
        load_plane_t(plane, sy, nx, ny, w, buf);
        {
          const float p0 = p[0];
          for (int l = 0; l < w; ++l) buf[l] *= p0;
        }
        for (int i = 1; i < nx; ++i) {
          const float pi = p[i], qi = q[i];
          float* cur = buf + static_cast<std::ptrdiff_t>(i) * w;
          const float* prev = cur - w;
          for (int l = 0; l < w; ++l) cur[l] = pi * cur[l] + qi * prev[l];
        }
        for (int i = nx - 2; i >= 0; --i) {
          const float ci = c[i];
          float* cur = buf + static_cast<std::ptrdiff_t>(i) * w;
          const float* next = cur + w;
          for (int l = 0; l < w; ++l) cur[l] += ci * next[l];
        }
        store_plane_t(buf, nx, ny, w, plane, sy);
      }
      if (ny > 1 && dk_[kk] > 0.0) {
        const float* p = fy_.p.data() + kk * ny;
        const float* q = fy_.q.data() + kk * ny;
        const float* c = fy_.c.data() + kk * ny;
        {
          const float p0 = p[0];
          for (int i = 0; i < nx; ++i) plane[i] *= p0;
        }
        for (int j = 1; j < ny; ++j) {
          float* cur = plane + j * sy;
          const float* prev = cur - sy;
          const float pj = p[j], qj = q[j];
          for (int i = 0; i < nx; ++i) cur[i] = pj * cur[i] + qj * prev[i];
        }
        for (int j = ny - 2; j >= 0; --j) {
          float* cur = plane + j * sy;
          const float* next = cur + sy;
          const float cj = c[j];
          for (int i = 0; i < nx; ++i) cur[i] += cj * next[i];
        }
      }
    }

    const bool zsolve = (nz > 1 && diffuses_) || spec_.top_value.has_value();
    if (zsolve) {
      const float* p = fz_.p.data();
      const float* q = fz_.q.data();
      const float* c = fz_.c.data();
      const float top = top_rhs_coef_;
#pragma omp for schedule(dynamic, 2)
      for (int j = 0; j < ny; ++j) {
        float* col = base + j * sy;
        {
          const float p0 = p[0];
          for (int i = 0; i < nx; ++i) col[i] = p0 * (col[i] + top);
        }
        for (int k = 1; k < nz; ++k) {
          float* cur = col + k * sz;
          const float* prev = cur - sz;
          const float pk = p[k], qk = q[k];
          for (int i = 0; i < nx; ++i) cur[i] = pk * cur[i] + qk * prev[i];
        }
        for (int k = nz - 2; k >= 0; --k) {
          float* cur = col + k * sz;
          const float* next = cur + sz;
          const float ck = c[k];
          for (int i = 0; i < nx; ++i) cur[i] += ck * next[i];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Implicit LOD with a per-voxel permeability: face conductances from the permeability (once per
// run when it is fixed), Thomas per line with the lines of a plane (x, y) or row (z) as lanes.

void Diffusion::face_conductances() {
  const Grid& g = *g_;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  const float* const pbase = spec_.permeability.data + g.at(0, 0, 0);
  const int w = transpose::lanes_for(ny);
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
  const std::size_t cells = at(nx) * at(ny) * at(nz);
  if (!cond_) cond_ = std::make_shared<Conductances>();
  Conductances& cf = *cond_;
  cf.x.assign(at(nx) * at(w) * at(nz), 0.0f);
  cf.y.assign(cells, 0.0f);
  cf.z.assign(cells, 0.0f);
  cf.bx.assign(at(nz), FaceBox{});
  cf.by.assign(at(nz), FaceBox{});
  cf.bz.assign(at(ny), FaceBox{});
  const bool big = worth_threads(g);
#pragma omp parallel for schedule(static) if (big)
  for (int k = 0; k < nz; ++k) {
    const std::size_t kk = at(k);
    const float dk = static_cast<float>(dk_[kk] / cond_scale());
    // z faces: the series of the two half cells, D_k p_k and D_{k+1} p_{k+1} over dz_k, dz_{k+1}.
    const float h = static_cast<float>(g.dz(k));
    const float d2 = k + 1 < nz ? static_cast<float>(dk_[kk + 1] / cond_scale()) : 0.0f;
    const float h2 = k + 1 < nz ? static_cast<float>(g.dz(k + 1)) : 1.0f;
    for (int j = 0; j < ny; ++j) {
      const float* pc = pbase + k * sz + j * sy;
      float* fx = cf.x.data() + kk * at(nx) * at(w) + at(j);
      float* fy = cf.y.data() + (kk * at(ny) + at(j)) * at(nx);
      float* fz = cf.z.data() + (at(j) * at(nz) + kk) * at(nx);
      for (int i = 0; i + 1 < nx; ++i) fx[at(i) * at(w)] = harmonic(dk * pc[i], dk * pc[i + 1]);
      if (j + 1 < ny) {
        const float* pn = pc + sy;
        for (int i = 0; i < nx; ++i) fy[i] = harmonic(dk * pc[i], dk * pn[i]);
      }
      if (k + 1 < nz) {
        const float* pn = pc + sz;
        for (int i = 0; i < nx; ++i) {
          const float e1 = dk * pc[i], e2 = d2 * pn[i];
          const float den = h * e2 + h2 * e1;
          fz[i] = den > 0.0f ? 2.0f * e1 * e2 / den : 0.0f;
        }
      }
    }
    cf.bx[kk] = face_box(cf.x.data() + kk * at(nx) * at(w), w, nx, ny);
    cf.by[kk] = face_box(cf.y.data() + kk * at(ny) * at(nx), nx, ny, nx);
  }
#pragma omp parallel for schedule(static) if (big)
  for (int j = 0; j < ny; ++j) {
    cf.bz[at(j)] = face_box(cf.z.data() + at(j) * at(nz) * at(nx), nx, nz, nx);
  }
}

namespace {

/// How one field of a shared-conductance pass takes part in the elimination: Solo computes its
/// own pivots; Lead computes them and keeps their inverses in R for the field after it; Follow
/// (the same step as the field before) takes the inverse pivots from R and the eliminated
/// upper coefficients from C instead of computing them: the same numbers, so the same results.
enum class Role { Solo, Lead, Follow };

/// One row of lanes of the forward elimination of the x or y sweep: ap = k f is the
/// coefficient of the face after the row, A holds the one before (the previous row's ap).
template <Role R, bool First>
inline void eliminate_row(float* cur, const float* uprev, const float* f, float k, float* cp,
                          const float* cprev, float* rr, float* A, int n) {
#pragma omp simd
  for (int l = 0; l < n; ++l) {
    const float ap = k * f[l];
    const float a = A[l];
    const float um = !First ? uprev[l] : 0.0f;
    float r;
    if constexpr (R == Role::Follow) {
      r = rr[l];
    } else {
      const float cm = !First ? cprev[l] : 0.0f;
      r = 1.0f / (1.0f + a + ap - a * cm);
      cp[l] = ap * r;
      if constexpr (R == Role::Lead) rr[l] = r;
    }
    cur[l] = (cur[l] + a * um) * r;
    A[l] = ap;
  }
}

/// One row of lanes of the back substitution: cur += cp next.
inline void substitute_row(float* cur, const float* next, const float* cp, int n) {
#pragma omp simd
  for (int l = 0; l < n; ++l) cur[l] += cp[l] * next[l];
}

/// The x sweep of one transposed plane U (n rows of w lanes), faces fx with row stride fs.
template <Role R>
MNSIM_KERNEL void solve_x(float* U, int w, const float* fx, std::ptrdiff_t fs, float* C, float* Rb,
                          float* A, int n, float kxy) {
  for (int l = 0; l < w; ++l) A[l] = 0.0f;
  eliminate_row<R, true>(U, U, fx, n > 1 ? kxy : 0.0f, C, C, Rb, A, w);
  for (int i = 1; i < n; ++i) {
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(i) * w;
    float* cur = U + o;
    eliminate_row<R, false>(cur, cur - w, fx + i * fs, i + 1 < n ? kxy : 0.0f, C + o, C + o - w,
                            Rb + o, A, w);
  }
  for (int i = n - 2; i >= 0; --i) {
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(i) * w;
    substitute_row(U + o, U + o + w, C + o, w);
  }
}

/// The y sweep of a plane in place (n rows of w lanes, row stride sy), faces fy with row stride
/// fs.
template <Role R>
MNSIM_KERNEL void solve_y(float* plane, std::ptrdiff_t sy, const float* fy, std::ptrdiff_t fs,
                          float* C, float* Rb, float* A, int w, int n, float kxy) {
  for (int i = 0; i < w; ++i) A[i] = 0.0f;
  eliminate_row<R, true>(plane, plane, fy, n > 1 ? kxy : 0.0f, C, C, Rb, A, w);
  for (int j = 1; j < n; ++j) {
    float* cur = plane + j * sy;
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(j) * w;
    eliminate_row<R, false>(cur, cur - sy, fy + j * fs, j + 1 < n ? kxy : 0.0f, C + o, C + o - w,
                            Rb + o, A, w);
  }
  for (int j = n - 2; j >= 0; --j) {
    substitute_row(plane + j * sy, plane + (j + 1) * sy, C + static_cast<std::ptrdiff_t>(j) * w, w);
  }
}

/// What the z sweep of one field needs besides its column.
struct ZLine {
  double dt;  // the step times the conductances' scale (Diffusion::cond_scale)
  bool top;   // Dirichlet top value utop, through the half cell of e = d1 p at k = 0
  float utop;
  float d1;  // the top layer's diffusivity over the conductances' scale
};

/// One row k of the z sweep's forward elimination (nx lanes): faces f below the row (ap = dtv f),
/// A the face above (set by row k - 1 as f dtn); the first row may have the Dirichlet top, whose
/// half cell has e = d1 p.
template <Role R, bool First>
inline void eliminate_z(float* cur, const float* prev, const float* f, float dtv, float dtn,
                        float* cp, const float* cprev, float* rr, float* A, int nx,
                        bool dirichlet = false, const float* pk = nullptr, float d1 = 0.0f,
                        float h = 1.0f, float utop = 0.0f) {
#pragma omp simd
  for (int i = 0; i < nx; ++i) {
    const float gp = f[i];
    const float ap = dtv * gp;  // coefficient of the face below, seen from k
    const float a = A[i];       // face above, seen from k (set by k - 1)
    const float um = !First ? prev[i] : 0.0f;
    float r, rhs = 0.0f;
    if constexpr (R == Role::Follow) {  // (a follower has no Dirichlet top)
      r = rr[i];
    } else {
      float extra = 0.0f;
      if constexpr (First) {
        if (dirichlet) {
          extra = dtv * 2.0f * (d1 * pk[i]) / h;
          rhs = extra * utop;
        }
      }
      const float cm = !First ? cprev[i] : 0.0f;
      r = 1.0f / (1.0f + a + ap + extra - a * cm);
      cp[i] = ap * r;
      if constexpr (R == Role::Lead) rr[i] = r;
    }
    cur[i] = (cur[i] + rhs + a * um) * r;
    // The face below seen from cell k + 1 has the same conductance over dz(k + 1).
    A[i] = gp * dtn;
  }
}

/// The z sweep of cells k0..k0 + n - 1 of the w lanes of a row of columns (plane stride sz) that
/// start at col, faces fz ((k) fs + i, the face below each cell), permeability pc of the same
/// cells for a Dirichlet top (k0 = 0).
template <Role R>
MNSIM_KERNEL void solve_z(const Grid& g, float* col, const float* pc, const float* fz,
                          std::ptrdiff_t fs, int k0, int n, int w, const ZLine& z, float* C,
                          float* Rb, float* A) {
  const int nz = g.nz;
  const std::ptrdiff_t sz = g.sz();
  for (int i = 0; i < w; ++i) A[i] = 0.0f;
  for (int m = 0; m < n; ++m) {
    const int k = k0 + m;
    const float dtv = static_cast<float>(z.dt / g.dz(k));
    const float dtn = k + 1 < nz ? static_cast<float>(z.dt / g.dz(k + 1)) : 0.0f;
    float* cur = col + k * sz;
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(m) * w;
    const float* f = fz + k * fs;  // face below (0 at nz - 1)
    if (m == 0) {
      eliminate_z<R, true>(cur, cur, f, dtv, dtn, C, C, Rb, A, w, z.top && k == 0, pc, z.d1,
                           static_cast<float>(g.dz(0)), z.utop);
    } else {
      eliminate_z<R, false>(cur, cur - sz, f, dtv, dtn, C + o, C + o - w, Rb + o, A, w);
    }
  }
  for (int m = n - 2; m >= 0; --m) {
    const int k = k0 + m;
    substitute_row(col + k * sz, col + (k + 1) * sz, C + static_cast<std::ptrdiff_t>(m) * w, w);
  }
}

/// One field of a pass of the permeability path.
struct Member {
  float* base;
  float kxy;
  ZLine z;
  Role role;
  std::uint8_t* flags;  // the field's health screen, one per plane (null: none)
};

/// Everything the sweeps of one permeability pass read (Diffusion::implicit_variable).
struct VariablePass {
  const Grid* g;
  const float* cx;  // face conductances (Diffusion::Conductances)
  const float* cy;
  const float* cz;
  const FaceBox* bx;  // where they carry flux
  const FaceBox* by;
  const FaceBox* bz;
  const double* dk;
  const float* pbase;
  const std::vector<Member>* mb;
  bool keep;    // some field follows another (pivot buffers needed)
  bool zsolve;  // the z sweep runs
  bool top;     // some field has a Dirichlet top (the z sweep takes every cell)
  bool screen;  // some field has flags (Member::flags)
};

/// A thread's scratch buffer of at least n floats, kept from one call to the next (its values
/// are written before they are read).
float* scratch(grid::AlignedBuffer& b, std::size_t n) {
  if (b.size() < n) b = grid::AlignedBuffer(n);
  return b.data();
}

/// The sweeps' scratch of one thread: the transposed plane, the eliminated upper coefficients,
/// the inverse pivots shared with a follower, a row of carried coefficients.
struct SweepScratch {
  grid::AlignedBuffer u, c, r, a;
};
thread_local SweepScratch sweep_scratch;

/// The x, y and z sweeps of a permeability pass as worksharing loops of the calling team (an
/// enclosing parallel region: each member calls this once). Each sweep takes only the lanes and
/// cells of its slab's FaceBox (the rest is the identity), and no plane without flux is copied.
MNSIM_KERNEL void variable_sweeps(const VariablePass& vp) {
  const Grid& g = *vp.g;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };
  const std::vector<Member>& mb = *vp.mb;
  const double* dk = vp.dk;
  // x sweep: the plane transposed, one SIMD lane per line (see implicit_uniform).
  const int w = transpose::lanes_for(ny);
  const std::size_t wx = at(nx) * at(w);
  const std::size_t wy = at(std::max(ny, nz)) * at(nx);
  SweepScratch& ss = sweep_scratch;
  float* U = scratch(ss.u, wx);
  float* C = scratch(ss.c, std::max(wx, wy));
  float* Rb = scratch(ss.r, vp.keep ? std::max(wx, wy) : 1);
  float* A = scratch(ss.a, std::max<std::size_t>(at(w), at(nx)));
#pragma omp for schedule(dynamic, 2)
  for (int k = 0; k < nz; ++k) {
    const std::size_t kk = at(k);
    const bool moves = static_cast<float>(dk[kk]) > 0.0f;
    const FaceBox& bx = vp.bx[kk];
    if (nx > 1 && moves && !bx.empty()) {
      // Lanes from a multiple of 16 (so that the last stays within the table's w), cells of
      // the faces with flux.
      const int j0 = bx.lane_lo / transpose::kLanes * transpose::kLanes;
      const int nj = bx.lane_hi + 1 - j0, wj = transpose::lanes_for(nj);
      const int i0 = bx.face_lo, ni = bx.cells();
      const float* fx = vp.cx + kk * wx + at(i0) * at(w) + at(j0);  // face i, lane l: i w + l
      for (std::size_t mi = 0; mi < mb.size(); ++mi) {
        const Member& m = mb[mi];
        const std::ptrdiff_t at_box = k * sz + j0 * sy + i0;
        float* plane = m.base + at_box;
        // The next field's plane while this one is solved (its first touch in the step).
        if (mi + 1 < mb.size()) transpose::prefetch_rows(mb[mi + 1].base + at_box, sy, ni, nj);
        load_plane_t(plane, sy, ni, nj, wj, U);
        switch (m.role) {
          case Role::Solo:
            solve_x<Role::Solo>(U, wj, fx, w, C, Rb, A, ni, m.kxy);
            break;
          case Role::Lead:
            solve_x<Role::Lead>(U, wj, fx, w, C, Rb, A, ni, m.kxy);
            break;
          case Role::Follow:
            solve_x<Role::Follow>(U, wj, fx, w, C, Rb, A, ni, m.kxy);
            break;
        }
        store_plane_t(U, ni, nj, wj, plane, sy);
      }
    }
    const FaceBox& by = vp.by[kk];
    if (ny > 1 && moves && !by.empty()) {
      const int i0 = by.lane_lo, ni = by.lanes(), j0 = by.face_lo, nj = by.cells();
      const float* fy = vp.cy + (kk * at(ny) + at(j0)) * at(nx) + at(i0);
      for (const Member& m : mb) {
        float* plane = m.base + k * sz + j0 * sy + i0;
        switch (m.role) {
          case Role::Solo:
            solve_y<Role::Solo>(plane, sy, fy, nx, C, Rb, A, ni, nj, m.kxy);
            break;
          case Role::Lead:
            solve_y<Role::Lead>(plane, sy, fy, nx, C, Rb, A, ni, nj, m.kxy);
            break;
          case Role::Follow:
            solve_y<Role::Follow>(plane, sy, fy, nx, C, Rb, A, ni, nj, m.kxy);
            break;
        }
      }
    }
  }

  if (vp.zsolve || vp.screen) {
    // No barrier at the end: on a team the next kernel works on other fields, and whoever reads
    // these waits at the team's next barrier (Stepper::transport_members).
#pragma omp for schedule(dynamic, 2) nowait
    for (int j = 0; j < ny; ++j) {
      // The health screen of a screened field's row of columns j, every cell of it, right after
      // its z sweep (read back from the cache; the cells outside the sweep's box as they are).
      const auto screen_row = [&](const Member& m) {
        if (m.flags == nullptr) return;
        for (int k = 0; k < nz; ++k) {
          if (screen_finds(m.base + k * sz + j * sy, 0, nx)) screen_flag(m.flags[k]);
        }
      };
      // With a Dirichlet top every cell of the row (the top cells exchange with the boundary).
      const FaceBox bz = !vp.zsolve ? FaceBox{}
                         : vp.top   ? FaceBox{0, nx - 1, 0, nz - 2}
                                    : vp.bz[at(j)];
      if (bz.empty()) {
        for (const Member& m : mb) screen_row(m);
        continue;
      }
      const int i0 = bz.lane_lo, ni = bz.lanes(), k0 = bz.face_lo, nk = bz.cells();
      const float* fz = vp.cz + at(j) * at(nz) * at(nx) + at(i0);
      const float* pc = vp.pbase + j * sy + i0;
      for (std::size_t mi = 0; mi < mb.size(); ++mi) {
        const Member& m = mb[mi];
        float* col = m.base + j * sy + i0;
        if (mi + 1 < mb.size()) {
          transpose::prefetch_rows(mb[mi + 1].base + j * sy + i0 + k0 * sz, sz, ni, nk);
        }
        switch (m.role) {
          case Role::Solo:
            solve_z<Role::Solo>(g, col, pc, fz, nx, k0, nk, ni, m.z, C, Rb, A);
            break;
          case Role::Lead:
            solve_z<Role::Lead>(g, col, pc, fz, nx, k0, nk, ni, m.z, C, Rb, A);
            break;
          case Role::Follow:
            solve_z<Role::Follow>(g, col, pc, fz, nx, k0, nk, ni, m.z, C, Rb, A);
            break;
        }
        screen_row(m);
      }
    }
  }
}

}  // namespace

bool Diffusion::can_share(const Diffusion& other) const {
  return variable_path() && other.variable_path() && spec_.permeability_fixed &&
         other.spec_.permeability_fixed &&
         spec_.permeability.data == other.spec_.permeability.data &&
         g_->padded_size() == other.g_->padded_size() && g_->nx == other.g_->nx &&
         g_->ny == other.g_->ny && g_->nz == other.g_->nz &&
         (dk_ == other.dk_ || (d_free_ && other.d_free_));
}

void Diffusion::share_conductances(Diffusion& other) {
  if (!can_share(other)) {
    throw std::invalid_argument("internal: face conductances shared between different operators");
  }
  if (!other.cond_) other.cond_ = std::make_shared<Conductances>();
  cond_ = other.cond_;
}

void Diffusion::step_implicit_shared(std::span<Diffusion* const> ops, std::span<const FieldView> u,
                                     std::span<const double> dt,
                                     std::span<std::uint8_t* const> flags) {
  if (ops.empty()) return;
  if (u.size() != ops.size() || dt.size() != ops.size() ||
      (!flags.empty() && flags.size() != ops.size())) {
    throw std::invalid_argument("internal: step_implicit_shared needs one field and step per op");
  }
  for (std::size_t m = 0; m < flags.size(); ++m) {
    if (flags[m] != nullptr && !ops[m]->screens()) {
      throw std::invalid_argument("internal: health screen of a field off the permeability path");
    }
  }
  for (std::size_t m = 0; m < ops.size(); ++m) {
    if (m > 0 && !ops[m]->shares_with(*ops[0])) {
      throw std::invalid_argument("internal: step_implicit_shared on operators not sharing");
    }
    if (!(dt[m] > 0.0)) throw std::invalid_argument("internal: implicit step needs dt > 0");
    if (u[m].grid->padded_size() != ops[m]->g_->padded_size()) {
      throw std::invalid_argument("internal: field is on a different grid");
    }
  }
  if (!ops[0]->variable_path()) {  // (one field: its own step)
    for (std::size_t m = 0; m < ops.size(); ++m) ops[m]->step_implicit(u[m], dt[m]);
    return;
  }
  for (std::size_t m = 0; m < ops.size(); ++m) {
    decay_source(u[m], dt[m], ops[m]->spec_.decay, ops[m]->spec_.source);
  }
  implicit_variable(ops, u, dt, flags);
}

void Diffusion::implicit_variable(std::span<Diffusion* const> ops, std::span<const FieldView> us,
                                  std::span<const double> dts,
                                  std::span<std::uint8_t* const> flags) {
  Diffusion& d0 = *ops[0];
  const bool team = in_team();
  // The face conductances (once when the permeability is fixed): on a team, once computed, each
  // member finds them in a critical section instead of waiting for the others at a barrier
  // (the first to come computes them); computed at every step, one member computes them while
  // the others wait at the end of the single.
  const auto conductances = [&d0] {
    if (!d0.cond_) d0.cond_ = std::make_shared<Conductances>();
    if (!d0.spec_.permeability_fixed || d0.cond_->x.empty()) d0.face_conductances();
  };
  if (team && d0.spec_.permeability_fixed) {
#pragma omp critical(mnsim_diffusion_conductances)
    conductances();
  } else if (team) {
#pragma omp single
    conductances();
  } else {
    conductances();
  }
  const Conductances& cf = *d0.cond_;
  const Grid& g = *d0.g_;

  // Each field with its role: a field with the same step as the one before (and no Dirichlet
  // top, for either) follows it and takes its pivots.
  const std::size_t nm = ops.size();
  std::vector<Member> mb(nm);
  std::vector<bool> follows(nm, false);
  for (std::size_t m = 0; m < nm; ++m) {
    const Diffusion& d = *ops[m];
    mb[m].base = us[m].data + g.at(0, 0, 0);
    const double sdt = dts[m] * d.cond_scale();  // the step in the conductances' unit
    mb[m].kxy = static_cast<float>(sdt / (g.dx * g.dx));
    mb[m].z = {sdt, d.spec_.top_value.has_value(),
               static_cast<float>(d.spec_.top_value.value_or(0.0)),
               static_cast<float>(d.dk_[0] / d.cond_scale())};
    follows[m] = m > 0 && sdt == mb[m - 1].z.dt && !mb[m].z.top && !mb[m - 1].z.top;
    mb[m].flags = flags.empty() ? nullptr : flags[m];
  }
  bool keep = false;
  for (std::size_t m = 0; m < nm; ++m) {
    mb[m].role = follows[m] ? Role::Follow : m + 1 < nm && follows[m + 1] ? Role::Lead : Role::Solo;
    keep = keep || follows[m];
  }
  bool top = false, screen = false;
  for (const Member& m : mb) {
    top = top || m.z.top;
    screen = screen || m.flags != nullptr;
  }
  const bool zsolve = (g.nz > 1 && d0.diffuses_) || top;
  const VariablePass vp{&g,           cf.x.data(),   cf.y.data(),
                        cf.z.data(),  cf.bx.data(),  cf.by.data(),
                        cf.bz.data(), d0.dk_.data(), d0.spec_.permeability.data + g.at(0, 0, 0),
                        &mb,          keep,          zsolve,
                        top,          screen};
  if (team) {
    variable_sweeps(vp);  // the sweeps' loops are the team's
  } else {
#pragma omp parallel if (worth_threads(g))
    variable_sweeps(vp);
  }
}

// ---------------------------------------------------------------------------------------------
// Explicit forward Euler.

int Diffusion::explicit_substeps(double dt) const {
  if (!std::isfinite(dt_explicit_)) return 1;
  const double n = std::ceil(dt / dt_explicit_ * (1.0 - 1e-12));
  if (n > 1e9) throw std::invalid_argument("internal: explicit diffusion step far too large");
  return std::max(1, static_cast<int>(n));
}

void Diffusion::step_explicit(FieldView u, double dt) {
  if (!(dt > 0.0)) throw std::invalid_argument("internal: explicit step needs dt > 0");
  if (u.grid->padded_size() != g_->padded_size()) {
    throw std::invalid_argument("internal: field is on a different grid");
  }
  if (!diffuses_ && !spec_.top_value) {
    decay_source(u, dt, spec_.decay, spec_.source);
    return;
  }
  // Decay and source are applied exactly within every sub-step (the sub-steps are short), which
  // keeps the splitting error of a Dirichlet-top steady state small.
  const int n = explicit_substeps(dt);
  // Sub-steps run in double precision and are rounded to float once: many small float updates
  // near a steady state would stall (each increment below half an ulp is lost).
  const Grid& g = *g_;
  const std::size_t size = g.padded_size();
  const bool big = worth_threads(g);
  if (work_a_.size() != size) {
    work_a_.assign(size, 0.0);
    work_b_.assign(size, 0.0);
  }
#pragma omp parallel for schedule(static) if (big)
  for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(size); ++c) work_a_[c] = u.data[c];
  for (int s = 0; s < n; ++s) {
    explicit_once(work_a_.data(), work_b_.data(), dt / n);
    work_a_.swap(work_b_);
  }
  const int nx = g.nx, ny = g.ny, nz = g.nz;
#pragma omp parallel for schedule(static) if (big)
  for (int k = 0; k < nz; ++k) {
    for (int j = 0; j < ny; ++j) {
      const std::ptrdiff_t row = g.at(0, j, k);
      for (int i = 0; i < nx; ++i) u.data[row + i] = static_cast<float>(work_a_[row + i]);
    }
  }
}

MNSIM_KERNEL void Diffusion::explicit_once(const double* old_p, double* out_p, double dt) const {
  const Grid& g = *g_;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  const double* const old = old_p + g.at(0, 0, 0);
  double* const out = out_p + g.at(0, 0, 0);
  const float* const perm =
      spec_.permeability.data ? spec_.permeability.data + g.at(0, 0, 0) : nullptr;
  const double kxy = dt / (g.dx * g.dx);
  const bool top = spec_.top_value.has_value();
  const double utop = spec_.top_value.value_or(0.0);
  // Exact decay/source after each forward-Euler diffusion sub-step (Lie splitting at the
  // sub-step level: pure decay stays exact, the splitting error is O(sub-step)).
  const double decay_f = std::exp(-spec_.decay * dt);
  const double source_s = spec_.decay > 0.0
                              ? spec_.source * (-std::expm1(-spec_.decay * dt)) / spec_.decay
                              : spec_.source * dt;
  const bool big = worth_threads(g);

#pragma omp parallel if (big)
  {
    // Row buffers: e = D p of this row and of its neighbours, flux sums, x-face fluxes.
    std::vector<double> rows(5 * static_cast<std::size_t>(nx) + 1);
    double* const e = rows.data();
    double* const en = e + nx;
    double* const fxy = en + nx;
    double* const fz = fxy + nx;
    double* const fx = fz + nx;  // nx + 1 faces
    auto fill_e = [&](double* dst, double d, std::ptrdiff_t off) {
      if (perm) {
        for (int i = 0; i < nx; ++i) dst[i] = d * perm[off + i];
      } else {
        for (int i = 0; i < nx; ++i) dst[i] = d;
      }
    };
#pragma omp for schedule(dynamic, 2)
    for (int k = 0; k < nz; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      const double d = dk_[kk];
      const double h = g.dz(k);
      const double dtv = dt / h;
      for (int j = 0; j < ny; ++j) {
        const std::ptrdiff_t row = j * sy + k * sz;
        const double* o = old + row;
        fill_e(e, d, row);
        // x faces: fx[i] = conductance-weighted difference across the face between i - 1 and i.
        fx[0] = 0.0;
        fx[nx] = 0.0;
        for (int i = 1; i < nx; ++i) {
          const double s = e[i - 1] + e[i];
          const double c = s > 0.0 ? 2.0 * e[i - 1] * e[i] / s : 0.0;
          fx[i] = c * (o[i] - o[i - 1]);
        }
        for (int i = 0; i < nx; ++i) fxy[i] = fx[i + 1] - fx[i];
        for (int side = -1; side <= 1; side += 2) {  // y faces
          if ((side < 0 && j == 0) || (side > 0 && j + 1 == ny)) continue;
          fill_e(en, d, row + side * sy);
          const double* on = o + side * sy;
          for (int i = 0; i < nx; ++i) {
            const double s = e[i] + en[i];
            const double c = s > 0.0 ? 2.0 * e[i] * en[i] / s : 0.0;
            fxy[i] += c * (on[i] - o[i]);
          }
        }
        for (int i = 0; i < nx; ++i) fz[i] = 0.0;
        for (int side = -1; side <= 1; side += 2) {  // z faces (series of half cells)
          if ((side < 0 && k == 0) || (side > 0 && k + 1 == nz)) continue;
          const double d2 = dk_[static_cast<std::size_t>(k + side)];
          const double h2 = g.dz(k + side);
          fill_e(en, d2, row + side * sz);
          const double* on = o + side * sz;
          for (int i = 0; i < nx; ++i) {
            const double den = h * en[i] + h2 * e[i];
            const double c = den > 0.0 ? 2.0 * e[i] * en[i] / den : 0.0;
            fz[i] += c * (on[i] - o[i]);
          }
        }
        if (k == 0 && top) {
          for (int i = 0; i < nx; ++i) fz[i] += 2.0 * e[i] / h * (utop - o[i]);
        }
        double* r = out + row;
        for (int i = 0; i < nx; ++i) {
          r[i] = decay_f * (o[i] + kxy * fxy[i] + dtv * fz[i]) + source_s;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

double coupled_diffusion_time(double dt, double decay) {
  const double x = decay * dt;
  if (!(x > 1e-8)) return dt * (1.0 - 0.5 * x);
  return -std::expm1(-x) / decay;
}

namespace {

/// u <- u ff + sf on every interior cell, as a worksharing loop of the calling team.
MNSIM_KERNEL void scale_shift(FieldView u, float ff, float sf) {
  const Grid& g = *u.grid;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
#pragma omp for schedule(static)
  for (int k = 0; k < nz; ++k) {
    for (int j = 0; j < ny; ++j) {
      float* row = u.data + g.at(0, j, k);
      for (int i = 0; i < nx; ++i) row[i] = row[i] * ff + sf;
    }
  }
}

}  // namespace

void decay_source(FieldView u, double dt, double decay, double source) {
  if (decay == 0.0 && source == 0.0) return;
  float ff = 1.0f, sf = 0.0f;
  decay_factors(dt, decay, source, ff, sf);
  if (in_team()) {
    scale_shift(u, ff, sf);  // the team's loop (healing/team.hpp)
  } else {
#pragma omp parallel if (worth_threads(*u.grid))
    scale_shift(u, ff, sf);
  }
}

MNSIM_KERNEL double integral(ConstFieldView u) {
  const Grid& g = *u.grid;
  std::vector<double> plane(static_cast<std::size_t>(g.nz), 0.0);
  const bool big = worth_threads(g);
#pragma omp parallel for schedule(static) if (big)
  for (int k = 0; k < g.nz; ++k) {
    double s = 0.0;
    for (int j = 0; j < g.ny; ++j) {
      const float* row = u.data + g.at(0, j, k);
      for (int i = 0; i < g.nx; ++i) s += row[i];
    }
    plane[static_cast<std::size_t>(k)] = s * g.dz(k);
  }
  double total = 0.0;
  for (double s : plane) total += s;  // fixed order: independent of the thread count
  return total * g.dx * g.dx;
}

}  // namespace mnsim::healing
