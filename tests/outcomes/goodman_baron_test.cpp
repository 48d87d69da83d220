#include "outcomes/goodman_baron.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace mnsim::outcomes {
namespace {

GradingRules rules() {
  return load_grading_rules(std::string(MNSIM_SOURCE_DIR) + "/data/grading.toml");
}

TEST(GoodmanBaron, RulesFromDataFile) {
  const GradingRules r = rules();
  EXPECT_DOUBLE_EQ(r.visible_depth, 50e-6);
  EXPECT_DOUBLE_EQ(r.mild_depth, 150e-6);
  EXPECT_DOUBLE_EQ(r.deep_depth, 500e-6);
  EXPECT_DOUBLE_EQ(r.broad_width, 5e-3);
  EXPECT_DOUBLE_EQ(r.mild_load, 2.0e-6);  // 2.0 mm^2
  EXPECT_DOUBLE_EQ(r.grade_ratio, 2.0);
}

TEST(GoodmanBaron, ClassifiesByKindDepthWidth) {
  const GradingRules r = rules();
  EXPECT_EQ(classify({"icepick", 800e-6, 1e-3}, r), GbRow::PunchedOutDeepAbnormal);
  EXPECT_EQ(classify({"boxcar", 300e-6, 3e-3}, r), GbRow::PunchedOutShallow);
  EXPECT_EQ(classify({"boxcar", 600e-6, 3e-3}, r), GbRow::PunchedOutDeep);
  EXPECT_EQ(classify({"rolling", 300e-6, 6e-3}, r), GbRow::ShallowBroad);
  EXPECT_EQ(classify({"rolling", 300e-6, 4e-3}, r), GbRow::ModerateAtrophic);
  EXPECT_EQ(classify({"rolling", 100e-6, 6e-3}, r), GbRow::MildDish);
  // Shallower than the skin texture: not seen, not counted (no colour in the model).
  EXPECT_EQ(classify({"boxcar", 20e-6, 3e-3}, r), GbRow::NotGraded);
  EXPECT_EQ(classify({"striae", 300e-6, 3e-3}, r), GbRow::NotGraded);
}

TEST(GoodmanBaron, QuantitativeScoreByHand) {
  const GradingRules r = rules();
  // 12 deep icepicks (3 points x multiplier 2 = 6) + 3 shallow boxcars (2 x 1 = 2)
  // + 25 dish-like (1 x 3 = 3) + 30 filled scars below the texture (0) = 11.
  std::vector<ScarState> inv;
  for (int i = 0; i < 12; ++i) inv.push_back({"icepick", 700e-6, 1e-3});
  for (int i = 0; i < 3; ++i) inv.push_back({"boxcar", 300e-6, 3e-3});
  for (int i = 0; i < 25; ++i) inv.push_back({"boxcar", 100e-6, 3e-3});
  for (int i = 0; i < 30; ++i) inv.push_back({"boxcar", 10e-6, 3e-3});
  EXPECT_EQ(quantitative_score(inv, r), 11);
  EXPECT_EQ(quantitative_score({}, r), 0);
  // A scar leaving the 11-20 band of its row halves that row's points.
  std::vector<ScarState> eleven(11, ScarState{"boxcar", 300e-6, 3e-3});
  EXPECT_EQ(quantitative_score(eleven, r), 4);
  eleven.back().depth = 40e-6;
  EXPECT_EQ(quantitative_score(eleven, r), 2);
}

TEST(GoodmanBaron, SocialLoadByHand) {
  const GradingRules r = rules();
  // width x (depth - 150 um): 3 mm x 150 um + 5 mm x 50 um + 0 (shallower than 150 um) = 0.7 mm^2;
  // striae do not count.
  const std::vector<ScarState> inv = {{"boxcar", 300e-6, 3e-3},
                                      {"rolling", 200e-6, 5e-3},
                                      {"boxcar", 100e-6, 2e-3},
                                      {"striae", 400e-6, 3e-3}};
  EXPECT_NEAR(social_load(inv, r), 0.7e-6, 1e-15);
}

TEST(GoodmanBaron, QualitativeGradeByLoadBands) {
  const GradingRules r = rules();  // bands: 2, 4, 8 mm^2
  EXPECT_EQ(qualitative_grade({}, r), 0);
  EXPECT_EQ(qualitative_grade({{"boxcar", 40e-6, 3e-3}}, r), 0);  // lost in the texture
  EXPECT_EQ(qualitative_grade({{"striae", 400e-6, 3e-3}}, r), 0);
  // Visible up close but nothing resolved at 50 cm: grade 1.
  EXPECT_EQ(qualitative_grade({{"boxcar", 100e-6, 3e-3}}, r), 1);
  // n boxcars 3 mm wide, 300 um deep: 0.45 mm^2 each.
  auto boxcars = [](int n) { return std::vector<ScarState>(n, ScarState{"boxcar", 300e-6, 3e-3}); };
  EXPECT_EQ(qualitative_grade(boxcars(4), r), 1);   // 1.8 mm^2
  EXPECT_EQ(qualitative_grade(boxcars(5), r), 2);   // 2.25
  EXPECT_EQ(qualitative_grade(boxcars(8), r), 2);   // 3.6
  EXPECT_EQ(qualitative_grade(boxcars(9), r), 3);   // 4.05
  EXPECT_EQ(qualitative_grade(boxcars(17), r), 3);  // 7.65
  EXPECT_EQ(qualitative_grade(boxcars(18), r), 4);  // 8.1
  // Halving every scar's relief beyond 150 um lowers the grade by one band.
  std::vector<ScarState> inv = boxcars(12);  // 5.4 mm^2: grade 3
  EXPECT_EQ(qualitative_grade(inv, r), 3);
  for (auto& s : inv) s.depth = 225e-6;  // 2.7 mm^2
  EXPECT_EQ(qualitative_grade(inv, r), 2);
}

TEST(GoodmanBaron, MalformedRulesAreAnInputErrorAtTheKey) {
  const std::string original =
      mnsim::test::slurp(std::string(MNSIM_SOURCE_DIR) + "/data/grading.toml");
  for (const auto& [from, to, key] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"\"2.0 mm^2\"", "\"2.0 mm\"", "mild_load"},
           {"value = \"2.0\"", "value = \"0.5\"", "grade_ratio"},
           {"\"150 um\"", "\"150 s\"", "mild_depth"}}) {
    std::string text = original;
    const auto pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    text.replace(pos, from.size(), to);
    const auto path = std::filesystem::temp_directory_path() / "mnsim_bad_grading.toml";
    std::ofstream(path) << text;
    try {
      load_grading_rules(path.string());
      ADD_FAILURE() << "accepted " << to;
    } catch (const InputError& e) {
      EXPECT_NE(e.line().find(path.string() + ":"), std::string::npos) << e.line();
      EXPECT_NE(e.line().find(key + ".value"), std::string::npos) << e.line();
    }
  }
}

}  // namespace
}  // namespace mnsim::outcomes
