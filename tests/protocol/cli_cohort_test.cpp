// The cohort, validate and plan subcommands as a user runs them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace {

using mnsim::test::run_cli;

using mnsim::test::write_temp_file;

TEST(CohortCli, WritesJsonAndCsv) {
  const std::string f = write_temp_file("mnsim_cli_cohort.toml",
                                        "seed = 3\n[population]\nsize = 8\n[population.scars]\n"
                                        "boxcar_shallow = 3\n[protocol]\nsessions = 2\n");
  const auto dir = std::filesystem::temp_directory_path() / "mnsim_cli_cohort_out";
  std::filesystem::remove_all(dir);
  const auto r = run_cli({"cohort", f, "--out", dir.string(), "-j", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "cohort.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "patients.csv"));
  EXPECT_NE(r.out.find("\"n\": 8"), std::string::npos) << r.out;
}

TEST(CohortCli, BadCohortIsOneLineExit2) {
  const std::string f =
      write_temp_file("mnsim_cli_cohort_bad.toml", "[protocol]\nneedle_length = \"9 mm\"\n");
  const auto r = run_cli({"cohort", f, "--out", "/tmp/mnsim_cli_never"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(f + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("protocol.needle_length"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(CohortCli, LengthTheRollerIsNotMadeWithIsOneLineExit2AndWritesNothing) {
  const std::string f =
      write_temp_file("mnsim_cli_cohort_length.toml", "[protocol]\nneedle_length = \"1.2 mm\"\n");
  const std::filesystem::path out = "/tmp/mnsim_cli_never_length";
  std::filesystem::remove_all(out);
  const auto r = run_cli({"cohort", f, "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(f + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("protocol.needle_length"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(ValidateCli, PrintsTheTable) {
  const auto r = run_cli({"validate", "-j", "2"});
  // The shipped cases the model fails (majid_grades; Validation.ReferenceCases lists them, their
  // notes in data/validation.toml say why) are FAIL rows, and any failure makes the exit code 1.
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::istringstream lines(r.out);
  int fail_rows = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 4 || line.compare(line.size() - 4, 4, "FAIL") != 0) continue;
    ++fail_rows;
    EXPECT_EQ(line.rfind("majid_grades ", 0), 0u) << line;
  }
  EXPECT_EQ(fail_rows, 1) << r.out;
  EXPECT_NE(r.out.find("11 of 12 reference cases pass"), std::string::npos) << r.out;
  // Calibration apart from the checks, each calibration case with what was fitted to it.
  EXPECT_NE(r.out.find("5 of 5 calibration cases and 6 of 7 checks pass"), std::string::npos)
      << r.out;
  EXPECT_LT(r.out.find("Calibration (fitted"), r.out.find("Checks (not fitted"));
  EXPECT_NE(r.out.find("fitted: healing.toml:matrix.collagen_synthesis"), std::string::npos);
  for (const char* col : {"reference", "published", "predicted", "tolerance", "Lotfi 2013",
                          "Alam 2014", "Majid 2009"}) {
    EXPECT_NE(r.out.find(col), std::string::npos) << col;
  }
}

TEST(PlanCli, RanksTheShippedExample) {
  const auto r = run_cli(
      {"plan", std::string(MNSIM_SOURCE_DIR) + "/examples/03_plan_patient.toml", "-j", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rank"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("past the dermis"), std::string::npos) << r.out;
}

TEST(PlanCli, WritesJsonCsvAndExportsARunnableScenario) {
  // A small search (one session) so the test is quick.
  const std::string f = write_temp_file(
      "mnsim_cli_plan_out.toml",
      "[patient]\nfitzpatrick = 2\n[[scars]]\nkind = \"rolling\"\n"
      "depth = \"0.3 mm\"\nwidth = \"4 mm\"\ntether = true\n"
      "[inventory]\nicepick = 1\n[search]\nsessions_max = 1\n"
      "replicates = 3\nposterior_draws = 3\ntop = 3\ndevices = [\"roller_192_mf8\"]\n");
  const auto dir = std::filesystem::temp_directory_path() / "mnsim_cli_plan_files";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string json = (dir / "plan.json").string(), csv = (dir / "plan.csv").string();
  const auto r = run_cli({"plan", f, "--json", json, "--csv", csv, "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = mnsim::test::slurp(csv);
  // The roller's 9 catalogued lengths x 3 passes x 1 session = 27 protocols, each a row, with
  // exclusion reasons (the reference course is the only course when at most 1 session).
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 28) << text;
  EXPECT_NE(text.find("past the dermis"), std::string::npos) << text;
  const std::string jtext = mnsim::test::slurp(json);
  EXPECT_NE(jtext.find("\"evaluated\""), std::string::npos);
  EXPECT_NE(jtext.find("\"rank\": 1"), std::string::npos) << jtext;
  // Both bands of each ranked protocol, kept apart and labelled (docs/cohort.md).
  const auto pj = nlohmann::json::parse(jtext);
  EXPECT_NE(pj["bands"]["parameter_uncertainty"].get<std::string>().find("posterior"),
            std::string::npos);
  EXPECT_NE(pj["bands"]["patient_variability"].get<std::string>().find("healing-rate"),
            std::string::npos);
  for (const auto& e : pj["ranked"]) {
    const auto& b = e["scar_depth_reduction_pct_bands"];
    EXPECT_EQ(b["parameter_uncertainty"]["draws"], 3);
    EXPECT_EQ(b["patient_variability"]["draws"], 3);
    EXPECT_LE(b["parameter_uncertainty"]["p10"].get<double>(),
              b["parameter_uncertainty"]["p90"].get<double>());
  }
  EXPECT_NE(text.find("scar_depth_reduction_pct_parameter_p10,scar_depth_reduction_pct_parameter_"
                      "p90,scar_depth_reduction_pct_variability_p10"),
            std::string::npos)
      << text;
  EXPECT_NE(r.out.find("param. = parameter uncertainty (3 posterior draws"), std::string::npos)
      << r.out;
  // --no-bands: no band anywhere (null in the JSON, "-" in the table).
  const std::string json0 = (dir / "plan0.json").string();
  const auto none = run_cli({"plan", f, "--json", json0, "--no-bands", "-j", "2"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  const auto nj = nlohmann::json::parse(mnsim::test::slurp(json0));
  EXPECT_TRUE(nj["ranked"][0]["scar_depth_reduction_pct_bands"]["parameter_uncertainty"].is_null());
  EXPECT_TRUE(nj["ranked"][0]["scar_depth_reduction_pct_bands"]["patient_variability"].is_null());
  EXPECT_EQ(nj["posterior_draws"], 0);
  // Existing files are not replaced without --force; nothing is written on refusal.
  const auto again = run_cli({"plan", f, "--csv", csv});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  // The exported scenario passes `mnsim check` and says where it came from.
  const auto ex = run_cli({"plan", f, "--export", "1", "-j", "2"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_NE(ex.out.find("rank 1 of"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("tether = true"), std::string::npos) << ex.out;
  // The inventory's icepick (mid-range 1.05 mm, deeper than this patient's skin) is capped at
  // 90% of the skin as a cohort's drawn scars are, so the scenario holds it: nothing left out.
  EXPECT_EQ(ex.out.find("# Left out:"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("kind = \"icepick\""), std::string::npos) << ex.out;
  const std::string scen = (dir / "rank1.toml").string();
  std::ofstream(scen) << ex.out;
  const auto c = run_cli({"check", scen});
  EXPECT_EQ(c.exit_code, 0) << c.err << ex.out;
  // A rank the plan does not have: one line, exit 2.
  const auto bad = run_cli({"plan", f, "--export", "99"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--export"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

/// A folder of its own for one test in this process (ctest runs tests in parallel processes).
std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mnsim_cli_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// A quick plan file (one or two sessions, few replicates) whose title holds markup.
std::string quick_plan(const std::filesystem::path& dir, int sessions_max) {
  const auto f = dir / "patient.toml";
  std::ofstream(f) << "title = \"<script>alert(1)</script> & <b>\\\"Ann's\\\"</b>\"\n"
                      "[patient]\nfitzpatrick = 3\n[[scars]]\nkind = \"boxcar\"\n"
                      "depth = \"0.3 mm\"\nwidth = \"2 mm\"\n[search]\nsessions_max = "
                   << sessions_max
                   << "\nreplicates = 2\nposterior_draws = 2\ntop = 3\ndevices = "
                      "[\"roller_192_mf8\", \"dermapen_2012\"]\n";
  return f.string();
}

TEST(PlanCli, HtmlPageHasTheDatedCalendarAndEscapesTheTitle) {
  const auto dir = fresh_dir("plan_html");
  const std::string f = quick_plan(dir, 2);
  const std::string html = (dir / "plan.html").string(), json = (dir / "plan.json").string();
  const auto r =
      run_cli({"plan", f, "--html", html, "--json", json, "--start-date", "2026-03-02", "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("calendar (first session 2026-03-02):"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("(--html)"), std::string::npos) << r.err;
  const std::string page = mnsim::test::slurp(html);
  // Every date of the best protocol's calendar (JSON) is on the page, the first one the start.
  const auto j = nlohmann::json::parse(mnsim::test::slurp(json));
  EXPECT_EQ(j["start_date"], "2026-03-02");
  const auto& cal = j["ranked"][0]["calendar"];
  ASSERT_GE(cal.size(), 2u);
  EXPECT_EQ(cal[0]["date"], "2026-03-02");
  for (const auto& v : cal) {
    EXPECT_NE(page.find("<td>" + v["date"].get<std::string>() + "</td>"), std::string::npos)
        << v.dump();
  }
  // The title is shown as text: escaped, never markup.
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;&quot;Ann&#39;s"),
            std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  for (const char* ext : {"http:", "https:", "src="}) {  // nothing to fetch
    EXPECT_EQ(page.find(ext), std::string::npos) << ext;
  }
  // An existing page is not replaced without --force, nor may two outputs be one file; in both
  // cases nothing runs and nothing is written.
  const auto again = run_cli({"plan", f, "--html", html, "--csv", (dir / "x.csv").string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--html"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.csv"));
  EXPECT_EQ(mnsim::test::slurp(html), page);
  const auto same =
      run_cli({"plan", f, "--json", (dir / "a").string(), "--html", (dir / "." / "a").string()});
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.err.find("--html: is the same file as --json"), std::string::npos) << same.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "a"));
  std::filesystem::remove_all(dir);
}

TEST(PlanCli, BadStartDateIsOneLineExit2AndWritesNothing) {
  const auto dir = fresh_dir("plan_bad_date");
  const std::string f = quick_plan(dir, 1);
  const std::string html = (dir / "plan.html").string(), json = (dir / "plan.json").string();
  for (const char* bad :
       {"2026-02-30", "2026-13-01", "tomorrow", "2026-3-1", "2026/03/01", "1899-12-31", ""}) {
    const auto r = run_cli({"plan", f, "--html", html, "--json", json, "--start-date", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.err.rfind("error: command line: --start-date: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(std::filesystem::exists(html)) << bad;
    EXPECT_FALSE(std::filesystem::exists(json)) << bad;
  }
  std::filesystem::remove_all(dir);
}

TEST(PlanCli, ProgressGoesToStderrAndLeavesStdoutAlone) {
  const auto dir = fresh_dir("plan_progress");
  const std::string f = quick_plan(dir, 1);
  const auto quiet = run_cli({"plan", f, "-j", "2"});
  const auto loud = run_cli({"plan", f, "-j", "2", "--progress"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  ASSERT_EQ(loud.exit_code, 0) << loud.err;
  EXPECT_EQ(loud.out, quiet.out);
  EXPECT_EQ(quiet.out.find("plan: "), std::string::npos);
  // stderr is not a terminal here: no progress without --progress, plain lines with it.
  EXPECT_EQ(quiet.err.find("plan: "), std::string::npos) << quiet.err;
  // roller_192_mf8: 9 lengths x 3 passes; dermapen_2012: 10 depths x 3 passes.
  EXPECT_NE(loud.err.find("plan: 57/57 device settings evaluated\n"), std::string::npos)
      << loud.err;
  EXPECT_NE(loud.err.find("plan: 12/12 uncertainty replicates\n"), std::string::npos) << loud.err;
  EXPECT_EQ(loud.err.find('\r'), std::string::npos) << loud.err;
  std::filesystem::remove_all(dir);
}

TEST(PlanCli, ExportCountsTheFollowUpFromTheLastSessionAndCarriesTheStartDate) {
  // Three sessions at least 2 weeks apart, outcome 2 weeks after the last: counted from the
  // first session (a scenario's default) the follow-up would end before the last session.
  const auto dir = fresh_dir("plan_export_course");
  const auto f = dir / "patient.toml";
  std::ofstream(f)
      << "[[scars]]\nkind = \"boxcar\"\ndepth = \"0.3 mm\"\nwidth = \"2 mm\"\n"
         "[search]\nsessions_min = 3\nsessions_max = 3\nreplicates = 1\nposterior_draws = 1\n"
         "top = 1\n"
         "follow_up = \"2 weeks\"\n";
  const auto ex =
      run_cli({"plan", f.string(), "--export", "1", "--start-date", "2026-03-02", "-j", "2"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_NE(ex.out.find("sessions = 3\n"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("start_date = 2026-03-02\n"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("follow_up = \"2 weeks\"\nfollow_up_from = \"last\"\n"), std::string::npos)
      << ex.out;
  const std::string scen = (dir / "rank1.toml").string();
  std::ofstream(scen) << ex.out;
  const auto c = run_cli({"check", scen});
  EXPECT_EQ(c.exit_code, 0) << c.err << ex.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
