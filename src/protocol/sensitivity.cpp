#include "protocol/sensitivity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/version.hpp"
#include "healing/params.hpp"
#include "io/sourced.hpp"
#include "io/toml_file.hpp"
#include "protocol/cohort.hpp"
#include "protocol/mirror.hpp"
#include "protocol/plan.hpp"

namespace mnsim::protocol {

namespace {

// ---------------------------------------------------------------------------------------------
// Outputs

double gb_quant_change(const PatientOutcome& o) {
  return o.gb_quant_after - o.gb_quant_before;
}
double gb_qual_change(const PatientOutcome& o) {
  return o.gb_qual_after - o.gb_qual_before;
}

// ---------------------------------------------------------------------------------------------
// Parameters of data/outcomes.toml that enter the reduced model's outputs (the planner's caps,
// the variability SDs and the roller's channel radius, which the device model replaces, do not).

struct OutcomeParamDef {
  const char* section;
  const char* key;
  const char* unit;  // as the data file writes the value
  double to_model;   // model value per unit
  double min, max;   // what load_outcome_params accepts (model units)
  double outcomes::OutcomeParams::*member;
};
const std::vector<OutcomeParamDef>& outcome_param_defs() {
  using O = outcomes::OutcomeParams;
  static const std::vector<OutcomeParamDef> d = {
      {"remodel", "tether_share", "%", 0.01, 0.0, 1.0, &O::tether_share},
      {"remodel", "band_strength", "MPa", 1e6, 1e5, 1e9, &O::band_strength},
      {"remodel", "band_reform_half_time", "days", kDay, kHour, 10 * 365 * kDay,
       &O::band_reform_half_time},
      {"pih", "mu_threshold", "1", 1.0, 1e-6, 10.0, &O::pih_mu_threshold},
      {"pih", "response_spread", "1", 1.0, 1e-3, 3.0, &O::pih_spread},
  };
  return d;
}

std::string kind_of_source(const std::string& source) {
  if (source.rfind("assumed", 0) == 0) return "assumed";
  if (source.rfind("calibrated", 0) == 0) return "calibrated";
  return "cited";
}

std::string all_parameter_keys_hint() {
  return "a parameter of data/healing.toml as healing.<section>.<key> (e.g. "
         "healing.matrix.collagen_synthesis) or outcomes.remodel.tether_share, "
         "outcomes.remodel.band_strength, outcomes.remodel.band_reform_half_time, "
         "outcomes.pih.mu_threshold, "
         "outcomes.pih.response_spread (`mnsim catalog healing`, docs/model.md)";
}

// "4.3e5 um^2/h" -> 4.3e5, with the unit required to be `unit` ("1": no unit or "1").
bool parse_number_unit(const std::string& text, const std::string& unit, double& v,
                       std::string& why) {
  const char* b = text.c_str();
  char* end = nullptr;
  v = std::strtod(b, &end);
  if (end == b || !std::isfinite(v)) {
    why = fmt::format("'{}' does not start with a number", text);
    return false;
  }
  std::string rest(end);
  rest.erase(0, rest.find_first_not_of(' '));
  rest.erase(rest.find_last_not_of(' ') + 1);
  if (rest == unit || (unit == "1" && rest.empty())) return true;
  why = fmt::format("'{}' is not in {}", text, unit == "1" ? "no unit (a plain number)" : unit);
  return false;
}

std::string fmt_value(double v) {
  return fmt::format("{:.6g}", v);
}

// "[0.5, 2] 1/h"; a dimensionless range without its "1".
std::string fmt_range(double lo, double hi, const std::string& unit) {
  return fmt::format("[{}, {}]{}", fmt_value(lo), fmt_value(hi), unit == "1" ? "" : " " + unit);
}

// ---------------------------------------------------------------------------------------------
// Reading a sensitivity file

bool written(const Table& t, const std::string& key) {
  return t.has(key) && !t.value(key).defaulted;
}

// The numbers of a `range` list, in the data file's unit.
std::pair<double, double> read_range(const Table& t, const std::string& unit) {
  const Value& v = t.value("range");
  const std::string expected =
      fmt::format("[low, high]: two numbers in the data file's unit ({})", unit);
  if (v.list.size() != 2) t.fail("range", fmt::format("has {} items", v.list.size()), expected);
  double x[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string& s = v.list[i];
    char* end = nullptr;
    x[i] = std::strtod(s.c_str(), &end);
    if (s.empty() || s[0] == '"' || *end != '\0' || !std::isfinite(x[i])) {
      throw InputError(v.item_locs[i], t.key_path("range"),
                       fmt::format("item {} is not a number", s), expected);
    }
  }
  if (!(x[0] < x[1])) {
    t.fail("range", fmt::format("low {} is not below high {}", fmt_value(x[0]), fmt_value(x[1])),
           expected);
  }
  return {x[0], x[1]};
}

// The range of parameter `p` as the file's entry `t` states it (or the cited range, or the
// default factor of an assumed value); throws InputError at the entry.
void resolve_range(SensitivityParameter& p, const Table& t, double default_factor,
                   const std::map<std::string, CitedRange>& cited) {
  const bool has_range = t.has("range"), has_factor = t.has("factor");
  if (has_range && has_factor) {
    t.fail("factor", "is given with range", "either range = [low, high] or factor = F");
  }
  auto by_factor = [&](double f, const std::string& key) {
    if (!(p.nominal > 0.0)) {
      t.fail(key,
             fmt::format("{} is {} in its data file: a factor range is empty", p.key,
                         fmt_value(p.nominal)),
             fmt::format("range = [low, high] in {}", p.unit));
    }
    p.low = p.nominal / f;
    p.high = p.nominal * f;
    p.log = true;
    p.factor = f;
  };
  if (has_range) {
    std::tie(p.low, p.high) = read_range(t, p.unit);
    p.basis = "range";
  } else if (has_factor) {
    by_factor(t.number("factor"), "factor");
    p.basis = "factor";
  } else if (auto it = cited.find(p.key); it != cited.end()) {
    p.low = it->second.low;
    p.high = it->second.high;
    p.basis = "cited";
    p.range_source = it->second.source;
  } else if (kind_of_source(p.value_source) == "assumed") {
    by_factor(default_factor, "key");
    p.basis = "assumed";
  } else {
    t.fail("key",
           fmt::format("{} is {} (not assumed) and data/ranges.toml gives no cited range for it",
                       p.key, kind_of_source(p.value_source)),
           fmt::format("a stated range: factor = F (log-uniform on [v/F, vF]) or range = [low, "
                       "high] in {}",
                       p.unit));
  }
  // Within what the parameter's reader accepts (in the model's units), with a rounding margin.
  const double lo = p.low * p.to_model, hi = p.high * p.to_model;
  const double eps = 1e-12 * std::max(std::abs(p.admissible_low), std::abs(p.admissible_high));
  if (lo < p.admissible_low - eps || hi > p.admissible_high + eps) {
    const std::string where = has_range ? "range" : has_factor ? "factor" : "key";
    t.fail(where,
           fmt::format("{} is sampled over {}, beyond what its data file accepts", p.key,
                       fmt_range(p.low, p.high, p.unit)),
           "a range within " +
               fmt_range(p.admissible_low / p.to_model, p.admissible_high / p.to_model, p.unit));
  }
}

// The [sensitivity] settings of the other method may not be written (they would do nothing).
void check_method_keys(const Table& s, SensitivityMethod m) {
  const char* sobol_only[] = {"samples"};
  const char* morris_only[] = {"trajectories", "levels"};
  if (m == SensitivityMethod::Sobol) {
    for (const char* k : morris_only) {
      if (written(s, k))
        s.fail(k, "is a Morris setting, but method is sobol", "method = \"morris\"");
    }
  } else {
    for (const char* k : sobol_only) {
      if (written(s, k))
        s.fail(k, "is a Sobol' setting, but method is morris", "method = \"sobol\"");
    }
  }
}

}  // namespace

// -----------------------------------------------------------------------------------------------

std::vector<SensitivityParameter> read_sampled_parameters(const Table& root,
                                                          double default_factor) {
  const auto& known = sensitivity_parameters();
  const auto& cited = default_cited_ranges();
  std::vector<std::string> names;
  for (const auto& [k, p] : known) names.push_back(k);
  std::vector<SensitivityParameter> out;
  std::set<std::string> seen;
  const auto& entries = root.tables("parameters");
  if (entries.empty()) {
    root.fail("parameters", "no parameters are named", "[[parameters]] entries with key = \"...\"");
  }
  for (const Table& t : entries) {
    const std::string& key = t.str("key");
    auto it = known.find(key);
    if (it == known.end()) {
      const std::string guess = schema::suggest(key, names);
      t.fail("key", fmt::format("unknown parameter '{}'", key),
             guess.empty() ? all_parameter_keys_hint() : fmt::format("did you mean '{}'?", guess));
    }
    if (!seen.insert(key).second) t.fail("key", fmt::format("'{}' is named twice", key));
    SensitivityParameter p = it->second;
    p.loc = t.loc_of("key");
    resolve_range(p, t, default_factor, cited);
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<SensitivityOutputDef>& sensitivity_outputs() {
  static const std::vector<SensitivityOutputDef> d = {
      {"scar_depth_reduction_pct", "%", "mean scar depth reduction",
       [](const PatientOutcome& o) { return o.depth_reduction_pct; }},
      {"gb_quantitative_change", "points", "change of the Goodman & Baron quantitative score",
       gb_quant_change},
      {"gb_qualitative_change", "grades", "change of the Goodman & Baron qualitative grade",
       gb_qual_change},
      {"papillary_collagen_change_pct", "%", "collagen change in the papillary dermis",
       [](const PatientOutcome& o) { return 100.0 * o.papillary_collagen_change; }},
      {"reticular_collagen_change_pct", "%", "collagen change in the reticular dermis",
       [](const PatientOutcome& o) { return 100.0 * o.reticular_collagen_change; }},
      {"dermal_collagen_change_pct", "%", "collagen change in the whole dermis",
       [](const PatientOutcome& o) { return 100.0 * o.dermal_collagen_change; }},
      {"papillary_elastin_change_pct", "%", "elastin change in the papillary dermis",
       [](const PatientOutcome& o) { return 100.0 * o.papillary_elastin_change; }},
      {"reticular_elastin_change_pct", "%", "elastin change in the reticular dermis",
       [](const PatientOutcome& o) { return 100.0 * o.reticular_elastin_change; }},
      {"dermal_thickness_change_um", "um", "rise of the skin from new dermal matrix",
       [](const PatientOutcome& o) { return 1e6 * o.dermal_thickness_change; }},
      {"epidermal_thickness_change_pct", "%", "change of the epidermal thickness",
       [](const PatientOutcome& o) { return 100.0 * o.epidermal_thickness_change; }},
      {"erythema_days", "days", "visible redness after a session",
       [](const PatientOutcome& o) { return o.erythema_days; }},
      {"barrier_hours", "hours", "skin barrier recovery after a session",
       [](const PatientOutcome& o) { return o.barrier_hours; }},
      {"pih_risk_pct", "%", "risk of post-inflammatory hyperpigmentation",
       [](const PatientOutcome& o) { return 100.0 * o.pih_risk; }},
      {"melanin_peak", "index", "peak epidermal melanin excess of the course",
       [](const PatientOutcome& o) { return o.melanin_peak; }},
  };
  return d;
}

const SensitivityOutputDef& sensitivity_output(std::string_view name) {
  for (const auto& o : sensitivity_outputs()) {
    if (o.name == name) return o;
  }
  throw std::out_of_range("no sensitivity output " + std::string(name));
}

double SensitivityParameter::at(double u) const {
  if (log) return low * std::exp(u * std::log(high / low));
  return low + u * (high - low);
}

const std::map<std::string, SensitivityParameter>& sensitivity_parameters() {
  static const std::map<std::string, SensitivityParameter> all = [] {
    std::map<std::string, SensitivityParameter> out;
    const healing::ParamSet ps = healing::load_default_params();
    const auto& reg = healing::param_registry();
    for (std::size_t i = 0; i < reg.size(); ++i) {
      const healing::ParamRecord& r = ps.records[i];
      SensitivityParameter p;
      p.key = fmt::format("healing.{}.{}", reg[i].section, reg[i].key);
      p.unit = std::string(reg[i].unit);
      p.nominal = r.value;
      p.value_source = r.source;
      p.healing = true;
      p.member = i;
      p.admissible_low = reg[i].min;
      p.admissible_high = reg[i].max;
      out.emplace(p.key, std::move(p));
    }
    const auto& op = outcomes::default_outcome_params();
    std::map<std::string, std::string> sources;
    for (const auto& e : io::read_sourced_file(outcomes::default_outcome_params_path())) {
      for (const auto& k : e.keys()) sources[e.id() + "." + k] = e.source(k);
    }
    const auto& defs = outcome_param_defs();
    for (std::size_t i = 0; i < defs.size(); ++i) {
      const OutcomeParamDef& d = defs[i];
      SensitivityParameter p;
      p.key = fmt::format("outcomes.{}.{}", d.section, d.key);
      p.unit = d.unit;
      p.to_model = d.to_model;
      p.nominal = op.*(d.member) / d.to_model;
      p.value_source = sources.at(fmt::format("{}.{}", d.section, d.key));
      p.healing = false;
      p.member = i;
      p.admissible_low = d.min;
      p.admissible_high = d.max;
      out.emplace(p.key, std::move(p));
    }
    return out;
  }();
  return all;
}

std::map<std::string, CitedRange> load_cited_ranges(const std::string& path) {
  const auto& known = sensitivity_parameters();
  std::map<std::string, CitedRange> out;
  for (const io::SourcedEntry& e : io::read_sourced_file(path)) {
    for (const std::string& k : e.keys()) {
      const std::string key = e.id() + "." + k;
      auto it = known.find(key);
      if (it == known.end()) {
        e.fail(k, fmt::format("unknown parameter '{}'", key), all_parameter_keys_hint());
      }
      const SensitivityParameter& p = it->second;
      const io::SourcedSpec& s = e.spec(k);
      const std::string expected = fmt::format("value = [\"<low> {0}\", \"<high> {0}\"]", p.unit);
      if (s.kind != io::SourcedSpec::Kind::List || s.items.size() != 2) {
        e.fail(k, "is not a list of two values", expected);
      }
      double x[2] = {0, 0};
      for (std::size_t i = 0; i < 2; ++i) {
        std::string why;
        if (!parse_number_unit(s.items[i], p.unit, x[i], why)) {
          throw InputError(s.item_locs[i], key, why, expected);
        }
      }
      if (!(x[0] < x[1])) e.fail(k, "low is not below high", expected);
      if (x[0] * p.to_model < p.admissible_low || x[1] * p.to_model > p.admissible_high) {
        e.fail(k, "is beyond what the parameter's data file accepts",
               "within " + fmt_range(p.admissible_low / p.to_model, p.admissible_high / p.to_model,
                                     p.unit));
      }
      out[key] = CitedRange{x[0], x[1], s.source};
    }
  }
  return out;
}

const std::map<std::string, CitedRange>& default_cited_ranges() {
  static const std::map<std::string, CitedRange> r =
      load_cited_ranges(data_file("ranges.toml").string());
  return r;
}

schema::Key sampled_parameters_key(std::string doc) {
  using namespace schema;
  return table_array(
      "parameters", std::move(doc),
      {string("key", "", "the parameter: healing.<section>.<key> or outcomes.<section>.<key>")
           .must(),
       number("factor", "", "sampled log-uniformly on [v/F, vF] around the data file's value v",
              1.0001, 1000.0),
       value_list("range", "sampled uniformly on [low, high], numbers in the data file's unit", 2)},
      200);
}

const schema::Key& sensitivity_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    std::vector<std::string> names;
    for (const auto& o : sensitivity_outputs()) names.emplace_back(o.name);
    const std::string clinical =
        "[\"scar_depth_reduction_pct\", \"gb_quantitative_change\", "
        "\"papillary_collagen_change_pct\", \"reticular_collagen_change_pct\", "
        "\"erythema_days\", \"pih_risk_pct\", \"barrier_hours\"]";
    // The cohort's per-patient session counts and further outcome times have no meaning for
    // one patient at the follow-up: not keys of a sensitivity file.
    Key protocol = reduced_protocol_schema();
    std::erase_if(protocol.children, [](const Key& k) {
      return k.name == "session_counts" || k.name == "outcome_times";
    });
    Key root = table("", "a sensitivity analysis", {}, true);
    const std::vector<Key> scars = scar_keys();
    root.children = {
        string("title", "", "Title."),
        mirror_key("seed", "seed", "1", "Seed of the sample and of the bootstrap resamples."),
        plan_patient_table(),
        scars[0],
        scars[1],
        protocol,
        table("sensitivity", "The method and what it reports (docs/sensitivity.md).",
              {
                  enumeration("method", {"morris", "sobol"}, "",
                              "morris: screening by elementary effects (mu*, sigma); sobol: "
                              "first- and total-order Sobol' indices")
                      .must(),
                  enum_list("outputs", names, clinical,
                            "clinical outputs of the reduced model analysed (names of "
                            "docs/sensitivity.md)"),
                  integer("samples", "256",
                          "sobol: base samples N (N (k + 2) model evaluations for k parameters)", 2,
                          1000000),
                  integer("trajectories", "20",
                          "morris: trajectories r (r (k + 1) model evaluations)", 2, 100000),
                  integer("levels", "4", "morris: grid levels p per parameter (even)", 2, 100),
                  integer("bootstrap", "200",
                          "bootstrap resamples of the confidence intervals (0: none)", 0, 100000),
                  number("confidence", "0.95", "level of the confidence intervals", 0.5, 0.999),
                  number("default_factor", "2",
                         "an assumed parameter named without range or factor is sampled "
                         "log-uniformly on [v/F, vF] with this F",
                         1.0001, 1000.0),
              }),
        sampled_parameters_key(
            "The parameters varied: each a key of data/healing.toml or data/outcomes.toml, with "
            "its range (docs/sensitivity.md, \"Ranges\")."),
    };
    return root;
  }();
  return root;
}

SensitivitySpec load_sensitivity(const std::string& path, const std::vector<Override>& overrides) {
  const Table root =
      io::load_toml_file(path, sensitivity_schema(), "a TOML sensitivity file", overrides);
  SensitivitySpec s;
  if (root.has("title")) s.title = root.str("title");
  s.seed = static_cast<std::uint64_t>(root.integer("seed"));
  s.patient = read_patient_spec(root);
  const Table& pr = root.table("protocol");
  s.protocol = read_reduced_protocol(pr);
  const Table& a = root.table("sensitivity");
  s.method = a.str("method") == "morris" ? SensitivityMethod::Morris : SensitivityMethod::Sobol;
  check_method_keys(a, s.method);
  s.outputs = a.list("outputs");
  {
    std::set<std::string> seen;
    for (const auto& o : s.outputs) {
      if (!seen.insert(o).second) a.fail("outputs", fmt::format("'{}' is named twice", o));
    }
  }
  s.samples = static_cast<std::size_t>(a.integer("samples"));
  s.trajectories = static_cast<std::size_t>(a.integer("trajectories"));
  s.levels = static_cast<int>(a.integer("levels"));
  if (s.levels % 2 != 0) a.fail("levels", fmt::format("{} is odd", s.levels), "an even number");
  s.bootstrap.resamples = static_cast<int>(a.integer("bootstrap"));
  s.bootstrap.confidence = a.number("confidence");
  s.bootstrap.seed = s.seed;
  s.default_factor = a.number("default_factor");
  s.parameters = read_sampled_parameters(root, s.default_factor);
  s.resolved = root;
  return s;
}

std::size_t sensitivity_evaluations(const SensitivitySpec& s) {
  const std::size_t k = s.parameters.size();
  return s.method == SensitivityMethod::Sobol ? s.samples * (k + 2) : s.trajectories * (k + 1);
}

std::vector<double> sensitivity_point(const SensitivitySpec& s, std::size_t e) {
  const std::size_t k = s.parameters.size();
  if (s.method == SensitivityMethod::Sobol) {
    return sensitivity::SaltelliDesign(s.seed, s.samples, k).point(e);
  }
  return sensitivity::MorrisDesign(s.seed, s.trajectories, k, s.levels).point(e);
}

std::vector<double> at_point(const std::vector<SensitivityParameter>& ps,
                             const std::vector<double>& u) {
  if (u.size() != ps.size()) throw std::invalid_argument("at_point: one coordinate per parameter");
  std::vector<double> v(ps.size());
  for (std::size_t i = 0; i < ps.size(); ++i) v[i] = ps[i].at(u[i]);
  return v;
}

ReducedModel with_values(const ReducedModel& base, const std::vector<SensitivityParameter>& ps,
                         const std::vector<double>& values) {
  if (values.size() != ps.size()) {
    throw std::invalid_argument("with_values: one value per parameter");
  }
  ReducedModel m = base;
  const auto& reg = healing::param_registry();
  const auto& defs = outcome_param_defs();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const double v = values[i] * ps[i].to_model;
    if (ps[i].healing) {
      m.params.*(reg.at(ps[i].member).member) = v;
    } else {
      m.outcome.*(defs.at(ps[i].member).member) = v;
    }
  }
  return m;
}

std::vector<double> evaluate(const ReducedModel& base, const SensitivitySpec& s,
                             const std::vector<double>& u) {
  const ReducedModel m = with_values(base, s.parameters, at_point(s.parameters, u));
  const PatientOutcome o = m.simulate(s.patient, s.protocol);
  std::vector<double> y;
  y.reserve(s.outputs.size());
  for (const auto& name : s.outputs) y.push_back(sensitivity_output(name).get(o));
  return y;
}

namespace {

// The error of evaluation e: its index and parameter values, and what failed.
NumericalError evaluation_failed(const SensitivitySpec& s, std::size_t e, const std::string& why) {
  const std::vector<double> v = at_point(s.parameters, sensitivity_point(s, e));
  std::string at;
  for (std::size_t i = 0; i < v.size(); ++i) {
    at += fmt::format("{}{} = {}", i ? ", " : "", s.parameters[i].key, fmt_value(v[i]));
  }
  return NumericalError(fmt::format("model evaluation {} ({}) failed: {}", e, at, why));
}

}  // namespace

std::vector<std::vector<double>> evaluate_indices(const ReducedModel& m, const SensitivitySpec& s,
                                                  std::size_t first, std::size_t count, int threads,
                                                  Progress* progress) {
  if (first > sensitivity_evaluations(s) || count > sensitivity_evaluations(s) - first) {
    throw std::invalid_argument("evaluate_indices: beyond the design's evaluations");
  }
  std::vector<std::size_t> indices(count);
  for (std::size_t i = 0; i < count; ++i) indices[i] = first + i;
  return evaluate_selected(m, s, indices, threads, progress);
}

std::vector<std::vector<double>> evaluate_selected(const ReducedModel& m, const SensitivitySpec& s,
                                                   const std::vector<std::size_t>& indices,
                                                   int threads, Progress* progress) {
  const std::size_t count = indices.size();
  for (const std::size_t e : indices) {
    if (e >= sensitivity_evaluations(s)) {
      throw std::invalid_argument("evaluate_selected: beyond the design's evaluations");
    }
  }
  std::vector<std::vector<double>> out(count);
  std::vector<std::string> errors(count);
  // The lowest failing position so far: later ones are not evaluated (they cannot be the first).
  std::atomic<std::size_t> first_failure{count};
  std::atomic<std::size_t> done{0};
  NullProgress silent;
  Progress& report = progress != nullptr ? *progress : silent;
  report.stage("model evaluations");
  report.advance(0.0, static_cast<double>(count));
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t i = 0; i < count; ++i) {
    if (i > first_failure.load()) continue;
    try {
      out[i] = evaluate(m, s, sensitivity_point(s, indices[i]));
      if (std::any_of(out[i].begin(), out[i].end(), [](double v) { return !std::isfinite(v); })) {
        throw NumericalError("an output is not a finite number");
      }
    } catch (const std::exception& e) {
      errors[i] = e.what();
      std::size_t cur = first_failure.load();
      while (i < cur && !first_failure.compare_exchange_weak(cur, i)) {
      }
    }
    ++done;
#pragma omp critical(mnsim_sensitivity_progress)
    report.advance(static_cast<double>(done.load()), static_cast<double>(count));
  }
  if (const std::size_t f = first_failure.load(); f < count) {
    throw evaluation_failed(s, indices[f], errors[f]);
  }
  return out;
}

std::string outputs_bytes(const std::vector<double>& y) {
  std::string b(y.size() * sizeof(double), '\0');
  if (!b.empty()) std::memcpy(b.data(), y.data(), b.size());
  return b;
}

std::vector<double> outputs_from_bytes(std::string_view b, std::size_t outputs,
                                       const std::string& from, std::size_t e) {
  if (b.size() != outputs * sizeof(double)) {
    throw InputError({from, 1, 1}, "(shard)",
                     fmt::format("evaluation {} has {} bytes, not the {} of {} outputs", e + 1,
                                 b.size(), outputs * sizeof(double), outputs),
                     "the results of this sensitivity file");
  }
  std::vector<double> y(outputs);
  if (!b.empty()) std::memcpy(y.data(), b.data(), b.size());
  for (const double v : y) {
    if (!std::isfinite(v)) {
      throw InputError({from, 1, 1}, "(shard)",
                       fmt::format("evaluation {} has an output that is not finite", e + 1),
                       "the results of this sensitivity file");
    }
  }
  return y;
}

std::vector<std::vector<double>> evaluate_split(const ReducedModel& m, const SensitivitySpec& s,
                                                const Ranks& ranks, int threads,
                                                Progress* progress) {
  const std::size_t n = sensitivity_evaluations(s);
  const std::size_t k = s.outputs.size();
  const std::vector<std::string> parts = map_items(
      ranks, n,
      [&](std::size_t e) {
        std::vector<double> y;
        try {
          y = evaluate(m, s, sensitivity_point(s, e));
          if (std::any_of(y.begin(), y.end(), [](double v) { return !std::isfinite(v); })) {
            throw NumericalError("an output is not a finite number");
          }
        } catch (const std::exception& x) {
          throw evaluation_failed(s, e, x.what());
        }
        return outputs_bytes(y);
      },
      Deliver::Root, threads, progress, "model evaluations");
  std::vector<std::vector<double>> out;
  out.reserve(parts.size());
  for (std::size_t e = 0; e < parts.size(); ++e) {
    out.push_back(outputs_from_bytes(parts[e], k, "(rank results)", e));
  }
  return out;
}

SensitivityResult sensitivity_indices(const SensitivitySpec& s,
                                      const std::vector<std::vector<double>>& values) {
  SensitivityResult r;
  r.evaluations = values.size();
  const std::size_t k = s.parameters.size();
  for (std::size_t o = 0; o < s.outputs.size(); ++o) {
    OutputSensitivity out;
    out.output = s.outputs[o];
    std::vector<double> y(values.size());
    for (std::size_t e = 0; e < values.size(); ++e) y[e] = values[e].at(o);
    double sum = 0.0;
    for (double v : y) sum += v;
    out.mean = y.empty() ? 0.0 : sum / static_cast<double>(y.size());
    double ss = 0.0;
    for (double v : y) ss += (v - out.mean) * (v - out.mean);
    out.sd = y.size() > 1 ? std::sqrt(ss / static_cast<double>(y.size() - 1)) : 0.0;
    out.varies = out.sd > 1e-12 * std::max(1.0, std::abs(out.mean));
    if (s.method == SensitivityMethod::Sobol) {
      out.sobol = sensitivity::sobol_indices(sensitivity::SaltelliDesign(s.seed, s.samples, k), y,
                                             s.bootstrap);
    } else {
      out.morris = sensitivity::morris_indices(
          sensitivity::MorrisDesign(s.seed, s.trajectories, k, s.levels), y, s.bootstrap);
    }
    r.outputs.push_back(std::move(out));
  }
  return r;
}

SensitivityResult run_sensitivity(const ReducedModel& m, const SensitivitySpec& s, int threads,
                                  Progress* progress) {
  return sensitivity_indices(
      s, evaluate_indices(m, s, 0, sensitivity_evaluations(s), threads, progress));
}

namespace {

nlohmann::ordered_json num(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json estimate_json(const sensitivity::Estimate& e) {
  return {{"value", num(e.value)}, {"ci_low", num(e.low)}, {"ci_high", num(e.high)}};
}
const char* method_name(SensitivityMethod m) {
  return m == SensitivityMethod::Sobol ? "sobol" : "morris";
}

}  // namespace

std::string sensitivity_json(const SensitivitySpec& s, const SensitivityResult& r,
                             const SensitivityRunInfo& info) {
  using J = nlohmann::ordered_json;
  J j;
  j["mnsim_version"] = version();
  j["title"] = s.title;
  j["method"] = method_name(s.method);
  J sample;
  sample["seed"] = s.seed;
  sample["parameters"] = s.parameters.size();
  if (s.method == SensitivityMethod::Sobol) {
    sample["design"] = "Saltelli A, B, AB_i (Monte Carlo)";
    sample["base_samples"] = s.samples;
  } else {
    sample["design"] = "Morris trajectories";
    sample["trajectories"] = s.trajectories;
    sample["levels"] = s.levels;
    sample["delta"] = static_cast<double>(s.levels) / (2.0 * (s.levels - 1));
  }
  sample["model_evaluations"] = r.evaluations;
  j["sample"] = sample;
  j["bootstrap"] = {{"resamples", s.bootstrap.resamples},
                    {"confidence", s.bootstrap.confidence},
                    {"interval", "percentile"}};
  j["run"] = {{"wall_s", info.wall_s},
              {"threads", info.threads},
              {"ranks", info.ranks},
              {"load_average_1min_start", num(info.load_start)},
              {"load_average_1min_end", num(info.load_end)}};
  if (info.shards > 0) j["run"]["merged_shards"] = info.shards;
  J pt;
  pt["site"] = s.patient.site;
  pt["age_years"] = s.patient.age_years;
  pt["sex"] = std::string(skin::sex_name(s.patient.sex));
  pt["fitzpatrick"] = s.patient.fitzpatrick;
  pt["scars"] = s.patient.scars.size();
  j["patient"] = pt;
  j["protocol"] = {{"device", s.protocol.describe()},
                   {"sessions", s.protocol.sessions},
                   {"interval_days", s.protocol.interval / kDay},
                   {"follow_up_days", s.protocol.follow_up / kDay}};
  J params = J::array();
  for (const auto& p : s.parameters) {
    J q;
    q["key"] = p.key;
    q["unit"] = p.unit;
    q["value"] = p.nominal;
    q["low"] = p.low;
    q["high"] = p.high;
    q["distribution"] = p.log ? "log-uniform" : "uniform";
    q["basis"] = p.basis;
    if (p.factor > 0) q["factor"] = p.factor;
    if (!p.range_source.empty()) q["range_source"] = p.range_source;
    q["value_source"] = p.value_source;
    params.push_back(q);
  }
  j["parameters"] = params;
  J outs = J::array();
  for (const auto& o : r.outputs) {
    const SensitivityOutputDef& d = sensitivity_output(o.output);
    J out;
    out["name"] = o.output;
    out["unit"] = std::string(d.unit);
    out["description"] = std::string(d.words);
    out["mean"] = num(o.mean);
    out["sd"] = num(o.sd);
    out["varies"] = o.varies;
    J idx = J::array();
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      J e;
      e["parameter"] = s.parameters[i].key;
      if (s.method == SensitivityMethod::Sobol) {
        e["first_order"] = estimate_json(o.sobol.first[i]);
        e["total_order"] = estimate_json(o.sobol.total[i]);
      } else {
        e["mu_star"] = estimate_json(o.morris.mu_star[i]);
        e["mu"] = num(o.morris.mu[i]);
        e["sigma"] = num(o.morris.sigma[i]);
      }
      idx.push_back(e);
    }
    if (s.method == SensitivityMethod::Sobol) out["variance"] = num(o.sobol.variance);
    out["indices"] = idx;
    outs.push_back(out);
  }
  j["outputs"] = outs;
  j["resolved"] = J::parse(s.resolved.to_json().dump());
  return j.dump(2) + "\n";
}

std::string sensitivity_csv(const SensitivitySpec& s, const SensitivityResult& r) {
  std::string out = "method,output,unit,parameter,index,value,ci_low,ci_high\n";
  auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); };
  auto row = [&](const std::string& o, const std::string& unit, const std::string& p,
                 const char* index, double v, double lo, double hi) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", method_name(s.method), o, unit, p, index,
                       cell(v), cell(lo), cell(hi));
  };
  for (const auto& o : r.outputs) {
    const std::string unit(sensitivity_output(o.output).unit);
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      const std::string& p = s.parameters[i].key;
      if (s.method == SensitivityMethod::Sobol) {
        const auto& f = o.sobol.first[i];
        const auto& t = o.sobol.total[i];
        row(o.output, unit, p, "first_order", f.value, f.low, f.high);
        row(o.output, unit, p, "total_order", t.value, t.low, t.high);
      } else {
        const auto& m = o.morris.mu_star[i];
        const double nan = std::numeric_limits<double>::quiet_NaN();
        row(o.output, unit, p, "mu_star", m.value, m.low, m.high);
        row(o.output, unit, p, "mu", o.morris.mu[i], nan, nan);
        row(o.output, unit, p, "sigma", o.morris.sigma[i], nan, nan);
      }
    }
  }
  return out;
}

std::string sensitivity_table(const SensitivitySpec& s, const SensitivityResult& r) {
  const bool sobol = s.method == SensitivityMethod::Sobol;
  std::string out;
  std::size_t w = 9;
  for (const auto& p : s.parameters) w = std::max(w, p.key.size());
  for (const auto& o : r.outputs) {
    const SensitivityOutputDef& d = sensitivity_output(o.output);
    out += fmt::format("\n{} ({}, {}): mean {:.4g}, SD {:.3g}\n", o.output, d.words, d.unit, o.mean,
                       o.sd);
    if (sobol && !std::isfinite(o.sobol.variance)) {
      out += "  not a finite number in every evaluation\n";
      continue;
    }
    if (!o.varies || (sobol && !std::isfinite(o.sobol.first.front().value))) {
      out += "  does not vary over the sample: no indices\n";
      continue;
    }
    out += sobol ? fmt::format("  {:<{}}  {:>22}  {:>22}\n", "parameter", w, "first order S1",
                               "total order ST")
                 : fmt::format("  {:<{}}  {:>26}  {:>10}  {:>10}\n", "parameter", w, "mu*", "mu",
                               "sigma");
    // Largest effect first.
    std::vector<std::size_t> order(s.parameters.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto key = [&](std::size_t i) {
      const double v = sobol ? o.sobol.total[i].value : o.morris.mu_star[i].value;
      return std::isfinite(v) ? v : -1.0;
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
    auto est = [&](const sensitivity::Estimate& e) {
      if (sobol) {
        if (!std::isfinite(e.low)) return fmt::format("{:.3f}", e.value);
        return fmt::format("{:.3f} [{:.3f}, {:.3f}]", e.value, e.low, e.high);
      }
      if (!std::isfinite(e.low)) return fmt::format("{:.4g}", e.value);
      return fmt::format("{:.4g} [{:.4g}, {:.4g}]", e.value, e.low, e.high);
    };
    for (std::size_t i : order) {
      if (sobol) {
        out += fmt::format("  {:<{}}  {:>22}  {:>22}\n", s.parameters[i].key, w,
                           est(o.sobol.first[i]), est(o.sobol.total[i]));
      } else {
        out += fmt::format("  {:<{}}  {:>26}  {:>10.4g}  {:>10.4g}\n", s.parameters[i].key, w,
                           est(o.morris.mu_star[i]), o.morris.mu[i], o.morris.sigma[i]);
      }
    }
  }
  return out;
}

}  // namespace mnsim::protocol
