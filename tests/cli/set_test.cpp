// `--set KEY=VALUE` on run, check, punctures, cohort and plan (docs/cli.md): the value meets the
// file's schema, appears in the resolved scenario as if written in the file, and bad keys or
// values are one-line errors naming `--set KEY`, exit 2, nothing written.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

const std::string kEx04 = std::string(MNSIM_SOURCE_DIR) + "/examples/04_single_session_pen.toml";

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(SetOption, ValuesReachTheResolvedScenarioAsIfWrittenInTheFile) {
  const auto r = run_cli({"check", kEx04, "--set", "technique.passes=3", "--set",
                          "device.depth=0.75 mm", "--set", "lesions[0].depth=\"0.3 mm\""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("passes = 3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("depth = \"0.75 mm\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("depth = \"0.3 mm\"\n"), std::string::npos) << r.out;
  // The later of two settings of one key wins.
  const auto twice =
      run_cli({"check", kEx04, "--set", "technique.passes=3", "--set", "technique.passes=5"});
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("passes = 5\n"), std::string::npos);
}

TEST(SetOption, ARunEchoesItIntoScenarioResolvedToml) {
  const fs::path out = fresh("mnsim_set_run");
  const auto r = run_cli({"run", kEx04, "--out", out.string(), "--set", "course.follow_up=2 days",
                          "--set", "technique.passes=2", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string resolved = mnsim::test::slurp(out / "scenario.resolved.toml");
  EXPECT_NE(resolved.find("follow_up = \"2 days\""), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("passes = 2\n"), std::string::npos) << resolved;
  fs::remove_all(out);
}

TEST(SetOption, CohortAndPlanFilesTakeItToo) {
  const std::string cohort = std::string(MNSIM_SOURCE_DIR) + "/examples/02_cohort_acne.toml";
  const auto c = run_cli({"check", cohort, "--set", "population.size=7"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("(7 patients)"), std::string::npos) << c.out;
  const fs::path out = fresh("mnsim_set_cohort");
  const auto run = run_cli({"cohort", cohort, "--out", out.string(), "--set", "population.size=4",
                            "--set", "protocol.sessions=1", "-j", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("4 patients in"), std::string::npos) << run.out;
  fs::remove_all(out);
  const std::string plan = std::string(MNSIM_SOURCE_DIR) + "/examples/03_plan_patient.toml";
  const auto p = run_cli({"check", plan, "--set", "search.devices=[\"stamp_35\"]"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  const auto bad = run_cli({"check", plan, "--set", "search.devices=[\"stamp_99\"]"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("error: --set search.devices:1:", 0), 0u) << bad.err;
}

TEST(SetOption, BadKeysAndValuesAreOneLineErrorsNamingTheSetting) {
  struct Case {
    std::vector<std::string> args;
    std::string starts;
  };
  const std::vector<Case> cases = {
      {{"--set", "device.depht=1 mm"}, "error: --set device.depht:1:9: device.depht: unknown key"},
      {{"--set", "technique.passes=0"},
       "error: --set technique.passes:1:9: technique.passes: 0 is out of range"},
      {{"--set", "technique.passes=\"many\""}, "error: --set technique.passes:1:9: "},
      {{"--set", "passes"}, "error: command line: --set: 'passes' is not KEY=VALUE"},
      {{"--set", "=3"}, "error: command line: --set: '=3' is not KEY=VALUE"},
      {{"--set", "lesions[9].depth=1 mm"},
       "error: command line: --set: lesions[9].depth: the file has no [[lesions]] number 9"},
      {{"--set", "lesions[0]=1"}, "error: command line: --set: lesions[0]: sets a whole array"},
      {{"--set", "device.a b=1"}, "error: command line: --set: device.a b: 'a b' is not a key"},
      {{"--set", "seed.x=1"}, "error: command line: --set: seed.x: 'seed' is not a table"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"check", kEx04};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[1];
    EXPECT_EQ(r.err.rfind(c.starts, 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // Nothing is written for a run refused at its --set.
  const fs::path out = fresh("mnsim_set_refused");
  const auto r = run_cli({"run", kEx04, "--out", out.string(), "--set", "course.sessions=99"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
