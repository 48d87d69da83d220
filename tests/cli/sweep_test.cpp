// `mnsim sweep` (docs/sweep.md): points in grid and zip order, every point's scenario checked
// before anything runs (a bad value named at its place in the sweep file, exit 2, nothing
// written), one tidy CSV whose rows do not depend on --jobs, and a sweep stopped part way
// resumed to the same CSV.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "run/sweep.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;
using mnsim::test::slurp;

namespace {

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

/// A base scenario that runs in well under a second: a 1 x 1 mm forehead patch, one pen session,
/// two days of healing.
fs::path base_scenario(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path p = dir / "base.toml";
  std::ofstream(p) << R"(seed = 3
[patient]
site = "forehead"
age = "40 years"
[tissue]
width = "1 mm"
length = "1 mm"
resolution = "100 um"
[[lesions]]
kind = "boxcar"
x = "0.5 mm"
y = "0.5 mm"
width = "0.6 mm"
depth = "0.2 mm"
[device]
kind = "pen"
model = "dermapen_2012"
depth = "0.5 mm"
[technique]
passes = 1
[course]
sessions = 1
follow_up = "2 days"
[output]
snapshots = ["end"]
)";
  return p;
}

fs::path sweep_file(const fs::path& dir, const std::string& body) {
  const fs::path p = dir / "sweep.toml";
  std::ofstream(p) << "scenario = \"base.toml\"\n" << body;
  return p;
}

/// The CSV without its run.wall_time_s column (the only one that depends on the machine).
std::string without_wall_time(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  long drop = -1;
  bool header = true;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) {
        f.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    f.push_back(cell);
    if (header) {
      for (std::size_t i = 0; i < f.size(); ++i)
        if (f[i] == "run.wall_time_s") drop = static_cast<long>(i);
      header = false;
    }
    for (std::size_t i = 0; i < f.size(); ++i)
      if (static_cast<long>(i) != drop) out += f[i] + "|";
    out += "\n";
  }
  return out;
}

TEST(SweepFile, GridVariesTheLastAxisFastestAndZipPairsValues) {
  const fs::path dir = fresh("mnsim_sweep_order");
  base_scenario(dir);
  const mnsim::SweepSpec g = mnsim::load_sweep(
      sweep_file(dir,
                 "[[axis]]\nkey = \"device.depth\"\nvalues = [\"0.25 mm\", \"0.5 mm\"]\n"
                 "[[axis]]\nkey = \"technique.passes\"\nvalues = [1, 2, 3]\n")
          .string());
  ASSERT_EQ(g.points.size(), 6u);
  const auto o = g.overrides(4);  // second depth, second passes
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].key, "device.depth");
  EXPECT_EQ(o[0].value, "\"0.5 mm\"");
  EXPECT_EQ(o[1].value, "2");
  const mnsim::SweepSpec z = mnsim::load_sweep(
      sweep_file(dir,
                 "mode = \"zip\"\n[[axis]]\nkey = \"device.depth\"\nvalues = [\"0.25 mm\", "
                 "\"0.5 mm\"]\n[[axis]]\nkey = \"technique.passes\"\nvalues = [3, 1]\n")
          .string());
  ASSERT_EQ(z.points.size(), 2u);
  EXPECT_EQ(z.overrides(1)[0].value, "\"0.5 mm\"");
  EXPECT_EQ(z.overrides(1)[1].value, "1");
  fs::remove_all(dir);
}

TEST(SweepFile, ABadValueIsNamedAtItsPlaceAndNothingIsWritten) {
  const fs::path dir = fresh("mnsim_sweep_bad");
  base_scenario(dir);
  const fs::path out = dir / "out";
  struct Case {
    std::string body, where, what;
  };
  const std::vector<Case> cases = {
      // The second value of the first axis: line 4, column 21.
      {"[[axis]]\nkey = \"device.depth\"\nvalues = [\"0.5 mm\", \"9 kg\"]\n",
       ":4:21:", "point 2 (device.depth = 9 kg)"},
      {"[[axis]]\nkey = \"device.dept\"\nvalues = [\"0.5 mm\"]\n", ":4:11:", "did you mean"},
      {"mode = \"zip\"\n[[axis]]\nkey = \"device.depth\"\nvalues = [\"0.5 mm\"]\n[[axis]]\n"
       "key = \"technique.passes\"\nvalues = [1, 2]\n",
       ":8:10:", "2 values, but the first axis has 1"},
      {"[[axis]]\nkey = \"technique.passes\"\nvalues = [1]\n[[axis]]\nkey = "
       "\"technique.passes\"\nvalues = [2]\n",
       ":6:7:", "swept twice"},
      {"[[axis]]\nkey = \"technique.passes\"\nvalues = []\n", ":4:10:", "empty list"},
      {"[[axis]]\nkey = \"technique.passes\"\nvalues = [[1]]\n", ":4:11:", "list item is"},
      {"title = \"no axis\"\n", ":1:1:", "[[axis]]"},
  };
  for (const Case& c : cases) {
    const fs::path f = sweep_file(dir, c.body);
    const auto r = run_cli({"sweep", f.string(), "--out", out.string()});
    EXPECT_EQ(r.exit_code, 2) << c.body << r.err;
    EXPECT_EQ(r.err.rfind("error: " + f.string() + c.where, 0), 0u) << c.body << r.err;
    EXPECT_NE(r.err.find(c.what), std::string::npos) << c.body << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.body;
    // `mnsim check` gives the same message.
    const auto ck = run_cli({"check", f.string()});
    EXPECT_EQ(ck.exit_code, 2) << c.body;
    EXPECT_EQ(ck.err, r.err);
  }
  fs::remove_all(dir);
}

TEST(SweepRun, OneTidyCsvWhateverTheJobsAndRunsKeptOnRequest) {
  const fs::path dir = fresh("mnsim_sweep_jobs");
  base_scenario(dir);
  const fs::path f = sweep_file(dir,
                                "keep_runs = true\n[[axis]]\nkey = \"device.depth\"\nvalues = "
                                "[\"0.25 mm\", \"1.0 mm\"]\n[[axis]]\nkey = \"technique.passes\"\n"
                                "values = [1, 2]\n");
  const auto c = run_cli({"check", f.string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("a valid sweep file (4 points"), std::string::npos) << c.out;
  const auto one = run_cli({"sweep", f.string(), "--out", (dir / "one").string(), "-q"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto two = run_cli(
      {"sweep", f.string(), "--out", (dir / "two").string(), "--jobs", "2", "-j", "2", "-q"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const std::string csv = slurp(dir / "one" / "sweep.csv");
  EXPECT_EQ(without_wall_time(csv), without_wall_time(slurp(dir / "two" / "sweep.csv")));
  // A header and four rows, each "ok", with the axis values as written.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  EXPECT_EQ(csv.rfind("point,status,device.depth,technique.passes,outcome.", 0), 0u) << csv;
  EXPECT_NE(csv.find("\n4,ok,1.0 mm,2,"), std::string::npos) << csv;
  // The outcome moves with the dose: deeper needles and more passes change the collagen.
  EXPECT_NE(without_wall_time(csv).find("outcome.collagen_change_pct.papillary"),
            std::string::npos);
  for (const char* p : {"0001", "0004"}) {
    EXPECT_TRUE(fs::exists(dir / "one" / "runs" / p / "summary.json")) << p;
  }
  EXPECT_FALSE(fs::exists(dir / "one" / "checkpoint"));
  // The same folder again without --force: it is an mnsim output folder, replaced.
  fs::remove_all(dir);
}

TEST(SweepRun, AStoppedSweepResumesToTheSameCsv) {
  const fs::path dir = fresh("mnsim_sweep_resume");
  base_scenario(dir);
  const mnsim::SweepSpec spec = mnsim::load_sweep(
      sweep_file(dir, "[[axis]]\nkey = \"technique.passes\"\nvalues = [1, 2, 3]\n").string());
  mnsim::SweepOptions full;
  full.out_dir = dir / "full";
  mnsim::run_sweep(spec, full);

  mnsim::StopToken stop;
  mnsim::SweepOptions o;
  o.out_dir = dir / "part";
  o.stop = &stop;
  o.on_point = [&](std::size_t done, std::size_t) {
    if (done == 1) stop.request(SIGINT);
  };
  EXPECT_THROW(mnsim::run_sweep(spec, o), mnsim::Interrupted);
  EXPECT_FALSE(fs::exists(dir / "part" / "sweep.csv"));
  EXPECT_TRUE(fs::exists(dir / "part" / "checkpoint" / "points" / "0001.json"));
  // Without --resume (or --force) the checkpoint is not thrown away.
  mnsim::SweepOptions again;
  again.out_dir = dir / "part";
  EXPECT_THROW(mnsim::run_sweep(spec, again), mnsim::InputError);
  mnsim::SweepOptions resume = again;
  resume.resume = true;
  const mnsim::SweepResult r = mnsim::run_sweep(spec, resume);
  EXPECT_EQ(r.resumed, 1u);
  EXPECT_TRUE(r.failed.empty());
  EXPECT_EQ(without_wall_time(slurp(dir / "part" / "sweep.csv")),
            without_wall_time(slurp(dir / "full" / "sweep.csv")));
  EXPECT_FALSE(fs::exists(dir / "part" / "checkpoint"));
  fs::remove_all(dir);
}

TEST(SweepRun, ResumingAnotherSweepIsRefused) {
  const fs::path dir = fresh("mnsim_sweep_other");
  base_scenario(dir);
  const auto a = mnsim::load_sweep(
      sweep_file(dir, "[[axis]]\nkey = \"technique.passes\"\nvalues = [1, 2]\n").string());
  mnsim::StopToken stop;
  mnsim::SweepOptions o;
  o.out_dir = dir / "out";
  o.stop = &stop;
  o.on_point = [&](std::size_t, std::size_t) { stop.request(SIGTERM); };
  EXPECT_THROW(mnsim::run_sweep(a, o), mnsim::Interrupted);
  const auto b = mnsim::load_sweep(
      sweep_file(dir, "[[axis]]\nkey = \"technique.passes\"\nvalues = [1, 3]\n").string());
  mnsim::SweepOptions resume;
  resume.out_dir = dir / "out";
  resume.resume = true;
  try {
    mnsim::run_sweep(b, resume);
    ADD_FAILURE() << "resumed another sweep";
  } catch (const mnsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another sweep"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
