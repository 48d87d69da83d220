#include "healing/radial.hpp"
#include "core/constants.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <stdexcept>

#include "core/kernel.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {
double area(std::size_t i, double dr) {  // annulus area / (2 pi)
  const double rl = static_cast<double>(i) * dr, rr = rl + dr;
  return 0.5 * (rr * rr - rl * rl);
}
}  // namespace

void radial_diffusion_implicit(std::vector<double>& u, double D, double dt, double dr) {
  RadialDiffusionFactor(u.size(), D, dt, dr).apply(u);
}

RadialDiffusionFactor::RadialDiffusionFactor(std::size_t n, double D, double dt, double dr) {
  active_ = !(D <= 0.0) && n >= 2;  // as radial_diffusion_implicit: a NaN D computes
  if (!active_) return;
  std::vector<double> a(n, 0.0), b(n, 0.0), c(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double rl = static_cast<double>(i) * dr;
    const double rr = static_cast<double>(i + 1) * dr;
    const double vol = area(i, dr);
    const double kl = i > 0 ? D * dt * rl / (dr * vol) : 0.0;
    const double kr = i + 1 < n ? D * dt * rr / (dr * vol) : 0.0;
    a[i] = -kl;
    c[i] = -kr;
    b[i] = 1.0 + kl + kr;
  }
  factor_.factor(a, b, c);
}

void RadialDiffusionFactor::apply(std::vector<double>& u) const {
  if (!active_) return;
  if (u.size() != factor_.diag.size()) {
    throw std::invalid_argument("RadialDiffusionFactor::apply: profile of another size");
  }
  factor_.solve(u);
  for (double& x : u) x = std::max(x, 0.0);
}

void RadialDiffusionFactor::apply_pair(std::vector<double>& u, const RadialDiffusionFactor& other,
                                       std::vector<double>& v) const {
  if (!active_ || !other.active_ || u.size() != v.size()) {
    apply(u);
    other.apply(v);
    return;
  }
  if (u.size() != factor_.diag.size() || v.size() != other.factor_.diag.size()) {
    throw std::invalid_argument("RadialDiffusionFactor::apply_pair: profile of another size");
  }
  factor_.solve_pair(u, other.factor_, v);
  for (double& x : u) x = std::max(x, 0.0);
  for (double& x : v) x = std::max(x, 0.0);
}

int radial_chemotaxis(std::vector<double>& u, const std::vector<double>& c, double chi, double dt,
                      double dr) {
  const std::size_t n = u.size();
  if (chi == 0.0 || n < 2 || !(dt > 0.0)) return 0;
  // Positivity: the outflow rate of a cell, sum over its two faces of w+ * r_face / area.
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double out = 0.0;
    if (i + 1 < n) {
      const double w = chi * (c[i + 1] - c[i]) / dr;
      if (w > 0.0) out += w * static_cast<double>(i + 1) * dr / area(i, dr);
    }
    if (i > 0) {
      const double w = chi * (c[i - 1] - c[i]) / dr;
      if (w > 0.0) out += w * static_cast<double>(i) * dr / area(i, dr);
    }
    worst = std::max(worst, out);
  }
  const int steps = worst > 0.0 ? std::max(1, static_cast<int>(std::ceil(dt * worst / 0.5))) : 1;
  const double h = dt / steps;
  std::vector<double> old(n);
  for (int s = 0; s < steps; ++s) {
    old = u;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double w = chi * (c[i + 1] - c[i]) / dr;  // outward velocity at face i+1/2
      const double up = w > 0.0 ? old[i] : old[i + 1];
      const double flux = w * up * static_cast<double>(i + 1) * dr;  // per radian
      u[i] -= h * flux / area(i, dr);
      u[i + 1] += h * flux / area(i + 1, dr);
    }
    for (double& x : u) x = std::max(x, 0.0);
  }
  return steps;
}

}  // namespace mnsim::healing

namespace mnsim::healing {

double RadialMesh::total_area() const {
  double a = 0.0;
  for (double x : area) a += x;
  return a;
}

double RadialMesh::mean(const double* u) const {
  double s = 0.0, a = 0.0;
  for (std::size_t i = 0; i < area.size(); ++i) {
    s += area[i] * u[i];
    a += area[i];
  }
  return a > 0.0 ? s / a : 0.0;
}

RadialMesh radial_mesh(double r_in, double R, int n) {
  if (n < 1 || !(R > 0.0) || !(r_in > 0.0)) {
    throw std::invalid_argument("radial_mesh: need n >= 1, R > 0 and r_in > 0");
  }
  RadialMesh m;
  const auto nn = static_cast<std::size_t>(n);
  m.edge.assign(nn + 1, 0.0);
  const int n_in = std::max(1, n / 4);
  if (R <= r_in || n_in >= n) {
    for (std::size_t i = 0; i <= nn; ++i) m.edge[i] = R * static_cast<double>(i) / n;
  } else {
    for (int i = 0; i <= n_in; ++i) m.edge[static_cast<std::size_t>(i)] = r_in * i / n_in;
    const int n_out = n - n_in;
    const double q = std::pow(R / r_in, 1.0 / n_out);
    for (int k = 1; k <= n_out; ++k) {
      m.edge[static_cast<std::size_t>(n_in + k)] = k == n_out ? R : r_in * std::pow(q, k);
    }
  }
  for (std::size_t i = 0; i < nn; ++i) {
    const double a = m.edge[i], b = m.edge[i + 1];
    m.mid.push_back(0.5 * (a + b));
    m.area.push_back(kPi * (b * b - a * a));
  }
  for (std::size_t i = 0; i + 1 < nn; ++i) {
    m.face.push_back(2.0 * kPi * m.edge[i + 1] / (m.mid[i + 1] - m.mid[i]));
  }
  return m;
}

void radial_transport_implicit(const RadialMesh& m, double* u, double D, double dt,
                               const double* attractant, double chi) {
  const std::size_t n = m.size();
  if (n < 2 || !(dt > 0.0) || (!(D > 0.0) && (chi == 0.0 || attractant == nullptr))) return;
  constexpr std::size_t kMax = 64;
  // Every entry below n is written before it is read (no zeroing of the 4 x 64 values).
  std::array<double, kMax> lo, di, up, rhs;
  std::vector<double> vlo, vdi, vup, vrhs;
  double *pl = lo.data(), *pd = di.data(), *pu = up.data(), *pr = rhs.data();
  if (n > kMax) {
    vlo.assign(n, 0.0);
    vdi.assign(n, 0.0);
    vup.assign(n, 0.0);
    vrhs.assign(n, 0.0);
    pl = vlo.data();
    pd = vdi.data();
    pu = vup.data();
    pr = vrhs.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    pd[i] = m.area[i];
    pr[i] = m.area[i] * u[i];
    pl[i] = 0.0;
    pu[i] = 0.0;
  }
  for (std::size_t f = 0; f + 1 < n; ++f) {
    // Flux from annulus f to f + 1: a u_f - b u_{f+1}.
    const double g = m.face[f];
    double vp = 0.0, vm = 0.0;
    if (attractant != nullptr && chi != 0.0) {
      const double v = g * chi * (attractant[f + 1] - attractant[f]);
      vp = std::max(v, 0.0);
      vm = std::max(-v, 0.0);
    }
    const double a = dt * (g * D + vp), b = dt * (g * D + vm);
    pd[f] += a;
    pu[f] = -b;
    pd[f + 1] += b;
    pl[f + 1] = -a;
  }
  solve_tridiagonal(std::span<const double>(pl, n), std::span<double>(pd, n),
                    std::span<const double>(pu, n), std::span<double>(pr, n));
  for (std::size_t i = 0; i < n; ++i) u[i] = std::max(pr[i], 0.0);
}

MNSIM_KERNEL void radial_transport_implicit_many(const RadialMesh& m, double* u, std::size_t lanes,
                                                 const double* D, double dt,
                                                 const double* attractant, double chi) {
  const std::size_t n = m.size();
  if (n < 2 || !(dt > 0.0) || lanes == 0) return;
  const bool taxis = attractant != nullptr && chi != 0.0;
  // The lanes that radial_transport_implicit would leave alone keep their values.
  std::vector<char> skip(lanes, 0);
  for (std::size_t j = 0; j < lanes; ++j) skip[j] = !(D[j] > 0.0) && !taxis ? 1 : 0;
  // Row i of lane j at [i * lanes + j], as radial_transport_implicit builds and solves it.
  std::vector<double> lo(n * lanes), di(n * lanes), up(n * lanes), rhs(n * lanes);
  for (std::size_t i = 0; i < n; ++i) {
    const double ar = m.area[i];
    double* d = di.data() + i * lanes;
    double* r = rhs.data() + i * lanes;
    const double* x = u + i * lanes;
    for (std::size_t j = 0; j < lanes; ++j) {
      d[j] = ar;
      r[j] = ar * x[j];
    }
  }
  std::fill(lo.begin(), lo.begin() + static_cast<std::ptrdiff_t>(lanes), 0.0);
  std::fill(up.end() - static_cast<std::ptrdiff_t>(lanes), up.end(), 0.0);
  for (std::size_t f = 0; f + 1 < n; ++f) {
    // Flux from annulus f to f + 1: a u_f - b u_{f+1}.
    const double g = m.face[f];
    double* d0 = di.data() + f * lanes;
    double* d1 = d0 + lanes;
    double* uf = up.data() + f * lanes;
    double* lf = lo.data() + (f + 1) * lanes;
    const double* c0 = taxis ? attractant + f * lanes : nullptr;
    for (std::size_t j = 0; j < lanes; ++j) {
      double vp = 0.0, vm = 0.0;
      if (taxis) {
        const double v = g * chi * (c0[j + lanes] - c0[j]);
        vp = v < 0.0 ? 0.0 : v;    // std::max(v, 0.0)
        vm = -v < 0.0 ? 0.0 : -v;  // std::max(-v, 0.0)
      }
      const double a = dt * (g * D[j] + vp), b = dt * (g * D[j] + vm);
      d0[j] += a;
      uf[j] = -b;
      d1[j] += b;
      lf[j] = -a;
    }
  }
  // solve_tridiagonal, lane by lane.
  for (std::size_t i = 1; i < n; ++i) {
    double* d = di.data() + i * lanes;
    double* r = rhs.data() + i * lanes;
    const double* l = lo.data() + i * lanes;
    const double* dp = d - lanes;
    const double* upp = up.data() + (i - 1) * lanes;
    const double* rp = r - lanes;
    for (std::size_t j = 0; j < lanes; ++j) {
      const double q = l[j] / dp[j];
      d[j] -= q * upp[j];
      r[j] -= q * rp[j];
    }
  }
  {
    double* r = rhs.data() + (n - 1) * lanes;
    const double* d = di.data() + (n - 1) * lanes;
    for (std::size_t j = 0; j < lanes; ++j) r[j] /= d[j];
  }
  for (std::size_t i = n - 1; i-- > 0;) {
    double* r = rhs.data() + i * lanes;
    const double* rn = r + lanes;
    const double* upi = up.data() + i * lanes;
    const double* d = di.data() + i * lanes;
    for (std::size_t j = 0; j < lanes; ++j) r[j] = (r[j] - upi[j] * rn[j]) / d[j];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double* r = rhs.data() + i * lanes;
    double* x = u + i * lanes;
    for (std::size_t j = 0; j < lanes; ++j) {
      if (skip[j] == 0) x[j] = r[j] < 0.0 ? 0.0 : r[j];  // std::max(r, 0.0)
    }
  }
}

RadialDiffusionStep::RadialDiffusionStep(const RadialMesh& m, double D, double dt) : mesh_(&m) {
  reset(m, D, dt);
}

void RadialDiffusionStep::reset(const RadialMesh& m, double D, double dt) {
  mesh_ = &m;
  const std::size_t n = m.size();
  active_ = n >= 2 && dt > 0.0 && D > 0.0;
  if (!active_) return;
  lo_.assign(n, 0.0);
  di_.assign(n, 0.0);
  up_.assign(n, 0.0);
  auto& lo = lo_;
  auto& di = di_;
  auto& up = up_;
  for (std::size_t i = 0; i < n; ++i) di[i] = m.area[i];
  for (std::size_t f = 0; f + 1 < n; ++f) {
    const double a = dt * (m.face[f] * D + 0.0), b = dt * (m.face[f] * D + 0.0);
    di[f] += a;
    up[f] = -b;
    di[f + 1] += b;
    lo[f + 1] = -a;
  }
  factor_.factor(lo, di, up);
  rhs_.assign(n, 0.0);
}

MNSIM_KERNEL void RadialDiffusionStep::apply_many(double* u, std::size_t m) const {
  if (!active_) return;
  const std::size_t n = mesh_->size();
  for (std::size_t i = 0; i < n; ++i) {
    const double a = mesh_->area[i];
    for (std::size_t j = 0; j < m; ++j) u[i * m + j] = a * u[i * m + j];
  }
  factor_.solve_many(u, m);
  for (std::size_t k = 0; k < n * m; ++k) u[k] = std::max(u[k], 0.0);
}

void RadialDiffusionStep::apply(double* u) const {
  if (!active_) return;
  const std::size_t n = mesh_->size();
  for (std::size_t i = 0; i < n; ++i) rhs_[i] = mesh_->area[i] * u[i];
  factor_.solve(rhs_);
  for (std::size_t i = 0; i < n; ++i) u[i] = std::max(rhs_[i], 0.0);
}

}  // namespace mnsim::healing
