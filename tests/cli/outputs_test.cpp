// What `mnsim run` writes (docs/outputs.md): files, summary.json keys, snapshots chosen by the
// scenario, punctures of every session.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/fields_h5.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

TEST(Outputs, RunWritesEveryDocumentedOutput) {
  const fs::path out = fs::temp_directory_path() / ("mnsim_outputs_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string ex = std::string(MNSIM_SOURCE_DIR) + "/examples/04_single_session_pen.toml";
  const auto r = run_cli({"run", ex, "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Without [face] the grades are on the patch's scars, and the summary says so.
  EXPECT_NE(r.out.find("Goodman & Baron on the patch scars (1 lesion of the simulated patch graded "
                       "on a whole-face scale"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("results: " + out.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bands (10-90 %, reduced model around this run): scar depth reduction "),
            std::string::npos)
      << r.out;
  for (const char* f : {"summary.json", "scenario.resolved.toml", "timeseries.csv", "fields.h5",
                        "fields.xmf", "punctures.csv", "report.html", "figures/time_courses.png"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  const auto j = nlohmann::json::parse(std::ifstream(out / "summary.json"));
  EXPECT_EQ(j["schema_version"], 1);
  const auto& o = j["outcome"];
  ASSERT_EQ(o["scars"].size(), 1u);
  for (const char* k :
       {"type", "depth_um_before", "depth_um_after", "volume_mm3_before", "volume_mm3_after"}) {
    EXPECT_TRUE(o["scars"][0].contains(k)) << k;
  }
  EXPECT_EQ(o["scars"][0]["type"], "boxcar");
  EXPECT_DOUBLE_EQ(o["scars"][0]["depth_um_before"].get<double>(), 200.0);
  EXPECT_LE(o["scars"][0]["depth_um_after"].get<double>(), 200.0);
  for (const char* k :
       {"qualitative_before", "qualitative_after", "quantitative_before", "quantitative_after"}) {
    EXPECT_TRUE(o["goodman_baron"].contains(k)) << k;
  }
  EXPECT_EQ(o["goodman_baron"]["graded_on"], "patch scars");
  EXPECT_FALSE(o["goodman_baron"].contains("face"));
  for (const char* k : {"papillary", "reticular"}) {
    EXPECT_TRUE(o["collagen_change_pct"].contains(k)) << k;
  }
  for (const char* k :
       {"elastin_change_pct", "epidermal_thickness_change_pct", "barrier_recovery_hours",
        "erythema_days", "pih_risk", "bleeding_fraction"}) {
    EXPECT_TRUE(o.contains(k)) << k;
    EXPECT_TRUE(o[k].is_number()) << k;
  }
  const double pih = o["pih_risk"].get<double>();
  EXPECT_GE(pih, 0.0);
  EXPECT_LE(pih, 1.0);
  // Predictive bands (docs/outputs.md): both sources, kept apart, around the run's point.
  ASSERT_TRUE(j.contains("bands"));
  const auto& b = j["bands"];
  EXPECT_NE(b["method"].get<std::string>().find("reduced model"), std::string::npos);
  for (const char* src : {"parameter_uncertainty", "patient_variability"}) {
    const auto& band = b[src];
    EXPECT_EQ(band["draws"], 16) << src;
    EXPECT_FALSE(band["what"].get<std::string>().empty()) << src;
    for (const char* k : {"scar_depth_reduction_pct", "goodman_baron_quantitative_after",
                          "goodman_baron_qualitative_after", "collagen_change_pct_papillary",
                          "erythema_days", "pih_risk", "barrier_recovery_hours"}) {
      ASSERT_TRUE(band.contains(k)) << src << " " << k;
      const double lo = band[k]["p10"], mid = band[k]["p50"], hi = band[k]["p90"];
      EXPECT_LE(lo, mid) << src << " " << k;
      EXPECT_LE(mid, hi) << src << " " << k;
    }
    // The band of the papillary collagen change is the 3D point moved by the reduced model's
    // spread: point + (quantile - reduced point).
    const double shift = b["point"]["collagen_change_pct_papillary"].get<double>() -
                         b["reduced_model_point"]["collagen_change_pct_papillary"].get<double>();
    EXPECT_NEAR(band["collagen_change_pct_papillary"]["p90"].get<double>(),
                band["collagen_change_pct_papillary"]["reduced_model"]["p90"].get<double>() + shift,
                1e-9);
  }
  EXPECT_DOUBLE_EQ(b["point"]["collagen_change_pct_papillary"].get<double>(),
                   o["collagen_change_pct"]["papillary"].get<double>());
  // The two bands differ: they are not one band written twice.
  EXPECT_NE(b["parameter_uncertainty"]["collagen_change_pct_papillary"]["p90"],
            b["patient_variability"]["collagen_change_pct_papillary"]["p90"]);
  EXPECT_EQ(b["evaluations"], 32);
  {
    std::ifstream html(out / "report.html");
    std::stringstream hs;
    hs << html.rdbuf();
    EXPECT_NE(hs.str().find("id=\"band-table\""), std::string::npos);
    EXPECT_NE(hs.str().find("Patients who heal faster or slower"), std::string::npos);
    EXPECT_NE(hs.str().find("32 reduced-model evaluations"), std::string::npos);
  }
  // Snapshots: before and after the session, weekly (example 04 asks for it), the end.
  std::ifstream xmf(out / "fields.xmf");
  std::stringstream ss;
  ss << xmf.rdbuf();
  for (const char* label : {"before session 1", "after session 1", "day 7.0", "end of follow-up"}) {
    EXPECT_NE(ss.str().find(label), std::string::npos) << label;
  }
  EXPECT_FALSE(mnsim::io::read_snapshot_field(out / "fields.h5", 3, "collagen1").empty());
  // Punctures: one row per puncture of every session, with the session number.
  std::ifstream pc(out / "punctures.csv");
  std::string header, first;
  std::getline(pc, header);
  std::getline(pc, first);
  EXPECT_EQ(header.rfind("session,x_mm,y_mm", 0), 0u) << header;
  EXPECT_EQ(first.rfind("1,", 0), 0u) << first;
  fs::remove_all(out);
}

}  // namespace
