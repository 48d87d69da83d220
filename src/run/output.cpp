#include "run/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "healing/kinetics.hpp"
#include "healing/params.hpp"

namespace mnsim {

namespace {
std::vector<std::string> healing_field_names() {
  std::vector<std::string> names;
  for (const auto& f : healing::healing_model().fields()) names.push_back(f.name);
  return names;
}

/// Sample times closer than this to each other, to a session or to the end are one time.
constexpr double kSameTime = 1e-3;  // s

/// `times` sorted, without repeats, inside (0, end) and apart from the sessions.
std::vector<double> tidy_times(std::vector<double> times, const protocol::Course& course) {
  std::sort(times.begin(), times.end());
  std::vector<double> out;
  for (const double t : times) {
    if (!(t > kSameTime) || !(t < course.end_time - kSameTime)) continue;
    if (!out.empty() && t - out.back() < kSameTime) continue;
    const bool at_session =
        std::any_of(course.sessions.begin(), course.sessions.end(),
                    [&](const protocol::Session& s) { return std::fabs(s.time - t) < kSameTime; });
    if (!at_session) out.push_back(t);
  }
  return out;
}
}  // namespace

schema::Key output_schema() {
  using namespace schema;
  return table(
      "output",
      "What a run writes besides summary.json and scenario.resolved.toml, and when it samples "
      "timeseries.csv and scars.csv (docs/outputs.md).",
      {
          enum_list("snapshots", {"before_sessions", "after_sessions", "end"},
                    "[\"before_sessions\", \"after_sessions\", \"end\"]",
                    "When fields.h5 gets a snapshot of the fields; [] for none (with no "
                    "snapshot_every, no fields.h5 and fields.xmf are written).")
              .may_be_empty(),
          quantity("snapshot_every", Dim::Time, "days", "",
                   "Also a snapshot at every multiple of this time (optional).", kHour,
                   3 * 366 * kDay),
          enum_list("fields", healing_field_names(),
                    "[\"damage\", \"inflammatory_signal\", \"fibroblasts\", \"collagen3\", "
                    "\"collagen1\", \"elastin\", \"vascular\", \"melanin_excess\"]",
                    "Healing fields stored in each snapshot (docs/model.md lists them)."),
          boolean("report", "true", "Write report.html and figures/."),
          boolean("timeseries", "true", "Write timeseries.csv (layer means over time)."),
          boolean("scars", "true", "Write scars.csv (each scar's depth over time)."),
          boolean("punctures", "true", "Write punctures.csv (every puncture of every session)."),
          integer("band_draws", "16",
                  "Reduced-model evaluations of each predictive band in summary.json and the "
                  "report: posterior draws of the calibrated parameters, and as many draws of "
                  "the patient's healing rates (docs/outputs.md, \"Predictive bands\"); 0 for "
                  "no bands (mnsim run --no-bands).",
                  0, 1000),
          quantity("timeseries_every", Dim::Time, "days", "",
                   "Sample timeseries.csv and scars.csv at every multiple of this time instead of "
                   "the default grid (optional; with timeseries_times, at both).",
                   kHour, 3 * 366 * kDay),
          quantity_list("timeseries_times", Dim::Time, "days", "",
                        "Sample timeseries.csv and scars.csv at these times since the first "
                        "session instead of the default grid (optional; [] for none: the start, "
                        "the sessions and the end only).",
                        {}, {})
              .may_be_empty()
              .range(0.0, 3 * 366 * kDay, true),
      });
}

std::vector<double> default_sample_times(const protocol::Course& course) {
  std::vector<double> times;
  const auto& s = course.sessions;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double from = s[i].time;
    const double until = i + 1 < s.size() ? s[i + 1].time : course.end_time;
    // Every 6 h up to day 7 (k = 1..27), then daily (day 7, 8, ...), before `until`.
    for (int k = 1; k < 28 && from + k * 6 * kHour < until; ++k)
      times.push_back(from + k * 6 * kHour);
    for (long d = 7; from + static_cast<double>(d) * kDay < until; ++d) {
      times.push_back(from + static_cast<double>(d) * kDay);
    }
  }
  return tidy_times(std::move(times), course);
}

OutputPlan make_output_plan(const Table& t, const protocol::Course& course) {
  OutputPlan p;
  const auto& when = t.list("snapshots");
  auto has = [&](const std::string& w) {
    return std::find(when.begin(), when.end(), w) != when.end();
  };
  p.before_sessions = has("before_sessions");
  p.after_sessions = has("after_sessions");
  p.end = has("end");
  // Periodic snapshots fall before the end of follow-up (course_runner.cpp schedules them so).
  if (t.has("snapshot_every") && t.quantity("snapshot_every") < course.end_time - 1e-6) {
    p.every = t.quantity("snapshot_every");
  }
  p.fields = t.list("fields");
  p.report = t.flag("report");
  p.timeseries = t.flag("timeseries");
  p.scars = t.flag("scars");
  p.punctures = t.flag("punctures");
  p.band_draws = static_cast<int>(t.integer("band_draws"));
  const bool every = t.has("timeseries_every");
  const bool listed = t.has("timeseries_times");
  if (!every && !listed) {
    p.sample_times = default_sample_times(course);
    return p;
  }
  std::vector<double> times;
  if (every) {
    const double step = t.quantity("timeseries_every");
    for (long k = 1; k * step < course.end_time; ++k)
      times.push_back(static_cast<double>(k) * step);
  }
  if (listed) {
    const auto& at = t.quantities("timeseries_times");
    if (!at.empty() && at.back() > course.end_time + kSameTime) {
      t.fail("timeseries_times",
             fmt::format("\"{}\" is after the end of follow-up (day {:g})",
                         t.list("timeseries_times").back(), course.end_time / kDay),
             "times from the first session to the end of follow-up ([course] follow_up)");
    }
    times.insert(times.end(), at.begin(), at.end());
  }
  p.sample_times = tidy_times(std::move(times), course);
  return p;
}

}  // namespace mnsim
