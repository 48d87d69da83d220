#include "report/plan_page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "core/constants.hpp"
#include "core/version.hpp"
#include "report/report.hpp"
#include "report/words.hpp"

namespace mnsim::report {

namespace {

using protocol::Plan;
using protocol::PlanEntry;
using protocol::PlanPatient;

// The report's style sheet, plus the plan's tables and legend, and A4 pages in print.
constexpr const char* kPlanCss = R"css(
body { max-width: 1120px; }
.wide { overflow-x: auto; }
table.plan { font-size: 0.85em; }
table.plan th { vertical-align: bottom; font-weight: 600; }
table.plan td, .calendar td:not(:last-child) { white-space: nowrap; }
table.plan td.device { white-space: normal; overflow-wrap: anywhere; max-width: 9em; }
dl.legend { margin: 8px 0 16px; }
dl.legend dt { font-weight: 600; margin-top: 6px; }
dl.legend dd { margin: 0 0 0 18px; }
.calendar { break-inside: avoid; page-break-inside: avoid; }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; max-width: none; }
  .wide { overflow: visible; }
  table.plan { font-size: 7.5pt; }
  th, td { padding: 3px 6px 3px 0; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  dl.legend { font-size: 9pt; }
  section#calendar { break-before: page; page-break-before: always; }
}
)css";

/// A length for a reader: mm from 0.1 mm on, else µm.
std::string length_text(double m) {
  if (m >= 0.1e-3) return fmt::format("{:.2f} mm", m / kMm);
  return fmt::format("{:.0f} \u00b5m", m / kUm);
}

/// "1.00 mm, 16 passes, 3 sessions 4 weeks apart" (a single session: "1 session").
std::string protocol_words(const PlanEntry& e) {
  const auto& r = e.protocol;
  return fmt::format(
      "{}, {} passes per session, {}", protocol::device_words(e), e.passes,
      r.sessions > 1 ? fmt::format("{} sessions {:.0f} weeks apart", r.sessions, r.interval / kWeek)
                     : std::string("a single session"));
}

/// "2 boxcar scars (flat floor, steep edges)".
std::string scars_words(const std::string& kind, int n) {
  std::string k = kind;
  std::replace(k.begin(), k.end(), '_', ' ');
  std::string what = fmt::format("{} {} scar{}", n, k, n == 1 ? "" : "s");
  if (kind == "icepick") what += " (narrow and deep)";
  if (kind == "boxcar") what += " (flat floor, steep edges)";
  if (kind == "rolling") what += " (shallow, sloping edges)";
  if (kind == "measured") what += " (a surface from a height map)";
  return what;
}

std::string site_words(std::string site) {
  std::replace(site.begin(), site.end(), '_', ' ');
  return site;
}

/// The patient in plain words and their scars, identical scars counted together.
std::string patient_section(const PlanPatient& p, const Plan& plan) {
  const auto& s = p.spec;
  std::string h = "<section id=\"patient\">\n<h2>Patient</h2>\n<p>";
  h += html_escape(fmt::format(
      "A {:.0f}-year-old {}, {}, treated on the {}. At this site the dermis ends {} below the "
      "skin surface: needles that would reach deeper, into the fat, are never proposed.",
      s.age_years, s.sex == skin::Sex::Male ? "man" : "woman", fitzpatrick_words(s.fitzpatrick),
      site_words(s.site), length_text(plan.dermis_bottom)));
  h += "</p>\n";
  struct Group {
    const outcomes::ScarGeometry* g;
    int n;
  };
  std::vector<Group> groups;
  for (const auto& g : s.scars) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& x) {
      return x.g->kind == g.kind && x.g->depth == g.depth && x.g->width == g.width &&
             x.g->tethered == g.tethered;
    });
    if (it == groups.end()) {
      groups.push_back({&g, 1});
    } else {
      ++it->n;
    }
  }
  h += fmt::format(
      "<p>{} scar{}, measured as depth below the surrounding skin and width:</p>\n<ul>\n",
      s.scars.size(), s.scars.size() == 1 ? "" : "s");
  for (const auto& [g, n] : groups) {
    h += "<li>" +
         html_escape(fmt::format("{}, {} deep and {} wide{}", scars_words(g->kind, n),
                                 length_text(g->depth), length_text(g->width),
                                 g->tethered ? ", tethered (held down by a fibrous band)" : "")) +
         "</li>\n";
  }
  h += "</ul>\n</section>\n";
  return h;
}

std::string join(const std::vector<std::string>& parts, const std::string& last_sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? last_sep : ", ";
    out += parts[i];
  }
  return out;
}

/// What was searched, and how many protocols each limit left out.
std::string search_section(const PlanPatient& p, const Plan& plan) {
  std::vector<std::string> models, intervals;
  for (const auto& e : plan.evaluated) {
    if (std::find(models.begin(), models.end(), e.model) == models.end()) models.push_back(e.model);
  }
  for (double iv : p.intervals) intervals.push_back(fmt::format("{:g}", iv / kWeek));
  const auto kept = std::count_if(plan.evaluated.begin(), plan.evaluated.end(),
                                  [](const PlanEntry& e) { return e.feasible; });
  std::string h = "<section id=\"search\">\n<h2>What was searched</h2>\n<p>";
  h += html_escape(fmt::format(
      "{} treatment protocols. First, {} device settings ({}: each roller and stamp with the "
      "needle lengths it is made with, each pen at its depth settings in 0.25 mm steps, each "
      "with a few numbers of passes) were each tried with three sessions four weeks apart; "
      "then the {} best of them with {} to {} sessions, {} weeks apart. The outcome of each "
      "is predicted {:.0f} weeks ({:.1f} months) after its last session.",
      plan.searched, plan.device_settings, join(models, ", "), p.expand, p.sessions_min,
      p.sessions_max, join(intervals, " or "), p.follow_up / kWeek, p.follow_up / (30.44 * kDay)));
  h += "</p>\n<table>\n<thead><tr><th>Protocols</th><th class=\"num\">Number</th></tr></thead>\n"
       "<tbody>\n";
  auto row = [&](const std::string& what, long long n) {
    h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td></tr>\n", html_escape(what), n);
  };
  row("Left out: the needles would reach past the dermis, into the fat", plan.excluded_depth);
  row(fmt::format("Left out: risk of post-inflammatory hyperpigmentation above {:g} %",
                  100.0 * plan.pih_cap),
      plan.excluded_pih);
  row(fmt::format("Left out: visible redness longer than {:g} days per session",
                  plan.erythema_cap / kDay),
      plan.excluded_erythema);
  row("Kept: within every limit", kept);
  row("Shown below: the best of those kept", static_cast<long long>(plan.ranked.size()));
  h += "</tbody>\n</table>\n</section>\n";
  return h;
}

/// "-" when a cell has nothing to say.
std::string dash() {
  return "<span class=\"muted\">\u2013</span>";
}

bool any_home_use(const Plan& plan) {
  return std::any_of(plan.ranked.begin(), plan.ranked.end(),
                     [](const PlanEntry& e) { return e.home_use; });
}

/// A band as "38\u201346 %", or a dash when it was not computed.
std::string range_text(const protocol::Band& b) {
  if (!b.computed()) return "\u2014";
  return fmt::format("{:.0f}\u2013{:.0f} %", b.p10, b.p90);
}

std::string ranked_table(const Plan& plan) {
  static const char* const heads[] = {"Rank",
                                      "Device",
                                      "Passes per session",
                                      "Sessions",
                                      "Weeks between sessions",
                                      "Depth the needles reach",
                                      "Predicted reduction of mean scar depth",
                                      "Model uncertainty (10\u201390 %)",
                                      "Between patients (10\u201390 %)",
                                      "Worst scar grade, before \u2192 after",
                                      "Scar score, before \u2192 after",
                                      "Upper-dermis collagen change",
                                      "PIH risk",
                                      "Redness per session",
                                      "Note"};
  std::string h = "<div class=\"wide\">\n<table class=\"plan\">\n<thead><tr>";
  const bool notes = any_home_use(plan);  // the Note column only when it says something
  for (const char* c : heads) {
    if (notes || std::string_view(c) != "Note") h += fmt::format("<th>{}</th>", html_escape(c));
  }
  h += "</tr></thead>\n<tbody>\n";
  int rank = 0;
  for (const auto& e : plan.ranked) {
    const auto& o = e.nominal;
    const auto& r = e.protocol;
    auto num = [](const std::string& s) {
      return fmt::format("<td class=\"num\">{}</td>", html_escape(s));
    };
    h += "<tr>" + num(fmt::format("{}", ++rank)) +
         fmt::format("<td class=\"device\">{}<br>{}</td>", html_escape(e.model),
                     html_escape(e.setting_key == "depth"
                                     ? fmt::format("{} set to {:.2f} mm", e.kind, e.setting / kMm)
                                     : fmt::format("{}, {:.2f} mm", e.kind, e.setting / kMm))) +
         num(fmt::format("{}", e.passes)) + num(fmt::format("{}", r.sessions)) +
         (r.sessions > 1 ? num(fmt::format("{:.0f}", r.interval / kWeek))
                         : "<td class=\"num\">" + dash() + " (single session)</td>") +
         num(length_text(o.depth_reached)) + num(fmt::format("{:.1f} %", o.depth_reduction_pct)) +
         num(range_text(e.parameter_band)) + num(range_text(e.variability_band)) +
         num(fmt::format("{} \u2192 {}", o.gb_qual_before, o.gb_qual_after)) +
         num(fmt::format("{} \u2192 {}", o.gb_quant_before, o.gb_quant_after)) +
         num(fmt::format("{:+.1f} %", 100.0 * o.papillary_collagen_change)) +
         num(fmt::format("{:.1f} %", 100.0 * o.pih_risk)) +
         num(protocol::erythema_text(o.erythema_days, true)) +
         (notes ? fmt::format("<td>{}</td>", e.home_use ? "home-use length" : "") : "") + "</tr>\n";
  }
  h += "</tbody>\n</table>\n</div>\n";
  return h;
}

/// Every column of the ranked table in plain words.
std::string legend(const PlanPatient& p, const Plan& plan) {
  const std::pair<const char*, std::string> items[] = {
      {"Rank",
       "Best predicted improvement first; between equals, fewer sessions, then shorter "
       "needles, then fewer passes."},
      {"Device",
       "The device from the catalog and its setting: a roller or stamp by the length of its "
       "needles, a pen by how deep it is set to go."},
      {"Passes per session", "How many times the device is passed over the skin in one session."},
      {"Sessions; weeks between sessions",
       "How many treatments, and the weeks from one to the next (a dash for a single session)."},
      {"Depth the needles reach",
       "How deep the needles go into this patient's skin, from a model of the device pressed "
       "with a normal hand force; less than the needle length, because the skin dents before "
       "the needles pierce it."},
      {"Predicted reduction of mean scar depth",
       fmt::format("How much shallower the scars are predicted to be {:.0f} weeks after the "
                   "last session, in percent of their depth before treatment, averaged over the "
                   "scars (100 % would mean the scars are filled level with the skin).",
                   p.follow_up / kWeek)},
      {"Model uncertainty (10\u201390 %)",
       fmt::format("What the model does not know. Its fitted healing rates are known only "
                   "within a range from the published studies they were fitted to (the "
                   "posterior of mnsim calibrate, data/posterior_sample.toml). The prediction "
                   "was repeated with {} sets of values drawn from that range, for this "
                   "patient at typical healing speed: 8 in 10 of them fall inside this range.",
                   p.posterior_draws)},
      {"Between patients (10\u201390 %)",
       fmt::format("How people differ. The prediction was repeated for {} virtual patients "
                   "like this one, their healing rates drawn from a spread between people "
                   "(assumed, data/outcomes.toml), with the model's fitted values as shipped: "
                   "8 in 10 of them fall inside this range, 1 in 10 below it and 1 in 10 above "
                   "it.",
                   p.replicates)},
      {"Worst scar grade (Goodman & Baron)",
       "The qualitative acne scar grade of Goodman and Baron, taken from the worst scar: 0 no "
       "scar visible; 2 mild, not obvious from a social distance of 50 cm, easily covered by "
       "make-up; 3 moderate, obvious at 50 cm but flattens when the skin is stretched; 4 "
       "severe, obvious at 50 cm and does not flatten when stretched. Grade 1 (flat marks of "
       "colour only) is not modelled."},
      {"Scar score (Goodman & Baron)",
       "The quantitative acne scar score of Goodman and Baron: each type of scar present scores "
       "1 (mild), 2 (moderate) or 3 (severe) points, times 1, 2 or 3 for 1\u201310, 11\u201320 or "
       "more than 20 scars of that type; lower is better."},
      {"Upper-dermis collagen change",
       "The predicted change of the collagen in the upper (papillary) dermis, the layer just "
       "below the epidermis, against before treatment."},
      {"PIH risk",
       "The risk of post-inflammatory hyperpigmentation: darker patches of skin after the "
       "treatment, more likely in darker skin types. Protocols above the limit for this patient "
       "were left out."},
      {"Redness per session",
       "Erythema: how long the treated skin stays visibly red after each session (the mean "
       "over the sessions), in days or hours."},
      {"Note",
       "\u201chome-use length\u201d: needles short enough (0.3 mm or less) for rollers sold for "
       "use at home."},
  };
  std::string h = "<h3>What the columns mean</h3>\n<dl class=\"legend\">\n";
  for (const auto& [term, text] : items) {
    if (std::string_view(term) == "Note" && !any_home_use(plan)) continue;
    h += fmt::format("<dt>{}</dt><dd>{}</dd>\n", html_escape(term), html_escape(text));
  }
  h += "</dl>\n";
  return h;
}

/// The calendar of the best three protocols.
std::string calendar_section(const PlanPatient& p, const Plan& plan,
                             const std::string& start_date) {
  std::string h = "<section id=\"calendar\">\n<h2>Session calendar</h2>\n<p>";
  h += start_date.empty()
           ? "No start date was given (<code>--start-date YYYY-MM-DD</code> dates the calendar): "
             "times are counted from the first session."
           : html_escape(fmt::format("The first session on {}; the others follow at the "
                                     "protocol's interval.",
                                     start_date));
  h += html_escape(fmt::format(" The outcome is assessed {:.0f} weeks after the last session.",
                               p.follow_up / kWeek));
  h += "</p>\n";
  const std::size_t n = std::min<std::size_t>(3, plan.ranked.size());
  if (n == 0)
    h += "<p class=\"note\">No protocol meets every limit: there is nothing to plan.</p>\n";
  for (std::size_t i = 0; i < n; ++i) {
    const PlanEntry& e = plan.ranked[i];
    h += fmt::format(
        "<div class=\"calendar\">\n<h3>{}</h3>\n<table>\n<thead><tr><th>Visit</th>"
        "<th>{}</th><th class=\"num\">Day</th><th>What</th></tr></thead>\n<tbody>\n",
        html_escape(fmt::format("Rank {}: {}", i + 1, protocol_words(e))),
        start_date.empty() ? "When" : "Date");
    for (const auto& v : protocol::plan_calendar(e.protocol, start_date)) {
      const std::string what =
          v.session > 0 ? fmt::format("{}, {} passes (about {:.0f} punctures per cm\u00b2)",
                                      protocol::device_words(e), e.passes, e.nominal.density * 1e-4)
                        : fmt::format(
                              "Outcome assessment, {:.0f} weeks after the last session: scars "
                              "graded and compared with before",
                              p.follow_up / kWeek);
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
          v.session > 0 ? fmt::format("Session {}", v.session) : std::string("Outcome"),
          html_escape(v.date.empty() ? week_text(v.day) : v.date), v.day, html_escape(what));
    }
    h += "</tbody>\n</table>\n</div>\n";
  }
  h += "</section>\n";
  return h;
}

}  // namespace

std::string plan_html(const PlanPatient& p, const Plan& plan, const std::string& start_date) {
  const std::string title = p.title.empty() ? std::string("Microneedling treatment plan") : p.title;
  std::string h = html_page_start(title + " \u2013 mnsim plan", kPlanCss);
  h += fmt::format("<header>\n<h1 id=\"title\">{}</h1>\n", html_escape(title));
  h += fmt::format(
      "<p class=\"sub\">Microneedling treatment plan \u00b7 mnsim {} ({}) \u00b7 {}</p>\n",
      html_escape(version()), html_escape(git_commit()),
      html_escape(start_date.empty() ? "no start date" : "first session " + start_date));
  h += "</header>\n<p class=\"note\">Predictions of a model, to discuss with a clinician: not "
       "a prescription.</p>\n";
  h += patient_section(p, plan);
  h += search_section(p, plan);
  h += "<section id=\"ranked\">\n<h2>Ranked protocols</h2>\n";
  if (plan.ranked.empty()) {
    h += "<p class=\"note\">No protocol meets every limit.</p>\n";
  } else {
    h += ranked_table(plan);
  }
  h += legend(p, plan);
  h += "</section>\n";
  h += calendar_section(p, plan, start_date);
  h += "<footer>\n<p>Written by <code>mnsim plan</code> (docs/cohort.md); this page loads "
       "nothing from the network.</p>\n</footer>\n</body>\n</html>\n";
  return h;
}

}  // namespace mnsim::report
