// The CLI as a user meets it: exit codes, one-line errors, output-folder safety, metadata.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/openmp_wait.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("mnsim_cli_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

std::string write_scenario(const fs::path& dir, const std::string& name, const std::string& text) {
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// A 0.5 mm roller: the default 1.5 mm one reaches past the cheek's dermis (safety_test.cpp).
const std::string kMinimal =
    "title = \"cli test\"\nseed = 7\n[tissue]\nwidth = \"1 mm\"\nlength = \"1 mm\"\n"
    "resolution = \"100 um\"\n[device]\nneedle_length = \"0.5 mm\"\n"
    "[course]\nsessions = 1\nfollow_up = \"1 day\"\n";

TEST(Cli, VersionNamesCommitAndBuildType) {
  const auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("mnsim "), std::string::npos);
  EXPECT_NE(r.out.find("commit "), std::string::npos);
  EXPECT_NE(r.out.find("build"), std::string::npos);
}

TEST(Cli, HelpForProgramAndEverySubcommand) {
  const auto top = run_cli({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const std::string sub : {"run", "check", "catalog"}) {
    EXPECT_NE(top.out.find(sub), std::string::npos) << sub;
    const auto r = run_cli({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("Usage: mnsim " + sub), std::string::npos) << r.out;
  }
}

TEST(Cli, BadFlagsAreOneLineExit2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"run"},
                                             {"frobnicate"},
                                             {"run", "x.toml", "--threads", "0"},
                                             {"run", "x.toml", "--threads", "many"},
                                             {"run", "x.toml", "--log-level", "loud"},
                                             {"run", "x.toml", "--bogus"},
                                             {},
                                             {"catalog", "nonsense"}}) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
}

TEST(Cli, MissingScenarioFile) {
  const auto r = run_cli({"check", "/nonexistent/scenario.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      "error: /nonexistent/scenario.toml:1:1: (file): cannot open file: No such file or directory "
      "(a readable file)\n");
}

TEST(Cli, CheckPrintsResolvedScenarioWithDefaults) {
  const fs::path dir = fresh_dir("check");
  const auto sc = write_scenario(dir, "s.toml", "title = \"t\"\n");
  const auto r = run_cli({"check", sc});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("seed = 1  # default"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, CheckTakesCohortPlanAndValidationFiles) {
  const std::string root = MNSIM_SOURCE_DIR;
  const std::vector<std::pair<std::string, std::string>> files = {
      {root + "/examples/02_cohort_acne.toml", "a valid cohort file (1000 patients)"},
      {root + "/examples/03_plan_patient.toml", "a valid planner patient file"},
      {root + "/data/validation.toml", "a valid validation file (12 cases)"},
      {root + "/examples/09_sensitivity_acne.toml",
       "a valid sensitivity file (12 parameters, 1344 model evaluations)"},
      {root + "/examples/11_calibrate.toml",
       "a valid calibration file (4 parameters, 4 calibration cases, at most 15488 model "
       "evaluations)"}};
  for (const auto& [file, says] : files) {
    const auto r = run_cli({"check", file});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
    EXPECT_NE(r.out.find(says), std::string::npos) << r.out;
  }
  // Their errors are the one-line file:line:col form of their own commands, exit 2.
  const fs::path dir = fresh_dir("check_kinds");
  const auto cohort = write_scenario(dir, "c.toml", "[population]\nsize = -3\n");
  const auto plan = write_scenario(dir, "p.toml", "[constraints]\nfoo = 1\n");
  const auto rc = run_cli({"check", cohort});
  EXPECT_EQ(rc.exit_code, 2);
  EXPECT_EQ(count_lines(rc.err), 1) << rc.err;
  EXPECT_NE(rc.err.find("c.toml:2:8: population.size: -3 is out of range"), std::string::npos)
      << rc.err;
  const auto rp = run_cli({"check", plan});
  EXPECT_EQ(rp.exit_code, 2);
  EXPECT_NE(rp.err.find("p.toml:2:1: constraints.foo: unknown key 'foo'"), std::string::npos)
      << rp.err;
  fs::remove_all(dir);
}

TEST(Cli, RunWritesMetadataAndRefusesForeignFolders) {
  const fs::path dir = fresh_dir("run");
  const auto sc = write_scenario(dir, "s.toml", kMinimal);
  const fs::path out = dir / "out";
  auto r = run_cli({"run", sc, "--out", out.string(), "--quiet", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;  // --quiet: nothing but the summary on stdout
  ASSERT_TRUE(fs::exists(out / "summary.json"));
  ASSERT_TRUE(fs::exists(out / "scenario.resolved.toml"));
  const auto j = nlohmann::json::parse(std::ifstream(out / "summary.json"));
  EXPECT_EQ(j["run"]["seed"], 7);
  EXPECT_EQ(j["run"]["threads"], 1);
  for (const char* k : {"mnsim_version", "git_commit", "started_utc", "wall_time_s"}) {
    EXPECT_TRUE(j["run"].contains(k)) << k;
  }
  EXPECT_EQ(j["scenario"]["title"], "cli test");

  // An earlier mnsim output may be written again; --seed overrides and is recorded.
  r = run_cli({"run", sc, "--out", out.string(), "--quiet", "--seed", "99"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j2 = nlohmann::json::parse(std::ifstream(out / "summary.json"));
  EXPECT_EQ(j2["run"]["seed"], 99);
  EXPECT_EQ(j2["scenario"]["seed"], 99);

  // A non-empty folder that is not an mnsim output is refused, and left untouched.
  const fs::path mine = dir / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "thesis.docx") << "precious";
  r = run_cli({"run", sc, "--out", mine.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos);
  EXPECT_FALSE(fs::exists(mine / "summary.json"));
  r = run_cli({"run", sc, "--out", mine.string(), "--force", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(mine / "summary.json"));
  EXPECT_TRUE(fs::exists(mine / "thesis.docx"));
  fs::remove_all(dir);
}

// How the threads wait (core/openmp_wait.hpp): with no setting of the user's, mnsim restarts
// itself with a bounded spin (GOMP_SPINCOUNT) and records it; a policy or spin count the user
// sets is kept as it is, and recorded.
TEST(Cli, BoundedSpinUnlessTheUserChoosesHowThreadsWait) {
  const fs::path dir = fresh_dir("wait");
  const auto sc = write_scenario(dir, "s.toml", kMinimal);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"},
       std::string("GOMP_SPINCOUNT=") + mnsim::kDefaultSpinCount},
      {{"OMP_WAIT_POLICY=passive", "GOMP_SPINCOUNT"}, "OMP_WAIT_POLICY=passive"},
      {{"OMP_WAIT_POLICY=active", "GOMP_SPINCOUNT"}, "OMP_WAIT_POLICY=active"},
      {{"OMP_WAIT_POLICY", "GOMP_SPINCOUNT=20000"}, "GOMP_SPINCOUNT=20000"},
      {{"OMP_WAIT_POLICY=passive", "GOMP_SPINCOUNT=5"},
       "OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT=5"},
  };
  int n = 0;
  for (const auto& [env, recorded] : cases) {
    mnsim::test::CliOptions o;
    o.env = env;
    const fs::path out = dir / ("out" + std::to_string(n++));
    const auto r = run_cli({"punctures", sc, "--out", out.string()}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;  // libgomp accepted the setting
    const auto j = nlohmann::json::parse(std::ifstream(out / "punctures.json"));
    EXPECT_EQ(j["run"]["openmp_wait"], recorded) << env[0] << " " << env[1];
  }
  fs::remove_all(dir);
}

TEST(Cli, PlainLogLinesWhenNotATerminal) {
  const fs::path dir = fresh_dir("log");
  const auto sc = write_scenario(dir, "s.toml", kMinimal);
  const auto r = run_cli({"run", sc, "--out", (dir / "o").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\r'), std::string::npos);  // no progress bar redraws in a pipe
  EXPECT_NE(r.err.find("stage:"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

TEST(Cli, CatalogListsTopicsKeysAndUnits) {
  auto r = run_cli({"catalog"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("keys"), std::string::npos);
  r = run_cli({"catalog", "keys"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("seed"), std::string::npos);
  r = run_cli({"catalog", "units"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("µm"), std::string::npos);
}

}  // namespace
