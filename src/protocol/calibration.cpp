#include "protocol/calibration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/stages.hpp"
#include "core/stats.hpp"
#include "core/version.hpp"
#include "io/toml_file.hpp"
#include "protocol/mirror.hpp"

namespace mnsim::protocol {

namespace {

// Case ids of the shipped validation file (the choices of `cases`; a check is refused by name).
std::vector<std::string> shipped_case_ids() {
  std::vector<std::string> ids;
  for (const auto& c : load_validation(default_validation_path()).cases) ids.push_back(c.id);
  return ids;
}

std::vector<std::size_t> read_cases(const Table& root, const ValidationSet& set) {
  std::vector<std::size_t> out;
  if (!root.has("cases")) {
    for (std::size_t i = 0; i < set.cases.size(); ++i) {
      if (set.cases[i].calibration) out.push_back(i);
    }
  } else {
    // The schema refuses an unknown or repeated id.
    for (const auto& id : root.list("cases")) {
      std::size_t i = 0;
      while (i < set.cases.size() && set.cases[i].id != id) ++i;
      if (i == set.cases.size()) root.fail("cases", fmt::format("no case '{}'", id));
      if (!set.cases[i].calibration) {
        root.fail(
            "cases",
            fmt::format("'{}' is a check: checks are held back for validation, never fitted", id),
            "calibration cases (role = \"calibration\" in data/validation.toml)");
      }
      out.push_back(i);
    }
  }
  for (std::size_t i : out) {
    if (!set.cases[i].target) {
      root.fail("cases", fmt::format("calibration case '{}' has no target", set.cases[i].id),
                "a target = { ... } for it in the validation file");
    }
  }
  if (out.empty()) root.fail("cases", "no calibration cases", "at least one calibration case");
  return out;
}

// The parameters must be calibrated values (the ones the calibration set was fitted for).
void check_calibrated(const Table& root, const std::vector<SensitivityParameter>& ps) {
  const auto& entries = root.tables("parameters");
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].value_source.rfind("calibrated", 0) != 0) {
      entries.at(i).fail(
          "key", fmt::format("{} is not a calibrated value of its data file", ps[i].key),
          "a parameter whose source is \"calibrated ...\" (mnsim validate lists them under "
          "fitted)");
    }
  }
}

std::string fmt_value(double v) {
  return fmt::format("{:.6g}", v);
}

nlohmann::ordered_json num(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json summary_json(const SampleSummary& m) {
  return {{"mean", num(m.mean)}, {"sd", num(m.sd)},   {"q05", num(m.q05)}, {"q10", num(m.q10)},
          {"q50", num(m.q50)},   {"q90", num(m.q90)}, {"q95", num(m.q95)}};
}

// "healing.matrix.collagen_synthesis" -> "healing.toml:matrix.collagen_synthesis" (the name the
// validation file's `fitted` lists).
std::string fitted_name(const std::string& key) {
  const auto dot = key.find('.');
  return key.substr(0, dot) + ".toml:" + key.substr(dot + 1);
}

}  // namespace

const schema::Key& calibration_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key root = table("", "a calibration: a posterior over calibrated parameters", {}, true);
    root.children = {
        string("title", "", "Title."),
        mirror_key("seed", "seed", "1", "Seed of the sampler."),
        enum_list("cases", shipped_case_ids(), "",
                  "calibration cases of data/validation.toml used as the likelihood (default: "
                  "every calibration case; checks are refused)"),
        table("calibration", "The sampler's settings (docs/calibration.md).",
              {
                  integer("particles", "200", "particles N", 10, 100000),
                  integer("moves", "3",
                          "random-walk Metropolis moves of every particle per generation", 1, 100),
                  number("ess_fraction", "0.5",
                         "each tempering step keeps this fraction of N as the effective sample "
                         "size",
                         0.05, 0.95),
                  integer("max_generations", "40",
                          "most tempering steps; a run that has not reached the posterior by "
                          "then stops, marked incomplete",
                          1, 1000),
              }),
        sampled_parameters_key(
            "The parameters calibrated: each a calibrated key of data/healing.toml or "
            "data/outcomes.toml, with its prior range (docs/calibration.md, \"Priors\")."),
    };
    return root;
  }();
  return root;
}

CalibrationSpec load_calibration(const std::string& path, const std::vector<Override>& overrides) {
  const Table root =
      io::load_toml_file(path, calibration_schema(), "a TOML calibration file", overrides);
  CalibrationSpec s;
  if (root.has("title")) s.title = root.str("title");
  s.smc.seed = static_cast<std::uint64_t>(root.integer("seed"));
  const Table& c = root.table("calibration");
  s.smc.particles = static_cast<std::size_t>(c.integer("particles"));
  s.smc.moves = static_cast<int>(c.integer("moves"));
  s.smc.ess_fraction = c.number("ess_fraction");
  s.smc.max_generations = static_cast<int>(c.integer("max_generations"));
  s.validation = load_validation(default_validation_path());
  s.cases = read_cases(root, s.validation);
  s.parameters = read_sampled_parameters(root, 2.0);
  check_calibrated(root, s.parameters);
  s.resolved = root;
  return s;
}

std::size_t calibration_max_evaluations(const CalibrationSpec& s) {
  return s.smc.particles * (1 + static_cast<std::size_t>(s.smc.max_generations) *
                                    static_cast<std::size_t>(s.smc.moves));
}

double to_coordinate(const SensitivityParameter& p, double value) {
  return p.log ? std::log(value) : value;
}

double from_coordinate(const SensitivityParameter& p, double x) {
  return p.log ? std::exp(x) : x;
}

smc::Box calibration_prior(const CalibrationSpec& s) {
  smc::Box b;
  for (const auto& p : s.parameters) {
    b.low.push_back(to_coordinate(p, p.low));
    b.high.push_back(to_coordinate(p, p.high));
  }
  return b;
}

CaseCohorts threshold_case_cohorts(const ReducedModel& m, const CalibrationSpec& s, int threads) {
  CaseCohorts out;
  for (const auto& p : s.parameters) {
    if (p.key != "outcomes.pih.mu_threshold") return out;
  }
  out.by_case.resize(s.cases.size());
  for (std::size_t j = 0; j < s.cases.size(); ++j) {
    const ValidationCase& c = s.validation.cases[s.cases[j]];
    if (c.metric == "pih_incidence_pct") {
      out.by_case[j] = run_case_cohort(m, s.validation, c, threads);
    }
  }
  return out;
}

std::vector<double> calibration_predictions(const ReducedModel& base, const CalibrationSpec& s,
                                            const std::vector<double>& values,
                                            const CaseCohorts* cohorts) {
  const ReducedModel m = with_values(base, s.parameters, values);
  std::vector<double> out;
  out.reserve(s.cases.size());
  for (std::size_t j = 0; j < s.cases.size(); ++j) {
    const ValidationCase& c = s.validation.cases[s.cases[j]];
    if (cohorts != nullptr && j < cohorts->by_case.size() && cohorts->by_case[j]) {
      out.push_back(pih_incidence_with(m, s.validation, c, *cohorts->by_case[j]));
    } else {
      out.push_back(evaluate_case(m, s.validation, c, 1));
    }
  }
  return out;
}

double calibration_log_likelihood(const CalibrationSpec& s,
                                  const std::vector<double>& predictions) {
  double ll = 0.0;
  for (std::size_t j = 0; j < s.cases.size(); ++j) {
    const double z = s.validation.cases[s.cases[j]].target->z(predictions.at(j));
    ll -= 0.5 * z * z;
  }
  return ll;
}

namespace {

/// The parameter values of a point (sampled coordinates to data-file units).
std::vector<double> values_of(const CalibrationSpec& s, const std::vector<double>& x) {
  std::vector<double> v(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) v[k] = from_coordinate(s.parameters.at(k), x[k]);
  return v;
}

/// One point's evaluation; throws the error that names its parameter values.
smc::Evaluation evaluate_point(const ReducedModel& m, const CalibrationSpec& s,
                               const std::vector<double>& x, const CaseCohorts* cohorts) {
  smc::Evaluation e;
  try {
    e.outputs = calibration_predictions(m, s, values_of(s, x), cohorts);
    for (double v : e.outputs) {
      if (!std::isfinite(v)) throw NumericalError("a prediction is not a finite number");
    }
    e.log_likelihood = calibration_log_likelihood(s, e.outputs);
  } catch (const std::exception& err) {
    const std::vector<double> v = values_of(s, x);
    std::string at;
    for (std::size_t k = 0; k < v.size(); ++k) {
      at += fmt::format("{}{} = {}", k ? ", " : "", s.parameters[k].key, fmt_value(v[k]));
    }
    throw NumericalError(fmt::format("model evaluation at {} failed: {}", at, err.what()));
  }
  return e;
}

}  // namespace

std::vector<smc::Evaluation> evaluate_calibration_batch(
    const ReducedModel& m, const CalibrationSpec& s, const std::vector<std::vector<double>>& points,
    int threads, const CaseCohorts* cohorts) {
  const std::size_t count = points.size();
  std::vector<smc::Evaluation> out(count);
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> first_failure{count};
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t i = 0; i < count; ++i) {
    if (i > first_failure.load()) continue;
    try {
      out[i] = evaluate_point(m, s, points[i], cohorts);
    } catch (...) {
      errors[i] = std::current_exception();
      std::size_t cur = first_failure.load();
      while (i < cur && !first_failure.compare_exchange_weak(cur, i)) {
      }
    }
  }
  if (const std::size_t f = first_failure.load(); f < count) std::rethrow_exception(errors[f]);
  return out;
}

namespace {

/// The evaluations of a batch with each point's as bytes (the log-likelihood, then the k
/// predictions, bit for bit), computed by `map` (over ranks, or by a stage runner).
std::vector<smc::Evaluation> evaluate_mapped(
    const ReducedModel& m, const CalibrationSpec& s, const std::vector<std::vector<double>>& points,
    const CaseCohorts* cohorts,
    const std::function<std::vector<std::string>(
        std::size_t, const std::function<std::string(std::size_t)>&)>& map) {
  const std::size_t k = s.cases.size();
  const std::vector<std::string> parts = map(points.size(), [&](std::size_t i) {
    const smc::Evaluation e = evaluate_point(m, s, points[i], cohorts);
    std::string b((1 + k) * sizeof(double), '\0');
    std::memcpy(b.data(), &e.log_likelihood, sizeof(double));
    std::memcpy(b.data() + sizeof(double), e.outputs.data(), k * sizeof(double));
    return b;
  });
  std::vector<smc::Evaluation> out(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() != (1 + k) * sizeof(double)) {
      throw std::logic_error("evaluate_calibration_split: a short result");
    }
    std::memcpy(&out[i].log_likelihood, parts[i].data(), sizeof(double));
    out[i].outputs.resize(k);
    std::memcpy(out[i].outputs.data(), parts[i].data() + sizeof(double), k * sizeof(double));
  }
  return out;
}

}  // namespace

std::vector<smc::Evaluation> evaluate_calibration_split(
    const ReducedModel& m, const CalibrationSpec& s, const std::vector<std::vector<double>>& points,
    const Ranks& ranks, int threads, const CaseCohorts* cohorts) {
  return evaluate_mapped(m, s, points, cohorts, [&](std::size_t n, const auto& item) {
    return map_items(ranks, n, item, Deliver::Everyone, threads);
  });
}

SampleSummary summarise(const std::vector<double>& x) {
  SampleSummary m;
  if (x.empty()) return m;
  double sum = 0.0;
  for (double v : x) sum += v;
  m.mean = sum / static_cast<double>(x.size());
  double ss = 0.0;
  for (double v : x) ss += (v - m.mean) * (v - m.mean);
  m.sd = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1)) : 0.0;
  m.q05 = stats::quantile(x, 0.05);
  m.q10 = stats::quantile(x, 0.10);
  m.q50 = stats::quantile(x, 0.50);
  m.q90 = stats::quantile(x, 0.90);
  m.q95 = stats::quantile(x, 0.95);
  return m;
}

CalibrationResult run_calibration(const ReducedModel& m, const CalibrationSpec& s, int threads,
                                  Progress* progress, const Ranks* ranks, StageRunner* stages) {
  CalibrationResult r;
  // A calibration of the PIH threshold alone: its cases' cohorts once (every rank and shard
  // simulates them itself: the same bytes).
  const CaseCohorts cohorts = threshold_case_cohorts(m, s, threads);
  r.smc = smc::run(
      calibration_prior(s),
      [&](const std::vector<std::vector<double>>& pts) {
        if (stages != nullptr) {
          return evaluate_mapped(m, s, pts, &cohorts, [&](std::size_t n, const auto& item) {
            return stages->run(n, item, threads, nullptr, "model evaluations");
          });
        }
        return ranks != nullptr && ranks->several()
                   ? evaluate_calibration_split(m, s, pts, *ranks, threads, &cohorts)
                   : evaluate_calibration_batch(m, s, pts, threads, &cohorts);
      },
      s.smc, progress);
  const std::size_t n = r.smc.particles.size(), k = s.parameters.size();
  r.values.assign(n, std::vector<double>(k));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t a = 0; a < k; ++a) {
      r.values[i][a] = from_coordinate(s.parameters[a], r.smc.particles[i][a]);
    }
  }
  for (std::size_t a = 0; a < k; ++a) {
    std::vector<double> col(n);
    for (std::size_t i = 0; i < n; ++i) col[i] = r.values[i][a];
    r.parameters.push_back(summarise(col));
  }
  std::vector<double> mean;
  std::vector<std::vector<double>> cov;
  smc::weighted_moments(r.smc.particles, std::vector<double>(n, 1.0), mean, cov);
  r.correlation.assign(k, std::vector<double>(k, 0.0));
  for (std::size_t a = 0; a < k; ++a) {
    for (std::size_t b = 0; b < k; ++b) {
      const double den = std::sqrt(cov[a][a] * cov[b][b]);
      r.correlation[a][b] = den > 0.0 ? cov[a][b] / den : std::numeric_limits<double>::quiet_NaN();
    }
  }
  std::vector<double> shipped;
  for (const auto& p : s.parameters) shipped.push_back(p.nominal);
  r.shipped_predictions = calibration_predictions(m, s, shipped, &cohorts);
  for (std::size_t j = 0; j < s.cases.size(); ++j) {
    std::vector<double> col(n);
    for (std::size_t i = 0; i < n; ++i) col[i] = r.smc.evaluated[i].outputs.at(j);
    r.predictions.push_back(summarise(col));
  }
  return r;
}

std::string calibration_json(const CalibrationSpec& s, const CalibrationResult& r,
                             const CalibrationRunInfo& info) {
  using J = nlohmann::ordered_json;
  J j;
  j["mnsim_version"] = version();
  j["title"] = s.title;
  j["method"] =
      "sequential Monte Carlo: likelihood tempering with an adaptive schedule, systematic "
      "resampling, adaptive random-walk Metropolis moves (docs/calibration.md)";
  j["settings"] = {{"seed", s.smc.seed},
                   {"particles", s.smc.particles},
                   {"moves", s.smc.moves},
                   {"ess_fraction", s.smc.ess_fraction},
                   {"max_generations", s.smc.max_generations}};
  j["complete"] = r.smc.complete;
  j["model_evaluations"] = r.smc.evaluations;
  j["log_evidence"] = num(r.smc.log_evidence);
  j["run"] = {{"wall_s", info.wall_s},
              {"threads", info.threads},
              {"ranks", info.ranks},
              {"load_average_1min_start", num(info.load_start)},
              {"load_average_1min_end", num(info.load_end)}};
  if (info.state_stages > 0) j["run"]["state_stages"] = info.state_stages;
  J cases = J::array();
  for (std::size_t jc = 0; jc < s.cases.size(); ++jc) {
    const ValidationCase& c = s.validation.cases[s.cases[jc]];
    J e;
    e["id"] = c.id;
    e["reference"] = c.reference;
    e["published"] = c.published;
    e["metric"] = c.metric;
    e["target"] = {{"low", num(c.target->low)},
                   {"high", num(c.target->high)},
                   {"sd", c.target->sd},
                   {"basis", c.target->basis}};
    e["fitted"] = c.fitted;
    e["shipped_prediction"] = num(r.shipped_predictions[jc]);
    e["posterior_prediction"] = summary_json(r.predictions[jc]);
    cases.push_back(e);
  }
  j["cases"] = cases;
  J params = J::array();
  for (std::size_t a = 0; a < s.parameters.size(); ++a) {
    const auto& p = s.parameters[a];
    J q;
    q["key"] = p.key;
    q["unit"] = p.unit;
    q["shipped"] = p.nominal;
    q["prior"] = {{"distribution", p.log ? "log-uniform" : "uniform"},
                  {"low", p.low},
                  {"high", p.high},
                  {"basis", p.basis}};
    if (p.factor > 0) q["prior"]["factor"] = p.factor;
    J fitted_to = J::array();
    for (std::size_t i : s.cases) {
      const auto& f = s.validation.cases[i].fitted;
      if (std::find(f.begin(), f.end(), fitted_name(p.key)) != f.end()) {
        fitted_to.push_back(s.validation.cases[i].id);
      }
    }
    q["fitted_to"] = fitted_to;
    q["posterior"] = summary_json(r.parameters[a]);
    q["value_source"] = p.value_source;
    params.push_back(q);
  }
  j["parameters"] = params;
  J coords = J::array();
  for (const auto& p : s.parameters) coords.push_back(p.log ? "ln " + p.key : p.key);
  J mat = J::array();
  for (const auto& row : r.correlation) {
    J jr = J::array();
    for (double v : row) jr.push_back(num(v));
    mat.push_back(jr);
  }
  j["correlation"] = {{"coordinates", coords}, {"matrix", mat}};
  J gens = J::array();
  for (const auto& g : r.smc.generations) {
    gens.push_back({{"generation", g.index},
                    {"temperature", g.temperature},
                    {"ess", g.ess},
                    {"proposed", g.proposed},
                    {"accepted", g.accepted},
                    {"outside_prior", g.outside},
                    {"acceptance", g.acceptance},
                    {"scale", g.scale},
                    {"evaluations", g.evaluations},
                    {"unique_particles", g.unique}});
  }
  j["generations"] = gens;
  j["resolved"] = J::parse(s.resolved.to_json().dump());
  return j.dump(2) + "\n";
}

std::string calibration_csv(const CalibrationSpec& s, const CalibrationResult& r) {
  std::string out = "particle";
  for (const auto& p : s.parameters) out += "," + p.key;
  out += ",log_likelihood";
  for (std::size_t i : s.cases) out += "," + s.validation.cases[i].id;
  out += "\n";
  for (std::size_t i = 0; i < r.values.size(); ++i) {
    out += std::to_string(i);
    for (double v : r.values[i]) out += fmt::format(",{:.17g}", v);
    out += fmt::format(",{:.17g}", r.smc.evaluated[i].log_likelihood);
    for (double v : r.smc.evaluated[i].outputs) out += fmt::format(",{:.17g}", v);
    out += "\n";
  }
  return out;
}

std::string calibration_table(const CalibrationSpec& s, const CalibrationResult& r) {
  std::string out;
  out += fmt::format("{:>10}  {:>11}  {:>7}  {:>10}  {:>11}  {:>6}\n", "generation", "temperature",
                     "ESS", "acceptance", "evaluations", "unique");
  for (const auto& g : r.smc.generations) {
    out +=
        fmt::format("{:>10}  {:>11.4g}  {:>7.1f}  {:>10}  {:>11}  {:>6}\n", g.index, g.temperature,
                    g.ess, g.index == 0 ? std::string("-") : fmt::format("{:.3f}", g.acceptance),
                    g.evaluations, g.unique);
  }
  if (!r.smc.complete) {
    out += fmt::format(
        "INCOMPLETE: the temperature did not reach 1 in {} generations; the sample is not the "
        "posterior (raise max_generations)\n",
        s.smc.max_generations);
  }
  std::size_t w = 9;
  for (const auto& p : s.parameters) w = std::max(w, p.key.size());
  out += fmt::format("\n{:<{}}  {:>10}  {:>23}  {:>10}  {:>10}  {:>23}\n", "parameter", w,
                     "shipped", "prior", "mean", "SD", "10-90%");
  for (std::size_t a = 0; a < s.parameters.size(); ++a) {
    const auto& p = s.parameters[a];
    const auto& m = r.parameters[a];
    out += fmt::format("{:<{}}  {:>10.4g}  {:>23}  {:>10.4g}  {:>10.3g}  {:>23}\n", p.key, w,
                       p.nominal,
                       fmt::format("{}[{:.3g}, {:.3g}]", p.log ? "log " : "", p.low, p.high),
                       m.mean, m.sd, fmt::format("[{:.4g}, {:.4g}]", m.q10, m.q90));
  }
  out += "\nposterior correlations (sampled coordinates; |r| near 1: not identified apart)\n";
  for (std::size_t a = 0; a < s.parameters.size(); ++a) {
    out += fmt::format("{:<{}}", s.parameters[a].key, w);
    for (std::size_t b = 0; b < s.parameters.size(); ++b) {
      out += fmt::format("  {:>6.2f}", r.correlation[a][b]);
    }
    out += "\n";
  }
  out += fmt::format("\n{:<26}  {:>22}  {:>10}  {:>10}  {:>21}\n", "case", "target", "shipped",
                     "post. mean", "post. 10-90%");
  for (std::size_t j = 0; j < s.cases.size(); ++j) {
    const ValidationCase& c = s.validation.cases[s.cases[j]];
    const CaseTarget& t = *c.target;
    const std::string target = t.low == t.high
                                   ? fmt::format("{:g} (sd {:g})", t.low, t.sd)
                                   : fmt::format("[{:g}, {:g}] (sd {:g})", t.low, t.high, t.sd);
    out += fmt::format("{:<26}  {:>22}  {:>10.4g}  {:>10.4g}  {:>21}\n", c.id, target,
                       r.shipped_predictions[j], r.predictions[j].mean,
                       fmt::format("[{:.4g}, {:.4g}]", r.predictions[j].q10, r.predictions[j].q90));
  }
  return out;
}

}  // namespace mnsim::protocol
