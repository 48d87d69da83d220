// Lesion shapes, the lesion data file, the factory and seeded inventories.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <cmath>
#include <numbers>
#include <regex>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "lesions/factory.hpp"
#include "lesions/lesion_data.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

using namespace mnsim;
using namespace mnsim::lesions;

namespace {

// Midpoint-rule integral of the depression over its bounding box on an n x n lattice.
double integrate(const Lesion& l, int n = 2000) {
  const Box b = l.bounds();
  const double hx = (b.x1 - b.x0) / n, hy = (b.y1 - b.y0) / n;
  double v = 0.0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) v += l.depression(b.x0 + (i + 0.5) * hx, b.y0 + (j + 0.5) * hy);
  }
  return v * hx * hy;
}

Table scenario(const std::string& body) {
  return parse_scenario_text(body, "/tmp/lesions_test.toml", scenario_schema());
}

}  // namespace

TEST(Shapes, AnalyticVolumesMatchQuadrature) {
  const Effects e;
  const double pi = std::numbers::pi;
  const Icepick ice(0, 0, 1e-3, 0.8e-3, e);
  EXPECT_DOUBLE_EQ(ice.volume(), pi * 0.25e-6 * 0.8e-3 / 3);
  EXPECT_NEAR(integrate(ice) / ice.volume(), 1.0, 1e-4);
  const Boxcar box(0, 0, 3e-3, 0.4e-3, 15 * pi / 180, e);
  EXPECT_NEAR(box.floor_radius(), 1.5e-3 - 0.4e-3 * std::tan(15 * pi / 180), 1e-15);
  EXPECT_NEAR(integrate(box) / box.volume(), 1.0, 1e-4);
  const Boxcar steep(0, 0, 0.4e-3, 1e-3, 45 * pi / 180, e);  // walls meet: a cone
  EXPECT_DOUBLE_EQ(steep.floor_radius(), 0.0);
  EXPECT_NEAR(integrate(steep) / steep.volume(), 1.0, 1e-4);
  Effects band;
  band.tether_radius = 0.15e-3;
  const Rolling roll(0, 0, 5e-3, 0.3e-3, true, band);
  EXPECT_NEAR(integrate(roll) / roll.volume(), 1.0, 1e-4);
  const Linear striae(Linear::Profile::Striae, 0, 0, 8e-3, 2e-3, 0.1e-3, 0.0, e);
  EXPECT_NEAR(integrate(striae) / striae.volume(), 1.0, 1e-4);
  const Linear wrinkle(Linear::Profile::Wrinkle, 0, 0, 5e-3, 0.3e-3, 0.05e-3, 0.0, e);
  EXPECT_NEAR(integrate(wrinkle) / wrinkle.volume(), 1.0, 1e-4);
  // Rotation: the same band at 90 degrees runs along y.
  const Linear turned(Linear::Profile::Wrinkle, 0, 0, 5e-3, 0.3e-3, 0.05e-3, pi / 2, e);
  EXPECT_NEAR(turned.depression(0, 2e-3), 0.05e-3, 1e-18);
  EXPECT_DOUBLE_EQ(turned.depression(2e-3, 0), 0.0);
  EXPECT_NEAR(turned.bounds().y1, 2.5e-3, 1e-15);
  // Profiles.
  EXPECT_DOUBLE_EQ(box.depression(0.5e-3, 0), 0.4e-3);
  EXPECT_DOUBLE_EQ(box.depression(1.6e-3, 0), 0.0);
  EXPECT_DOUBLE_EQ(roll.depression(0, 0), 0.3e-3);
  EXPECT_NEAR(roll.depression(1.25e-3, 0), 0.15e-3, 1e-15);
  EXPECT_TRUE(roll.tethered(0.1e-3, 0));
  EXPECT_FALSE(roll.tethered(0.2e-3, 0));
  EXPECT_FALSE(Rolling(0, 0, 5e-3, 0.3e-3, false, band).tethered(0, 0));
}

TEST(LesionData, ReproducesTheDataFileWithSources) {
  const std::string path = std::string(MNSIM_SOURCE_DIR) + "/data/lesions.toml";
  const LesionData d = LesionData::load(path);
  const toml::table doc = toml::parse_file(path);
  ASSERT_EQ(d.kinds().size(), 9u);  // + varicella, linear_scar
  const std::regex cite("^assumed(: .{2,})?$|^[A-Z][a-z]+.* (19|20)[0-9]{2}");
  for (const KindData& k : d.kinds()) {
    const toml::table& t = *doc[k.key].as_table();
    EXPECT_EQ(k.description, t["description"].value_or(std::string()));
    const auto entries = k.entries();
    int n = 0;
    for (const auto& [name, v] : entries) {
      if (!t.contains(name)) {
        EXPECT_TRUE(v->text.empty()) << k.key << "." << name;
        continue;
      }
      ++n;
      EXPECT_EQ(v->text, t[name]["value"].value_or(std::string())) << k.key << "." << name;
      EXPECT_EQ(v->source, t[name]["source"].value_or(std::string())) << k.key << "." << name;
      EXPECT_TRUE(std::regex_search(v->source, cite)) << k.key << "." << name << ": " << v->source;
    }
    EXPECT_EQ(n + 1, static_cast<int>(t.size())) << k.key;  // + description
  }
  // Jacob 2001 boxcar widths, in SI.
  EXPECT_DOUBLE_EQ(d.get("boxcar_shallow").width_min.si, 1.5e-3);
  EXPECT_DOUBLE_EQ(d.get("boxcar_shallow").width_max.si, 4.0e-3);
  EXPECT_DOUBLE_EQ(d.get("boxcar_deep").depth_min.si, 0.5e-3);
  EXPECT_NEAR(d.get("boxcar_deep").wall_angle_max.si, 15 * std::numbers::pi / 180, 1e-15);
}

TEST(Factory, BoxcarClassAndDefaultWallAngleFromData) {
  const std::string base = R"(
[tissue]
width = "10 mm"
length = "10 mm"
[[lesions]]
kind = "boxcar"
x = "3 mm"
y = "3 mm"
width = "2 mm"
depth = "0.3 mm"
[[lesions]]
kind = "boxcar"
x = "7 mm"
y = "7 mm"
width = "2 mm"
depth = "0.7 mm"
wall_angle = "5 deg"
)";
  const skin::SkinPatch p = skin::make_patch(read_patch_spec(scenario(base)));
  ASSERT_EQ(p.lesions().size(), 2u);
  const LesionData& d = default_lesion_data();
  EXPECT_DOUBLE_EQ(p.lesions()[0]->effects().collagen_deficit,
                   d.get("boxcar_shallow").collagen_deficit.si);
  EXPECT_DOUBLE_EQ(p.lesions()[1]->effects().collagen_deficit,
                   d.get("boxcar_deep").collagen_deficit.si);
  const auto* b0 = dynamic_cast<const Boxcar*>(p.lesions()[0].get());
  ASSERT_NE(b0, nullptr);
  EXPECT_NEAR(b0->floor_radius(), 1e-3 - 0.3e-3 * std::tan(7.5 * std::numbers::pi / 180), 1e-15);
  EXPECT_NE(p.lesions()[0]->describe().find("(shallow)"), std::string::npos);
  EXPECT_NE(p.lesions()[1]->describe().find("(deep)"), std::string::npos);
}

TEST(Inventory, ReproducibleFromSeedAndInsideThePatch) {
  const std::string body = R"(
[patient]
site = "medial_cheek"
[tissue]
width = "20 mm"
length = "20 mm"
[inventory]
icepick = 6
boxcar_shallow = 3
boxcar_deep = 2
rolling = 2
striae = 1
wrinkle = 2
)";
  auto describe = [](const skin::SkinPatch& p) {
    std::string s;
    for (const auto& l : p.lesions()) s += l->describe() + "\n";
    return s;
  };
  const skin::SkinPatch a = skin::make_patch(read_patch_spec(scenario("seed = 7\n" + body)));
  const skin::SkinPatch b = skin::make_patch(read_patch_spec(scenario("seed = 7\n" + body)));
  const skin::SkinPatch c = skin::make_patch(read_patch_spec(scenario("seed = 8\n" + body)));
  ASSERT_EQ(a.lesions().size(), 16u);
  EXPECT_EQ(describe(a), describe(b));
  EXPECT_NE(describe(a), describe(c));
  const LesionData& d = default_lesion_data();
  const double skin_depth = a.dermis_bottom();
  int count[6] = {0};
  for (std::size_t n = 0; n < a.lesions().size(); ++n) {
    const Lesion& l = *a.lesions()[n];
    const Box bx = l.bounds();
    EXPECT_GE(bx.x0, 0.0);
    EXPECT_GE(bx.y0, 0.0);
    EXPECT_LE(bx.x1, 20e-3);
    EXPECT_LE(bx.y1, 20e-3);
    EXPECT_LT(l.max_depth(), skin_depth);

    const std::string k(l.kind());
    if (k == "icepick") {
      ++count[0];
      EXPECT_GE(l.max_depth(), std::min(d.get("icepick").depth_min.si, 0.9 * skin_depth));
      EXPECT_LE(l.max_depth(), std::min(d.get("icepick").depth_max.si, 0.9 * skin_depth));
    }
    if (k == "boxcar") ++count[l.max_depth() < 0.5e-3 ? 1 : 2];
    if (k == "rolling") ++count[3];
    if (k == "striae") ++count[4];
    if (k == "wrinkle") ++count[5];
  }
  // No two footprints share a point (25 um lattice over the patch).
  for (int j = 0; j < 800; ++j) {
    for (int i = 0; i < 800; ++i) {
      int covering = 0;
      for (const auto& l : a.lesions())
        covering += l->depression((i + 0.5) * 25e-6, (j + 0.5) * 25e-6) > 0;
      ASSERT_LE(covering, 1) << i << " " << j;
    }
  }
  EXPECT_EQ(count[0], 6);
  EXPECT_EQ(count[1], 3);
  EXPECT_EQ(count[2], 2);
  EXPECT_EQ(count[3], 2);
  EXPECT_EQ(count[4], 1);
  EXPECT_EQ(count[5], 2);
}

TEST(Inventory, TooManyForThePatchIsAnInputError) {
  try {
    skin::make_patch(
        read_patch_spec(scenario("[tissue]\nwidth = \"5 mm\"\nlength = \"5 mm\"\n[inventory]\n"
                                 "rolling = 4\n")));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(
        e.line().find("/tmp/lesions_test.toml:5:11: inventory.rolling: cannot place 4 rolling "
                      "lesions without overlap"),
        std::string::npos)
        << e.line();
  }
}
