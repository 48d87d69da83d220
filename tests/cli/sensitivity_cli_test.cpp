// `mnsim sensitivity` as a user runs it: the output folder and its files, `mnsim check`, and bad
// input (one line, exit 2, nothing written).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace {

namespace fs = std::filesystem;
using mnsim::test::run_cli;
using mnsim::test::slurp;
using mnsim::test::write_temp_file;

const std::string kHead =
    "seed = 5\n"
    "[patient]\nfitzpatrick = 2\n"
    "[inventory]\nboxcar_shallow = 1\n"
    "[protocol]\nneedle_length = \"1 mm\"\nsessions = 1\nfollow_up = \"4 weeks\"\n";

const std::string kMorris = kHead +
                            "[sensitivity]\nmethod = \"morris\"\ntrajectories = 2\nbootstrap = 20\n"
                            "outputs = [\"papillary_collagen_change_pct\", \"barrier_hours\"]\n"
                            "[[parameters]]\nkey = \"healing.matrix.collagen_synthesis\"\n"
                            "factor = 1.5\n"
                            "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 1.5\n";

TEST(SensitivityCli, WritesJsonCsvAndFigure) {
  const std::string f = write_temp_file("mnsim_cli_sens.toml", kMorris);
  const fs::path out = fs::temp_directory_path() / "mnsim_cli_sens_out";
  fs::remove_all(out);
  const auto r = run_cli({"sensitivity", f, "--out", out.string(), "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("6 model evaluations in"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(out / "sensitivity.json"));
  EXPECT_EQ(j["method"], "morris");
  EXPECT_EQ(j["sample"]["model_evaluations"], 6);
  EXPECT_EQ(j["sample"]["trajectories"], 2);
  EXPECT_GT(j["run"]["wall_s"].get<double>(), 0.0);
  EXPECT_EQ(j["run"]["threads"], 2);
  ASSERT_EQ(j["parameters"].size(), 2u);
  EXPECT_EQ(j["parameters"][0]["distribution"], "log-uniform");
  EXPECT_EQ(j["resolved"]["sensitivity"]["method"], "morris");
  ASSERT_EQ(j["outputs"].size(), 2u);
  const auto& collagen = j["outputs"][0];
  EXPECT_EQ(collagen["name"], "papillary_collagen_change_pct");
  // Collagen synthesis drives collagen, seal rate the barrier: each output's larger mu*.
  EXPECT_GT(collagen["indices"][0]["mu_star"]["value"].get<double>(),
            collagen["indices"][1]["mu_star"]["value"].get<double>());
  const auto& barrier = j["outputs"][1]["indices"];
  EXPECT_GT(barrier[1]["mu_star"]["value"].get<double>(),
            barrier[0]["mu_star"]["value"].get<double>());
  const std::string csv = slurp(out / "sensitivity.csv");
  EXPECT_EQ(csv.rfind("method,output,unit,parameter,index,value,ci_low,ci_high\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2 * 3);  // outputs x params x 3
  EXPECT_NE(csv.find("morris,barrier_hours,hours,healing.barrier.seal_rate,mu_star,"),
            std::string::npos);
  EXPECT_EQ(slurp(out / "sensitivity.png").rfind("\x89PNG\r\n\x1a\n", 0), 0u);
  // `mnsim check` knows the file.
  const auto c = run_cli({"check", f});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("a valid sensitivity file (2 parameters, 6 model evaluations)"),
            std::string::npos)
      << c.out;
}

TEST(SensitivityCli, BadInputIsOneLineExit2AndWritesNothing) {
  const struct {
    std::string name, text, where;
  } cases[] = {
      {"unknown parameter",
       kHead + "[sensitivity]\nmethod = \"sobol\"\n[[parameters]]\nkey = \"healing.matrix.nope\"\n",
       ":13:7: parameters[0].key: unknown parameter 'healing.matrix.nope'"},
      {"bad range",
       kHead + "[sensitivity]\nmethod = \"sobol\"\n[[parameters]]\nkey = "
               "\"healing.barrier.seal_rate\"\nrange = [4, 3]\n",
       ":14:9: parameters[0].range: low 4 is not below high 3"},
      {"unknown output",
       kHead + "[sensitivity]\nmethod = \"sobol\"\noutputs = [\"scar_depth\"]\n[[parameters]]\nkey "
               "= \"healing.barrier.seal_rate\"\nfactor = 2\n",
       ":12:"},
  };
  for (const auto& c : cases) {
    const std::string f = write_temp_file("mnsim_cli_sens_bad.toml", c.text);
    const fs::path out = fs::temp_directory_path() / "mnsim_cli_sens_never";
    fs::remove_all(out);
    const auto r = run_cli({"sensitivity", f, "--out", out.string()});
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(f + c.where), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.name;
    EXPECT_FALSE(fs::exists(out)) << c.name;
    // `mnsim check` reports the same error.
    const auto k = run_cli({"check", f});
    EXPECT_EQ(k.exit_code, 2) << c.name;
    EXPECT_NE(k.err.find(f + c.where), std::string::npos) << c.name << ": " << k.err;
  }
}

}  // namespace
