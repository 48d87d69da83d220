// The [output] section of `mnsim run` (docs/outputs.md, "Choosing the outputs" and "Sampling"):
// skipped files are not written and summary.json lists those that are, timeseries.csv and
// scars.csv are sampled at exactly the grid's times, with units, and every scar has an id of its
// own; sampling moves the results by far less than the time step's error.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/scenario.hpp"
#include "lesions/factory.hpp"
#include "protocol/course.hpp"
#include "run/output.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;
using mnsim::test::slurp;

namespace {

// One pen session on a 3 mm x 3 mm forehead patch at 150 um with two icepicks and a boxcar,
// followed for nine days (about a second in release).
const std::string kScenario =
    "seed = 5\n"
    "[patient]\nsite = \"forehead\"\n"
    "[tissue]\nwidth = \"3 mm\"\nlength = \"3 mm\"\nresolution = \"150 um\"\n"
    "[[lesions]]\nkind = \"icepick\"\nid = \"left\"\nx = \"0.8 mm\"\ny = \"1.5 mm\"\n"
    "width = \"0.6 mm\"\ndepth = \"0.4 mm\"\n"
    "[[lesions]]\nkind = \"icepick\"\nx = \"2.2 mm\"\ny = \"1.5 mm\"\nwidth = \"0.6 mm\"\n"
    "depth = \"0.5 mm\"\n"
    "[[lesions]]\nkind = \"boxcar\"\nx = \"1.5 mm\"\ny = \"2.4 mm\"\nwidth = \"0.9 mm\"\n"
    "depth = \"0.2 mm\"\n"
    "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\ndepth = \"0.5 mm\"\n"
    "[technique]\npasses = 2\n"
    "[course]\nsessions = 1\nfollow_up = \"9 days\"\n";

struct Folder {
  fs::path dir;
  explicit Folder(const std::string& name)
      : dir(fs::temp_directory_path() /
            ("mnsim_output_options_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "s.toml") << kScenario;
  }
  ~Folder() { fs::remove_all(dir); }
  mnsim::test::CliResult run(const std::string& out, std::vector<std::string> sets = {}) const {
    std::vector<std::string> args = {"run", "s.toml", "--out", out, "--quiet"};
    for (auto& s : sets) {
      args.push_back("--set");
      args.push_back(std::move(s));
    }
    return run_cli(args, dir.string());
  }
  nlohmann::json summary(const std::string& out) const {
    return nlohmann::json::parse(slurp(dir / out / "summary.json"));
  }
};

/// summary.json without what may differ between runs of the same results: the wall-clock
/// metadata, the [output] switches and the list of files written.
nlohmann::json results_of(nlohmann::json j) {
  j.erase("run");
  j.erase("outputs");
  j["scenario"].erase("output");
  j["punctures_first_session"].erase("generation_wall_s");
  return j;
}

std::vector<std::vector<std::string>> csv_rows(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

/// The distinct times (s) of a CSV whose first column is time_s, in order.
std::vector<double> times_of(const std::vector<std::vector<std::string>>& rows) {
  std::vector<double> t;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const double v = std::stod(rows[i][0]);
    if (t.empty() || v != t.back()) t.push_back(v);
  }
  return t;
}

TEST(OutputOptions, SkippedFilesAreNotWrittenAndTheResultsAreTheSame) {
  const Folder f("skip");
  const auto all = f.run("out");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const nlohmann::json full = f.summary("out");
  EXPECT_EQ(full["outputs"], nlohmann::json({"summary.json", "fields.h5", "fields.xmf",
                                             "timeseries.csv", "scars.csv", "punctures.csv",
                                             "scenario.resolved.toml", "figures", "report.html"}));
  for (const auto& e : full["outputs"]) EXPECT_TRUE(fs::exists(f.dir / "out" / e)) << e;

  // Everything off, into the same folder: the earlier run's files go with its results.
  const auto none =
      f.run("out", {"output.report=false", "output.snapshots=[]", "output.punctures=false",
                    "output.timeseries=false", "output.scars=false"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("results: out (summary.json)\n"), std::string::npos) << none.out;
  const nlohmann::json bare = f.summary("out");
  EXPECT_EQ(bare["outputs"], nlohmann::json({"summary.json", "scenario.resolved.toml"}));
  std::set<std::string> present;
  for (const auto& e : fs::directory_iterator(f.dir / "out")) {
    present.insert(e.path().filename().string());
  }
  EXPECT_EQ(present,
            (std::set<std::string>{"summary.json", "scenario.resolved.toml", ".mnsim-output"}));
  // Which files are written changes no number of the results.
  EXPECT_EQ(results_of(full).dump(), results_of(bare).dump());

  // Snapshots only every few days: fields.h5 without the session snapshots.
  const auto periodic = f.run(
      "periodic", {"output.snapshots=[]", "output.snapshot_every=4 days", "output.report=false"});
  ASSERT_EQ(periodic.exit_code, 0) << periodic.err;
  EXPECT_TRUE(fs::exists(f.dir / "periodic" / "fields.h5"));
  const std::string xmf = slurp(f.dir / "periodic" / "fields.xmf");
  EXPECT_NE(xmf.find("day 4.0"), std::string::npos) << xmf;
  EXPECT_EQ(xmf.find("session"), std::string::npos) << xmf;
  EXPECT_FALSE(fs::exists(f.dir / "periodic" / "report.html"));
}

TEST(OutputOptions, TheTimeSeriesIsSampledAtExactlyTheGridTimesWithUnits) {
  const Folder f("grid");
  // The default grid: every 6 h for 7 days after the session, then daily; the end (day 9).
  const auto r = f.run("default");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> expected = {0.0};
  for (int k = 1; k < 28; ++k) expected.push_back(k * 6 * mnsim::kHour);
  for (int d = 7; d <= 9; ++d) expected.push_back(d * mnsim::kDay);
  const auto ts = csv_rows(f.dir / "default" / "timeseries.csv");
  ASSERT_FALSE(ts.empty());
  EXPECT_EQ(ts[0], (std::vector<std::string>{"time_s", "time_days", "quantity", "layer", "value",
                                             "unit"}));
  EXPECT_EQ(times_of(ts), expected);
  // Every quantity and layer at every sample: three at t = 0 (start, before and after the
  // session), one at each other time.
  std::map<std::string, int> per_series;
  std::map<std::string, std::string> unit;
  for (std::size_t i = 1; i < ts.size(); ++i) {
    ASSERT_EQ(ts[i].size(), 6u) << i;
    ++per_series[ts[i][2] + "/" + ts[i][3]];
    unit[ts[i][2]] = ts[i][5];
    EXPECT_DOUBLE_EQ(std::stod(ts[i][1]) * mnsim::kDay, std::stod(ts[i][0])) << i;
  }
  EXPECT_EQ(per_series.size(), 22u * 5u);  // the healing model's fields x layers
  for (const auto& [series, n] : per_series) {
    EXPECT_EQ(n, static_cast<int>(expected.size()) + 2) << series;
  }
  EXPECT_EQ(unit["collagen1"], "mg/mL");
  EXPECT_EQ(unit["fibroblasts"], "cells/mm^3");
  EXPECT_EQ(unit["growth_factor"], "ng/mL");
  EXPECT_EQ(unit["damage"], "1");

  // A grid of the scenario's: every 2 days and at 3 hours (the sessions and the end always).
  const auto g = f.run("given", {"output.timeseries_every=2 days",
                                 "output.timeseries_times=[\"3 hours\", \"4 days\"]"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::vector<double> given = {0.0,
                                     3 * mnsim::kHour,
                                     2 * mnsim::kDay,
                                     4 * mnsim::kDay,
                                     6 * mnsim::kDay,
                                     8 * mnsim::kDay,
                                     9 * mnsim::kDay};
  EXPECT_EQ(times_of(csv_rows(f.dir / "given" / "timeseries.csv")), given);
  EXPECT_EQ(times_of(csv_rows(f.dir / "given" / "scars.csv")), given);
  // No grid: the start, the session and the end.
  const auto bare = f.run("bare", {"output.timeseries_times=[]"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(times_of(csv_rows(f.dir / "bare" / "timeseries.csv")),
            (std::vector<double>{0.0, 9 * mnsim::kDay}));
}

TEST(OutputOptions, EveryScarHasAnIdAndADepthAtEverySample) {
  const Folder f("scars");
  const auto r = f.run("out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = f.summary("out");
  const auto& scars = s["outcome"]["scars"];
  ASSERT_EQ(scars.size(), 3u);
  EXPECT_EQ(scars[0]["id"], "left");
  EXPECT_EQ(scars[1]["id"], "icepick_2");  // the second icepick of the file
  EXPECT_EQ(scars[2]["id"], "boxcar_1");
  EXPECT_NE(r.out.find("scar depth: left 400 -> "), std::string::npos) << r.out;

  const auto rows = csv_rows(f.dir / "out" / "scars.csv");
  ASSERT_GT(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"time_s", "time_days", "scar", "kind", "depth_um",
                                               "floor_rise_um", "rim_rise_um", "band_intact"}));
  // Three rows per sample, the scars in order; the first sample is the depth before, the last
  // the depth after of summary.json; the scar fills in between.
  ASSERT_EQ((rows.size() - 1) % 3, 0u);
  const std::size_t samples = (rows.size() - 1) / 3;
  EXPECT_EQ(samples, 28u + 3u + 2u);
  std::map<std::string, std::vector<double>> depth;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u) << i;
    const std::size_t scar = (i - 1) % 3;
    EXPECT_EQ(rows[i][2], scars[scar]["id"].get<std::string>()) << i;
    EXPECT_EQ(rows[i][3], scars[scar]["type"].get<std::string>()) << i;
    depth[rows[i][2]].push_back(std::stod(rows[i][4]));
  }
  for (const auto& sc : scars) {
    const auto& d = depth[sc["id"].get<std::string>()];
    const double before = sc["depth_um_before"].get<double>();
    const double after = sc["depth_um_after"].get<double>();
    EXPECT_NEAR(d.front(), before, 1e-6 * before) << sc["id"];
    EXPECT_NEAR(d.back(), after, 1e-6 * before) << sc["id"];
    EXPECT_LT(after, before) << sc["id"];
    // Not two copies of the same numbers: the depth changes between the samples.
    EXPECT_GT(std::set<double>(d.begin(), d.end()).size(), samples / 2) << sc["id"];
  }
}

// Stopping at the sample times cuts steps, which moves the results by a fraction of the time
// step's own error: here the default grid against no grid, and the default against a tolerance
// a quarter as large (docs/outputs.md, "Sampling").
TEST(OutputOptions, SamplingMovesTheResultsByLessThanTheTimeStepError) {
  const Folder f("perturb");
  ASSERT_EQ(f.run("grid").exit_code, 0);
  ASSERT_EQ(f.run("none", {"output.timeseries_times=[]"}).exit_code, 0);
  ASSERT_EQ(f.run("fine", {"output.timeseries_times=[]", "numerics.rtol=2.5e-4"}).exit_code, 0);
  const nlohmann::json grid = f.summary("grid"), none = f.summary("none"), fine = f.summary("fine");
  EXPECT_GT(grid["numerics"]["steps_accepted"], none["numerics"]["steps_accepted"]);
  // The scar depths carry the scar fibroblast phenotype, whose dilution is counted per reaction
  // step and so also carries the splitting of the cells' reaction and motility: the grid moves
  // them by up to 58% of the tighter tolerance's move (0.004 um of 484), the matrix by less.
  // Since the columns beside a scar's wall count as scar (docs/numerics.md, "Why space did not
  // converge") the normal skin of this 3 x 3 mm patch is small and its papillary change is
  // +7%, so the grid's move, 0.08 points, is 1.2% of the change (and half the tighter
  // tolerance's move): the bound is 2% of the change. The melanin excess is in the step
  // controller's error norm, so the skin types' melanocyte activities (issue 17: type III 0.93,
  // was 1.4) change the step sequence: the grid then moved the papillary change by 52% of the
  // tighter tolerance's move (0.110 against 0.212 points); with measured steps taken as pairs
  // checked against one of twice their size (issue 19) the grid moved the reticular change by 63%
  // (0.026 against 0.042 points). The bound is the time-step error itself: step doubling makes
  // the global error about proportional to sqrt(rtol), so the run at a quarter of the tolerance
  // has half the error, and the untightened run's own error is about twice its difference from
  // it; a share of 1 asks the grid's move to stay within half of that error. Scar depths move by
  // about 1e-3 um either way (2.5e-6 of the depth), below what the step control resolves, hence
  // their floor of 0.01 um.
  const auto check = [&](const std::string& what, double g, double n, double fi, double share = 1.0,
                         double floor = 1e-9) {
    EXPECT_LE(std::fabs(g - n), share * std::fabs(fi - n) + floor)
        << what << ": " << g << " " << n << " " << fi;
    EXPECT_LE(std::fabs(g - n), 0.02 * std::fabs(n)) << what << ": " << g << " " << n;
  };
  const auto& go = grid["outcome"];
  const auto& no = none["outcome"];
  const auto& fo = fine["outcome"];
  check("papillary collagen", go["collagen_change_pct"]["papillary"].get<double>(),
        no["collagen_change_pct"]["papillary"].get<double>(),
        fo["collagen_change_pct"]["papillary"].get<double>());
  check("reticular collagen", go["collagen_change_pct"]["reticular"].get<double>(),
        no["collagen_change_pct"]["reticular"].get<double>(),
        fo["collagen_change_pct"]["reticular"].get<double>());
  for (std::size_t i = 0; i < 3; ++i) {
    check("scar depth " + std::to_string(i), go["scars"][i]["depth_um_after"].get<double>(),
          no["scars"][i]["depth_um_after"].get<double>(),
          fo["scars"][i]["depth_um_after"].get<double>(), 0.75, 0.01);
  }
}

// --- The output plan (run/output.hpp) ------------------------------------------------------

mnsim::Table scenario(const std::string& extra) {
  return mnsim::parse_scenario_text(kScenario + extra, "plan.toml", mnsim::scenario_schema());
}

mnsim::OutputPlan plan_of(const mnsim::Table& sc) {
  return mnsim::make_output_plan(sc.table("output"),
                                 mnsim::protocol::make_course(sc.table("course")));
}

TEST(OutputPlan, DefaultGridFollowsEachSessionAndSkipsTheSessionsAndTheEnd) {
  // Two sessions 10 days apart, 20 days of follow-up from the first.
  const mnsim::Table two = mnsim::parse_scenario_text(
      "[course]\nsessions = 2\ninterval = \"10 days\"\nfollow_up = \"20 days\"\n", "two.toml",
      mnsim::scenario_schema());
  const auto course = mnsim::protocol::make_course(two.table("course"));
  const std::vector<double> t = mnsim::default_sample_times(course);
  std::vector<double> expected;
  for (const double s : {0.0, 10 * mnsim::kDay}) {
    for (int k = 1; k < 28; ++k) expected.push_back(s + k * 6 * mnsim::kHour);
    for (int d = 7; d < 10; ++d) expected.push_back(s + d * mnsim::kDay);
  }
  EXPECT_EQ(t, expected);
}

TEST(OutputPlan, SnapshotsMayBeNoneAndTimesMustBeInsideTheFollowUp) {
  const mnsim::OutputPlan p = plan_of(scenario("[output]\nsnapshots = []\nreport = false\n"));
  EXPECT_FALSE(p.snapshots());
  EXPECT_FALSE(p.report);
  EXPECT_TRUE(p.timeseries);
  EXPECT_TRUE(
      plan_of(scenario("[output]\nsnapshots = []\nsnapshot_every = \"2 days\"\n")).snapshots());
  // A period as long as the follow-up takes no snapshot: no fields.h5.
  EXPECT_FALSE(
      plan_of(scenario("[output]\nsnapshots = []\nsnapshot_every = \"9 days\"\n")).snapshots());
  try {
    plan_of(scenario("[output]\ntimeseries_times = [\"2 days\", \"10 days\"]\n"));
    ADD_FAILURE() << "a time after the end of follow-up was accepted";
  } catch (const mnsim::InputError& e) {
    // At the list, on the line after [output].
    const auto line = std::count(kScenario.begin(), kScenario.end(), '\n') + 2;
    EXPECT_EQ(e.line(),
              "plan.toml:" + std::to_string(line) +
                  ":20: output.timeseries_times: \"10 days\" is after the end of follow-up (day "
                  "9) (times from the first session to the end of follow-up ([course] "
                  "follow_up))");
  }
}

// Ids: a [[lesions]] entry's own, else its kind and number among the lesions of that kind in the
// order the lesions are made ([surface], [[lesions]], [inventory]).
TEST(LesionIds, DefaultIdsCountEachKindAcrossPlacedAndDrawnLesions) {
  const mnsim::Table sc = mnsim::parse_scenario_text(
      "seed = 2\n[tissue]\nwidth = \"6 mm\"\nlength = \"6 mm\"\n"
      "[[lesions]]\nkind = \"icepick\"\nx = \"1 mm\"\ny = \"1 mm\"\nwidth = \"0.5 mm\"\n"
      "depth = \"0.3 mm\"\n"
      "[[lesions]]\nkind = \"boxcar\"\nid = \"b\"\nx = \"3 mm\"\ny = \"1 mm\"\n"
      "width = \"1 mm\"\ndepth = \"0.2 mm\"\n"
      "[inventory]\nicepick = 2\n",
      "ids.toml", mnsim::scenario_schema());
  const mnsim::skin::PatchSpec spec = mnsim::read_patch_spec(sc);
  const mnsim::skin::SkinPatch patch = mnsim::skin::make_patch(spec);
  EXPECT_EQ(mnsim::lesions::lesion_ids(spec.lesions, patch.lesions()),
            (std::vector<std::string>{"icepick_1", "b", "icepick_2", "icepick_3"}));
}

}  // namespace
