#include "healing/radial.hpp"

#include <algorithm>
#include <cmath>

#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {
double area(std::size_t i, double dr) {  // annulus area / (2 pi)
  const double rl = static_cast<double>(i) * dr, rr = rl + dr;
  return 0.5 * (rr * rr - rl * rl);
}
}  // namespace

void radial_diffusion_implicit(std::vector<double>& u, double D, double dt, double dr) {
  const std::size_t n = u.size();
  if (D <= 0.0 || n < 2) return;
  std::vector<double> a(n, 0.0), b(n, 0.0), c(n, 0.0), d(u);
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
  solve_tridiagonal(a, b, c, d);
  for (std::size_t i = 0; i < n; ++i) u[i] = std::max(d[i], 0.0);
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
