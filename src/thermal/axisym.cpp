#include "thermal/axisym.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "core/constants.hpp"
#include "core/error.hpp"

namespace mnsim::thermal {

double AxiGrid::volume(int i) const {
  const double r0 = i * dr, r1 = (i + 1) * dr;
  return kPi * (r1 * r1 - r0 * r0) * dz;
}

namespace {

double harmonic(double a, double b) {
  return a > 0.0 && b > 0.0 ? 2.0 * a * b / (a + b) : 0.0;
}

}  // namespace

AxiOperator::AxiOperator(const AxiGrid& g, const std::vector<double>& kappa,
                         const std::vector<std::uint8_t>& fixed, const AxiBoundaries& bc)
    : g_(g),
      ge_(g.size(), 0.0),
      gs_(g.size(), 0.0),
      gb_(g.size(), 0.0),
      bb_(g.size(), 0.0),
      fixed_(fixed) {
  if (kappa.size() != g.size() || fixed.size() != g.size() || g.nr < 1 || g.nz < 1) {
    throw std::invalid_argument("AxiOperator: kappa and fixed must cover the grid");
  }
  const double dr = g.dr, dz = g.dz;
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      const double ring = kPi * ((i + 1.0) * (i + 1.0) - 1.0 * i * i) * dr * dr;  // axial face
      const double side = 2.0 * kPi * (i + 1.0) * dr * dz;                        // outer face
      if (i + 1 < g.nr) ge_[c] = harmonic(kappa[c], kappa[g.at(i + 1, j)]) * side / dr;
      if (j + 1 < g.nz) gs_[c] = harmonic(kappa[c], kappa[g.at(i, j + 1)]) * ring / dz;
      // Boundary faces: half a cell from the centre.
      auto boundary = [&](const Boundary& b, double area, double h, double r, double z) {
        if (!b.dirichlet || kappa[c] <= 0.0) return;
        const double gb = kappa[c] * area / (0.5 * h);
        gb_[c] += gb;
        bb_[c] += gb * b.value(r, z);
      };
      if (j == 0) boundary(bc.top, ring, dz, g.rc(i), 0.0);
      if (j == g.nz - 1) boundary(bc.bottom, ring, dz, g.rc(i), g.nz * dz);
      if (i == g.nr - 1) boundary(bc.outer, side, dr, g.nr * dr, g.zc(j));
    }
  }
  // A free cell without a conducting face has no equation: hold it.
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      double s = ge_[c] + gs_[c] + gb_[c];
      if (i > 0) s += ge_[g.at(i - 1, j)];
      if (j > 0) s += gs_[g.at(i, j - 1)];
      if (s <= 0.0) fixed_[c] = 1;
    }
  }
}

void AxiOperator::apply(const std::vector<double>& x, std::vector<double>& y) const {
  // y = (sum_f G_f) x_c - sum_f G_f x_nb over free cells; neighbours that are fixed are treated
  // as zero here (their values are in the right-hand side), so y is A restricted to free cells.
  const AxiGrid& g = g_;
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      if (fixed_[c]) {
        y[c] = 0.0;
        continue;
      }
      double diag = gb_[c], off = 0.0;
      auto nb = [&](double G, std::size_t n) {
        diag += G;
        if (!fixed_[n]) off += G * x[n];
      };
      if (i + 1 < g.nr) nb(ge_[c], g.at(i + 1, j));
      if (i > 0) nb(ge_[g.at(i - 1, j)], g.at(i - 1, j));
      if (j + 1 < g.nz) nb(gs_[c], g.at(i, j + 1));
      if (j > 0) nb(gs_[g.at(i, j - 1)], g.at(i, j - 1));
      y[c] = diag * x[c] - off;
    }
  }
}

int AxiOperator::solve(const std::vector<double>& diag, const std::vector<double>& rhs,
                       std::vector<double>& u, double tol, int max_iter) const {
  const AxiGrid& g = g_;
  const std::size_t n = g.size();
  if (diag.size() != n || rhs.size() != n || u.size() != n) {
    throw std::invalid_argument("AxiOperator::solve: vectors must cover the grid");
  }
  // b = rhs + boundary values + conductance to fixed neighbours times their values.
  std::vector<double> b(n, 0.0), m(n, 0.0);
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      if (fixed_[c]) continue;
      double s = rhs[c] + bb_[c], d = diag[c] + gb_[c];
      auto nb = [&](double G, std::size_t k) {
        d += G;
        if (fixed_[k]) s += G * u[k];
      };
      if (i + 1 < g.nr) nb(ge_[c], g.at(i + 1, j));
      if (i > 0) nb(ge_[g.at(i - 1, j)], g.at(i - 1, j));
      if (j + 1 < g.nz) nb(gs_[c], g.at(i, j + 1));
      if (j > 0) nb(gs_[g.at(i, j - 1)], g.at(i, j - 1));
      b[c] = s;
      m[c] = d > 0.0 ? 1.0 / d : 0.0;
    }
  }
  // Preconditioned conjugate gradients on the free cells.
  std::vector<double> x(n, 0.0), r(n, 0.0), z(n, 0.0), p(n, 0.0), q(n, 0.0);
  for (std::size_t c = 0; c < n; ++c) x[c] = fixed_[c] ? 0.0 : u[c];
  apply(x, q);
  for (std::size_t c = 0; c < n; ++c) q[c] += fixed_[c] ? 0.0 : diag[c] * x[c];
  double bnorm = 0.0, rz = 0.0;
  for (std::size_t c = 0; c < n; ++c) {
    if (fixed_[c]) continue;
    r[c] = b[c] - q[c];
    z[c] = m[c] * r[c];
    p[c] = z[c];
    bnorm += b[c] * b[c];
    rz += r[c] * z[c];
  }
  bnorm = std::sqrt(bnorm);
  if (bnorm == 0.0) bnorm = 1.0;
  int it = 0;
  for (;; ++it) {
    double rn = 0.0;
    for (std::size_t c = 0; c < n; ++c) rn += r[c] * r[c];
    if (std::sqrt(rn) <= tol * bnorm) break;
    if (it >= max_iter || !std::isfinite(rn)) {
      throw NumericalError(
          fmt::format("axisymmetric solver: residual {:.3g} of {:.3g} after {} iterations",
                      std::sqrt(rn), bnorm, it));
    }
    apply(p, q);
    double pq = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
      if (fixed_[c]) continue;
      q[c] += diag[c] * p[c];
      pq += p[c] * q[c];
    }
    const double alpha = rz / pq;
    double rz_new = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
      if (fixed_[c]) continue;
      x[c] += alpha * p[c];
      r[c] -= alpha * q[c];
      z[c] = m[c] * r[c];
      rz_new += r[c] * z[c];
    }
    const double beta = rz_new / rz;
    rz = rz_new;
    for (std::size_t c = 0; c < n; ++c) {
      if (!fixed_[c]) p[c] = z[c] + beta * p[c];
    }
  }
  for (std::size_t c = 0; c < n; ++c) {
    if (!fixed_[c]) u[c] = x[c];
  }
  return it;
}

std::vector<double> AxiOperator::dissipation(const std::vector<double>& u) const {
  const AxiGrid& g = g_;
  std::vector<double> q(g.size(), 0.0);
  auto face = [&](double G, std::size_t a, std::size_t b) {
    if (G <= 0.0) return;
    const double d = u[a] - u[b];
    const double w = G * d * d;
    if (fixed_[a] && fixed_[b]) return;
    if (fixed_[a]) {
      q[b] += w;
    } else if (fixed_[b]) {
      q[a] += w;
    } else {
      q[a] += 0.5 * w;
      q[b] += 0.5 * w;
    }
  };
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      if (i + 1 < g.nr) face(ge_[c], c, g.at(i + 1, j));
      if (j + 1 < g.nz) face(gs_[c], c, g.at(i, j + 1));
      if (gb_[c] > 0.0 && !fixed_[c]) {
        // Boundary faces: G_b (u_c - u_b)^2 summed over this cell's Dirichlet faces, from the
        // stored sums (sum G_b u_b^2 is not kept: the faces of one cell share one value when
        // the cell has one boundary face, the usual case).
        const double ub = bb_[c] / gb_[c];
        q[c] += gb_[c] * (u[c] - ub) * (u[c] - ub);
      }
    }
  }
  return q;
}

}  // namespace mnsim::thermal
