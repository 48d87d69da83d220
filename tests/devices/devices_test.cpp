#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numbers>

#include "core/scenario.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "run/scenario_schema.hpp"
#include "support/skin.hpp"

namespace mnsim::devices {
namespace {

using std::numbers::pi;

Table scenario(const std::string& text) {
  return parse_scenario_text(text, "test.toml", scenario_schema());
}

skin::SkinProfile cheek() {
  return test::cheek_profile();
}

struct Trial {
  Punctures p;
  DensityStats d;
  std::unique_ptr<Device> dev;
  Technique tq;
};

Trial run(const std::string& text, const Rect& area, std::uint64_t seed) {
  const Table sc = scenario(text);
  Trial r;
  r.dev = make_device(device_spec(sc.table("device")), DeviceCatalog::defaults());
  r.tq = Technique::from_table(sc.table("technique"));
  r.p = r.dev->generate(r.tq, area, cheek(), mechanics::PenetrationParams::defaults(), seed);
  r.d = density_stats(density_map(r.p, area, 1e-3));
  return r;
}

const char* kRoller = "[device]\nmodel = \"roller_192_mf8\"\n";

TEST(Roller, OnePassGivesNOverPiDW) {
  // 192 / (pi x 2 cm x 2 cm) = 15.28 punctures/cm^2 per pass, strokes edge to edge.
  const double expected = 192.0 / (pi * 2.0 * 2.0);
  const Rect area{0, 0, 0.10, 0.10};
  double sum = 0.0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const Trial r =
        run(std::string(kRoller) + "[technique]\npasses = 1\noverlap = \"0 %\"\n", area, seed);
    EXPECT_NEAR(r.dev->density_per_pass(r.tq) * 1e-4, expected, 1e-9);
    sum += r.d.mean * 1e-4;
  }
  EXPECT_NEAR(sum / 4.0, expected, 0.05 * expected);
}

TEST(Roller, FifteenPassesLandIn230To250) {
  const Trial r = run(std::string(kRoller) + "[technique]\npasses = 15\n", {0, 0, 0.04, 0.04}, 3);
  const double mean = r.d.mean * 1e-4;
  EXPECT_GE(mean, 230.0);
  EXPECT_LE(mean, 250.0);
}

TEST(Roller, DensityIsLinearInPasses) {
  const Rect area{0, 0, 0.06, 0.06};
  const Trial one = run(std::string(kRoller) + "[technique]\npasses = 2\n", area, 11);
  const double per_pass = one.d.mean / 2.0;
  for (int passes : {4, 8, 16}) {
    const Trial r = run(
        std::string(kRoller) + "[technique]\npasses = " + std::to_string(passes) + "\n", area, 11);
    EXPECT_NEAR(r.d.mean / passes, per_pass, 0.05 * per_pass) << passes << " passes";
  }
}

TEST(Roller, MoreDirectionsLowerTheCV) {
  // Passes in one direction stack the rows' tracks on the same lanes; crossing directions
  // spread them. A steady hand shows it on the 1 mm grid, for every seed.
  const Rect area{0, 0, 0.05, 0.05};
  const std::string steady = "jitter_position = \"0 mm\"\njitter_angle = \"0 deg\"\n";
  auto cv = [&](const std::string& dirs, const std::string& hand, std::uint64_t seed, double cell) {
    const Trial r =
        run(std::string(kRoller) + "[technique]\npasses = 8\ndirections = " + dirs + "\n" + hand,
            area, seed);
    return density_stats(density_map(r.p, area, cell)).cv;
  };
  const std::string d1 = "[\"horizontal\"]", d2 = "[\"horizontal\", \"vertical\"]",
                    d4 = "[\"horizontal\", \"vertical\", \"diagonal\", \"antidiagonal\"]";
  for (std::uint64_t seed : {1, 2, 3}) {
    const double c1 = cv(d1, steady, seed, 1e-3), c2 = cv(d2, steady, seed, 1e-3),
                 c4 = cv(d4, steady, seed, 1e-3);
    EXPECT_GT(c1, c2) << "seed " << seed;
    EXPECT_GT(c2, c4) << "seed " << seed;
  }
  // With the default hand jitter (1 mm, 3 deg) the lanes blur at 1 mm, but the stroke-edge
  // gaps and overlaps still line up in one direction: compare 5 mm cells, averaged over seeds.
  double c1 = 0.0, c4 = 0.0;
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    c1 += cv(d1, "", seed, 5e-3);
    c4 += cv(d4, "", seed, 5e-3);
  }
  EXPECT_GT(c1, c4);
}

TEST(Roller, ChannelsAreTiltedAndElongatedByTheArc) {
  const Trial r = run(std::string(kRoller) + "[technique]\npasses = 1\n", {0, 0, 0.02, 0.02}, 5);
  ASSERT_FALSE(r.p.empty());
  const double R = 0.01;
  for (const auto& p : r.p) {
    EXPECT_NEAR(p.tilt, std::acos(R / (R + p.depth)), 1e-12);
    const double half = std::sqrt((R + p.depth) * (R + p.depth) - R * R) - R * p.tilt;
    EXPECT_NEAR(p.surface_length, 2 * half + 2 * p.radius, 1e-12);
    EXPECT_GT(p.surface_length, 2 * p.radius);
    EXPECT_LT(p.depth, p.nominal_length);
  }
}

TEST(Pen, ElevenNeedlesAt90HzMakeAbout990PerSecond) {
  const Trial r =
      run("[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\n"
          "[technique]\npasses = 1\ndirections = [\"horizontal\"]\n",
          {0, 0, 0.10, 0.05}, 2);
  // Count the punctures of the middle stroke inside a time window away from the area's edges.
  std::map<std::uint32_t, std::vector<double>> times;
  for (const auto& p : r.p) times[p.stroke].push_back(p.t);
  const auto& t = times[static_cast<std::uint32_t>(times.size() / 2)];
  ASSERT_GT(t.size(), 1000u);
  const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
  const double a = *lo + 0.25, b = *hi - 0.25;
  const auto n = std::count_if(t.begin(), t.end(), [&](double x) { return x >= a && x < b; });
  EXPECT_NEAR(static_cast<double>(n) / (b - a), 990.0, 0.02 * 990.0);
  for (const auto& p : r.p) EXPECT_EQ(p.tilt, 0.0);
}

TEST(Pen, DensityPerPassMatchesStampGeometry) {
  const Rect area{0, 0, 0.05, 0.05};
  // Speed jitter is off: pen density goes as 1/speed, so a varying hand varies it by design.
  const Trial r =
      run("[device]\nkind = \"pen\"\nmodel = \"skinpen_precision\"\n"
          "[technique]\npasses = 2\noverlap = \"0 %\"\njitter_speed = \"0 %\"\n",
          area, 4);
  const double expected = r.dev->density_per_pass(r.tq) * 2;  // 14 x 116.7 Hz / (v w) per pass
  EXPECT_NEAR(expected, 2 * 14 * 116.7 / (0.05 * 0.0045), 1e-6 * expected);
  EXPECT_NEAR(r.d.mean, expected, 0.05 * expected);
}

TEST(Stamp, DensityIsOneOverPitchSquaredPerPass) {
  const Rect area{0, 0, 0.03, 0.03};
  const Trial r =
      run("[device]\nkind = \"stamp\"\n[technique]\npasses = 4\noverlap = \"0 %\"\n", area, 9);
  EXPECT_NEAR(r.d.mean, 4 / (1e-3 * 1e-3), 0.05 * 4e6);
}

TEST(Catalog, HoldsTheReferenceDevices) {
  const auto& c = DeviceCatalog::defaults();
  const auto* mf8 = c.find("roller_192_mf8");
  ASSERT_NE(mf8, nullptr);
  EXPECT_EQ(mf8->integer("rows") * mf8->integer("needles_per_row"), 192);
  EXPECT_DOUBLE_EQ(mf8->quantity("drum_diameter", Dim::Length), 0.02);
  const auto lengths = mf8->quantities("needle_lengths", Dim::Length);
  EXPECT_DOUBLE_EQ(lengths.front(), 0.2e-3);
  EXPECT_DOUBLE_EQ(lengths.back(), 2.5e-3);
  EXPECT_DOUBLE_EQ(c.find("roller_192_fernandes")->quantity("needle_diameter", Dim::Length), 70e-6);
  std::map<long long, double> pens;
  for (const auto& e : c.entries()) {
    if (e.text("kind") == "pen")
      pens[e.integer("needles")] = e.quantity("frequency", Dim::Frequency);
    for (const auto& k : e.keys()) {
      if (k != "kind" && k != "name") {
        EXPECT_FALSE(e.source(k).empty()) << e.id() << "." << k;
      }
    }
  }
  for (long long n : {11, 12, 14, 36}) EXPECT_TRUE(pens.count(n)) << n << "-needle pen";
  EXPECT_DOUBLE_EQ(pens[11], 90.0);
  EXPECT_FALSE(c.listing().empty());
}

TEST(Scenario, OverridesAndErrorsNameTheKey) {
  const Table sc = scenario("[device]\nmodel = \"roller_192_mf8\"\nneedle_length = \"0.5 mm\"\n");
  const auto dev = make_device(device_spec(sc.table("device")), DeviceCatalog::defaults());
  EXPECT_DOUBLE_EQ(dev->needle().length, 0.5e-3);
  auto expect_error = [](const std::string& text, const std::string& key, int line) {
    const Table t = scenario(text);
    try {
      make_device(device_spec(t.table("device")), DeviceCatalog::defaults());
      FAIL() << "expected an error for " << key;
    } catch (const InputError& e) {
      EXPECT_EQ(e.key(), key);
      EXPECT_EQ(e.loc().file, "test.toml");
      EXPECT_EQ(e.loc().line, line);
    }
  };
  expect_error("[device]\nmodel = \"roller_192_mf8\"\nneedle_length = \"0.6 mm\"\n",
               "device.needle_length", 3);
  expect_error("[device]\nmodel = \"rollr_192_mf8\"\n", "device.model", 2);
  expect_error("[device]\nmodel = \"dermapen_2012\"\n", "device.model", 2);
  expect_error("[device]\nkind = \"pen\"\ndepth = \"3 mm\"\n", "device.depth", 3);
  expect_error("[device]\ntip_radius = \"200 um\"\n", "device.tip_radius", 2);
  // A treatment too large to hold is refused at technique.passes.
  const Table huge =
      scenario("[device]\nkind = \"pen\"\n[technique]\npasses = 1000\nspeed = \"0.1 mm/s\"\n");
  try {
    run_device_stage(device_spec(huge.table("device")),
                     Technique::from_table(huge.table("technique")), cheek(), {0, 0, 0.1, 0.1}, 1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "technique.passes");
    EXPECT_EQ(e.loc().line, 4);
  }
  // Variant keys are checked by the schema.
  EXPECT_THROW(scenario("[device]\nkind = \"roller\"\nfrequency = \"90 Hz\"\n"), InputError);
}

bool same(const Punctures& a, const Punctures& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (std::memcmp(&x.x, &y.x, sizeof(double)) || std::memcmp(&x.y, &y.y, sizeof(double)) ||
        std::memcmp(&x.t, &y.t, sizeof(double)) ||
        std::memcmp(&x.depth, &y.depth, sizeof(double)) ||
        std::memcmp(&x.force, &y.force, sizeof(double)) || x.needle != y.needle ||
        x.pass != y.pass || x.stroke != y.stroke || x.layer != y.layer || x.bled != y.bled) {
      return false;
    }
  }
  return true;
}

TEST(Determinism, SameSeedSamePuncturesAnyThreadCount) {
  const Rect area{0, 0, 0.05, 0.04};
  const std::string text = std::string(kRoller) + "[technique]\npasses = 6\n";
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Trial a = run(text, area, 42);
  omp_set_num_threads(2);
  const Trial b = run(text, area, 42);
  omp_set_num_threads(4);
  const Trial c = run(text, area, 42);
  omp_set_num_threads(saved);
  EXPECT_TRUE(same(a.p, b.p));
  EXPECT_TRUE(same(a.p, c.p));
  // The pen too (stamps, a different code path).
  const std::string pen = "[device]\nkind = \"pen\"\nmodel = \"pen_36\"\n[technique]\npasses = 2\n";
  omp_set_num_threads(1);
  const Trial p1 = run(pen, area, 42);
  omp_set_num_threads(2);
  const Trial p2 = run(pen, area, 42);
  omp_set_num_threads(saved);
  EXPECT_TRUE(same(p1.p, p2.p));
  const Trial d = run(text, area, 43);
  EXPECT_FALSE(same(a.p, d.p));
  // Different seeds differ realistically: same mean density, different positions.
  EXPECT_NEAR(d.d.mean, a.d.mean, 0.06 * a.d.mean);
}

TEST(Stage, StatisticsAreConsistent) {
  const Table sc = scenario(std::string(kRoller) + "needle_length = \"0.5 mm\"\n");
  const Rect area{0, 0, 0.03, 0.02};
  const StageResult r =
      run_device_stage(device_spec(sc.table("device")),
                       Technique::from_table(sc.table("technique")), cheek(), area, 1);
  const auto& st = r.stats;
  EXPECT_EQ(st["punctures"].get<std::size_t>(), r.punctures.size());
  EXPECT_NEAR(st["density_per_cm2"]["mean"].get<double>(), r.punctures.size() / (area.area() * 1e4),
              1e-9);
  EXPECT_DOUBLE_EQ(st["fraction_reaching_layer"]["stratum_corneum"].get<double>(), 1.0);
  double bled = 0;
  for (const auto& p : r.punctures) bled += p.bled;
  EXPECT_NEAR(st["fraction_bleeding"].get<double>(), bled / r.punctures.size(), 1e-12);
  const auto csv = punctures_csv(r.punctures);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')),
            r.punctures.size() + 1);
}

}  // namespace
}  // namespace mnsim::devices

namespace mnsim::devices {
namespace {

TEST(Technique, LanesCoverTheAreaEdgeToEdge) {
  Technique tq;
  tq.passes = 4;
  tq.directions = {0.0, 0.5 * pi, 0.25 * pi, 0.75 * pi};
  tq.jitter_position = tq.jitter_angle = tq.jitter_force = tq.jitter_speed = 0.0;
  tq.overlap = 0.1;
  const Rect area{0.01, 0.02, 0.05, 0.045};
  const double w = 0.02;
  const auto strokes = plan_strokes(tq, area, w, 7);
  for (int pass = 0; pass < 4; ++pass) {
    // Sample points of the area: each lies inside the band of some stroke of this pass.
    for (double x = area.x0; x < area.x1; x += 0.0013) {
      for (double y = area.y0; y < area.y1; y += 0.0011) {
        bool covered = false;
        for (const auto& s : strokes) {
          if (static_cast<int>(s.pass) != pass) continue;
          const double along = (x - s.x0) * s.ux + (y - s.y0) * s.uy;
          const double across = -(x - s.x0) * s.uy + (y - s.y0) * s.ux;
          if (along >= 0 && along <= s.length && std::abs(across) <= 0.5 * w) covered = true;
        }
        EXPECT_TRUE(covered) << "pass " << pass << " at " << x << ", " << y;
      }
    }
  }
  // Adjacent lanes are one swath x (1 - overlap) apart, and strokes alternate direction.
  const Stroke& a = strokes[0];
  const Stroke& b = strokes[1];
  EXPECT_NEAR(std::abs(-(b.x0 - a.x0) * a.uy + (b.y0 - a.y0) * a.ux), w * 0.9, 1e-12);
  EXPECT_NEAR(a.ux * b.ux + a.uy * b.uy, -1.0, 1e-12);
}

TEST(Punctures, BleedWhenTheyReachThePlexus) {
  const Table sc = scenario(
      "[device]\nmodel = \"roller_192_mf8\"\nneedle_length = \"0.5 mm\"\n"
      "[technique]\npasses = 1\n");
  const auto dev = make_device(device_spec(sc.table("device")), DeviceCatalog::defaults());
  const Technique tq = Technique::from_table(sc.table("technique"));
  auto skin = cheek();
  const Rect area{0, 0, 0.02, 0.02};
  const auto& mech = mechanics::PenetrationParams::defaults();
  const Punctures p = dev->generate(tq, area, skin, mech, 1);
  ASSERT_FALSE(p.empty());
  // The stroke's force (hand jitter) changes the depth reached, so depths differ by stroke.
  double shallowest = p.front().depth, deepest = p.front().depth;
  for (const auto& q : p) {
    EXPECT_EQ(q.bled, q.depth >= skin.plexus_depth);
    EXPECT_EQ(q.layer, skin.layer_at(q.depth));
    shallowest = std::min(shallowest, q.depth);
    deepest = std::max(deepest, q.depth);
  }
  skin.plexus_depth = deepest + 1e-6;  // just below the needles' reach: nobody bleeds
  for (const auto& q : dev->generate(tq, area, skin, mech, 1)) EXPECT_FALSE(q.bled);
  skin.plexus_depth = shallowest - 1e-6;
  for (const auto& q : dev->generate(tq, area, skin, mech, 1)) EXPECT_TRUE(q.bled);
}

TEST(Pen, OpeningIsDraggedByTheGlide) {
  const Table sc = scenario(
      "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\n"
      "[technique]\npasses = 1\njitter_speed = \"0 %\"\n");
  const auto dev = make_device(device_spec(sc.table("device")), DeviceCatalog::defaults());
  const Technique tq = Technique::from_table(sc.table("technique"));
  const Punctures p =
      dev->generate(tq, {0, 0, 0.01, 0.01}, cheek(), mechanics::PenetrationParams::defaults(), 1);
  ASSERT_FALSE(p.empty());
  const double d = p.front().depth;
  const double c = std::acos(1.0 - 2.0 * d / 3e-3) / pi;  // sinusoidal travel of 3 mm
  EXPECT_NEAR(p.front().surface_length, 2 * p.front().radius + 0.05 * c / 90.0, 1e-12);
}

TEST(Roller, FernandesRollerHasTheSameDensityAsTheStandardDrum) {
  const Table a = scenario("[device]\nmodel = \"roller_192_fernandes\"\n");
  const Table b = scenario("[device]\nmodel = \"roller_192_mf8\"\n");
  const Technique tq = Technique::from_table(a.table("technique"));
  const auto fa = make_device(device_spec(a.table("device")), DeviceCatalog::defaults());
  const auto fb = make_device(device_spec(b.table("device")), DeviceCatalog::defaults());
  EXPECT_DOUBLE_EQ(fa->density_per_pass(tq), fb->density_per_pass(tq));
  EXPECT_DOUBLE_EQ(fa->needle().diameter, 70e-6);
  // Same tip, so the same puncture force; but the half-space stiffness grows with the needle
  // radius (k = 2 a E / (1 - nu^2)), so the 70 um needle dimples more and reaches less deep.
  const auto& m = mechanics::PenetrationParams::defaults();
  EXPECT_LT(mechanics::penetrate(fa->needle(), 0.1, cheek(), m).depth,
            mechanics::penetrate(fb->needle(), 0.1, cheek(), m).depth);
}

}  // namespace
}  // namespace mnsim::devices

namespace mnsim::devices {
namespace {

double mean_depth(const std::string& device, const std::string& force) {
  const Table sc = scenario(device + "[technique]\npasses = 2\nforce = \"" + force + "\"\n");
  const StageResult r = run_device_stage(device_spec(sc.table("device")),
                                         Technique::from_table(sc.table("technique")), cheek(),
                                         {0, 0, 0.02, 0.02}, 5);
  return r.punctures.empty() ? 0.0 : r.stats["depth_um"]["mean"].get<double>();
}

TEST(Roller, DepthReachedIsMonotoneInLengthAndForce) {
  double prev = 0.0;
  for (const char* len : {"0.2 mm", "0.25 mm", "0.3 mm", "0.5 mm", "0.75 mm", "1.0 mm", "1.5 mm",
                          "2.0 mm", "2.5 mm"}) {
    const double d = mean_depth(std::string(kRoller) + "needle_length = \"" + len + "\"\n", "3 N");
    // The shortest needles may not puncture at all (the drum meets the skin before the tip
    // has pressed the puncture force into it); once they do, longer is strictly deeper.
    EXPECT_GE(d, prev) << len;
    if (prev > 0.0) {
      EXPECT_GT(d, prev) << len;
    }
    EXPECT_LT(d, parse_quantity(len, Dim::Length).si * 1e6) << len;
    if (parse_quantity(len, Dim::Length).si >= 0.5e-3) {
      EXPECT_GT(d, 0.0) << len;
    }
    prev = d;
  }
  // Force: nothing below the puncture threshold (0.015 N per needle x 31.6 needles = 0.47 N),
  // then deeper (force-limited, then the drum's pressure stiffens the skin) towards the nominal
  // length.
  prev = -1.0;
  double first = 0.0;
  for (const char* f : {"0.2 N", "0.4 N", "0.5 N", "0.55 N", "0.6 N", "1 N", "3 N", "10 N"}) {
    const double d = mean_depth(std::string(kRoller), f);
    EXPECT_GE(d, prev) << f;
    if (first == 0.0 && d > 0.0) first = d;
    prev = d;
  }
  EXPECT_EQ(mean_depth(std::string(kRoller), "0.2 N"), 0.0);
  EXPECT_GT(prev, first);
}

}  // namespace
}  // namespace mnsim::devices
