// `mnsim run` with a whole-face scar inventory ([face]; docs/scenario.md, docs/outputs.md): the
// Goodman & Baron grades are those of the face inventory, each class's depth mapped from the
// patch's scars of its kind and checked here by hand from the depths summary.json reports for
// them; a class with no patch scar of its kind is reported as not simulated.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

// A 5 x 3 mm forehead patch with an icepick (0.8 mm) and a shallow boxcar (0.2 mm), one pen
// session, two weeks (a few seconds). The face: 12 mid-range icepicks, 5 shallow boxcars of a
// given size, 3 mid-range deep boxcars (none on the patch: all boxcars), 4 rolling scars (none on
// the patch: not simulated).
const char* kScenario = R"(title = "face inventory"
seed = 7

[patient]
site = "forehead"

[tissue]
width = "5 mm"
length = "3 mm"
resolution = "100 um"

[[lesions]]
kind = "icepick"
x = "1.2 mm"
y = "1.5 mm"
width = "1 mm"
depth = "0.8 mm"

[[lesions]]
kind = "boxcar"
x = "3.5 mm"
y = "1.5 mm"
width = "1.5 mm"
depth = "0.2 mm"

[device]
kind = "pen"
model = "dermapen_2012"
depth = "0.5 mm"

[technique]
passes = 2

[course]
sessions = 1
follow_up = "2 weeks"

[face.icepick]
count = 12

[face.boxcar_shallow]
count = 5
depth = "0.3 mm"
width = "2.5 mm"

[face]
boxcar_deep = { count = 3 }
rolling = { count = 4, depth = "0.3 mm", width = "4 mm" }
)";

// Goodman & Baron 2006 by hand (data/grading.toml: seen from 50 um, obvious at 50 cm from
// 150 um, deep from 0.5 mm; every scar here narrower than 5 mm): the row of a scar of the
// published table and its points; the score is each row's points times 1 (1-10 scars), 2 (11-20)
// or 3 (more).
std::pair<std::string, int> row(const std::string& kind, double depth_um) {
  if (depth_um < 50) return {"not seen", 0};
  if (depth_um < 150) return {"A mildly atrophic dish-like", 1};
  if (depth_um < 500) {
    return kind == "rolling" ? std::pair<std::string, int>{"B moderately atrophic", 2}
                             : std::pair<std::string, int>{"B punched-out shallow base", 2};
  }
  if (kind == "icepick") return {"C punched-out deep abnormal base", 3};
  if (kind == "boxcar") return {"C punched-out deep normal base", 3};
  return {"C deep broad atrophic", 3};
}
int score(const std::map<std::string, std::pair<int, int>>& rows) {  // row -> (count, points)
  int total = 0;
  for (const auto& [name, r] : rows)
    total += r.second * (r.first <= 10 ? 1 : r.first <= 20 ? 2 : 3);
  return total;
}
// The class of one scar: 2 mild (< 150 um), 3 flattens on stretch, 4 does not (icepick; boxcar
// from 0.5 mm); the patient takes the worst.
int grade(const std::string& kind, double depth_um) {
  if (depth_um < 50) return 0;
  if (depth_um < 150) return 2;
  if (kind == "icepick" || (kind == "boxcar" && depth_um >= 500)) return 4;
  return 3;
}

TEST(FaceInventoryRun, GradesTheFaceInventoryMappedFromThePatch) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_face_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "face.toml") << kScenario;
  const auto r =
      run_cli({"run", (dir / "face.toml").string(), "--out", (dir / "out").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(std::ifstream(dir / "out" / "summary.json"));
  const auto& o = j["outcome"];
  ASSERT_EQ(o["scars"].size(), 2u);
  const auto& ice = o["scars"][0];
  const auto& box = o["scars"][1];
  ASSERT_EQ(ice["type"], "icepick");
  ASSERT_EQ(box["type"], "boxcar");
  const double ice_ratio =
      ice["depth_um_after"].get<double>() / ice["depth_um_before"].get<double>();
  const double box_ratio =
      box["depth_um_after"].get<double>() / box["depth_um_before"].get<double>();

  const auto& gb = o["goodman_baron"];
  EXPECT_EQ(gb["graded_on"], "face inventory");
  const auto& face = gb["face"];
  ASSERT_EQ(face.size(), 4u);
  struct Expect {
    const char* cls;
    const char* kind;
    int count;
    double before_um, after_um;
    int patch_scars;
    const char* change;
  };
  const Expect expect[] = {
      {"icepick", "icepick", 12, 1050.0, 1050.0 * ice_ratio, 1,
       "mapped from 1 patch scar of kind icepick"},
      {"boxcar_shallow", "boxcar", 5, 300.0, 300.0 * box_ratio, 1,
       "mapped from 1 patch scar of kind boxcar in depth class boxcar_shallow"},
      {"boxcar_deep", "boxcar", 3, 750.0, 750.0 * box_ratio, 1,
       "mapped from 1 patch scar of kind boxcar; none in depth class boxcar_deep, so all of the "
       "kind"},
      {"rolling", "rolling", 4, 300.0, 300.0, 0, "not simulated: no patch scar of this kind"}};
  std::map<std::string, std::pair<int, int>> rows_before, rows_after;
  int g_before = 0, g_after = 0;
  for (const Expect& e : expect) {
    SCOPED_TRACE(e.cls);
    ASSERT_TRUE(face.contains(e.cls));
    const auto& c = face[e.cls];
    EXPECT_EQ(c["kind"], e.kind);
    EXPECT_EQ(c["count"], e.count);
    EXPECT_NEAR(c["depth_um_before"].get<double>(), e.before_um, 1e-6);
    EXPECT_NEAR(c["depth_um_after"].get<double>(), e.after_um, 1e-6);
    EXPECT_EQ(c["patch_scars"], e.patch_scars);
    EXPECT_EQ(c["simulated"], e.patch_scars > 0);
    EXPECT_EQ(c["change"], e.change);
    // A class given without a depth has its scars spread over its range (data/lesions.toml:
    // icepick 600-1500 um, boxcar_deep 500-1000 um) at the quantiles (i + 1/2)/count, each
    // changed by the class's relative change; a given depth is every scar's.
    const bool spread = c["geometry"] != "given";
    const double lo = !spread ? e.before_um : e.kind == std::string("icepick") ? 600.0 : 500.0;
    const double hi = !spread ? e.before_um : e.kind == std::string("icepick") ? 1500.0 : 1000.0;
    for (int i = 0; i < e.count; ++i) {
      const double d = lo + (hi - lo) * (i + 0.5) / e.count;
      const double ratio = e.after_um / e.before_um;
      for (auto [rows, depth] : {std::pair{&rows_before, d}, {&rows_after, d * ratio}}) {
        const auto [name, points] = row(e.kind, depth);
        (*rows)[name].first += 1;
        (*rows)[name].second = points;
      }
      g_before = std::max(g_before, grade(e.kind, d));
      g_after = std::max(g_after, grade(e.kind, d * ratio));
    }
  }
  EXPECT_EQ(face["icepick"]["geometry"], "width mid-range, depths spread over the class range");
  EXPECT_EQ(face["boxcar_shallow"]["geometry"], "given");
  // The patch scars got shallower, the face scars mapped from them too.
  EXPECT_LT(ice_ratio, 1.0);
  EXPECT_LT(box_ratio, 1.0);
  EXPECT_EQ(gb["quantitative_before"], score(rows_before));
  EXPECT_EQ(gb["quantitative_after"], score(rows_after));
  // Before: 12 deep icepicks 3 x 2, 5 shallow boxcars 2, 3 deep boxcars 3, 4 rolling 2.
  EXPECT_EQ(gb["quantitative_before"], 13);
  EXPECT_EQ(gb["qualitative_before"], g_before);
  EXPECT_EQ(gb["qualitative_after"], g_after);
  EXPECT_EQ(g_before, 4);  // icepicks do not flatten on stretch

  // The score row by row (summary.json `quantitative_rows`): the rows counted by hand above,
  // before and after, each with its points times the multiplier of its count, adding up to the
  // score; and the sentence that says how it moved.
  for (const bool after : {false, true}) {
    SCOPED_TRACE(after ? "after" : "before");
    const auto& hand = after ? rows_after : rows_before;
    std::multiset<std::pair<int, int>> want, got;  // (scars in the row, the row's points)
    for (const auto& [name, rp] : hand)
      if (name != "not seen") want.insert(rp);
    int total = 0;
    for (const auto& x : gb["quantitative_rows"]) {
      const int n = x[after ? "count_after" : "count_before"].get<int>();
      const int pts = x[after ? "points_after" : "points_before"].get<int>();
      const int row_points = x["row_points"].get<int>();
      if (n > 0) got.insert({n, row_points});
      EXPECT_EQ(pts, n == 0 ? 0 : row_points * (n <= 10 ? 1 : n <= 20 ? 2 : 3)) << x.dump();
      total += pts;
    }
    EXPECT_EQ(got, want);
    EXPECT_EQ(total, gb[after ? "quantitative_after" : "quantitative_before"].get<int>());
  }
  const std::string how = gb["score_change"].get<std::string>();
  const int q0 = gb["quantitative_before"].get<int>(), q1 = gb["quantitative_after"].get<int>();
  const std::string says_what =
      q0 == q1 ? fmt::format("unchanged at {}", q0) : fmt::format("from {} to {}", q0, q1);
  const bool says = how.find(says_what) != std::string::npos;
  EXPECT_TRUE(says) << how;
  EXPECT_EQ(gb["scars_deeper"], 0);

  // The text summary and the report say which inventory is graded, and the score row by row.
  EXPECT_NE(r.out.find("score by row (points per row): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(how), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Goodman & Baron on the face inventory (24 scars"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rolling 4 x 300 -> 300 um (not simulated: no patch scar of this kind)"),
            std::string::npos)
      << r.out;
  const std::string html = mnsim::test::slurp(dir / "out" / "report.html");
  EXPECT_NE(html.find("Goodman &amp; Baron grade the patient&#39;s face inventory"),
            std::string::npos);
  EXPECT_NE(html.find("Face inventory: 4 x rolling"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
