// State folders (docs/scaling.md, "State folders"): `mnsim plan` and `mnsim calibrate` as job
// arrays, `--state DIR --shard i/N` per task and `mnsim merge FILE --state DIR` per stage, give
// byte for byte the outputs of the run in one process for N = 1, 2 and 3; a lost shard reruns
// alone; a missing, repeated, foreign or torn shard, a state of another input and an unfinished
// state are one line, exit 2.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::fresh_temp_dir;
using mnsim::test::run_cli;
using mnsim::test::slurp;
using mnsim::test::write_temp_file;

namespace {

const std::string kCalib =
    "seed = 6\ncases = [\"erythema\", \"barrier_recovery\"]\n"
    "[calibration]\nparticles = 12\nmoves = 1\nmax_generations = 8\n"
    "[[parameters]]\nkey = \"healing.inflammation.erythema_half\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n";

// One device, at most two sessions, two leading devices expanded, both bands: three stages.
const std::string kPlan =
    "[patient]\nfitzpatrick = 2\n[[scars]]\nkind = \"rolling\"\ndepth = \"0.3 mm\"\n"
    "width = \"4 mm\"\ntether = true\n[inventory]\nicepick = 1\n[search]\nsessions_max = 2\n"
    "expand = 2\nreplicates = 2\nposterior_draws = 2\ntop = 3\n"
    "devices = [\"roller_192_mf8\"]\n";

/// Runs every stage of `command` FILE in state folder `st` as `n` shards and a merge each, until
/// the merge says every stage is closed; `lose` > 0 deletes that shard of stage 2 before its
/// merge, checks the merge refuses, and reruns it alone. Returns the number of stages.
int run_stages(const std::string& command, const std::string& file, const fs::path& st, int n,
               int lose = 0) {
  for (int stage = 1; stage <= 30; ++stage) {
    for (int i = 1; i <= n; ++i) {
      const auto s = run_cli({command, file, "--state", st.string(), "--shard",
                              fmt::format("{}/{}", i, n), "-j", "1"});
      EXPECT_EQ(s.exit_code, 0) << s.err;
      EXPECT_NE(s.out.find(fmt::format("stage {} (", stage)), std::string::npos) << s.out;
    }
    if (stage == 2 && lose > 0) {
      fs::remove_all(st / "stage-0002" / fmt::format("shard-{}-of-{}", lose, n));
      const auto m = run_cli({"merge", file, "--state", st.string()});
      EXPECT_EQ(m.exit_code, 2) << m.out;
      EXPECT_NE(m.err.find(fmt::format("missing shard {}/{}", lose, n)), std::string::npos)
          << m.err;
      const auto again = run_cli(
          {command, file, "--state", st.string(), "--shard", fmt::format("{}/{}", lose, n)});
      EXPECT_EQ(again.exit_code, 0) << again.err;
    }
    const auto m = run_cli({"merge", file, "--state", st.string()});
    EXPECT_EQ(m.exit_code, 0) << m.err;
    if (m.out.find("every stage of") != std::string::npos) return stage;
    EXPECT_NE(m.out.find(fmt::format("closed stage {}", stage)), std::string::npos) << m.out;
  }
  ADD_FAILURE() << "no end after 30 stages";
  return 0;
}

TEST(StateFolders, CalibrationAsShardsEqualsTheWholeRunByteForByte) {
  const fs::path d = fresh_temp_dir("mnsim_state_calib");
  const std::string f = write_temp_file("mnsim_state_calib.toml", kCalib);
  const auto whole = run_cli({"calibrate", f, "--out", (d / "whole").string(), "-q"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (int n = 1; n <= 3; ++n) {
    const fs::path st = d / fmt::format("st{}", n);
    const int stages = run_stages("calibrate", f, st, n, n == 3 ? 2 : 0);
    EXPECT_GE(stages, 2);
    const fs::path out = d / fmt::format("m{}", n);
    const auto r = run_cli({"calibrate", f, "--state", st.string(), "--out", out.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* file : {"posterior.csv", "calibration.png"}) {
      const std::string a = slurp(d / "whole" / file);
      ASSERT_FALSE(a.empty()) << file;
      EXPECT_EQ(a, slurp(out / file)) << n << " " << file;
    }
    // calibration.json but its "run" object (wall time, load, the stages read).
    auto body = [](std::string j) {
      const auto a = j.find("  \"run\": {"), b = j.find("  },\n", a);
      return j.erase(a, b - a);
    };
    EXPECT_EQ(body(slurp(d / "whole" / "calibration.json")), body(slurp(out / "calibration.json")))
        << n;
    EXPECT_NE(slurp(out / "calibration.json").find("\"state_stages\""), std::string::npos);
  }
  fs::remove_all(d);
}

TEST(StateFolders, PlanAsShardsEqualsTheWholeRunByteForByte) {
  const fs::path d = fresh_temp_dir("mnsim_state_plan");
  const std::string f = write_temp_file("mnsim_state_plan.toml", kPlan);
  auto outputs = [&](const std::string& tag) {
    std::vector<std::string> a;
    for (const char* ext : {"json", "csv", "html"}) {
      a.push_back("--" + std::string(ext));
      a.push_back((d / (tag + "." + ext)).string());
    }
    return a;
  };
  std::vector<std::string> args{"plan", f, "-j", "1"};
  for (const auto& a : outputs("whole")) args.push_back(a);
  const auto whole = run_cli(args);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (int n = 1; n <= 3; ++n) {
    const fs::path st = d / fmt::format("st{}", n);
    EXPECT_EQ(run_stages("plan", f, st, n, n == 2 ? 1 : 0), 3);
    const std::string tag = fmt::format("m{}", n);
    std::vector<std::string> again{"plan", f, "--state", st.string(), "-j", "1"};
    for (const auto& a : outputs(tag)) again.push_back(a);
    const auto r = run_cli(again);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, whole.out) << n;
    for (const char* ext : {".json", ".csv", ".html"}) {
      const std::string a = slurp(d / ("whole" + std::string(ext)));
      ASSERT_FALSE(a.empty()) << ext;
      EXPECT_EQ(a, slurp(d / (tag + ext))) << n << ext;
    }
  }
  fs::remove_all(d);
}

TEST(StateFolders, BadStatesAndShardsAreOneLineExitTwo) {
  const fs::path d = fresh_temp_dir("mnsim_state_bad");
  const std::string f = write_temp_file("mnsim_state_bad.toml", kCalib);
  const std::string st = (d / "st").string(), other = (d / "other").string();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_EQ(run_cli({"calibrate", f, "--state", st, "--shard", fmt::format("{}/2", i)}).exit_code,
              0);
  }
  ASSERT_EQ(
      run_cli({"calibrate", f, "--state", other, "--shard", "2/2", "--set", "seed=7"}).exit_code,
      0);
  const fs::path s1 = d / "st" / "stage-0001" / "shard-1-of-2";
  const fs::path s2 = d / "st" / "stage-0001" / "shard-2-of-2";
  fs::create_directories(d / "plain");
  { std::ofstream(d / "plain" / "notes.txt") << "mine\n"; }
  struct Case {
    Case(std::vector<std::string> a, std::string w, std::function<void()> b = {},
         std::function<void()> c = {})
        : args(std::move(a)), what(std::move(w)), before(std::move(b)), after(std::move(c)) {}
    std::vector<std::string> args;
    std::string what;
    std::function<void()> before, after;
  };
  auto copy = [](const fs::path& from, const fs::path& to) {
    fs::remove_all(to);
    fs::copy(from, to, fs::copy_options::recursive);
  };
  const fs::path keep = d / "keep";
  const std::vector<Case> cases = {
      {{"calibrate", f, "--shard", "1/2", "--out", (d / "o").string()}, "with a state folder"},
      {{"calibrate", f, "--state", st, "--shard", "1/2", "--out", (d / "o").string()},
       "--out: a shard writes only into its state folder"},
      {{"plan", f, "--state", st, "--shard", "1/2", "--json", (d / "p.json").string()},
       "--json: a shard writes only"},
      {{"calibrate", f, "--state", st, "--out", (d / "o").string()}, "is not finished"},
      {{"calibrate", f, "--state", st, "--shard", "1/2", "--set", "seed=7"},
       "another input file, data or mnsim build"},
      {{"calibrate", f, "--state", (d / "plain").string(), "--shard", "1/2"},
       "is not a state folder (it holds 'notes.txt')"},
      {{"merge", f, "--state", (d / "plain").string()}, "is not a state folder"},
      {{"merge", f, "--state", (d / "none").string()}, "holds no state"},
      {{"merge", f, "--state", st, "--out", (d / "o").string()},
       "--out: a merge of a state folder writes no results"},
      {{"merge", f, "--state", st, s1.string()}, "takes no shard folders"},
      {{"merge", f}, "shards: missing"},
      // A shard of another input copied in.
      {{"merge", f, "--state", st},
       "was written for another input file",
       [&] {
         copy(s2, keep);
         copy(d / "other" / "stage-0001" / "shard-2-of-2", s2);
       },
       [&] { copy(keep, s2); }},
      // The same shard twice (a copy under another name).
      {{"merge", f, "--state", st},
       "holds shard 1/2, as",
       [&] { copy(s1, d / "st" / "stage-0001" / "shard-1-of-2-again"); },
       [&] { fs::remove_all(d / "st" / "stage-0001" / "shard-1-of-2-again"); }},
      // A shard of another split.
      {{"merge", f, "--state", st},
       "but 2 shards were expected",
       [&] {
         EXPECT_EQ(run_cli({"calibrate", f, "--state", st, "--shard", "1/3"}).exit_code, 0);
       },
       [&] { fs::remove_all(d / "st" / "stage-0001" / "shard-1-of-3"); }},
      // A torn shard file.
      {{"merge", f, "--state", st},
       "torn or corrupt",
       [&] {
         copy(s2, keep);
         const std::string b = slurp(s2 / "shard.rec");
         std::ofstream(s2 / "shard.rec", std::ios::binary) << b.substr(0, b.size() - 9);
       },
       [&] { copy(keep, s2); }},
      {{"merge", f, "--state", st},
       "missing shard 2/2",
       [&] {
         fs::remove_all(keep);
         fs::rename(s2, keep);
       },
       [&] {
         fs::remove_all(s2);
         fs::rename(keep, s2);
       }},
  };
  for (const Case& c : cases) {
    if (c.before) c.before();
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.what << r.out;
    EXPECT_NE(r.err.find(c.what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(d / "o"));
    EXPECT_FALSE(fs::exists(d / "st" / "stage-0001" / "closed")) << c.what;
    if (c.after) c.after();
  }
  // After all that, the state is whole: the merge closes stage 1.
  const auto m = run_cli({"merge", f, "--state", st});
  EXPECT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find("closed stage 1"), std::string::npos) << m.out;
  fs::remove_all(d);
}

}  // namespace
