#include "protocol/dose_response.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/units.hpp"
#include "io/toml_file.hpp"
#include "protocol/mirror.hpp"
#include "protocol/plan.hpp"
#include "skin/profile.hpp"

namespace mnsim::protocol {

namespace {

// The items of a comma-separated list, without the blanks around them.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    const std::size_t b = item.find_first_not_of(" \t");
    item = b == std::string_view::npos ? std::string_view() : item.substr(b);
    const std::size_t e = item.find_last_not_of(" \t");
    out.emplace_back(e == std::string_view::npos ? std::string_view() : item.substr(0, e + 1));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

// The axes are written as comma-separated quantities, each with its unit ("0.5 mm, 1 mm").
std::vector<double> quantity_list(const Table& t, const std::string& key, Dim dim, double lo,
                                  double hi) {
  std::vector<double> out;
  for (const std::string& item : split_list(t.str(key))) {
    if (item.empty()) {
      t.fail(key, "has an empty item", "comma-separated values such as " + expected_units(dim));
    }
    const ParsedQuantity q = parse_quantity(item, dim);
    if (!q.ok()) t.fail(key, fmt::format("item '{}': {}", item, q.error), expected_units(dim));
    if (!(q.si >= lo * (1 - 1e-12) && q.si <= hi * (1 + 1e-12))) {
      t.fail(key, fmt::format("item '{}' is out of range", item),
             fmt::format("{} to {}", format_nice(lo, dim), format_nice(hi, dim)));
    }
    if (std::find(out.begin(), out.end(), q.si) != out.end()) {
      t.fail(key, fmt::format("item '{}' is given twice", item), "distinct values");
    }
    out.push_back(q.si);
  }
  if (out.size() > 32) t.fail(key, "has more than 32 items", "at most 32 values");
  return out;
}

std::vector<int> type_list(const Table& t, const std::string& key) {
  std::vector<int> out;
  for (const std::string& item : split_list(t.str(key))) {
    if (item.size() != 1 || item[0] < '1' || item[0] > '6') {
      t.fail(key, fmt::format("item '{}' is not a Fitzpatrick type", item),
             "comma-separated whole numbers 1 to 6, e.g. \"1, 3, 6\"");
    }
    const int v = item[0] - '0';
    if (std::find(out.begin(), out.end(), v) != out.end()) {
      t.fail(key, fmt::format("item '{}' is given twice", item), "distinct types");
    }
    out.push_back(v);
  }
  return out;
}

// The grid value nearest to the reference (the reference must be one of the values).
template <class T>
T on_axis(const Table& t, const std::string& key, const std::vector<T>& axis, T v) {
  for (const T& a : axis) {
    if (std::abs(static_cast<double>(a - v)) <= 1e-9 * std::abs(static_cast<double>(v))) return a;
  }
  t.fail(key, "is not one of the grid's values", "a value of the matching [grid] list");
}

}  // namespace

const schema::Key& dose_response_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key root = table("", "a dose-response grid", {}, true);
    const std::vector<Key> scars = scar_keys();
    root.children = {
        string("title", "", "Title."),
        table("patient", "The patient (the skin type is a grid axis).",
              {mirror_key("patient.site", "site", "medial_cheek", "site"),
               mirror_key("patient.age", "age", "30 years", "age"),
               mirror_key("patient.sex", "sex", "female", "sex")}),
        scars[0],
        scars[1],
        table("course", "The course at every grid point.",
              {mirror_key("course.sessions", "sessions", "3", "sessions"),
               mirror_key("course.follow_up", "follow_up", "3 months",
                          "outcome time after the last session"),
               quantity("time_step", Dim::Time, "h", "6 h", "largest reaction step", 60.0,
                        48 * kHour)}),
        table("grid", "The axes (comma-separated values, each with its unit).",
              {string("depth", "0.25 mm, 0.5 mm, 0.75 mm, 1 mm, 1.5 mm, 2 mm, 2.5 mm",
                      "depths the needles reach below the surface (0.05 mm to 5 mm)"),
               string("punctures", "100 /cm^2, 300 /cm^2, 1000 /cm^2, 3000 /cm^2",
                      "punctures per session (1 /cm^2 to 20000 /cm^2)"),
               string("interval", "1 weeks, 2 weeks, 4 weeks, 6 weeks",
                      "intervals between sessions (1 day to 1 year)"),
               string("fitzpatrick", "1, 2, 3, 4, 5, 6", "Fitzpatrick types (1 to 6)")}),
        table("reference", "The point the one-at-a-time tables vary around (grid values).",
              {quantity("depth", Dim::Length, "mm", "0.75 mm", "depth reached", 0.0, 5 * kMm),
               quantity("punctures", Dim::AreaDensity, "/cm^2", "300 /cm^2", "punctures", 0.0, 2e8),
               quantity("interval", Dim::Time, "weeks", "4 weeks", "interval", 0.0, 366 * kDay),
               integer("fitzpatrick", "3", "Fitzpatrick type", 1, 6)}),
    };
    return root;
  }();
  return root;
}

DoseResponseSpec load_dose_response(const std::string& path) {
  const Table root = io::load_toml_file(path, dose_response_schema(), "a TOML dose-response file");
  DoseResponseSpec s;
  if (root.has("title")) s.title = root.str("title");
  const Table& pt = root.table("patient");
  s.patient.site = pt.str("site");
  s.patient.age_years = pt.quantity("age") / kYear;
  s.patient.sex = pt.str("sex") == "male" ? skin::Sex::Male : skin::Sex::Female;
  const Table& ref = root.table("reference");
  s.patient.fitzpatrick = static_cast<int>(ref.integer("fitzpatrick"));
  s.patient.scars = read_scars(root, s.patient);
  const Table& c = root.table("course");
  s.sessions = static_cast<int>(c.integer("sessions"));
  s.follow_up = c.quantity("follow_up");
  s.time_step = c.quantity("time_step");
  const Table& g = root.table("grid");
  s.depths = quantity_list(g, "depth", Dim::Length, 0.05 * kMm, 5 * kMm);
  s.densities = quantity_list(g, "punctures", Dim::AreaDensity, 1e4, 2e8);
  s.intervals = quantity_list(g, "interval", Dim::Time, kDay, 366 * kDay);
  s.fitzpatrick = type_list(g, "fitzpatrick");
  s.ref_depth = on_axis(ref, "depth", s.depths, ref.quantity("depth"));
  s.ref_density = on_axis(ref, "punctures", s.densities, ref.quantity("punctures"));
  s.ref_interval = on_axis(ref, "interval", s.intervals, ref.quantity("interval"));
  s.ref_fitzpatrick = on_axis(ref, "fitzpatrick", s.fitzpatrick, s.patient.fitzpatrick);
  return s;
}

DoseResponse run_dose_response(const ReducedModel& m, const DoseResponseSpec& s, int threads) {
  DoseResponse r;
  r.grading = m.grading;
  for (double d : s.depths) {
    for (double n : s.densities) {
      for (double iv : s.intervals) {
        for (int ft : s.fitzpatrick) r.points.push_back({d, n, iv, ft, false, {}});
      }
    }
  }
  r.dermis_bottom =
      m.atlas->make_profile(s.patient.site, s.patient.age_years, s.patient.sex, s.ref_fitzpatrick)
          .top_of(skin::Layer::Hypodermis);
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    DoseResponsePoint& p = r.points[i];
    PatientSpec pt = s.patient;
    pt.fitzpatrick = p.fitzpatrick;
    const skin::SkinProfile prof = patient_profile(*m.atlas, pt);
    ReducedProtocol pr;
    pr.depth_reached = p.depth;
    pr.density = p.density;
    pr.sessions = s.sessions;
    pr.interval = p.interval;
    pr.follow_up = s.follow_up;
    pr.time_step = s.time_step;
    p.past_dermis = skin::past_dermis(p.depth, prof);
    p.outcome = m.simulate(prof, pt.scars, pr);
  }
  return r;
}

std::string dose_response_csv(const DoseResponse& r) {
  std::string s =
      "depth_mm,punctures_per_cm2,interval_weeks,fitzpatrick,past_dermis,"
      "depth_reduction_pct,gb_qualitative_before,gb_qualitative_after,gb_quantitative_before,"
      "gb_quantitative_after,papillary_collagen_change_pct,reticular_collagen_change_pct,"
      "epidermal_thickness_change_pct,erythema_days,barrier_hours,channel_closure_hours,"
      "pih_risk_pct\n";
  for (const auto& p : r.points) {
    const PatientOutcome& o = p.outcome;
    s += fmt::format(
        "{:g},{:g},{:g},{},{},{:.3f},{},{},{},{},{:.3f},{:.3f},{:.3f},{:.4f},{:.3f},{:.2f},"
        "{:.4f}\n",
        p.depth / kMm, p.density * 1e-4, p.interval / kWeek, p.fitzpatrick, p.past_dermis ? 1 : 0,
        o.depth_reduction_pct, o.gb_qual_before, o.gb_qual_after, o.gb_quant_before,
        o.gb_quant_after, 100.0 * o.papillary_collagen_change, 100.0 * o.reticular_collagen_change,
        100.0 * o.epidermal_thickness_change, o.erythema_days, o.barrier_hours,
        o.channel_closure_hours, 100.0 * o.pih_risk);
  }
  return s;
}

namespace {

/// The patient's scars before and after one point's course, for the grading.
outcomes::GbScoreChange point_score_change(const DoseResponseSpec& s, const DoseResponsePoint& p,
                                           const outcomes::GradingRules& rules) {
  std::vector<outcomes::ScarState> before, after;
  for (std::size_t k = 0; k < s.patient.scars.size(); ++k) {
    const outcomes::ScarGeometry& g = s.patient.scars[k];
    before.push_back({g.kind, g.depth, g.width});
    after.push_back({g.kind, p.outcome.scars.at(k).depth_after, g.width});
  }
  return outcomes::score_change(before, after, rules);
}

/// Under the tables: the G&B score at the reference point row by row, why it moved, and at how
/// many grid points it rose with every scar milder (the published score's arithmetic,
/// docs/model.md "Goodman & Baron grading").
std::string score_note(const DoseResponseSpec& s, const DoseResponse& r,
                       const DoseResponsePoint& ref) {
  const outcomes::GradingRules& rules = r.grading;
  const outcomes::GbScoreChange c = point_score_change(s, ref, rules);
  std::string out =
      "\nG&B score at the reference point, row by row (points per row times the "
      "multiplier of its count):\n\n";
  for (const auto& line : c.row_lines()) out += fmt::format("- {}\n", line);
  for (const auto& line : c.move_lines()) out += fmt::format("- scar changing row: {}\n", line);
  out += fmt::format("\n{}\n", c.explanation());
  int rose = 0, milder = 0;
  for (const auto& p : r.points) {
    if (p.outcome.gb_quant_after <= p.outcome.gb_quant_before) continue;
    ++rose;
    if (point_score_change(s, p, rules).rose_with_milder_scars()) ++milder;
  }
  out += fmt::format(
      "\nThe score rose at {} of the {} grid points; at {} of them no scar got deeper and every "
      "scar that changed row moved to one of fewer points.\n",
      rose, r.points.size(), milder);
  return out;
}

}  // namespace

std::string dose_response_markdown(const DoseResponseSpec& s, const DoseResponse& r) {
  auto at = [&](double d, double n, double iv, int ft) -> const DoseResponsePoint& {
    for (const auto& p : r.points) {
      if (p.depth == d && p.density == n && p.interval == iv && p.fitzpatrick == ft) return p;
    }
    throw std::logic_error("dose_response_markdown: point not on the grid");
  };
  const std::string head =
      "| {} | scar depth reduction | G&B grade | G&B score | papillary collagen | reticular "
      "collagen | erythema | barrier | channels closed | PIH risk "
      "|\n|---|---|---|---|---|---|---|---|---|---|\n";
  auto header = [&](const char* axis) {
    std::string h = "\n";
    h += fmt::format(fmt::runtime(head), axis);
    return h;
  };
  auto row = [](const std::string& label, const DoseResponsePoint& p) {
    const PatientOutcome& o = p.outcome;
    return fmt::format(
        "| {}{} | {:.1f} % | {} → {} | {} → {} | {:+.1f} % | {:+.1f} % | {} | {:.1f} h | {} | "
        "{:.1f} % |\n",
        label, p.past_dermis ? " (past the dermis)" : "", o.depth_reduction_pct, o.gb_qual_before,
        o.gb_qual_after, o.gb_quant_before, o.gb_quant_after, 100.0 * o.papillary_collagen_change,
        100.0 * o.reticular_collagen_change,
        // Under a day in hours (as protocol::erythema_text).
        o.erythema_days < 1.0 ? fmt::format("{:.1f} h", 24.0 * o.erythema_days)
                              : fmt::format("{:.2f} days", o.erythema_days),
        o.barrier_hours,
        o.channel_closure_hours >= 0.0 ? fmt::format("{:.1f} h", o.channel_closure_hours)
                                       : std::string("> 96 h"),
        100.0 * o.pih_risk);
  };
  std::string out = fmt::format(
      "{}{} scars; {} sessions, outcome {:.1f} months after the last; dermis bottom {:.2f} mm. "
      "Reference: {:g} mm reached, {:g} punctures/cm² per session, every {:g} weeks, "
      "Fitzpatrick {}.\n",
      s.title.empty() ? "" : "**" + s.title + "**: ", s.patient.scars.size(), s.sessions,
      s.follow_up / (30.44 * kDay), r.dermis_bottom / kMm, s.ref_depth / kMm, s.ref_density * 1e-4,
      s.ref_interval / kWeek, s.ref_fitzpatrick);
  out += header("depth reached");
  for (double d : s.depths) {
    out += row(fmt::format("{:g} mm", d / kMm),
               at(d, s.ref_density, s.ref_interval, s.ref_fitzpatrick));
  }
  out += header("punctures per session");
  for (double n : s.densities) {
    out += row(fmt::format("{:g} /cm²", n * 1e-4),
               at(s.ref_depth, n, s.ref_interval, s.ref_fitzpatrick));
  }
  out += header("interval");
  for (double iv : s.intervals) {
    out += row(fmt::format("{:g} weeks", iv / kWeek),
               at(s.ref_depth, s.ref_density, iv, s.ref_fitzpatrick));
  }
  out += header("Fitzpatrick type");
  for (int ft : s.fitzpatrick) {
    out += row(fmt::format("{}", ft), at(s.ref_depth, s.ref_density, s.ref_interval, ft));
  }
  out += score_note(s, r, at(s.ref_depth, s.ref_density, s.ref_interval, s.ref_fitzpatrick));
  return out;
}

}  // namespace mnsim::protocol
