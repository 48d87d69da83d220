// `mnsim cohort --shard i/N` and `mnsim merge` (docs/cohort.md, "Shards"): the shards of a
// cohort joined give byte for byte the results of the cohort run whole; a missing, repeated or
// foreign shard is one line, exit 2, nothing written; a lost shard reruns alone.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::fresh_temp_dir;
using mnsim::test::run_cli;
using mnsim::test::slurp;

namespace {

const std::string kCohort = std::string(MNSIM_SOURCE_DIR) + "/examples/02_cohort_acne.toml";

std::vector<std::string> small(std::vector<std::string> args) {
  for (const char* s : {"population.size=7", "protocol.sessions=1"}) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

TEST(CohortShards, JoinedShardsEqualTheWholeRunByteForByte) {
  const fs::path d = fresh_temp_dir("mnsim_shards");
  const auto whole = run_cli(small({"cohort", kCohort, "--out", (d / "whole").string()}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (int i = 1; i <= 3; ++i) {
    const auto s = run_cli(small({"cohort", kCohort, "--shard", fmt::format("{}/3", i), "--out",
                                  (d / fmt::format("s{}", i)).string()}));
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_NE(s.out.find(fmt::format("shard {}/3: ", i)), std::string::npos) << s.out;
    EXPECT_FALSE(fs::exists(d / fmt::format("s{}", i) / "cohort.json"));
  }
  // Patients 1, 4, 7 / 2, 5 / 3, 6.
  EXPECT_NE(slurp(d / "s1" / "shard.json").find("\"patients_in_shard\": 3"), std::string::npos);
  EXPECT_NE(slurp(d / "s2" / "shard.json").find("\"patients_in_shard\": 2"), std::string::npos);
  // In any order.
  const auto m = run_cli(small({"merge", kCohort, (d / "s3").string(), (d / "s1").string(),
                                (d / "s2").string(), "--out", (d / "merged").string()}));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  for (const char* f : {"cohort.json", "patients.csv"}) {
    const std::string a = slurp(d / "whole" / f);
    ASSERT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, slurp(d / "merged" / f)) << f;
  }
  fs::remove_all(d);
}

TEST(CohortShards, MissingRepeatedOrForeignShardsAreRefused) {
  const fs::path d = fresh_temp_dir("mnsim_shards_bad");
  for (int i = 1; i <= 2; ++i) {
    const auto s = run_cli(small({"cohort", kCohort, "--shard", fmt::format("{}/2", i), "--out",
                                  (d / fmt::format("s{}", i)).string()}));
    ASSERT_EQ(s.exit_code, 0) << s.err;
  }
  struct Case {
    std::vector<std::string> args;
    std::string what;
  };
  const std::string s1 = (d / "s1").string(), s2 = (d / "s2").string();
  const std::vector<Case> cases = {
      {small({"merge", kCohort, s1, "--out", (d / "m").string()}), "missing shard 2/2"},
      {small({"merge", kCohort, s1, s1, s2, "--out", (d / "m").string()}), "holds shard 1/2"},
      // Another cohort (the seed differs) cannot join.
      {{"merge", kCohort, s1, s2, "--out", (d / "m").string(), "--set", "population.size=7",
        "--set", "protocol.sessions=1", "--set", "seed=5"},
       "another cohort file"},
      {small({"merge", kCohort, d.string(), "--out", (d / "m").string()}), "no shard.json"},
      {small({"cohort", kCohort, "--shard", "3/2", "--out", (d / "x").string()}), "--shard"},
      {small({"cohort", kCohort, "--shard", "2", "--out", (d / "x").string()}), "is not i/N"},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.what << r.err;
    EXPECT_NE(r.err.find(c.what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(d / "m"));
    EXPECT_FALSE(fs::exists(d / "x"));
  }
  // The lost shard reruns alone, and the merge then succeeds.
  fs::remove_all(d / "s2");
  const auto again = run_cli(small({"cohort", kCohort, "--shard", "2/2", "--out", s2}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto m = run_cli(small({"merge", kCohort, s1, s2, "--out", (d / "m").string()}));
  EXPECT_EQ(m.exit_code, 0) << m.err;
  fs::remove_all(d);
}

}  // namespace

namespace {

// The parameter-uncertainty band of a cohort ([bands] posterior_draws; docs/cohort.md) is the
// same run whole on one or two threads and joined from shards.
TEST(CohortShards, ParameterBandIsTheSameWholeOnAnyThreadsAndMerged) {
  const fs::path d = fresh_temp_dir("mnsim_shards_band");
  auto banded = [](std::vector<std::string> args) {
    args = small(std::move(args));
    args.push_back("--set");
    args.push_back("bands.posterior_draws=3");
    return args;
  };
  const auto one = run_cli(banded({"cohort", kCohort, "--out", (d / "one").string(), "-j", "1"}));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("parameter-uncertainty band: 3 posterior draws x 7 patients"),
            std::string::npos)
      << one.out;
  const auto two = run_cli(banded({"cohort", kCohort, "--out", (d / "two").string(), "-j", "2"}));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  for (int i = 1; i <= 2; ++i) {
    const auto s = run_cli(banded({"cohort", kCohort, "--shard", fmt::format("{}/2", i), "--out",
                                   (d / fmt::format("s{}", i)).string()}));
    ASSERT_EQ(s.exit_code, 0) << s.err;
  }
  const auto m = run_cli(banded({"merge", kCohort, (d / "s1").string(), (d / "s2").string(),
                                 "--out", (d / "merged").string()}));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const std::string a = slurp(d / "one" / "cohort.json");
  EXPECT_NE(a.find("\"parameter_uncertainty\""), std::string::npos) << a;
  EXPECT_NE(a.find("\"scar_depth_reduction_pct_mean\": {"), std::string::npos) << a;
  EXPECT_EQ(a, slurp(d / "two" / "cohort.json"));
  EXPECT_EQ(a, slurp(d / "merged" / "cohort.json"));
  // Without the key, no band (the default).
  const auto none = run_cli(small({"cohort", kCohort, "--out", (d / "none").string()}));
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(slurp(d / "none" / "cohort.json").find("parameter_uncertainty"), std::string::npos);
  fs::remove_all(d);
}

}  // namespace

namespace {

// `mnsim sensitivity --shard i/N` and `mnsim merge` (docs/scaling.md, "Shards"): the design's
// evaluations split into shards and joined give the files of the whole run (sensitivity.json but
// its "run", which records how it ran); a lost shard reruns alone; bad shards are one line, exit
// 2, nothing written.
const std::string kSens = std::string(MNSIM_SOURCE_DIR) + "/tests/mpi/sensitivity_small.toml";

std::string without_run(const fs::path& json) {
  std::string s = slurp(json);
  const auto at = s.find("\n  \"run\": {");
  if (at == std::string::npos) return s;
  const auto end = s.find("\n  }", at);
  return s.substr(0, at) + s.substr(end + 4);
}

void expect_same_analysis(const fs::path& a, const fs::path& b) {
  for (const char* f : {"sensitivity.csv", "sensitivity.png"}) {
    const std::string x = slurp(a / f);
    ASSERT_FALSE(x.empty()) << f;
    EXPECT_TRUE(x == slurp(b / f)) << f;
  }
  const std::string j = without_run(a / "sensitivity.json");
  EXPECT_NE(j.find("\"first_order\""), std::string::npos) << j.substr(0, 400);
  EXPECT_EQ(j, without_run(b / "sensitivity.json"));
}

TEST(SensitivityShards, ThreeShardsJoinedEqualTheWholeRunAndALostShardRerunsAlone) {
  const fs::path d = fresh_temp_dir("mnsim_sens_shards");
  const auto whole = run_cli({"sensitivity", kSens, "-q", "--out", (d / "whole").string()});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (int i = 1; i <= 3; ++i) {
    const auto s = run_cli({"sensitivity", kSens, "-q", "--shard", fmt::format("{}/3", i), "--out",
                            (d / fmt::format("s{}", i)).string()});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    // 40 evaluations: 14, 13, 13.
    EXPECT_NE(
        s.out.find(fmt::format("shard {}/3: {} of 40 model evaluations", i, i == 1 ? 14 : 13)),
        std::string::npos)
        << s.out;
    EXPECT_FALSE(fs::exists(d / fmt::format("s{}", i) / "sensitivity.json"));
  }
  const auto m = run_cli({"merge", kSens, (d / "s3").string(), (d / "s1").string(),
                          (d / "s2").string(), "--out", (d / "merged").string()});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find("joined 3 shards (40 model evaluations)"), std::string::npos) << m.out;
  expect_same_analysis(d / "whole", d / "merged");
  EXPECT_NE(slurp(d / "merged" / "sensitivity.json").find("\"merged_shards\": 3"),
            std::string::npos);
  // Shard 2 lost: it alone is run again, and the merge gives the same files.
  fs::remove_all(d / "s2");
  const auto again =
      run_cli({"sensitivity", kSens, "-q", "--shard", "2/3", "--out", (d / "s2").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto m2 = run_cli({"merge", kSens, (d / "s1").string(), (d / "s2").string(),
                           (d / "s3").string(), "--out", (d / "merged2").string()});
  ASSERT_EQ(m2.exit_code, 0) << m2.err;
  expect_same_analysis(d / "whole", d / "merged2");
  fs::remove_all(d);
}

TEST(SensitivityShards, MissingRepeatedForeignOrTornShardsAreRefused) {
  const fs::path d = fresh_temp_dir("mnsim_sens_shards_bad");
  for (int i = 1; i <= 2; ++i) {
    const auto s = run_cli({"sensitivity", kSens, "-q", "--shard", fmt::format("{}/2", i), "--out",
                            (d / fmt::format("s{}", i)).string()});
    ASSERT_EQ(s.exit_code, 0) << s.err;
  }
  const std::string s1 = (d / "s1").string(), s2 = (d / "s2").string(), out = (d / "m").string();
  // A torn copy of shard 2 (its last byte cut) and a shard of another split (1 of 3).
  fs::create_directories(d / "torn");
  fs::copy_file(d / "s2" / "shard.json", d / "torn" / "shard.json");
  {
    const std::string rec = slurp(d / "s2" / "shard.rec");
    std::FILE* f = std::fopen((d / "torn" / "shard.rec").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(rec.data(), 1, rec.size() - 1, f);
    std::fclose(f);
  }
  const auto other =
      run_cli({"sensitivity", kSens, "-q", "--shard", "1/3", "--out", (d / "other").string()});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  struct Case {
    std::vector<std::string> args;
    std::string what;
  };
  const std::vector<Case> cases = {
      {{"merge", kSens, s1, "--out", out}, "missing shard 2/2"},
      {{"merge", kSens, s1, s1, s2, "--out", out}, "holds shard 1/2"},
      {{"merge", kSens, s1, (d / "other").string(), "--out", out}, "but 2 shards were expected"},
      // Another design (the seed differs) cannot join.
      {{"merge", kSens, s1, s2, "--out", out, "--set", "seed=5"}, "another input file"},
      {{"merge", kSens, s1, d.string(), "--out", out}, "is not the output folder of a sensitivity"},
      {{"merge", kSens, s1, (d / "torn").string(), "--out", out}, "torn or corrupt"},
      {{"sensitivity", kSens, "--shard", "3/2", "--out", out}, "--shard: 3 is out of range"},
      {{"sensitivity", kSens, "--shard", "x", "--out", out}, "'x' is not i/N"},
      {{"sensitivity", kSens, "--shard", "0/2", "--out", out}, "--shard"},
      {{"calibrate", std::string(MNSIM_SOURCE_DIR) + "/tests/mpi/calibrate_small.toml", "--shard",
        "1/2", "--out", out},
       "mnsim calibrate runs as shards only with a state folder"},
      {{"plan", std::string(MNSIM_SOURCE_DIR) + "/examples/03_plan_patient.toml", "--shard", "1/2"},
       "mnsim plan runs as shards only with a state folder"},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.what << r.err;
    EXPECT_NE(r.err.find(c.what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(d / "m"));
  }
  fs::remove_all(d);
}

}  // namespace
