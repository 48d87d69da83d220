// The safety rule (skin::past_dermis): punctures past the dermis are flagged by `mnsim run` (one
// warning line with the share, also with --quiet), in summary.json (per session and for the
// course) and in the report (a callout at the top); a protocol that stays in the dermis is not.
// `mnsim cohort` applies the same rule per patient, and the shipped examples are safe.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;

namespace {

struct SafetyRun {
  mnsim::test::CliResult cli;
  nlohmann::json summary;
  std::string report;
};

SafetyRun run_with(const std::string& name, const std::string& needle) {
  const fs::path dir =
      fs::temp_directory_path() / ("mnsim_safety_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "s.toml") << "seed = 3\n[tissue]\nwidth = \"1 mm\"\nlength = \"1 mm\"\n"
                                   "resolution = \"100 um\"\n[device]\nneedle_length = \""
                                << needle
                                << "\"\n[course]\nsessions = 2\ninterval = \"1 day\"\n"
                                   "follow_up = \"6 hours\"\nfollow_up_from = \"last\"\n";
  SafetyRun r;
  r.cli = mnsim::test::run_cli(
      {"run", (dir / "s.toml").string(), "--out", (dir / "o").string(), "--quiet"});
  if (r.cli.exit_code == 0) {
    r.summary = nlohmann::json::parse(std::ifstream(dir / "o" / "summary.json"));
    r.report = mnsim::test::slurp(dir / "o" / "report.html");
  }
  fs::remove_all(dir);
  return r;
}

TEST(Safety, PuncturesPastTheDermisAreFlaggedEverywhere) {
  // The medial cheek's dermis ends 0.94 mm below the surface: a 2.0 mm roller passes it.
  const SafetyRun r = run_with("deep", "2.0 mm");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  const double course = r.summary["outcome"]["punctures_past_dermis_fraction"].get<double>();
  EXPECT_GT(course, 0.5);
  double weighted = 0.0, n = 0.0;
  for (const auto& s : r.summary["sessions"]) {
    weighted += s["fraction_past_dermis"].get<double>() * s["punctures"].get<double>();
    n += s["punctures"].get<double>();
  }
  EXPECT_NEAR(course, weighted / n, 1e-12);
  // One warning line, with the share and the dermis depth, even with --quiet.
  EXPECT_EQ(std::count(r.cli.err.begin(), r.cli.err.end(), '\n'), 1) << r.cli.err;
  EXPECT_NE(r.cli.err.find("warning: "), std::string::npos) << r.cli.err;
  EXPECT_NE(r.cli.err.find("% of the punctures reached past the dermis into the hypodermis (the "
                           "dermis ends 0.94 mm below the surface at site medial_cheek)"),
            std::string::npos)
      << r.cli.err;
  // The report opens with the same sentence as a callout.
  const std::size_t callout = r.report.find("<p class=\"warning\" role=\"alert\">");
  ASSERT_NE(callout, std::string::npos);
  EXPECT_LT(callout, r.report.find("<section id=\"scenario\">"));
  EXPECT_NE(r.report.find("reached past the dermis into the hypodermis", callout),
            std::string::npos);
}

TEST(Safety, AProtocolThatStaysInTheDermisIsNotFlagged) {
  const SafetyRun r = run_with("shallow", "0.5 mm");
  ASSERT_EQ(r.cli.exit_code, 0) << r.cli.err;
  EXPECT_EQ(r.summary["outcome"]["punctures_past_dermis_fraction"].get<double>(), 0.0);
  for (const auto& s : r.summary["sessions"]) EXPECT_EQ(s["fraction_past_dermis"], 0.0);
  EXPECT_TRUE(r.cli.err.empty()) << r.cli.err;
  EXPECT_EQ(r.report.find("role=\"alert\""), std::string::npos);
}

/// Runs a 40-patient cohort of examples/02 with the given needle length (empty: its own);
/// returns cohort.json, patients.csv and the CLI result.
struct CohortSafety {
  mnsim::test::CliResult cli;
  nlohmann::json summary;
  std::string patients;
};
CohortSafety cohort_with(const std::string& name, const std::string& needle) {
  const fs::path dir = fs::temp_directory_path() /
                       ("mnsim_safety_cohort_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string text =
      mnsim::test::slurp(fs::path(MNSIM_SOURCE_DIR) / "examples" / "02_cohort_acne.toml");
  auto set = [&](const std::string& key, const std::string& value) {
    const auto at = text.find("\n" + key + " = ");
    EXPECT_NE(at, std::string::npos) << key;
    if (at == std::string::npos) return;
    const auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, key + " = " + value);
  };
  set("size", "40");
  if (!needle.empty()) set("needle_length", "\"" + needle + "\"");
  std::ofstream(dir / "c.toml") << text;
  CohortSafety r;
  r.cli =
      mnsim::test::run_cli({"cohort", (dir / "c.toml").string(), "--out", (dir / "o").string()});
  if (r.cli.exit_code == 0) {
    r.summary = nlohmann::json::parse(std::ifstream(dir / "o" / "cohort.json"));
    r.patients = mnsim::test::slurp(dir / "o" / "patients.csv");
  }
  fs::remove_all(dir);
  return r;
}

std::string fmt_share(std::size_t flagged) {
  return "warning: in " + std::to_string(flagged) + " of 40 patients";
}

TEST(Safety, CohortsFlagEveryPatientPastTheDermis) {
  const CohortSafety deep = cohort_with("deep", "2.0 mm");
  ASSERT_EQ(deep.cli.exit_code, 0) << deep.cli.err;
  const double share = deep.summary["past_dermis_fraction"].get<double>();
  EXPECT_GT(share, 0.5);
  // patients.csv: the last column, one 0/1 per patient, agreeing with the share.
  std::size_t flagged = 0, rows = 0;
  std::size_t pos = deep.patients.find('\n');
  EXPECT_NE(deep.patients.substr(0, pos).rfind(",past_dermis"), std::string::npos);
  while (pos != std::string::npos && pos + 1 < deep.patients.size()) {
    const std::size_t end = deep.patients.find('\n', pos + 1);
    const std::string line = deep.patients.substr(pos + 1, end - pos - 1);
    ++rows;
    flagged += line.back() == '1' ? 1 : 0;
    pos = end;
  }
  EXPECT_EQ(rows, 40u);
  EXPECT_NEAR(share, static_cast<double>(flagged) / 40.0, 1e-12);
  EXPECT_NE(deep.cli.err.find(fmt_share(flagged)), std::string::npos) << deep.cli.err;

  const CohortSafety shallow = cohort_with("shallow", "0.5 mm");
  ASSERT_EQ(shallow.cli.exit_code, 0) << shallow.cli.err;
  EXPECT_EQ(shallow.summary["past_dermis_fraction"].get<double>(), 0.0);
  EXPECT_EQ(shallow.cli.err.find("past the dermis"), std::string::npos) << shallow.cli.err;
}

TEST(Safety, ShippedExamplesStayInTheDermis) {
  // examples/01 (run) and 04 (pen): the device stage alone gives the share of punctures past
  // the dermis; examples/02 (cohort) is covered by the cohort run above with its own needles.
  for (const char* ex : {"01_default_cheek", "04_single_session_pen"}) {
    const fs::path dir = fs::temp_directory_path() /
                         (std::string("mnsim_safety_ex_") + ex + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const auto r = mnsim::test::run_cli(
        {"punctures",
         (fs::path(MNSIM_SOURCE_DIR) / "examples" / (std::string(ex) + ".toml")).string(), "--out",
         (dir / "p").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(std::ifstream(dir / "p" / "punctures.json"));
    EXPECT_EQ(j["fraction_reaching_layer"]["hypodermis"].get<double>(), 0.0) << ex;
    fs::remove_all(dir);
  }
  const CohortSafety ex02 = cohort_with("example02", "");  // its own needles
  ASSERT_EQ(ex02.cli.exit_code, 0) << ex02.cli.err;
  EXPECT_EQ(ex02.summary["past_dermis_fraction"].get<double>(), 0.0);
}

}  // namespace
