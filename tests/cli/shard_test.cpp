// `mnsim cohort --shard i/N` and `mnsim merge` (docs/cohort.md, "Shards"): the shards of a
// cohort joined give byte for byte the results of the cohort run whole; a missing, repeated or
// foreign shard is one line, exit 2, nothing written; a lost shard reruns alone.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;
using mnsim::test::slurp;

namespace {

const std::string kCohort = std::string(MNSIM_SOURCE_DIR) + "/examples/02_cohort_acne.toml";

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> small(std::vector<std::string> args) {
  for (const char* s : {"population.size=7", "protocol.sessions=1"}) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

TEST(CohortShards, JoinedShardsEqualTheWholeRunByteForByte) {
  const fs::path d = fresh("mnsim_shards");
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
  const fs::path d = fresh("mnsim_shards_bad");
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
  const fs::path d = fresh("mnsim_shards_band");
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
