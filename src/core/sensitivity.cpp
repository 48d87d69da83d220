#include "core/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/rng.hpp"
#include "core/stats.hpp"

namespace mnsim::sensitivity {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool all_finite(const std::vector<double>& y) {
  return std::all_of(y.begin(), y.end(), [](double v) { return std::isfinite(v); });
}

// The percentile interval of `draws` (the finite ones) at `confidence`.
void set_interval(Estimate& e, std::vector<double> draws, double confidence) {
  draws.erase(
      std::remove_if(draws.begin(), draws.end(), [](double v) { return !std::isfinite(v); }),
      draws.end());
  if (draws.empty()) return;
  const double tail = 0.5 * (1.0 - confidence);
  e.low = stats::quantile(draws, tail);
  e.high = stats::quantile(std::move(draws), 1.0 - tail);
}

// The row indices of bootstrap resample `b` of `n` rows (with replacement).
std::vector<std::size_t> resample(const Bootstrap& b, int index, std::size_t n) {
  Rng r(b.seed, kStreamBootstrap, static_cast<std::uint64_t>(index));
  std::vector<std::size_t> rows(n);
  for (auto& j : rows) j = static_cast<std::size_t>(r.below(n));
  return rows;
}

void check_bootstrap(const Bootstrap& b) {
  if (b.resamples < 0 || !(b.confidence > 0.0 && b.confidence < 1.0)) {
    throw std::invalid_argument("bootstrap: resamples >= 0 and 0 < confidence < 1");
  }
}

// Sobol' estimators over the rows `rows` of a Saltelli sample: first and total order of every
// input, and the variance (NaN indices when it is 0).
struct SobolSums {
  std::vector<double> first, total;
  double mean = 0.0, variance = 0.0;
};
SobolSums sobol_estimate(const std::vector<double>& y, std::size_t base, std::size_t dims,
                         const std::vector<std::size_t>& rows) {
  SobolSums s;
  const auto n = static_cast<double>(rows.size());
  double sum = 0.0;
  for (std::size_t j : rows) sum += y[j] + y[base + j];
  s.mean = sum / (2.0 * n);
  double ss = 0.0;
  for (std::size_t j : rows) {
    ss += (y[j] - s.mean) * (y[j] - s.mean) + (y[base + j] - s.mean) * (y[base + j] - s.mean);
  }
  s.variance = ss / (2.0 * n);
  s.first.assign(dims, kNaN);
  s.total.assign(dims, kNaN);
  // A relative floor: an output constant to rounding has no variance to apportion. f(B) enters
  // the first-order estimator centred on the mean: its expectation is the same (the mean of
  // f(AB_i) - f(A) is zero) and its variance smaller when the mean is large against the spread.
  if (!(s.variance > 1e-24 * std::max(1.0, s.mean * s.mean))) return s;
  for (std::size_t i = 0; i < dims; ++i) {
    const std::size_t ab = (2 + i) * base;
    double f = 0.0, t = 0.0;
    for (std::size_t j : rows) {
      const double fa = y[j], fb = y[base + j], fab = y[ab + j];
      f += (fb - s.mean) * (fab - fa);
      t += (fa - fab) * (fa - fab);
    }
    s.first[i] = f / n / s.variance;
    s.total[i] = t / (2.0 * n) / s.variance;
  }
  return s;
}

}  // namespace

SaltelliDesign::SaltelliDesign(std::uint64_t seed, std::size_t base, std::size_t dims)
    : seed_(seed), base_(base), dims_(dims) {
  if (base < 2 || dims < 1) throw std::invalid_argument("Saltelli design: base >= 2, dims >= 1");
}

std::vector<double> SaltelliDesign::point(std::size_t e) const {
  if (e >= evaluations())
    throw std::out_of_range("Saltelli design: no evaluation " + std::to_string(e));
  const std::size_t block = e / base_, j = e % base_;
  Rng r(seed_, kStreamSaltelli, j);
  std::vector<double> a(dims_), b(dims_);
  for (auto& v : a) v = r.uniform();
  for (auto& v : b) v = r.uniform();
  if (block == 1) return b;
  if (block >= 2) a[block - 2] = b[block - 2];
  return a;
}

SobolIndices sobol_indices(const SaltelliDesign& d, const std::vector<double>& y,
                           const Bootstrap& b) {
  check_bootstrap(b);
  if (y.size() != d.evaluations()) {
    throw std::invalid_argument("Sobol' indices: one value per evaluation of the design");
  }
  SobolIndices out;
  out.first.resize(d.dims());
  out.total.resize(d.dims());
  if (!all_finite(y)) {
    out.mean = out.variance = kNaN;
    return out;
  }
  std::vector<std::size_t> all(d.base());
  std::iota(all.begin(), all.end(), std::size_t{0});
  const SobolSums s = sobol_estimate(y, d.base(), d.dims(), all);
  out.mean = s.mean;
  out.variance = s.variance;
  for (std::size_t i = 0; i < d.dims(); ++i) {
    out.first[i].value = s.first[i];
    out.total[i].value = s.total[i];
  }
  if (b.resamples == 0 || !std::isfinite(s.first.front())) return out;
  std::vector<std::vector<double>> first(d.dims()), total(d.dims());
  for (int k = 0; k < b.resamples; ++k) {
    const SobolSums r = sobol_estimate(y, d.base(), d.dims(), resample(b, k, d.base()));
    for (std::size_t i = 0; i < d.dims(); ++i) {
      first[i].push_back(r.first[i]);
      total[i].push_back(r.total[i]);
    }
  }
  for (std::size_t i = 0; i < d.dims(); ++i) {
    set_interval(out.first[i], std::move(first[i]), b.confidence);
    set_interval(out.total[i], std::move(total[i]), b.confidence);
  }
  return out;
}

MorrisDesign::MorrisDesign(std::uint64_t seed, std::size_t trajectories, std::size_t dims,
                           int levels)
    : seed_(seed), trajectories_(trajectories), dims_(dims), levels_(levels) {
  if (trajectories < 2 || dims < 1 || levels < 2 || levels % 2 != 0) {
    throw std::invalid_argument("Morris design: trajectories >= 2, dims >= 1, levels even >= 2");
  }
}

double MorrisDesign::delta() const {
  return static_cast<double>(levels_) / (2.0 * (levels_ - 1));
}

MorrisDesign::Trajectory MorrisDesign::trajectory(std::size_t t) const {
  Rng r(seed_, kStreamMorris, t);
  Trajectory tr;
  const double dl = delta();
  const auto lower = static_cast<std::uint64_t>(levels_ / 2);  // levels with x + delta <= 1
  tr.start.resize(dims_);
  tr.change.resize(dims_);
  for (std::size_t i = 0; i < dims_; ++i) {
    const double x = static_cast<double>(r.below(lower)) / (levels_ - 1);
    const bool up = r.uniform() < 0.5;
    tr.start[i] = up ? x : x + dl;
    tr.change[i] = up ? dl : -dl;
  }
  tr.order.resize(dims_);
  std::iota(tr.order.begin(), tr.order.end(), std::size_t{0});
  for (std::size_t i = dims_; i > 1; --i) {  // Fisher-Yates
    std::swap(tr.order[i - 1], tr.order[static_cast<std::size_t>(r.below(i))]);
  }
  return tr;
}

std::vector<double> MorrisDesign::point(std::size_t e) const {
  if (e >= evaluations())
    throw std::out_of_range("Morris design: no evaluation " + std::to_string(e));
  const Trajectory tr = trajectory(e / (dims_ + 1));
  std::vector<double> x = tr.start;
  for (std::size_t s = 0; s < e % (dims_ + 1); ++s) x[tr.order[s]] += tr.change[tr.order[s]];
  // Grid levels exactly (x + delta can round a hair past 1).
  for (auto& v : x) v = std::clamp(std::round(v * (levels_ - 1)) / (levels_ - 1), 0.0, 1.0);
  return x;
}

MorrisDesign::Move MorrisDesign::move(std::size_t t, std::size_t s) const {
  if (t >= trajectories_ || s < 1 || s > dims_) throw std::out_of_range("Morris design: no move");
  const Trajectory tr = trajectory(t);
  const std::size_t i = tr.order[s - 1];
  return {i, tr.change[i]};
}

MorrisIndices morris_indices(const MorrisDesign& d, const std::vector<double>& y,
                             const Bootstrap& b) {
  check_bootstrap(b);
  if (y.size() != d.evaluations()) {
    throw std::invalid_argument("Morris measures: one value per evaluation of the design");
  }
  const std::size_t k = d.dims(), r = d.trajectories();
  MorrisIndices out;
  out.mu_star.resize(k);
  out.mu.assign(k, kNaN);
  out.sigma.assign(k, kNaN);
  if (!all_finite(y)) return out;
  // ee[t * k + i]: the elementary effect of input i on trajectory t.
  std::vector<double> ee(r * k);
  for (std::size_t t = 0; t < r; ++t) {
    for (std::size_t s = 1; s <= k; ++s) {
      const MorrisDesign::Move m = d.move(t, s);
      const std::size_t e = t * (k + 1) + s;
      ee[t * k + m.input] = (y[e] - y[e - 1]) / m.change;
    }
  }
  auto mu_star = [&](const std::vector<std::size_t>& rows, std::size_t i) {
    double a = 0.0;
    for (std::size_t t : rows) a += std::abs(ee[t * k + i]);
    return a / static_cast<double>(rows.size());
  };
  std::vector<std::size_t> all(r);
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (std::size_t i = 0; i < k; ++i) {
    double m = 0.0;
    for (std::size_t t = 0; t < r; ++t) m += ee[t * k + i];
    m /= static_cast<double>(r);
    double ss = 0.0;
    for (std::size_t t = 0; t < r; ++t) ss += (ee[t * k + i] - m) * (ee[t * k + i] - m);
    out.mu[i] = m;
    out.sigma[i] = std::sqrt(ss / static_cast<double>(r - 1));
    out.mu_star[i].value = mu_star(all, i);
  }
  if (b.resamples == 0) return out;
  std::vector<std::vector<double>> draws(k);
  for (int n = 0; n < b.resamples; ++n) {
    const std::vector<std::size_t> rows = resample(b, n, r);
    for (std::size_t i = 0; i < k; ++i) draws[i].push_back(mu_star(rows, i));
  }
  for (std::size_t i = 0; i < k; ++i)
    set_interval(out.mu_star[i], std::move(draws[i]), b.confidence);
  return out;
}

}  // namespace mnsim::sensitivity
