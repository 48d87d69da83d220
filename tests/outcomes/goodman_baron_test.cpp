#include "outcomes/goodman_baron.hpp"

#include <gtest/gtest.h>

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
}

TEST(GoodmanBaron, ClassifiesByKindDepthWidth) {
  const GradingRules r = rules();
  EXPECT_EQ(classify({"icepick", 800e-6, 1e-3}, r), GbRow::PunchedOutDeepAbnormal);
  EXPECT_EQ(classify({"boxcar", 300e-6, 3e-3}, r), GbRow::PunchedOutShallow);
  EXPECT_EQ(classify({"boxcar", 600e-6, 3e-3}, r), GbRow::PunchedOutDeep);
  EXPECT_EQ(classify({"rolling", 300e-6, 6e-3}, r), GbRow::ShallowBroad);
  EXPECT_EQ(classify({"rolling", 300e-6, 4e-3}, r), GbRow::ModerateAtrophic);
  EXPECT_EQ(classify({"rolling", 100e-6, 6e-3}, r), GbRow::MildDish);
  EXPECT_EQ(classify({"boxcar", 20e-6, 3e-3}, r), GbRow::Macular);
  EXPECT_EQ(classify({"striae", 300e-6, 3e-3}, r), GbRow::NotGraded);
}

TEST(GoodmanBaron, QuantitativeScoreByHand) {
  const GradingRules r = rules();
  // 12 deep icepicks (3 points x multiplier 2 = 6) + 3 shallow boxcars (2 x 1 = 2)
  // + 25 macular marks (1 x 3 = 3) = 11.
  std::vector<ScarState> inv;
  for (int i = 0; i < 12; ++i) inv.push_back({"icepick", 700e-6, 1e-3});
  for (int i = 0; i < 3; ++i) inv.push_back({"boxcar", 300e-6, 3e-3});
  for (int i = 0; i < 25; ++i) inv.push_back({"boxcar", 10e-6, 3e-3});
  EXPECT_EQ(quantitative_score(inv, r), 11);
  EXPECT_EQ(qualitative_grade(inv, r), 4);
  EXPECT_EQ(quantitative_score({}, r), 0);
  EXPECT_EQ(qualitative_grade({}, r), 0);
}

TEST(GoodmanBaron, QualitativeGrades) {
  const GradingRules r = rules();
  EXPECT_EQ(qualitative_grade({{"boxcar", 10e-6, 2e-3}}, r), 1);
  EXPECT_EQ(qualitative_grade({{"rolling", 100e-6, 6e-3}}, r), 2);
  EXPECT_EQ(qualitative_grade({{"boxcar", 300e-6, 3e-3}}, r), 3);
  EXPECT_EQ(qualitative_grade({{"rolling", 700e-6, 8e-3}}, r), 3);  // distensible
  EXPECT_EQ(qualitative_grade({{"boxcar", 700e-6, 3e-3}}, r), 4);
}

}  // namespace
}  // namespace mnsim::outcomes
