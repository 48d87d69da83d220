#include "healing/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/kernel.hpp"
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
/// Small grids run serially: thread start-up and barriers would cost more than the work (the
/// arithmetic per cell is the same either way).
inline bool worth_threads(const Grid& g) {
  return g.cells() >= 32768;
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
    implicit_variable(u, dt);
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
  cx_.assign(at(nx) * at(w) * at(nz), 0.0f);
  cy_.assign(cells, 0.0f);
  cz_.assign(cells, 0.0f);
#pragma omp parallel for schedule(static) if (worth_threads(g))
  for (int k = 0; k < nz; ++k) {
    const std::size_t kk = at(k);
    const float dk = static_cast<float>(dk_[kk]);
    // z faces: the series of the two half cells, D_k p_k and D_{k+1} p_{k+1} over dz_k, dz_{k+1}.
    const float h = static_cast<float>(g.dz(k));
    const float d2 = k + 1 < nz ? static_cast<float>(dk_[kk + 1]) : 0.0f;
    const float h2 = k + 1 < nz ? static_cast<float>(g.dz(k + 1)) : 1.0f;
    for (int j = 0; j < ny; ++j) {
      const float* pc = pbase + k * sz + j * sy;
      float* fx = cx_.data() + kk * at(nx) * at(w) + at(j);
      float* fy = cy_.data() + (kk * at(ny) + at(j)) * at(nx);
      float* fz = cz_.data() + (at(j) * at(nz) + kk) * at(nx);
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
  }
}

MNSIM_KERNEL void Diffusion::implicit_variable(FieldView u, double dt) {
  if (!spec_.permeability_fixed || cx_.empty()) face_conductances();
  const Grid& g = *g_;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::ptrdiff_t sy = g.sy(), sz = g.sz();
  float* const base = u.data + g.at(0, 0, 0);
  const float* const pbase = spec_.permeability.data + g.at(0, 0, 0);
  const float kxy = static_cast<float>(dt / (g.dx * g.dx));
  const bool top = spec_.top_value.has_value();
  const float utop = static_cast<float>(spec_.top_value.value_or(0.0));
  const bool big = worth_threads(g);
  const auto at = [](std::ptrdiff_t v) { return static_cast<std::size_t>(v); };

#pragma omp parallel if (big)
  {
    // x sweep: the whole plane transposed, one SIMD lane per line (see implicit_uniform).
    const int w = transpose::lanes_for(ny);
    const std::size_t wx = at(nx) * at(w);
    const std::size_t wy = at(std::max(ny, nz)) * at(nx);
    grid::AlignedBuffer ub(wx), cb(std::max(wx, wy)), am(std::max<std::size_t>(at(w), at(nx)));
    float *U = ub.data(), *C = cb.data(), *A = am.data();
#pragma omp for schedule(dynamic, 2)
    for (int k = 0; k < nz; ++k) {
      const std::size_t kk = at(k);
      const bool moves = static_cast<float>(dk_[kk]) > 0.0f;
      float* plane = base + k * sz;
      if (nx > 1 && moves) {
        load_plane_t(plane, sy, nx, ny, w, U);
        const float* fx = cx_.data() + kk * wx;   // face i of lane l at fx[i w + l]
        for (int l = 0; l < w; ++l) A[l] = 0.0f;  // coefficient of the face below
        for (int i = 0; i < nx; ++i) {
          const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(i) * w;
          float* cur = U + o;
          const float* f = fx + o;
          float* cp = C + o;
          const float* cprev = i > 0 ? cp - w : cp;  // (unused at i = 0)
          const float* uprev = i > 0 ? cur - w : cur;
          const float kx = i + 1 < nx ? kxy : 0.0f;
#pragma omp simd
          for (int l = 0; l < w; ++l) {
            const float ap = kx * f[l];
            const float a = A[l];
            const float cm = i > 0 ? cprev[l] : 0.0f;
            const float um = i > 0 ? uprev[l] : 0.0f;
            const float r = 1.0f / (1.0f + a + ap - a * cm);
            cur[l] = (cur[l] + a * um) * r;
            cp[l] = ap * r;
            A[l] = ap;
          }
        }
        for (int i = nx - 2; i >= 0; --i) {
          float* cur = U + static_cast<std::ptrdiff_t>(i) * w;
          const float* cp = C + static_cast<std::ptrdiff_t>(i) * w;
#pragma omp simd
          for (int l = 0; l < w; ++l) cur[l] += cp[l] * cur[l + w];
        }
        store_plane_t(U, nx, ny, w, plane, sy);
      }
      if (ny > 1 && moves) {
        for (int i = 0; i < nx; ++i) A[i] = 0.0f;
        for (int j = 0; j < ny; ++j) {
          float* cur = plane + j * sy;
          const float* prev = cur - sy;  // ghost row at j = 0 (unused)
          const float* f = cy_.data() + (kk * at(ny) + at(j)) * at(nx);
          float* cp = C + at(j) * at(nx);
          const float* cprev = j > 0 ? cp - nx : cp;
          const float ky = j + 1 < ny ? kxy : 0.0f;
#pragma omp simd
          for (int i = 0; i < nx; ++i) {
            const float ap = ky * f[i];
            const float a = A[i];
            const float cm = j > 0 ? cprev[i] : 0.0f;
            const float um = j > 0 ? prev[i] : 0.0f;
            const float r = 1.0f / (1.0f + a + ap - a * cm);
            cur[i] = (cur[i] + a * um) * r;
            cp[i] = ap * r;
            A[i] = ap;
          }
        }
        for (int j = ny - 2; j >= 0; --j) {
          float* cur = plane + j * sy;
          const float* cp = C + at(j) * at(nx);
#pragma omp simd
          for (int i = 0; i < nx; ++i) cur[i] += cp[i] * cur[i + sy];
        }
      }
    }

    if ((nz > 1 && diffuses_) || top) {
#pragma omp for schedule(dynamic, 2)
      for (int j = 0; j < ny; ++j) {
        float* col = base + j * sy;
        for (int i = 0; i < nx; ++i) A[i] = 0.0f;
        for (int k = 0; k < nz; ++k) {
          const std::size_t kk = at(k);
          const float h = static_cast<float>(g.dz(k));
          const float dtv = static_cast<float>(dt / g.dz(k));
          const float d1 = static_cast<float>(dk_[kk]);
          const float dtn = k + 1 < nz ? static_cast<float>(dt / g.dz(k + 1)) : 0.0f;
          float* cur = col + k * sz;
          const float* prev = cur - sz;
          const float* pc = pbase + j * sy + k * sz;
          const float* f = cz_.data() + (at(j) * at(nz) + kk) * at(nx);  // face below (0 at nz-1)
          float* cp = C + kk * at(nx);
          const float* cprev = k > 0 ? cp - nx : cp;
          const bool dirichlet = k == 0 && top;
#pragma omp simd
          for (int i = 0; i < nx; ++i) {
            const float gp = f[i];
            const float ap = dtv * gp;  // coefficient of the face below, seen from k
            const float a = A[i];       // face above, seen from k (set by k - 1)
            float extra = 0.0f, rhs = 0.0f;
            if (dirichlet) {
              extra = dtv * 2.0f * (d1 * pc[i]) / h;
              rhs = extra * utop;
            }
            const float cm = k > 0 ? cprev[i] : 0.0f;
            const float um = k > 0 ? prev[i] : 0.0f;
            const float r = 1.0f / (1.0f + a + ap + extra - a * cm);
            cur[i] = (cur[i] + rhs + a * um) * r;
            cp[i] = ap * r;
            // The face below seen from cell k + 1 has the same conductance over dz(k + 1).
            A[i] = gp * dtn;
          }
        }
        for (int k = nz - 2; k >= 0; --k) {
          float* cur = col + k * sz;
          const float* cp = C + at(k) * at(nx);
#pragma omp simd
          for (int i = 0; i < nx; ++i) cur[i] += cp[i] * cur[i + sz];
        }
      }
    }
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

MNSIM_KERNEL void decay_source(FieldView u, double dt, double decay, double source) {
  if (decay == 0.0 && source == 0.0) return;
  float ff = 1.0f, sf = 0.0f;
  decay_factors(dt, decay, source, ff, sf);
  const Grid& g = *u.grid;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const bool big = worth_threads(g);
#pragma omp parallel for schedule(static) if (big)
  for (int k = 0; k < nz; ++k) {
    for (int j = 0; j < ny; ++j) {
      float* row = u.data + g.at(0, j, k);
      for (int i = 0; i < nx; ++i) row[i] = row[i] * ff + sf;
    }
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
