#include "protocol/validate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"
#include "io/toml_file.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "protocol/mirror.hpp"

namespace mnsim::protocol {

namespace {

const std::vector<std::string>& metrics() {
  static const std::vector<std::string> m = {
      "papillary_collagen_change_pct",  // single patient
      "epidermal_thickness_change_pct",
      "erythema_days",
      "barrier_hours",
      "neutrophil_peak_days",
      "macrophage_peak_days",
      "collagen1_after_collagen3_days",  // C1 excess peak minus C3 excess peak
      "pih_risk_pct",
      "depth_reduction_pct",     // one mid-range scar of each listed class
      "improved_1_grade_pct",    // cohort
      "gb_quantitative_change",  // cohort: after mean - before mean
      "pih_incidence_pct",       // cohort, Fitzpatrick <= fitzpatrick_max
  };
  return m;
}

/// The cohort file named by `t`'s `cohort` key (relative to the validation file's folder `dir`);
/// a missing file is an error at that key.
CohortSpec load_referenced_cohort(const Table& t, const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / t.str("cohort");
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    t.fail("cohort", fmt::format("cohort file '{}' not found", file.string()),
           "an existing cohort file, relative to this file");
  }
  if (std::filesystem::is_directory(file, ec)) {
    t.fail("cohort", fmt::format("'{}' is a folder", file.string()),
           "a cohort file, relative to this file");
  }
  return load_cohort(file.string());
}

/// The entries ({value, source} tables) under `t`, by dotted path, whose source starts with
/// "calibrated".
void collect_calibrated(const toml::table& t, const std::string& prefix,
                        std::map<std::string, std::string>& out) {
  for (const auto& [k, node] : t) {
    const toml::table* sub = node.as_table();
    if (!sub) continue;
    const std::string path =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const toml::node* src = sub->get("source");
    if (src && src->is_string() && sub->contains("value")) {
      const std::string text = src->as_string()->get();
      if (text.rfind("calibrated", 0) == 0) out[path] = text;
    } else {
      collect_calibrated(*sub, path, out);
    }
  }
}

CaseTarget read_target(const Table& c, bool calibration) {
  const Table& t = c.table("target");
  if (!calibration) {
    c.fail("target", "a check has no target: no parameter is fitted to it",
           "role = \"calibration\", or no target");
  }
  CaseTarget g;
  const bool value = t.has("value"), low = t.has("low"), high = t.has("high");
  if (value && (low || high)) {
    t.fail("value", "is given with low or high", "either value or low and/or high");
  }
  if (!value && !low && !high) {
    c.fail("target", "names no figure", "value = V, or low = L and/or high = H");
  }
  constexpr double inf = std::numeric_limits<double>::infinity();
  g.low = value ? t.number("value") : low ? t.number("low") : -inf;
  g.high = value ? t.number("value") : high ? t.number("high") : inf;
  if (g.high < g.low) t.fail("high", "is below low", "high >= low");
  g.sd = t.number("sd");
  if (!(g.sd > 0.0)) {
    t.fail("sd", fmt::format("{:g} is not above 0", g.sd), "a scale above 0, in the metric's unit");
  }
  g.basis = t.str("basis");
  return g;
}

bool cohort_metric(const std::string& m) {
  return m == "improved_1_grade_pct" || m == "gb_quantitative_change" || m == "pih_incidence_pct";
}

}  // namespace

const std::map<std::string, std::string>& calibrated_entries() {
  static const std::map<std::string, std::string> entries = [] {
    std::map<std::string, std::string> out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(data_dir())) {
      const std::string n = e.path().filename().string();
      if (e.path().extension() == ".toml" && n.rfind("validation", 0) != 0) {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::map<std::string, std::string> in_file;
      collect_calibrated(io::DataFile(f.string()).root(), "", in_file);
      for (auto& [k, v] : in_file) out[f.filename().string() + ":" + k] = std::move(v);
    }
    return out;
  }();
  return entries;
}

const schema::Key& validation_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key protocol = reduced_protocol_schema();
    Key root = table("", "reference cases of mnsim validate", {}, true);
    root.children = {
        string("cohort", "",
               "cohort file (relative to this file) giving the population of cohort metrics")
            .must()
            .path(),
        table_array(
            "case", "One reference case.",
            {
                string("id", "", "short name").must(),
                string("reference", "", "citation").must(),
                string("published", "", "published value as reported").must(),
                string("tolerance", "", "the pass window in words").must(),
                enumeration("role", {"calibration", "check"}, "",
                            "calibration: parameters were fitted to this figure (list them in "
                            "fitted); check: no parameter was")
                    .must(),
                enum_list(
                    "fitted",
                    [] {
                      std::vector<std::string> names;
                      for (const auto& [k, v] : calibrated_entries()) names.push_back(k);
                      return names;
                    }(),
                    "", "calibration cases: the data entries fitted to this figure"),
                string("note", "", "a caveat printed under the table"),
                enumeration("metric", metrics(), "", "predicted quantity").must(),
                number("low", "", "lowest passing value").must(),
                number("high", "", "highest passing value").must(),
                // Keys that mirror scenario keys take their range, unit and choices from them.
                mirror_key("patient.site", "site", "medial_cheek", "site (single-patient metrics)"),
                mirror_key("patient.age", "age", "30 years", "age (single-patient metrics)"),
                mirror_key("patient.sex", "sex", "female", "sex (single-patient metrics)"),
                mirror_key("patient.fitzpatrick", "fitzpatrick", "3",
                           "Fitzpatrick type (single-patient metrics)"),
                enum_list("scars", lesions::inventory_classes(), "",
                          "scar classes (depth_reduction_pct), one mid-range scar each"),
                integer("cohort_size", "200", "patients (cohort metrics)", 1, 100000),
                mirror_key("patient.fitzpatrick", "fitzpatrick_max", "6",
                           "cohort metrics: count types up to this"),
                string("cohort", "",
                       "cohort metrics: the study's own population (cohort file relative to this "
                       "file; default: the file's top-level cohort)")
                    .path(),
                protocol,
                table(
                    "target",
                    "calibration cases: the published figure as the likelihood of mnsim "
                    "calibrate (docs/calibration.md)",
                    {number("value", "", "the published value (metric units)"),
                     number("low", "", "lower end of a published interval or bound"),
                     number("high", "", "upper end of a published interval or bound"),
                     number("sd", "", "scale of a prediction's distance from the figure (above 0)")
                         .must(),
                     string("basis", "", "where the figure and its scale come from").must()},
                    false),
            },
            1000),
    };
    return root;
  }();
  return root;
}

std::string default_validation_path() {
  return data_file("validation.toml").string();
}

ValidationSet load_validation(const std::string& path) {
  const Table root = io::load_toml_file(path, validation_schema(), "a TOML validation file");
  ValidationSet set;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  set.cohort = load_referenced_cohort(root, dir);
  for (const auto& t : root.tables("case")) {
    ValidationCase c;
    c.id = t.str("id");
    c.reference = t.str("reference");
    c.published = t.str("published");
    c.tolerance = t.str("tolerance");
    c.calibration = t.str("role") == "calibration";
    if (t.has("fitted")) c.fitted = t.list("fitted");
    if (c.calibration && c.fitted.empty()) {
      t.fail("role", "is calibration but no fitted entries are listed",
             "fitted = [\"file.toml:section.key\", ...], or role = \"check\"");
    }
    if (!c.calibration && !c.fitted.empty()) {
      t.fail("fitted", "lists fitted entries for a check", "role = \"calibration\"");
    }
    for (const auto& f : c.fitted) {
      // The parameter names its target: its source mentions this case.
      if (calibrated_entries().at(f).find(c.id) == std::string::npos) {
        t.fail("fitted", fmt::format("the source of {} does not name case '{}'", f, c.id),
               "a calibrated entry whose source names the case it was fitted to");
      }
    }
    if (t.has("note")) c.note = t.str("note");
    if (t.has_table("target")) c.target = read_target(t, c.calibration);
    c.metric = t.str("metric");
    c.low = t.number("low");
    c.high = t.number("high");
    if (c.high < c.low) t.fail("high", "is below low", "high >= low");
    c.patient.site = t.str("site");
    c.patient.age_years = t.quantity("age") / kYear;
    c.patient.sex = t.str("sex") == "male" ? skin::Sex::Male : skin::Sex::Female;
    c.patient.fitzpatrick = static_cast<int>(t.integer("fitzpatrick"));
    if (t.has("scars")) c.scar_classes = t.list("scars");
    if (c.metric == "depth_reduction_pct" && c.scar_classes.empty()) {
      t.fail("scars", "depth_reduction_pct needs scar classes", "e.g. scars = [\"rolling\"]");
    }
    for (const auto& s : c.scar_classes) c.patient.scars.push_back(mid_range_scar(s));
    c.cohort_size = t.integer("cohort_size");
    c.fitzpatrick_max = static_cast<int>(t.integer("fitzpatrick_max"));
    if (t.has("cohort")) c.cohort = load_referenced_cohort(t, dir);
    c.protocol = read_reduced_protocol(t.table("protocol"));
    set.cases.push_back(std::move(c));
  }
  return set;
}

double CaseTarget::z(double p) const {
  const double out = p < low ? low - p : p > high ? p - high : 0.0;
  return out / sd;
}

outcomes::ScarGeometry mid_range_scar(const std::string& cls) {
  return outcomes::scar_geometry(*lesions::mid_range_lesion(cls, lesions::default_lesion_data()));
}

namespace {

CohortSpec case_cohort(const ValidationSet& set, const ValidationCase& c) {
  CohortSpec spec = c.cohort ? *c.cohort : set.cohort;
  spec.population.size = c.cohort_size;
  spec.arms = {Arm{"protocol", c.protocol}};
  return spec;
}

/// pih_incidence_pct over the patients of Fitzpatrick <= fitzpatrick_max; `event(i, row)`: the
/// PIH event of patient i.
template <class Event>
double pih_incidence(const ValidationCase& c, const ArmResult& r, Event event) {
  double n = 0, k = 0;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const PatientRow& row = r.rows[i];
    if (row.patient.spec.fitzpatrick > c.fitzpatrick_max) continue;
    n += 1;
    k += event(i, row) ? 1 : 0;
  }
  return n > 0 ? 100.0 * k / n : 0.0;
}

}  // namespace

CohortResult run_case_cohort(const ReducedModel& m, const ValidationSet& set,
                             const ValidationCase& c, int threads) {
  return run_cohort(m, case_cohort(set, c), threads);
}

double pih_incidence_with(const ReducedModel& m, const ValidationSet& set, const ValidationCase& c,
                          const CohortResult& cr) {
  const std::uint64_t seed = case_cohort(set, c).seed;
  return pih_incidence(c, cr.arms.front(), [&](std::size_t i, const PatientRow& row) {
    return cohort_pih_event(seed, i, outcomes::pih_risk(m.outcome, row.outcome.melanin_peak));
  });
}

double evaluate_case(const ReducedModel& m, const ValidationSet& set, const ValidationCase& c,
                     int threads) {
  if (cohort_metric(c.metric)) {
    const CohortResult cr = run_case_cohort(m, set, c, threads);
    const ArmResult& r = cr.arms.front();
    if (c.metric == "improved_1_grade_pct") return 100.0 * r.improved_1_grade_fraction;
    if (c.metric == "gb_quantitative_change") return r.quant_after.mean - r.quant_before.mean;
    return pih_incidence(c, r, [](std::size_t, const PatientRow& row) { return row.pih; });
  }
  const PatientOutcome o = m.simulate(c.patient, c.protocol);
  if (c.metric == "papillary_collagen_change_pct") return 100.0 * o.papillary_collagen_change;
  if (c.metric == "epidermal_thickness_change_pct") return 100.0 * o.epidermal_thickness_change;
  if (c.metric == "erythema_days") return o.erythema_days;
  if (c.metric == "barrier_hours") return o.barrier_hours;
  if (c.metric == "neutrophil_peak_days") return o.neutrophil_peak_h / kHoursPerDay;
  if (c.metric == "macrophage_peak_days") return o.macrophage_peak_h / kHoursPerDay;
  if (c.metric == "collagen1_after_collagen3_days")
    return (o.collagen1_peak_h - o.collagen3_peak_h) / kHoursPerDay;
  if (c.metric == "pih_risk_pct") return 100.0 * o.pih_risk;
  return o.depth_reduction_pct;  // depth_reduction_pct
}

std::vector<ValidationRow> run_validation(const ReducedModel& m, const ValidationSet& set,
                                          int threads) {
  std::vector<ValidationRow> rows;
  for (const auto& c : set.cases) {
    ValidationRow r;
    r.c = &c;
    r.predicted = evaluate_case(m, set, c, threads);
    r.pass = r.predicted >= c.low && r.predicted <= c.high;
    rows.push_back(r);
  }
  return rows;
}

std::string validation_table(const std::vector<ValidationRow>& rows) {
  std::string s;
  int passed[2] = {0, 0}, total[2] = {0, 0};
  for (const bool calibration : {true, false}) {
    s += calibration ? "Calibration (fitted: model parameters were tuned to these figures; passing "
                       "shows the fit still holds)\n"
                     : "\nChecks (not fitted: no parameter was tuned to these figures)\n";
    s += fmt::format("{:<26} {:<44} {:<34} {:>10}  {:<30} {}\n", "case", "reference", "published",
                     "predicted", "tolerance (window)", "result");
    for (const auto& r : rows) {
      const auto& c = *r.c;
      if (c.calibration != calibration) continue;
      s +=
          fmt::format("{:<26} {:<44} {:<34} {:>10.3g}  {:<30} {}\n", c.id, c.reference, c.published,
                      r.predicted, fmt::format("{} [{:g}, {:g}]", c.tolerance, c.low, c.high),
                      r.pass ? "pass" : "FAIL");
      if (calibration) s += fmt::format("{:<26} fitted: {}\n", "", fmt::join(c.fitted, ", "));
      ++total[calibration ? 0 : 1];
      if (r.pass) ++passed[calibration ? 0 : 1];
    }
  }
  bool notes = false;
  for (const auto& r : rows) {
    if (r.c->note.empty()) continue;
    if (!notes) s += "\nNotes\n";
    notes = true;
    s += fmt::format("{}: {}\n", r.c->id, r.c->note);
  }
  s += fmt::format("\n{} of {} calibration cases and {} of {} checks pass\n", passed[0], total[0],
                   passed[1], total[1]);
  s += fmt::format("{} of {} reference cases pass\n", passed[0] + passed[1], total[0] + total[1]);
  return s;
}

}  // namespace mnsim::protocol
