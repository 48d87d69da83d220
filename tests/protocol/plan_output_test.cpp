// The planner's outputs for a reader: the session calendar, erythema in days or hours, the text
// table and JSON with dates, the printable HTML page (escaped, self-contained), and the progress
// make_plan reports.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/constants.hpp"
#include "core/progress.hpp"
#include "protocol/plan.hpp"
#include "report/plan_page.hpp"
#include "support/files.hpp"

namespace mnsim::protocol {
namespace {

ReducedProtocol course(int sessions, double interval_weeks, double follow_up_weeks) {
  ReducedProtocol r;
  r.needle_length = 1.0e-3;
  r.passes = 16;
  r.sessions = sessions;
  r.interval = interval_weeks * kWeek;
  r.follow_up = follow_up_weeks * kWeek;
  return r;
}

TEST(PlanCalendar, SessionsAtTheIntervalThenTheOutcomeAfterTheLast) {
  const auto v = plan_calendar(course(3, 4, 13), "2026-01-31");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].session, 1);
  EXPECT_EQ(v[0].day, 0);
  EXPECT_EQ(v[0].date, "2026-01-31");
  EXPECT_EQ(v[1].date, "2026-02-28");
  EXPECT_EQ(v[2].date, "2026-03-28");
  EXPECT_EQ(v[2].day, 56);
  EXPECT_EQ(v[3].session, 0);  // the outcome assessment, 13 weeks after the last session
  EXPECT_EQ(v[3].day, 56 + 91);
  EXPECT_EQ(v[3].date, "2026-06-27");
  // Across a leap day and a year's end.
  const auto leap = plan_calendar(course(2, 2, 1), "2027-12-20");
  EXPECT_EQ(leap[1].date, "2028-01-03");
  EXPECT_EQ(plan_calendar(course(2, 1, 0), "2028-02-22")[1].date, "2028-02-29");
}

TEST(PlanCalendar, SingleSessionAndNoStartDate) {
  const auto v = plan_calendar(course(1, 8, 12), "");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].day, 0);
  EXPECT_TRUE(v[0].date.empty());
  EXPECT_EQ(v[1].session, 0);
  EXPECT_EQ(v[1].day, 84);  // the interval plays no part in a single session
  EXPECT_TRUE(v[1].date.empty());
}

TEST(PlanText, ErythemaInDaysOrHours) {
  EXPECT_EQ(erythema_text(0.0), "none");
  EXPECT_EQ(erythema_text(0.001), "<1 h");
  EXPECT_EQ(erythema_text(0.25), "6 h");
  EXPECT_EQ(erythema_text(0.25, true), "6 hours");
  EXPECT_EQ(erythema_text(1.0 / 24, true), "1 hour");
  EXPECT_EQ(erythema_text(1.46), "1.5 d");
  EXPECT_EQ(erythema_text(2.0, true), "2.0 days");
  EXPECT_EQ(erythema_text(0.001, true), "<1 hour");
}

/// A plan with two ranked protocols (one a single session), made by hand: no simulation.
struct HandPlan {
  PlanPatient p;
  Plan plan;
  HandPlan() {
    p.title = "<script>alert(1)</script> & \"Ann's\" plan";
    p.spec.site = "medial_cheek";
    p.spec.age_years = 41;
    p.spec.fitzpatrick = 4;
    outcomes::ScarGeometry g;
    g.kind = "boxcar";
    g.depth = 0.3e-3;
    g.width = 2.5e-3;
    p.spec.scars = {g, g};
    p.follow_up = 13 * kWeek;
    p.intervals = {4 * kWeek};
    p.sessions_max = 3;
    PlanEntry a;
    a.protocol = course(3, 4, 13);
    a.nominal.depth_reached = 0.7e-3;
    a.nominal.depth_reduction_pct = 42.5;
    a.nominal.erythema_days = 0.2;
    a.nominal.gb_qual_before = 3;
    a.nominal.gb_qual_after = 2;
    a.variability_band = {20, 38.0, 42.0, 46.0};
    a.parameter_band = {20, 35.0, 41.0, 49.0};
    a.kind = "roller";
    a.model = "roller_192_mf8";
    a.setting_key = "needle_length";
    a.setting = 1.0e-3;
    a.passes = 16;
    PlanEntry b = a;
    b.protocol = course(1, 4, 13);
    b.nominal.erythema_days = 0.0;
    plan.ranked = {a, b};
    plan.evaluated = {a, b};
    plan.searched = 2;
    plan.dermis_bottom = 1.2e-3;
    plan.pih_cap = 0.03;
    plan.erythema_cap = 3 * kDay;
  }
};

TEST(PlanText, TableHasTheCalendarWithAStartDateAndASingleSessionHasNoInterval) {
  const HandPlan h;
  const std::string undated = plan_table(h.p, h.plan);
  EXPECT_EQ(undated.find("calendar (first session"), std::string::npos) << undated;
  const std::string t = plan_table(h.p, h.plan, "2026-03-02");
  EXPECT_NE(t.find("calendar (first session 2026-03-02):"), std::string::npos) << t;
  EXPECT_NE(t.find("   1 sessions 2026-03-02, 2026-03-30, 2026-04-27; outcome 2026-07-27"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("   2 session 2026-03-02; outcome 2026-06-01"), std::string::npos) << t;
  // Rank 2 is a single session: "-" for the interval, never "4 wk"; erythema in hours.
  const auto row2 =
      t.substr(t.find("\n   2 "), t.find('\n', t.find("\n   2 ") + 1) - t.find("\n   2 "));
  EXPECT_EQ(row2.find("wk"), std::string::npos) << row2;
  EXPECT_NE(row2.find(" - "), std::string::npos) << row2;
  EXPECT_NE(t.find("5 h"), std::string::npos) << t;  // rank 1: 0.2 days
  EXPECT_EQ(t.find("0.00 d"), std::string::npos) << t;
  // The legend explains the terse headings.
  for (const char* term :
       {"red. %:", "param.:", "patients:", "G&B q:", "PIH %:", "erythema:", "interval:"}) {
    EXPECT_NE(t.find(term), std::string::npos) << term;
  }
}

TEST(PlanText, JsonHasACalendarPerRankedProtocol) {
  const HandPlan h;
  const auto j = nlohmann::json::parse(plan_json(h.p, h.plan, "2026-03-02"));
  EXPECT_EQ(j["start_date"], "2026-03-02");
  const auto& cal = j["ranked"][0]["calendar"];
  ASSERT_EQ(cal.size(), 4u);
  EXPECT_EQ(cal[1]["date"], "2026-03-30");
  EXPECT_EQ(cal[1]["session"], 2);
  EXPECT_EQ(cal[3]["visit"], "outcome assessment");
  EXPECT_EQ(cal[3]["date"], "2026-07-27");
  const auto undated = nlohmann::json::parse(plan_json(h.p, h.plan));
  EXPECT_TRUE(undated["start_date"].is_null());
  EXPECT_TRUE(undated["ranked"][1]["calendar"][1]["date"].is_null());
  EXPECT_EQ(undated["ranked"][1]["calendar"][1]["week"], 13.0);
}

TEST(PlanHtml, SelfContainedEscapedWithLegendAndCalendar) {
  const HandPlan h;
  const std::string page = report::plan_html(h.p, h.plan, "2026-03-02");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  // The title is text, not markup.
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ann&#39;s&quot; plan"),
            std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  // Nothing from anywhere else: no links, images or styles to fetch.
  for (const char* ext : {"http:", "https:", "src=", "<link rel=\"stylesheet\"", "@import"}) {
    EXPECT_EQ(page.find(ext), std::string::npos) << ext;
  }
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.find("@page { size: A4"), std::string::npos);
  // Plain words: the patient, the legend's explanations, the calendar's dates.
  for (const char* words :
       {"A 41-year-old woman, Fitzpatrick skin type IV", "2 boxcar scars", "medial cheek",
        "Predicted reduction of mean scar depth", "8 in 10", "post-inflammatory hyperpigmentation",
        "Goodman and Baron", "visibly red", "2026-03-02", "2026-03-30", "2026-04-27", "2026-07-27",
        "single session", "5 hours", "none"}) {
    EXPECT_NE(page.find(words), std::string::npos) << words;
  }
  // Without a start date: weeks from the first session.
  const std::string undated = report::plan_html(h.p, h.plan, "");
  EXPECT_NE(undated.find("week 0"), std::string::npos);
  EXPECT_NE(undated.find("week 4"), std::string::npos);
  EXPECT_NE(undated.find("week 21"), std::string::npos);  // 8 + 13 weeks
  EXPECT_EQ(undated.find("2026-"), std::string::npos);
}

/// Records what make_plan reports.
class Recorder final : public Progress {
 public:
  void stage(std::string_view name) override { calls.push_back({std::string(name), -1, -1}); }
  void advance(double done, double total) override {
    calls.push_back({calls.empty() ? "" : calls.back().stage, done, total});
  }
  void note(std::string_view) override {}
  struct Call {
    std::string stage;
    double done, total;
  };
  std::vector<Call> calls;
};

TEST(PlanProgress, CountsEveryProtocolThenEveryReplicate) {
  const std::string path = mnsim::test::write_temp_file(
      "mnsim_plan_progress_" + std::to_string(::getpid()) + ".toml",
      "[[scars]]\nkind = \"boxcar\"\ndepth = \"0.3 mm\"\nwidth = \"2 mm\"\n"
      "[search]\nsessions_max = 2\nreplicates = 2\nposterior_draws = 3\ntop = 2\nexpand = 2\n"
      "devices = [\"stamp_35\", \"dermapen_12\"]\n");
  const PlanPatient p = load_plan_patient(path);
  std::filesystem::remove(path);
  Recorder r;
  const Plan plan = make_plan(ReducedModel::load_default(), p, 2, &r);
  std::vector<std::string> stages;
  for (const auto& c : r.calls) {
    if (c.done < 0) stages.push_back(c.stage);
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"device settings evaluated",
                                              "courses of the leading devices evaluated",
                                              "uncertainty replicates"}));
  // Stage 1: the stamp's 3 passes and the pen's 10 depths x 3 passes; stage 2: the 2 best over
  // the courses not yet run (1 session; 2 sessions 2, 6 and 8 weeks apart).
  EXPECT_EQ(plan.device_settings, 33);
  EXPECT_EQ(plan.searched, 33 + 2 * 4);
  double last = -1;
  std::string stage;
  for (const auto& c : r.calls) {
    if (c.done < 0) {
      last = -1;
      stage = c.stage;
      continue;
    }
    EXPECT_GE(c.done, last) << stage;  // never goes back
    last = c.done;
    const double total = stage == "device settings evaluated" ? plan.device_settings
                         : stage == "uncertainty replicates"
                             ? static_cast<double>(plan.ranked.size() * (2 + 3))
                             : plan.searched - plan.device_settings;
    EXPECT_EQ(c.total, total) << stage;
  }
  // Each stage ends with done == total.
  ASSERT_GE(r.calls.size(), 2u);
  EXPECT_EQ(r.calls.back().done, r.calls.back().total);
}

}  // namespace
}  // namespace mnsim::protocol
