#include "protocol/bands.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <exception>
#include <mutex>
#include <set>

#include "core/data_dir.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/stats.hpp"
#include "io/data_file.hpp"
#include "outcomes/scar_remodel.hpp"

namespace mnsim::protocol {

namespace {

/// A number of a TOML array (integer or float), or a failure naming `key`.
double number_of(const io::DataFile& f, const toml::node& n, const std::string& key) {
  if (const auto* d = n.as_floating_point()) return d->get();
  if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
  f.fail(n, key, "is not a number", "a number");
}

const toml::array& array_of(const io::DataFile& f, const toml::table& t, const std::string& key) {
  const toml::node* n = t.get(key.substr(key.rfind('.') + 1));
  if (n == nullptr) f.fail(t, key, "is missing", "an array");
  const toml::array* a = n->as_array();
  if (a == nullptr) f.fail(*n, key, "is not an array", "an array");
  return *a;
}

std::string string_of(const io::DataFile& f, const toml::node& n, const std::string& key) {
  const auto* s = n.as_string();
  if (s == nullptr) f.fail(n, key, "is not a string", "a string");
  return s->get();
}

}  // namespace

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

PosteriorSample load_posterior_sample(const std::string& path) {
  const io::DataFile f(path);
  PosteriorSample s;
  s.path = path;
  f.check_keys(f.root(), "", {"sample"});
  const toml::table& t = f.table(f.root(), "", "sample");
  f.check_keys(t, "sample", {"command", "made_with", "parameters", "units", "particles"});
  for (const char* k : {"command", "made_with"}) {
    const toml::node* n = t.get(k);
    if (n == nullptr) f.fail(t, std::string("sample.") + k, "is missing", "a string");
    (k == std::string("command") ? s.command : s.made_with) =
        string_of(f, *n, std::string("sample.") + k);
  }
  const auto& all = sensitivity_parameters();
  const toml::array& keys = array_of(f, t, "sample.parameters");
  const toml::array& units = array_of(f, t, "sample.units");
  if (keys.empty()) f.fail(keys, "sample.parameters", "is empty", "calibrated parameter keys");
  std::set<std::string> seen;
  for (const toml::node& n : keys) {
    const std::string key = string_of(f, n, "sample.parameters");
    const auto it = all.find(key);
    if (it == all.end()) {
      f.fail(n, "sample.parameters", fmt::format("\"{}\" is not a model parameter", key),
             "a key of `mnsim catalog healing` as healing.<section>.<key>");
    }
    if (it->second.value_source.rfind("calibrated", 0) != 0) {
      f.fail(n, "sample.parameters",
             fmt::format("\"{}\" is not a calibrated parameter (its source: {})", key,
                         it->second.value_source),
             "a parameter whose data file marks it calibrated");
    }
    if (!seen.insert(key).second) {
      f.fail(n, "sample.parameters", fmt::format("\"{}\" is given twice", key),
             "each parameter once");
    }
    s.parameters.push_back(it->second);
  }
  if (units.size() != keys.size()) {
    f.fail(units, "sample.units",
           fmt::format("has {} entries for {} parameters", units.size(), keys.size()),
           "one unit per parameter");
  }
  for (std::size_t i = 0; i < units.size(); ++i) {
    const std::string u = string_of(f, *units.get(i), "sample.units");
    if (u != s.parameters[i].unit) {
      f.fail(*units.get(i), "sample.units",
             fmt::format("\"{}\" is not the unit of {} in its data file", u, s.parameters[i].key),
             fmt::format("\"{}\"", s.parameters[i].unit));
    }
  }
  const toml::array& rows = array_of(f, t, "sample.particles");
  if (rows.empty()) f.fail(rows, "sample.particles", "is empty", "at least one particle");
  double total = 0;
  for (const toml::node& row : rows) {
    const toml::array* r = row.as_array();
    const std::string expected =
        fmt::format("[weight, then {} parameter values]", s.parameters.size());
    if (r == nullptr) f.fail(row, "sample.particles", "holds a row that is not an array", expected);
    if (r->size() != s.parameters.size() + 1) {
      f.fail(row, "sample.particles", fmt::format("holds a row of {} numbers", r->size()),
             expected);
    }
    const double w = number_of(f, *r->get(0), "sample.particles");
    if (!std::isfinite(w) || w < 0) {
      f.fail(*r->get(0), "sample.particles", fmt::format("weight {} is not allowed", w),
             "a finite weight >= 0");
    }
    std::vector<double> v;
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      const SensitivityParameter& p = s.parameters[i];
      const toml::node& n = *r->get(i + 1);
      const double x = number_of(f, n, "sample.particles");
      if (!std::isfinite(x) || x < p.admissible_low || x > p.admissible_high) {
        f.fail(n, "sample.particles", fmt::format("{} = {} is out of range", p.key, x),
               fmt::format("{} to {} {}", p.admissible_low, p.admissible_high, p.unit));
      }
      v.push_back(x);
    }
    s.weights.push_back(w);
    s.particles.push_back(std::move(v));
    total += w;
  }
  if (!(total > 0)) f.fail(rows, "sample.particles", "has no weight", "some weight > 0");
  for (double& w : s.weights) w /= total;
  return s;
}

const PosteriorSample& default_posterior_sample() {
  static const PosteriorSample s = load_posterior_sample(data_file("posterior_sample.toml"));
  return s;
}

Variability default_variability() {
  const auto& op = outcomes::default_outcome_params();
  return {op.var_collagen_synthesis, op.var_growth_factor_supply, op.var_fibroblast_proliferation,
          op.var_melanin_rate};
}

std::vector<std::size_t> resample_indices(const std::vector<double>& weights, std::size_t n,
                                          double u) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<std::size_t> idx(n);
  double cum = 0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double point = (static_cast<double>(i) + u) / static_cast<double>(n) * total;
    while (j + 1 < weights.size() && cum + weights[j] <= point) cum += weights[j++];
    idx[i] = j;
  }
  return idx;
}

Band band_of(const std::vector<double>& values) {
  Band b;
  b.draws = static_cast<int>(values.size());
  if (values.empty()) return b;
  b.p10 = stats::quantile(values, 0.1);
  b.p50 = stats::quantile(values, 0.5);
  b.p90 = stats::quantile(values, 0.9);
  return b;
}

BandDesign::BandDesign(const ReducedModel& base, const PosteriorSample& post, const BandSettings& s)
    : base_(&base),
      posterior_(static_cast<std::size_t>(std::max(0, s.posterior_draws))),
      variability_(static_cast<std::size_t>(std::max(0, s.variability_draws))) {
  if (posterior_ > 0) {
    Rng r(s.seed, kStreamPosterior, 0);
    particles_ = resample_indices(post.weights, posterior_, r.uniform());
    drawn_.reserve(posterior_);
    for (std::size_t i : particles_) {
      drawn_.push_back(with_values(base, post.parameters, post.particles[i]));
    }
  }
  rates_.reserve(variability_);
  for (std::size_t i = 0; i < variability_; ++i) {
    rates_.push_back(draw_rates(s.variability, s.seed, i));
  }
}

const ReducedModel& BandDesign::model(std::size_t k) const {
  return k < posterior_ ? drawn_.at(k) : *base_;
}

RateFactors BandDesign::rates(std::size_t k) const {
  return k < posterior_ ? RateFactors{} : rates_.at(k - posterior_);
}

Band BandDesign::parameter_band(const std::vector<double>& values) const {
  return band_of(
      std::vector<double>(values.begin(), values.begin() + static_cast<long>(posterior_)));
}

Band BandDesign::variability_band(const std::vector<double>& values) const {
  return band_of(std::vector<double>(values.begin() + static_cast<long>(posterior_),
                                     values.begin() + static_cast<long>(size())));
}

PredictiveBands predictive_bands(const BandDesign& d, const std::vector<std::string>& names,
                                 const BandFunction& f, int threads) {
  const double cpu0 = process_cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  const std::size_t n = d.size();
  std::vector<std::vector<double>> rows(n);
  std::exception_ptr failed;
  std::mutex mu;
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t k = 0; k < n; ++k) {
    try {
      rows[k] = f(d.model(k), d.rates(k));
      if (rows[k].size() != names.size()) {
        throw std::logic_error("predictive_bands: one value per output");
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu);
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
  PredictiveBands out;
  out.outputs = names;
  for (std::size_t j = 0; j < names.size(); ++j) {
    std::vector<double> v(n);
    for (std::size_t k = 0; k < n; ++k) v[k] = rows[k][j];
    out.parameter.push_back(d.parameter_band(v));
    out.variability.push_back(d.variability_band(v));
  }
  out.evaluations = n;
  out.cpu_seconds = process_cpu_seconds() - cpu0;
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace mnsim::protocol
