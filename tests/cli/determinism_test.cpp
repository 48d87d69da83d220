// The same scenario and seed give identical results for 1 and 2 threads and across runs; a
// different seed gives different punctures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

using mnsim::test::slurp;

namespace {

TEST(Determinism, ThreadCountAndRepeatGiveIdenticalResults) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_det_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string ex = std::string(MNSIM_SOURCE_DIR) + "/examples/04_single_session_pen.toml";
  for (const auto& [name, threads, seed] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"t1", "1", "7"}, {"t2", "2", "7"}, {"t2b", "2", "7"}, {"s8", "2", "8"}}) {
    std::vector<std::string> args{
        "run", ex, "--out", (dir / name).string(), "--threads", threads, "--seed", seed, "--quiet"};
    if (name == "s8") args.push_back("--no-bands");  // and no bands: none in summary.json
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string a = slurp(dir / "t1" / "timeseries.csv");
  ASSERT_GT(a.size(), 1000u);
  EXPECT_EQ(a, slurp(dir / "t2" / "timeseries.csv")) << "1 vs 2 threads differ";
  EXPECT_EQ(a, slurp(dir / "t2b" / "timeseries.csv")) << "two runs differ";
  EXPECT_NE(a, slurp(dir / "s8" / "timeseries.csv")) << "the seed has no effect";
  // The predictive bands do not depend on the thread count either.
  const auto bands = [&](const char* name) {
    return nlohmann::json::parse(slurp(dir / name / "summary.json"))["bands"];
  };
  const auto b1 = bands("t1");
  ASSERT_TRUE(b1.contains("parameter_uncertainty"));
  EXPECT_EQ(b1["parameter_uncertainty"], bands("t2")["parameter_uncertainty"]);
  EXPECT_EQ(b1["patient_variability"], bands("t2")["patient_variability"]);
  EXPECT_TRUE(bands("s8").is_null()) << "--no-bands still wrote bands";
  fs::remove_all(dir);
}

}  // namespace
