// The whole-face inventory ([face]) and its mapping from the simulated patch's scars
// (outcomes/face_inventory.hpp; docs/model.md "Goodman & Baron grading").
#include "outcomes/face_inventory.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/scenario.hpp"

namespace mnsim::outcomes {
namespace {

Table face_table(const std::string& text) {
  const schema::Key root = schema::table("", "test", {face_schema()}, true);
  return parse_scenario_text(text, "face.toml", root).table("face");
}

TEST(FaceInventory, ClassesAreTheGradedInventoryClasses) {
  EXPECT_EQ(face_classes(), (std::vector<std::string>{"icepick", "boxcar_shallow", "boxcar_deep",
                                                      "varicella", "rolling", "linear_scar"}));
}

TEST(FaceInventory, SpreadOverTheRangeUnlessDepthOrWidthGiven) {
  const FaceSpec f = read_face(
      face_table("[face.icepick]\ncount = 6\n[face.boxcar_shallow]\ncount = 8\ndepth = \"0.3 mm\"\n"
                 "width = \"2.5 mm\"\n[face.rolling]\ncount = 0\n"));
  ASSERT_EQ(f.classes.size(), 2u);  // a class of 0 scars is left out
  EXPECT_EQ(f.scars(), 14);
  const FaceClass& ice = f.classes[0];
  EXPECT_EQ(ice.cls, "icepick");
  EXPECT_EQ(ice.kind, "icepick");
  EXPECT_FALSE(ice.depth_given || ice.width_given);
  // data/lesions.toml icepick: depth 0.6-1.5 mm, width 0.5-2.0 mm. The six icepicks at the
  // depth quantiles 1/12, 3/12, ..., 11/12 of the range (mean: its middle), the width mid-range.
  EXPECT_NEAR(ice.depth, 1.05e-3, 1e-9);
  EXPECT_NEAR(ice.depth_min, 0.6e-3, 1e-9);
  EXPECT_NEAR(ice.depth_max, 1.5e-3, 1e-9);
  EXPECT_NEAR(ice.depth_of(0), 0.675e-3, 1e-9);
  EXPECT_NEAR(ice.depth_of(5), 1.425e-3, 1e-9);
  double mean = 0.0;
  for (long long i = 0; i < ice.count; ++i) mean += ice.depth_of(i) / 6.0;
  EXPECT_NEAR(mean, 1.05e-3, 1e-12);
  EXPECT_NEAR(ice.width, 1.25e-3, 1e-9);
  const FaceClass& box = f.classes[1];
  EXPECT_EQ(box.kind, "boxcar");
  EXPECT_TRUE(box.depth_given && box.width_given);
  EXPECT_DOUBLE_EQ(box.depth, 0.3e-3);
  EXPECT_DOUBLE_EQ(box.depth_of(0), 0.3e-3);  // a given depth: every scar of the class
  EXPECT_DOUBLE_EQ(box.depth_of(7), 0.3e-3);
  EXPECT_DOUBLE_EQ(box.width, 2.5e-3);
}

FaceClass given(const char* cls, const char* kind, long long count, double depth, double width) {
  FaceClass c;
  c.cls = cls;
  c.kind = kind;
  c.count = count;
  c.depth = c.depth_min = c.depth_max = depth;
  c.width = width;
  c.depth_given = c.width_given = true;
  return c;
}

TEST(FaceInventory, NoScarIsAnErrorAtTheSection) {
  try {
    read_face(face_table("[face.icepick]\ncount = 0\n"));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "face");
    EXPECT_EQ(e.loc().line, 1);
  }
}

TEST(FaceInventory, DepthClassOfAPatchBoxcar) {
  // boxcar_shallow 0.1-0.5 mm, boxcar_deep 0.5-1.0 mm (Jacob 2001: deep from 0.5 mm).
  EXPECT_EQ(depth_class("boxcar", 0.2e-3), "boxcar_shallow");
  EXPECT_EQ(depth_class("boxcar", 0.5e-3), "boxcar_deep");
  EXPECT_EQ(depth_class("boxcar", 0.05e-3), "boxcar_shallow");  // nearest range
  EXPECT_EQ(depth_class("boxcar", 1.2e-3), "boxcar_deep");
  EXPECT_EQ(depth_class("icepick", 0.3e-3), "icepick");
  EXPECT_EQ(depth_class("measured", 0.3e-3), "");
}

TEST(FaceInventory, EachClassTakesTheMeanRelativeChangeOfItsKind) {
  FaceSpec f;
  f.classes = {given("icepick", "icepick", 12, 1.0e-3, 1e-3),
               given("boxcar_shallow", "boxcar", 3, 0.4e-3, 3e-3),
               given("boxcar_deep", "boxcar", 2, 0.8e-3, 3e-3),
               given("rolling", "rolling", 4, 0.3e-3, 4e-3)};
  // Two icepicks: -20 % and -10 % (mean -15 %); a shallow boxcar -50 %, a deep one -25 %; a
  // measured surface, which is no face class's kind.
  const std::vector<PatchScar> patch = {{"icepick", 0.8e-3, 0.64e-3},
                                        {"icepick", 1.0e-3, 0.9e-3},
                                        {"boxcar", 0.2e-3, 0.1e-3},
                                        {"boxcar", 0.6e-3, 0.45e-3},
                                        {"measured", 0.3e-3, 0.1e-3}};
  const FaceMapping m = map_onto_face(f, patch);
  ASSERT_EQ(m.classes.size(), 4u);
  EXPECT_EQ(m.classes[0].patch_scars, 2);
  EXPECT_NEAR(m.classes[0].depth_after, 0.85e-3, 1e-12);
  EXPECT_EQ(m.classes[0].how, "mapped from 2 patch scars of kind icepick");
  EXPECT_EQ(m.classes[1].patch_scars, 1);
  EXPECT_NEAR(m.classes[1].depth_after, 0.2e-3, 1e-12);
  EXPECT_EQ(m.classes[1].how,
            "mapped from 1 patch scar of kind boxcar in depth class boxcar_shallow");
  EXPECT_NEAR(m.classes[2].depth_after, 0.6e-3, 1e-12);
  EXPECT_EQ(m.classes[2].patch_class, "boxcar_deep");
  EXPECT_FALSE(m.classes[3].simulated());
  EXPECT_DOUBLE_EQ(m.classes[3].depth_after, 0.3e-3);
  EXPECT_EQ(m.classes[3].how, "not simulated: no patch scar of this kind");
  ASSERT_EQ(m.before.size(), 21u);
  ASSERT_EQ(m.after.size(), 21u);
  EXPECT_EQ(m.after[0].kind, "icepick");
  EXPECT_EQ(m.after[20].kind, "rolling");

  // Without a deep boxcar on the patch, the deep class takes all boxcars (here the shallow one).
  const FaceMapping all = map_onto_face(f, {{"boxcar", 0.2e-3, 0.1e-3}});
  EXPECT_NEAR(all.classes[2].depth_after, 0.4e-3, 1e-12);
  EXPECT_EQ(all.classes[2].patch_class, "");
  EXPECT_EQ(all.classes[2].how,
            "mapped from 1 patch scar of kind boxcar; none in depth class boxcar_deep, so all of "
            "the kind");
  EXPECT_FALSE(all.classes[0].simulated());
}

TEST(FaceInventory, SpreadScarsEachTakeTheRelativeChange) {
  // Four rolling scars spread over 0.1-0.5 mm (0.15, 0.25, 0.35, 0.45 mm), a patch rolling scar
  // -40 %: each face scar ends 0.6 x its own depth (0.09 ... 0.27 mm), so the shallowest crosses
  // the 150 um limit of "obvious at 50 cm" while the mid-range depth (0.3 -> 0.18 mm) would not.
  const FaceSpec f = read_face(face_table("[face.rolling]\ncount = 4\n"));
  const FaceMapping m = map_onto_face(f, {{"rolling", 0.3e-3, 0.18e-3}});
  ASSERT_EQ(m.before.size(), 4u);
  const double before[] = {0.15e-3, 0.25e-3, 0.35e-3, 0.45e-3};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(m.before[i].depth, before[i], 1e-12);
    EXPECT_NEAR(m.after[i].depth, 0.6 * before[i], 1e-12);
  }
  EXPECT_NEAR(m.classes[0].depth_after, 0.18e-3, 1e-12);  // the class mean
}

}  // namespace
}  // namespace mnsim::outcomes
