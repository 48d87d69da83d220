#include "core/smc.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/rng.hpp"

namespace mnsim::smc {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The random stream of one particle's draws in one step: generation g, move m (0: the prior
// sample or the resampling), particle i.
Rng draws(std::uint64_t seed, std::uint64_t g, std::uint64_t m, std::uint64_t i) {
  return Rng(seed, kStreamSmc, mix64(mix64(g) ^ m) ^ i);
}

double log_sum_exp(const std::vector<double>& v) {
  double mx = kNegInf;
  for (double x : v) mx = std::max(mx, x);
  if (mx == kNegInf) return kNegInf;
  double s = 0.0;
  for (double x : v) s += std::exp(x - mx);
  return mx + std::log(s);
}

std::size_t count_unique(std::vector<std::vector<double>> x) {
  std::sort(x.begin(), x.end());
  return static_cast<std::size_t>(std::unique(x.begin(), x.end()) - x.begin());
}

std::vector<Evaluation> checked(const BatchEvaluate& f,
                                const std::vector<std::vector<double>>& pts) {
  if (pts.empty()) return {};
  std::vector<Evaluation> e = f(pts);
  if (e.size() != pts.size()) {
    throw std::logic_error("smc: the batch function returned " + std::to_string(e.size()) +
                           " results for " + std::to_string(pts.size()) + " points");
  }
  for (auto& v : e) {
    if (std::isnan(v.log_likelihood) ||
        v.log_likelihood == std::numeric_limits<double>::infinity()) {
      throw std::logic_error("smc: a log-likelihood is NaN or +infinity");
    }
  }
  return e;
}

}  // namespace

bool Box::contains(const std::vector<double>& x) const {
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (!(x[k] >= low[k] && x[k] <= high[k])) return false;
  }
  return true;
}

double effective_sample_size(const std::vector<double>& log_w) {
  const double lse = log_sum_exp(log_w);
  if (lse == kNegInf) return 0.0;
  double s2 = 0.0;
  for (double l : log_w) {
    const double w = std::exp(l - lse);
    s2 += w * w;
  }
  return 1.0 / s2;
}

double next_step(const std::vector<double>& loglik, double phi, double target) {
  const double rest = 1.0 - phi;
  std::vector<double> lw(loglik.size());
  auto ess_at = [&](double delta) {
    for (std::size_t i = 0; i < loglik.size(); ++i) {
      lw[i] = loglik[i] == kNegInf ? kNegInf : delta * loglik[i];
    }
    return effective_sample_size(lw);
  };
  if (ess_at(rest) >= target) return rest;
  double lo = 0.0, hi = rest;
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (ess_at(mid) >= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  // A step of zero would never end: at least a tiny one (the ESS target is then missed).
  return std::max(lo, 1e-12 * rest);
}

std::vector<std::size_t> systematic_resample(const std::vector<double>& weights, double u) {
  const std::size_t n = weights.size();
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::size_t> idx(n);
  double cum = 0.0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double point = (static_cast<double>(i) + u) / static_cast<double>(n) * total;
    while (j + 1 < n && cum + weights[j] <= point) cum += weights[j++];
    idx[i] = j;
  }
  return idx;
}

void weighted_moments(const std::vector<std::vector<double>>& x, const std::vector<double>& w,
                      std::vector<double>& mean, std::vector<std::vector<double>>& cov) {
  const std::size_t d = x.empty() ? 0 : x.front().size();
  mean.assign(d, 0.0);
  cov.assign(d, std::vector<double>(d, 0.0));
  double sw = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    for (std::size_t a = 0; a < d; ++a) mean[a] += w[i] * x[i][a];
  }
  if (sw <= 0.0) return;
  for (auto& m : mean) m /= sw;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t a = 0; a < d; ++a) {
      for (std::size_t b = 0; b <= a; ++b) {
        cov[a][b] += w[i] * (x[i][a] - mean[a]) * (x[i][b] - mean[b]);
      }
    }
  }
  for (std::size_t a = 0; a < d; ++a) {
    for (std::size_t b = 0; b <= a; ++b) {
      cov[a][b] /= sw;
      cov[b][a] = cov[a][b];
    }
  }
}

std::vector<std::vector<double>> cholesky(const std::vector<std::vector<double>>& a) {
  const std::size_t d = a.size();
  double dmax = 0.0;
  for (std::size_t i = 0; i < d; ++i) dmax = std::max(dmax, a[i][i]);
  const double floor = dmax > 0.0 ? 1e-12 * dmax : 1e-300;
  std::vector<std::vector<double>> l(d, std::vector<double>(d, 0.0));
  for (std::size_t j = 0; j < d; ++j) {
    double s = a[j][j];
    for (std::size_t k = 0; k < j; ++k) s -= l[j][k] * l[j][k];
    l[j][j] = std::sqrt(std::max(s, floor));
    for (std::size_t i = j + 1; i < d; ++i) {
      double t = a[i][j];
      for (std::size_t k = 0; k < j; ++k) t -= l[i][k] * l[j][k];
      l[i][j] = t / l[j][j];
    }
  }
  return l;
}

Result run(const Box& prior, const BatchEvaluate& evaluate, const Settings& s, Progress* progress) {
  const std::size_t n = s.particles, d = prior.low.size();
  if (n < 2 || d == 0 || prior.high.size() != d) {
    throw std::invalid_argument("smc: at least 2 particles and one dimension");
  }
  for (std::size_t k = 0; k < d; ++k) {
    if (!(prior.low[k] < prior.high[k])) throw std::invalid_argument("smc: empty prior box");
  }
  NullProgress silent;
  Progress& report = progress != nullptr ? *progress : silent;
  Result r;
  // Generation 0: the prior sample.
  std::vector<std::vector<double>> x(n, std::vector<double>(d));
  for (std::size_t i = 0; i < n; ++i) {
    Rng g = draws(s.seed, 0, 0, i);
    for (std::size_t k = 0; k < d; ++k) x[i][k] = g.uniform(prior.low[k], prior.high[k]);
  }
  report.stage("generation 0 (prior sample)");
  report.advance(0.0, static_cast<double>(n));
  std::vector<Evaluation> ev = checked(evaluate, x);
  report.advance(static_cast<double>(n), static_cast<double>(n));
  r.evaluations = n;
  r.generations.push_back({0, 0.0, static_cast<double>(n), 0, 0, 0, 0.0, 0.0, n, count_unique(x)});
  double phi = 0.0, scale = 1.0;
  const double base_scale = 2.38 * 2.38 / static_cast<double>(d);
  for (int g = 1; g <= s.max_generations && phi < 1.0; ++g) {
    Generation gen;
    gen.index = g;
    // Reweight to the next temperature.
    std::vector<double> l(n);
    for (std::size_t i = 0; i < n; ++i) l[i] = ev[i].log_likelihood;
    const double delta = next_step(l, phi, s.ess_fraction * static_cast<double>(n));
    std::vector<double> lw(n);
    for (std::size_t i = 0; i < n; ++i) lw[i] = l[i] == kNegInf ? kNegInf : delta * l[i];
    const double lse = log_sum_exp(lw);
    if (lse == kNegInf) {
      throw std::runtime_error("smc: every particle has zero likelihood");
    }
    r.log_evidence += lse - std::log(static_cast<double>(n));
    gen.ess = effective_sample_size(lw);
    phi = delta >= 1.0 - phi ? 1.0 : phi + delta;
    gen.temperature = phi;
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = std::exp(lw[i] - lse);
    // The proposal: the reweighted particles' covariance.
    std::vector<double> mean;
    std::vector<std::vector<double>> cov;
    weighted_moments(x, w, mean, cov);
    const auto chol = cholesky(cov);
    gen.scale = scale;
    const double step = std::sqrt(base_scale * scale);
    // Resample.
    const std::vector<std::size_t> idx = systematic_resample(w, draws(s.seed, g, 0, n).uniform());
    {
      std::vector<std::vector<double>> x2(n);
      std::vector<Evaluation> e2(n);
      for (std::size_t i = 0; i < n; ++i) {
        x2[i] = x[idx[i]];
        e2[i] = ev[idx[i]];
      }
      x.swap(x2);
      ev.swap(e2);
    }
    // Move: random-walk Metropolis on prior x L^phi, a batch of proposals per move.
    const double total = static_cast<double>(s.moves) * static_cast<double>(n);
    report.stage("generation " + std::to_string(g) + " (temperature " +
                 std::to_string(phi).substr(0, 6) + ")");
    report.advance(0.0, total);
    for (int m = 1; m <= s.moves; ++m) {
      std::vector<std::vector<double>> y(n, std::vector<double>(d));
      std::vector<double> log_u(n);
      std::vector<std::vector<double>> batch;
      std::vector<std::size_t> in_box;
      for (std::size_t i = 0; i < n; ++i) {
        Rng rg = draws(s.seed, g, static_cast<std::uint64_t>(m), i);
        std::vector<double> z(d);
        for (auto& v : z) v = rg.normal();
        for (std::size_t a = 0; a < d; ++a) {
          double dx = 0.0;
          for (std::size_t b = 0; b <= a; ++b) dx += chol[a][b] * z[b];
          y[i][a] = x[i][a] + step * dx;
        }
        log_u[i] = std::log(std::max(rg.uniform(), 1e-300));
        if (prior.contains(y[i])) {
          batch.push_back(y[i]);
          in_box.push_back(i);
        } else {
          ++gen.outside;
        }
      }
      const std::vector<Evaluation> eb = checked(evaluate, batch);
      gen.evaluations += batch.size();
      for (std::size_t j = 0; j < in_box.size(); ++j) {
        const std::size_t i = in_box[j];
        const double lnew = eb[j].log_likelihood, lold = ev[i].log_likelihood;
        bool accept = false;
        if (lnew != kNegInf) accept = lold == kNegInf || log_u[i] < phi * (lnew - lold);
        if (accept) {
          x[i] = y[i];
          ev[i] = eb[j];
          ++gen.accepted;
        }
      }
      gen.proposed += n;
      report.advance(static_cast<double>(m) * static_cast<double>(n), total);
    }
    gen.acceptance = gen.proposed > 0
                         ? static_cast<double>(gen.accepted) / static_cast<double>(gen.proposed)
                         : 0.0;
    gen.unique = count_unique(x);
    r.evaluations += gen.evaluations;
    r.generations.push_back(gen);
    // The next generation's proposal scale, towards an acceptance rate of 0.234.
    scale = std::clamp(scale * std::exp(2.0 * (gen.acceptance - 0.234)), 1e-4, 10.0);
  }
  r.complete = phi >= 1.0;
  r.particles = std::move(x);
  r.evaluated = std::move(ev);
  return r;
}

}  // namespace mnsim::smc
