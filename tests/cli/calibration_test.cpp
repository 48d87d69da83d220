// The 3D engine on its calibration protocol (docs/model.md section 8): the Lotfi 2013 histology
// within its tolerance, converged in time, and the reduced model of the same equations within 10%.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/fields_h5.hpp"
#include "support/files.hpp"
#include "support/lotfi.hpp"
#include "support/run_cli.hpp"
#include "support/sanitizer.hpp"

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

  // Converged in time: a quarter of the error tolerance moves the results by less than 3%
  // (measured 0.4% and 0.1%, 1661 steps against 1169; before the mediators were coupled to their
  // decay, a change-based rtol 0.1 -> 0.05 moved the epidermis from +51% to +96%; the quarter
  // is 2.5e-4 since the default is 1e-3 in the root-mean-square norm). The same run with more
  // steps: a numerical check, made by the release run (support/sanitizer.hpp).
  if (!mnsim::test::kSanitizerBuild) {
    const nlohmann::json b = run("fine", "\n[numerics]\nrtol = 2.5e-4\n");
    const double pd_fine = b["outcome"]["collagen_change_pct"]["papillary"].get<double>();
    const double epi_fine = b["outcome"]["epidermal_thickness_change_pct"].get<double>();
    // (In the root-mean-square norm the default's steps are set by the growth limit and the
    // samples over much of the run: a quarter of the tolerance took 1834 steps against 1443.)
    EXPECT_GT(b["numerics"]["steps_accepted"].get<double>(),
              1.2 * a["numerics"]["steps_accepted"].get<double>());
    EXPECT_NEAR(pd / pd_fine, 1.0, 0.03) << pd << " vs " << pd_fine;
    EXPECT_NEAR(epi / epi_fine, 1.0, 0.03) << epi << " vs " << epi_fine;
  }

  // The reduced model (cohorts, planner, validate) given what the device delivered in this run.
  const double reduced =
      a["outcome"]["reduced_model"]["collagen_change_pct_papillary"].get<double>();
  RecordProperty("reduced_papillary_collagen_pct", std::to_string(reduced));
  EXPECT_NEAR(reduced / pd, 1.0, 0.10) << reduced << " vs " << pd;
}

// The step control does not look at the end of the run: the state at day 14 of a run that goes
// on to day 180 (a snapshot, which does not restart the step control) is the state of a run that
// ends at day 14, bit for bit. And a short follow-up, judged mid-transient, converges as the
// error tolerance tightens (docs/numerics.md, "Step control": measured +3.78 / +3.70 / +3.58 /
// +3.51% for rtol 5e-3 / 3e-3 / 1e-3 / 3e-4 in the worst cell's norm, converged about +3.40%;
// the tight run is 16x the default tolerance, 6.25e-5 since the default is 1e-3 in the
// root-mean-square norm, "The error norm").
TEST(Calibration, StateAtDay14DoesNotDependOnTheEndOfFollowUpAndConverges) {
  const std::string ex04 = std::string(MNSIM_TEST_DIR) + "/../examples/04_single_session_pen.toml";
  const fs::path dir = fs::temp_directory_path() / ("mnsim_horizon_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string text = mnsim::test::slurp(ex04);
  auto with_follow_up = [&](const std::string& follow_up) {
    std::string t = text;
    const std::string key = "follow_up = \"2 weeks\"";
    const auto at = t.find(key);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) t.replace(at, key.size(), "follow_up = \"" + follow_up + "\"");
    return t;
  };
  std::ofstream(dir / "short.toml") << with_follow_up("14 days");
  std::ofstream(dir / "long.toml") << with_follow_up("180 days");
  for (const char* n : {"short", "long"}) {
    const auto r = run_cli({"run", (dir / (std::string(n) + ".toml")).string(), "--out",
                            (dir / n).string(), "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Snapshots: before session 1, after it, day 7, day 14 (the end of the short run).
  for (const char* f : {"collagen1", "collagen3", "elastin", "fibroblasts", "vascular",
                        "inflammatory_signal", "melanin_excess", "damage"}) {
    const auto a = mnsim::io::read_snapshot_field(dir / "short" / "fields.h5", 3, f);
    const auto b = mnsim::io::read_snapshot_field(dir / "long" / "fields.h5", 3, f);
    ASSERT_EQ(a.size(), b.size());
    std::size_t differ = 0;
    // Bit for bit (NaN outside the tissue compares equal to itself here).
    for (std::size_t i = 0; i < a.size(); ++i) {
      differ += std::memcmp(&a[i], &b[i], sizeof(float)) != 0 ? 1 : 0;
    }
    EXPECT_EQ(differ, 0u) << f << ": " << differ << " of " << a.size() << " values differ";
  }
  // The short run is example 04 itself ("14 days" is its "2 weeks"): the default tolerance.
  const nlohmann::json d = nlohmann::json::parse(std::ifstream(dir / "short" / "summary.json"));
  fs::remove_all(dir);

  // Convergence: the same run with 3 times the steps, a numerical check made by the release run
  // (support/sanitizer.hpp).
  if (mnsim::test::kSanitizerBuild) return;
  const nlohmann::json t = run("tail_tight", "\n[numerics]\nrtol = 6.25e-5\n", ex04);
  EXPECT_GT(t["numerics"]["steps_accepted"].get<double>(),
            3.0 * d["numerics"]["steps_accepted"].get<double>());
  for (const char* q : {"papillary", "reticular"}) {
    const double x = d["outcome"]["collagen_change_pct"][q].get<double>();
    const double y = t["outcome"]["collagen_change_pct"][q].get<double>();
    RecordProperty(std::string(q) + "_default_vs_tight",
                   std::to_string(x) + " " + std::to_string(y));
    // The default is within 10% of a tolerance 16x tighter (itself about 3% above converged).
    EXPECT_NEAR(x / y, 1.0, 0.10) << q << ": " << x << " vs " << y;
  }
}

}  // namespace
