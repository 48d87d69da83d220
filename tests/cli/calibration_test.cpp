// The 3D engine on its calibration protocol (docs/model.md section 8): the Lotfi 2013 histology
// within its tolerance, converged in time, and the reduced model of the same equations within 10%.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/lotfi.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

const std::string kScenario =
    std::string(MNSIM_TEST_DIR) + "/scenarios/calibration/lotfi_flat_cheek.toml";

nlohmann::json run(const std::string& name, const std::string& extra,
                   const std::string& scenario = kScenario) {
  const fs::path dir =
      fs::temp_directory_path() / ("mnsim_calibration_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path sc = dir / "s.toml";
  std::ofstream(sc) << mnsim::test::slurp(scenario) << extra;
  const auto r = run_cli({"run", sc.string(), "--out", (dir / "out").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / "out" / "summary.json"));
  fs::remove_all(dir);
  return j;
}

TEST(Calibration, LotfiOnTheThreeDEngineConvergedAndMatchedByTheReducedModel) {
  const nlohmann::json a = run("default", "");
  const double pd = a["outcome"]["collagen_change_pct"]["papillary"].get<double>();
  const double epi = a["outcome"]["epidermal_thickness_change_pct"].get<double>();
  RecordProperty("papillary_collagen_pct", std::to_string(pd));
  RecordProperty("epidermal_thickness_pct", std::to_string(epi));
  mnsim::test::expect_within_lotfi(pd / 100.0, epi / 100.0);

  // Converged in time: halving rtol and max_step moves the results by less than 3% (measured
  // 1.2% and 0.2%; before the mediators were coupled to their decay, rtol 0.1 -> 0.05 moved the
  // epidermis from +51% to +96%).
  const nlohmann::json b = run("fine", "\n[numerics]\nrtol = 0.1\nmax_step = \"1.5 hours\"\n");
  const double pd_fine = b["outcome"]["collagen_change_pct"]["papillary"].get<double>();
  const double epi_fine = b["outcome"]["epidermal_thickness_change_pct"].get<double>();
  EXPECT_GT(b["numerics"]["steps_accepted"].get<double>(),
            1.5 * a["numerics"]["steps_accepted"].get<double>());
  EXPECT_NEAR(pd / pd_fine, 1.0, 0.03) << pd << " vs " << pd_fine;
  EXPECT_NEAR(epi / epi_fine, 1.0, 0.03) << epi << " vs " << epi_fine;

  // The reduced model (cohorts, planner, validate) given what the device delivered in this run.
  const double reduced =
      a["outcome"]["reduced_model"]["collagen_change_pct_papillary"].get<double>();
  RecordProperty("reduced_papillary_collagen_pct", std::to_string(reduced));
  EXPECT_NEAR(reduced / pd, 1.0, 0.10) << reduced << " vs " << pd;
}

// A short follow-up is judged mid-transient: steps are kept below 1/400 of the time since the
// last session (healing::tail_limited_step), and the default is within 5% of a run with tighter
// steps and rtol (measured 3.65% vs 3.63% with the current draws, docs/numerics.md).
TEST(Calibration, ShortFollowUpStepsFollowTheTailAndConverge) {
  const std::string ex04 = std::string(MNSIM_TEST_DIR) + "/../examples/04_single_session_pen.toml";
  const nlohmann::json a = run("tail_default", "", ex04);
  EXPECT_NEAR(a["numerics"]["max_step_s"].get<double>(), 14 * 86400.0 / 400.0, 1e-6);
  const nlohmann::json b =
      run("tail_fine", "\n[numerics]\nrtol = 0.05\nmax_step = \"45 min\"\n", ex04);
  for (const char* q : {"papillary", "reticular"}) {
    const double x = a["outcome"]["collagen_change_pct"][q].get<double>();
    const double y = b["outcome"]["collagen_change_pct"][q].get<double>();
    RecordProperty(std::string(q) + "_default_vs_fine",
                   std::to_string(x) + " " + std::to_string(y));
    EXPECT_NEAR(x / y, 1.0, 0.05) << q << ": " << x << " vs " << y;
  }
}

}  // namespace
