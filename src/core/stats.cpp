#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mnsim::stats {

namespace {

// Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 500; ++m) {
    const double dm = m;
    // Even step.
    double num = dm * (b - dm) * x / ((a + 2 * dm - 1) * (a + 2 * dm));
    d = 1.0 + num * d;
    c = 1.0 + num / c;
    d = 1.0 / (std::abs(d) < tiny ? tiny : d);
    c = std::abs(c) < tiny ? tiny : c;
    f *= d * c;
    // Odd step.
    num = -(a + dm) * (a + b + dm) * x / ((a + 2 * dm) * (a + 2 * dm + 1));
    d = 1.0 + num * d;
    c = 1.0 + num / c;
    d = 1.0 / (std::abs(d) < tiny ? tiny : d);
    c = std::abs(c) < tiny ? tiny : c;
    const double delta = d * c;
    f *= delta;
    if (std::abs(delta - 1.0) < 1e-14) break;
  }
  return f;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(x > 0.0)) return 0.0;
  if (!(x < 1.0)) return 1.0;
  const double ln_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(ln_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

double student_t_cdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  // P(T < -|t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2); near t = 0 through the
  // complement in y = 1 - x = t^2 / (df + t^2), computed without cancellation.
  const double y = t * t / (df + t * t);
  const double tail = y < 0.5 ? 0.5 * (1.0 - incomplete_beta(0.5, 0.5 * df, y))
                              : 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
  return t > 0.0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0.0)) return -std::numeric_limits<double>::infinity();
  if (!(p < 1.0)) return std::numeric_limits<double>::infinity();
  // Bracket, then bisect (the cdf is monotone).
  double lo = -1.0, hi = 1.0;
  while (student_t_cdf(lo, df) > p) lo *= 2.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * std::max(1.0, std::abs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double quantile(std::vector<double> x, double q) {
  if (x.empty()) return 0.0;
  std::sort(x.begin(), x.end());
  const double h = std::clamp(q, 0.0, 1.0) * static_cast<double>(x.size() - 1);
  const auto i = static_cast<std::size_t>(h);
  const double w = h - static_cast<double>(i);
  // Equal neighbours give their value exactly ((1 - w) x + w x can miss it by an ulp, which put
  // a degenerate band's 10% above its 90%).
  if (i + 1 >= x.size() || x[i + 1] == x[i]) return x[i];
  return (1 - w) * x[i] + w * x[i + 1];
}

PairedT paired_t(const std::vector<double>& d) {
  PairedT r;
  const auto n = static_cast<double>(d.size());
  if (d.empty()) return r;
  for (double v : d) r.mean += v;
  r.mean /= n;
  r.ci_low = r.ci_high = r.mean;
  if (d.size() < 2) return r;
  double q = 0.0;
  for (double v : d) q += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(q / (n - 1.0));
  const double se = r.sd / std::sqrt(n);
  const double tq = student_t_quantile(0.975, n - 1.0);
  r.ci_low = r.mean - tq * se;
  r.ci_high = r.mean + tq * se;
  if (se > 0.0) {
    r.t = r.mean / se;
    r.p = std::min(1.0, 2.0 * student_t_cdf(-std::abs(r.t), n - 1.0));
  } else {
    r.t = 0.0;
    r.p = r.mean == 0.0 ? 1.0 : 0.0;
  }
  return r;
}

}  // namespace mnsim::stats
