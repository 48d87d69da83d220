// `mnsim calibrate` as a user runs it: the output folder and its files, `mnsim check`, and bad
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

const std::string kParams =
    "[[parameters]]\nkey = \"healing.inflammation.erythema_half\"\nfactor = 2\n"
    "[[parameters]]\nkey = \"healing.barrier.seal_rate\"\nfactor = 2\n";
const std::string kSmall =
    "seed = 6\ncases = [\"erythema\", \"barrier_recovery\"]\n"
    "[calibration]\nparticles = 12\nmoves = 1\nmax_generations = 8\n" +
    kParams;

TEST(CalibrateCli, WritesJsonCsvAndFigure) {
  const std::string f = write_temp_file("mnsim_cli_calib.toml", kSmall);
  const fs::path out = fs::temp_directory_path() / "mnsim_cli_calib_out";
  fs::remove_all(out);
  const auto r = run_cli({"calibrate", f, "--out", out.string(), "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model evaluations in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("posterior correlations"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(out / "calibration.json"));
  EXPECT_TRUE(j["complete"].get<bool>());
  EXPECT_EQ(j["settings"]["particles"], 12);
  EXPECT_EQ(j["run"]["threads"], 2);
  ASSERT_EQ(j["parameters"].size(), 2u);
  EXPECT_EQ(j["parameters"][1]["key"], "healing.barrier.seal_rate");
  EXPECT_EQ(j["parameters"][1]["prior"]["distribution"], "log-uniform");
  EXPECT_EQ(j["parameters"][1]["fitted_to"][0], "barrier_recovery");
  ASSERT_EQ(j["cases"].size(), 2u);
  EXPECT_EQ(j["cases"][0]["id"], "erythema");
  EXPECT_EQ(j["correlation"]["matrix"].size(), 2u);
  EXPECT_EQ(j["generations"][0]["generation"], 0);
  EXPECT_DOUBLE_EQ(j["generations"].back()["temperature"].get<double>(), 1.0);
  const std::string csv = slurp(out / "posterior.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);
  EXPECT_EQ(slurp(out / "calibration.png").rfind("\x89PNG\r\n\x1a\n", 0), 0u);
  // The same sample on one thread, byte for byte.
  const fs::path out1 = fs::temp_directory_path() / "mnsim_cli_calib_out1";
  fs::remove_all(out1);
  const auto r1 = run_cli({"calibrate", f, "--out", out1.string(), "-j", "1"});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_EQ(slurp(out1 / "posterior.csv"), csv);
  // `mnsim check` knows the file.
  const auto c = run_cli({"check", f});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("a valid calibration file (2 parameters, 2 calibration cases, at most "
                       "108 model evaluations)"),
            std::string::npos)
      << c.out;
}

TEST(CalibrateCli, BadInputIsOneLineExit2AndWritesNothing) {
  const struct {
    std::string name, text, where;
  } cases[] = {
      {"a check", "cases = [\"alam_gb_6_months\"]\n[calibration]\n" + kParams,
       ":1:9: cases: 'alam_gb_6_months' is a check"},
      {"not calibrated",
       "[calibration]\n[[parameters]]\nkey = \"healing.epidermis.melanin_rate\"\nfactor = 2\n",
       ":3:7: parameters[0].key: healing.epidermis.melanin_rate is not a calibrated value"},
      {"unknown setting", "[calibration]\nparticle = 10\n" + kParams,
       ":2:1: calibration.particle: unknown key"},
  };
  for (const auto& c : cases) {
    const std::string f = write_temp_file("mnsim_cli_calib_bad.toml", c.text);
    const fs::path out = fs::temp_directory_path() / "mnsim_cli_calib_never";
    fs::remove_all(out);
    const auto r = run_cli({"calibrate", f, "--out", out.string()});
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(f + c.where), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.name;
    EXPECT_FALSE(fs::exists(out)) << c.name;
    const auto k = run_cli({"check", f});
    EXPECT_EQ(k.exit_code, 2) << c.name;
    EXPECT_NE(k.err.find(f + c.where), std::string::npos) << c.name << ": " << k.err;
  }
}

}  // namespace
