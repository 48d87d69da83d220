#include "outcomes/goodman_baron.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "outcomes/scar_remodel.hpp"

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
  // Shallower than the skin texture: not seen, not counted (no colour in the model).
  EXPECT_EQ(classify({"boxcar", 20e-6, 3e-3}, r), GbRow::NotGraded);
  EXPECT_EQ(classify({"striae", 300e-6, 3e-3}, r), GbRow::NotGraded);
}

TEST(GoodmanBaron, LinearScarsAreGradedAsAtrophyOfTheirWidthAcross) {
  // A depressed surgical or traumatic scar: dish-like atrophy by depth and width across; it
  // flattens on stretch (no fibrotic base, no steep walls), so grade 3 at most.
  const GradingRules r = rules();
  EXPECT_EQ(classify({"linear_scar", 300e-6, 3e-3}, r), GbRow::ModerateAtrophic);
  EXPECT_EQ(classify({"linear_scar", 100e-6, 3e-3}, r), GbRow::MildDish);
  EXPECT_EQ(classify({"linear_scar", 300e-6, 6e-3}, r), GbRow::ShallowBroad);
  EXPECT_EQ(qualitative_grade({{"linear_scar", 800e-6, 3e-3}}, r), 3);
  EXPECT_EQ(qualitative_grade({{"linear_scar", 100e-6, 3e-3}}, r), 2);
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

// Every scar shallower and the score higher: 14 icepicks (x2 of 3 points), 4 rolling scars of
// which one leaves the moderately atrophic row for the empty dish-like row. The moderately
// atrophic row keeps its x1 (3 scars) and the dish-like row adds its point: 8 -> 9. The change
// says so, row by row and scar by scar.
TEST(GoodmanBaron, ScoreThatRisesWithMilderScarsIsExplained) {
  const GradingRules r = rules();
  std::vector<ScarState> before, after;
  for (int i = 0; i < 14; ++i) before.push_back({"icepick", 700e-6 + 10e-6 * i, 1e-3});
  for (const double d : {160e-6, 250e-6, 350e-6, 450e-6}) before.push_back({"rolling", d, 4e-3});
  for (const auto& s : before) after.push_back({s.kind, 0.8 * s.depth, s.width});
  const GbScoreChange c = score_change(before, after, r);
  EXPECT_EQ(c.before, quantitative_score(before, r));
  EXPECT_EQ(c.after, quantitative_score(after, r));
  EXPECT_EQ(c.before, 8);
  EXPECT_EQ(c.after, 9);
  EXPECT_EQ(c.shallower, 18);
  EXPECT_EQ(c.deeper, 0);
  EXPECT_TRUE(c.rose_with_milder_scars());
  ASSERT_EQ(c.moved.size(), 1u);
  EXPECT_EQ(c.moved[0].index, 14u);
  EXPECT_EQ(c.moved[0].row_before, GbRow::ModerateAtrophic);
  EXPECT_EQ(c.moved[0].row_after, GbRow::MildDish);
  const std::vector<std::string> rows = c.row_lines();
  ASSERT_EQ(rows.size(), 3u);  // dish-like, moderately atrophic, icepick: table order
  EXPECT_EQ(rows[0], "mildly atrophic dish-like (1 point): 0 -> 1 scars, 0 -> 1 points");
  EXPECT_EQ(rows[1], "moderately atrophic (2 points): 4 -> 3 scars, 2 -> 2 points");
  EXPECT_EQ(rows[2], "punched-out, deep abnormal base (3 points): 14 -> 14 scars, 6 -> 6 points");
  ASSERT_EQ(c.move_lines().size(), 1u);
  EXPECT_EQ(c.move_lines()[0],
            "rolling 160 -> 128 um: moderately atrophic -> mildly atrophic "
            "dish-like");
  const std::string e = c.explanation();
  EXPECT_NE(e.find("The score rose from 8 to 9 although no scar got deeper"), std::string::npos)
      << e;
  EXPECT_NE(e.find("moderately atrophic (4 -> 3 scars, still x1)"), std::string::npos) << e;
  EXPECT_NE(e.find("mildly atrophic dish-like (0 -> 1 scars, 0 -> 1 points)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("property of the published scale"), std::string::npos) << e;
}

// A score that falls: 11 shallow boxcars, two filled below the texture, leave the x2 band.
TEST(GoodmanBaron, ScoreThatFallsIsExplainedWithoutTheRiseNote) {
  const GradingRules r = rules();
  std::vector<ScarState> before(11, ScarState{"boxcar", 300e-6, 3e-3});
  std::vector<ScarState> after = before;
  after[0].depth = 40e-6;
  after[1].depth = 120e-6;
  const GbScoreChange c = score_change(before, after, r);
  EXPECT_EQ(c.before, 4);
  EXPECT_EQ(c.after, 3);  // 9 shallow boxcars (2 x1) + 1 dish-like (1 x1); one not seen
  EXPECT_FALSE(c.rose_with_milder_scars());
  EXPECT_EQ(c.moved.size(), 2u);
  const std::string e = c.explanation();
  EXPECT_NE(e.find("The score fell from 4 to 3"), std::string::npos) << e;
  EXPECT_NE(e.find("punched-out, shallow base (11 -> 9 scars, 4 -> 2 points)"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("property of the published scale"), std::string::npos) << e;
  EXPECT_EQ(c.move_lines()[0],
            "boxcar 300 -> 40 um: punched-out, shallow base -> lost in the "
            "skin texture");
  // A scar that deepens is not passed off as the scale's arithmetic.
  std::vector<ScarState> worse = before;
  worse[0] = {"boxcar", 600e-6, 3e-3};
  const GbScoreChange w = score_change(before, worse, r);
  EXPECT_GT(w.after, w.before);
  EXPECT_FALSE(w.rose_with_milder_scars());
  EXPECT_NE(w.explanation().find("1 scar deeper"), std::string::npos) << w.explanation();
  EXPECT_THROW(score_change(before, {}, r), std::invalid_argument);
}

// Goodman & Baron 2006 (J Cosmet Dermatol 5:48): lesions of a row 1-10 x1, 11-20 x2, > 20 x3,
// for each row's points (A 1, B 2, C 3).
TEST(GoodmanBaron, QuantitativeMultipliersAtTheBandLimits) {
  const GradingRules r = rules();
  auto score = [&](int n, const ScarState& s) {
    return quantitative_score(std::vector<ScarState>(static_cast<std::size_t>(n), s), r);
  };
  const ScarState dish{"boxcar", 100e-6, 3e-3};        // A: 1 point
  const ScarState shallow{"boxcar", 300e-6, 3e-3};     // B: 2 points
  const ScarState icepick{"icepick", 800e-6, 1e-3};    // C: 3 points
  const ScarState rolling{"rolling", 300e-6, 4.5e-3};  // B: moderately atrophic
  for (const auto& [s, points] : std::vector<std::pair<ScarState, int>>{
           {dish, 1}, {shallow, 2}, {icepick, 3}, {rolling, 2}}) {
    EXPECT_EQ(score(1, s), points) << s.kind;
    EXPECT_EQ(score(10, s), points) << s.kind;
    EXPECT_EQ(score(11, s), 2 * points) << s.kind;
    EXPECT_EQ(score(20, s), 2 * points) << s.kind;
    EXPECT_EQ(score(21, s), 3 * points) << s.kind;
    EXPECT_EQ(score(60, s), 3 * points) << s.kind;
  }
  // Rows count apart: 10 icepicks (3) and 11 shallow boxcars (2 x 2) = 7.
  std::vector<ScarState> inv(10, icepick);
  inv.insert(inv.end(), 11, shallow);
  EXPECT_EQ(quantitative_score(inv, r), 7);
}

// Qualitative grade, scar by scar from the published definitions (Goodman & Baron 2006,
// Dermatol Surg 32:1458), one definition at a time.
TEST(GoodmanBaron, NotSeenScarsAreNotGraded) {
  const GradingRules r = rules();
  EXPECT_EQ(qualitative_grade({}, r), 0);
  // Shallower than the skin texture: lost even at close range (and no colour: never macular).
  EXPECT_EQ(qualitative_class({"boxcar", 40e-6, 3e-3}, r), GbClass::NotSeen);
  EXPECT_EQ(qualitative_class({"icepick", 40e-6, 1e-3}, r), GbClass::NotSeen);
  EXPECT_EQ(qualitative_class({"rolling", 40e-6, 5e-3}, r), GbClass::NotSeen);
  // Not acne scars.
  EXPECT_EQ(qualitative_class({"striae", 400e-6, 3e-3}, r), GbClass::NotSeen);
  EXPECT_EQ(qualitative_grade({{"boxcar", 40e-6, 3e-3}, {"striae", 400e-6, 3e-3}}, r), 0);
}

TEST(GoodmanBaron, SeenUpCloseButNotAtFiftyCentimetresIsMild) {
  const GradingRules r = rules();
  // 50 um <= depth < 150 um: "may not be obvious at social distances of 50 cm": grade 2 whatever
  // the scar's morphology (the stretch test only splits the obvious scars).
  for (const ScarState& s : std::vector<ScarState>{{"boxcar", 100e-6, 3e-3},
                                                   {"boxcar", 50e-6, 3e-3},
                                                   {"icepick", 140e-6, 1e-3},
                                                   {"rolling", 149e-6, 5e-3},
                                                   {"rolling", 100e-6, 5e-3}}) {
    EXPECT_EQ(qualitative_class(s, r), GbClass::Mild) << s.kind << " " << s.depth;
    EXPECT_EQ(qualitative_grade({s}, r), 2) << s.kind << " " << s.depth;
  }
}

TEST(GoodmanBaron, ObviousScarsThatFlattenOnStretchAreModerate) {
  const GradingRules r = rules();
  // Shallow boxcar (punched-out, normal base, < 500 um): flattens.
  EXPECT_TRUE(flattens_on_stretch({"boxcar", 300e-6, 3e-3}, r));
  EXPECT_EQ(qualitative_class({"boxcar", 150e-6, 3e-3}, r), GbClass::Moderate);
  EXPECT_EQ(qualitative_class({"boxcar", 499e-6, 3e-3}, r), GbClass::Moderate);
  // Rolling (sloping atrophy, distensible whether tethered or not: G&B list "more significant
  // rolling" under grade 3), also when deep or broad.
  EXPECT_TRUE(flattens_on_stretch({"rolling", 300e-6, 5e-3}, r));
  EXPECT_EQ(qualitative_class({"rolling", 300e-6, 5e-3}, r), GbClass::Moderate);
  EXPECT_EQ(qualitative_class({"rolling", 600e-6, 6e-3}, r), GbClass::Moderate);
  // A measured surface grades as boxcar.
  EXPECT_EQ(qualitative_class({"measured", 300e-6, 3e-3}, r), GbClass::Moderate);
}

TEST(GoodmanBaron, ObviousScarsThatDoNotFlattenAreSevere) {
  const GradingRules r = rules();
  // Icepick: punched-out with an abnormal (fibrotic) base, at any depth seen at 50 cm.
  EXPECT_FALSE(flattens_on_stretch({"icepick", 200e-6, 1e-3}, r));
  EXPECT_EQ(qualitative_class({"icepick", 150e-6, 1e-3}, r), GbClass::Severe);
  EXPECT_EQ(qualitative_class({"icepick", 800e-6, 1e-3}, r), GbClass::Severe);
  // Deep boxcar (punched-out, at least 500 um): steep walls deeper than stretch can evert.
  EXPECT_FALSE(flattens_on_stretch({"boxcar", 500e-6, 3e-3}, r));
  EXPECT_EQ(qualitative_class({"boxcar", 500e-6, 3e-3}, r), GbClass::Severe);
  EXPECT_EQ(qualitative_class({"boxcar", 700e-6, 3e-3}, r), GbClass::Severe);
  EXPECT_EQ(qualitative_class({"measured", 700e-6, 3e-3}, r), GbClass::Severe);
}

TEST(GoodmanBaron, PatientGradeIsTheWorstScar) {
  const GradingRules r = rules();
  const ScarState mild{"boxcar", 100e-6, 3e-3};
  const ScarState moderate{"boxcar", 300e-6, 3e-3};
  const ScarState severe{"icepick", 700e-6, 1e-3};
  // Many mild scars stay mild (no load: the grade follows morphology, not count).
  EXPECT_EQ(qualitative_grade(std::vector<ScarState>(60, mild), r), 2);
  EXPECT_EQ(qualitative_grade({mild, moderate}, r), 3);
  EXPECT_EQ(qualitative_grade({mild, moderate, severe}, r), 4);
  EXPECT_EQ(qualitative_grade({severe, mild}, r), 4);
  // Filling the one severe scar below 150 um makes the face moderate; filling the moderate one
  // below the texture leaves the mild one.
  std::vector<ScarState> inv = {mild, moderate, severe};
  inv[2].depth = 120e-6;
  EXPECT_EQ(qualitative_grade(inv, r), 3);
  inv[1].depth = 30e-6;
  EXPECT_EQ(qualitative_grade(inv, r), 2);
  inv[0].depth = 30e-6;
  inv[2].depth = 30e-6;
  EXPECT_EQ(qualitative_grade(inv, r), 0);
}

TEST(GoodmanBaron, NeverMacular) {
  const GradingRules r = rules();
  for (double d = 0.0; d < 1.2e-3; d += 10e-6) {
    for (const char* kind : {"icepick", "boxcar", "rolling", "striae", "wrinkle", "linear_scar"}) {
      EXPECT_NE(qualitative_grade({{kind, d, 3e-3}}, r), 1) << kind << " " << d;
    }
  }
}

// One file per test (ctest runs the tests of this file in parallel processes).
std::string write_rules(const std::string& text) {
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const auto path =
      std::filesystem::temp_directory_path() / ("mnsim_bad_grading_" + test + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(GoodmanBaron, MalformedRulesAreAnInputErrorAtTheKey) {
  const std::string original =
      mnsim::test::slurp(std::string(MNSIM_SOURCE_DIR) + "/data/grading.toml");
  for (const auto& [from, to, key] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"\"150 um\"", "\"150 s\"", "mild_depth.value"},
           {"\"5 mm\"", "\"-5 mm\"", "broad_width.value"},
           {"[mild_depth]", "[mild_dept]", "mild_dept"}}) {
    std::string text = original;
    const auto pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    text.replace(pos, from.size(), to);
    const std::string path = write_rules(text);
    try {
      load_grading_rules(path);
      ADD_FAILURE() << "accepted " << to;
    } catch (const InputError& e) {
      EXPECT_NE(e.line().find(path + ":"), std::string::npos) << e.line();
      EXPECT_NE(e.line().find(key), std::string::npos) << e.line();
    }
  }
}

// The fitted load bands of earlier versions are gone: a data file that still sets them is told
// so at the key instead of having them ignored.
TEST(GoodmanBaron, RemovedLoadBandsAreAnError) {
  const std::string original =
      mnsim::test::slurp(std::string(MNSIM_SOURCE_DIR) + "/data/grading.toml");
  for (const std::string key : {"mild_load", "grade_ratio"}) {
    const std::string path =
        write_rules(original + "\n[" + key + "]\nvalue = \"2.0\"\nsource = \"calibrated: old\"\n");
    try {
      load_grading_rules(path);
      ADD_FAILURE() << "accepted " << key;
    } catch (const InputError& e) {
      EXPECT_NE(e.line().find(path + ":"), std::string::npos) << e.line();
      EXPECT_NE(e.line().find(key + ": was removed"), std::string::npos) << e.line();
    }
  }
}

}  // namespace
}  // namespace mnsim::outcomes
