// The safety rule (skin::past_dermis): punctures past the dermis are flagged by `mnsim run` (one
// warning line with the share, also with --quiet), in summary.json (per session and for the
// course) and in the report (a callout at the top); a protocol that stays in the dermis is not.
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

}  // namespace
