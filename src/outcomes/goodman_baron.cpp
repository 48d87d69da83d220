#include "outcomes/goodman_baron.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "core/units.hpp"
#include "io/data_file.hpp"
#include "lesions/registry.hpp"

namespace mnsim::outcomes {

int row_points(GbRow row) {
  switch (row) {
    case GbRow::NotGraded:
      return 0;
    case GbRow::Macular:
    case GbRow::MildDish:
      return 1;
    case GbRow::ModerateAtrophic:
    case GbRow::PunchedOutShallow:
    case GbRow::ShallowBroad:
      return 2;
    case GbRow::PunchedOutDeep:
    case GbRow::PunchedOutDeepAbnormal:
    case GbRow::DeepBroad:
      return 3;
  }
  return 0;
}

const char* row_name(GbRow row) {
  switch (row) {
    case GbRow::NotGraded:
      return "not graded";
    case GbRow::Macular:
      return "macular";
    case GbRow::MildDish:
      return "mildly atrophic dish-like";
    case GbRow::ModerateAtrophic:
      return "moderately atrophic";
    case GbRow::PunchedOutShallow:
      return "punched-out, shallow base";
    case GbRow::ShallowBroad:
      return "shallow broad atrophic";
    case GbRow::PunchedOutDeep:
      return "punched-out, deep normal base";
    case GbRow::PunchedOutDeepAbnormal:
      return "punched-out, deep abnormal base";
    case GbRow::DeepBroad:
      return "deep broad atrophic";
  }
  return "?";
}

const char* class_name(GbClass c) {
  switch (c) {
    case GbClass::NotSeen:
      return "not seen";
    case GbClass::Mild:
      return "mild";
    case GbClass::Moderate:
      return "moderate";
    case GbClass::Severe:
      return "severe";
  }
  return "?";
}

GradingRules load_grading_rules(const std::string& path) {
  const io::DataFile file(path);
  const toml::table& doc = file.root();
  // The qualitative grade used to be a band of a fitted "social load"; a file that still sets
  // those bands gets told why they are gone.
  for (const char* removed : {"mild_load", "grade_ratio"}) {
    if (const toml::node* n = doc.get(removed)) {
      file.fail(*n, removed,
                "was removed: the qualitative grade follows Goodman & Baron's definitions scar by "
                "scar, with no fitted load bands (docs/model.md \"Goodman & Baron grading\")",
                "visible_depth, mild_depth, deep_depth, broad_width only");
    }
  }
  file.check_keys(doc, "", {"visible_depth", "mild_depth", "deep_depth", "broad_width"});
  auto length = [&](const char* key) {
    return file.value(doc, "", key, Dim::Length, 1e-9, 0.1).si;
  };
  GradingRules r;
  r.visible_depth = length("visible_depth");
  r.mild_depth = length("mild_depth");
  r.deep_depth = length("deep_depth");
  r.broad_width = length("broad_width");
  if (!(r.visible_depth < r.mild_depth && r.mild_depth < r.deep_depth)) {
    throw InputError({path, 1, 1}, "visible_depth, mild_depth, deep_depth", "not increasing",
                     "visible_depth < mild_depth < deep_depth");
  }
  return r;
}

GbRow classify(const ScarState& s, const GradingRules& r) {
  using lesions::GradingClass;
  const GradingClass g = lesions::grading_kind(s.kind).grading;
  if (g == GradingClass::NotGraded) return GbRow::NotGraded;
  if (s.depth < r.visible_depth) return GbRow::NotGraded;  // lost in the skin texture
  const bool broad = s.width >= r.broad_width;
  const bool punched = g == GradingClass::PunchedOut || g == GradingClass::PunchedOutAbnormal;
  if (s.depth >= r.deep_depth) {
    if (broad) return GbRow::DeepBroad;
    return g == GradingClass::PunchedOutAbnormal
               ? GbRow::PunchedOutDeepAbnormal
               : (punched ? GbRow::PunchedOutDeep : GbRow::DeepBroad);
  }
  if (s.depth < r.mild_depth) return GbRow::MildDish;
  if (broad) return GbRow::ShallowBroad;
  return punched ? GbRow::PunchedOutShallow : GbRow::ModerateAtrophic;
}

int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r) {
  std::array<int, 9> counts{};
  for (const auto& s : scars) ++counts[static_cast<std::size_t>(classify(s, r))];
  int score = 0;
  for (std::size_t row = 1; row < counts.size(); ++row) {
    const int n = counts[row];
    if (n == 0) continue;
    const int multiplier = n <= 10 ? 1 : (n <= 20 ? 2 : 3);
    score += row_points(static_cast<GbRow>(row)) * multiplier;
  }
  return score;
}

bool flattens_on_stretch(const ScarState& s, const GradingRules& r) {
  using lesions::GradingClass;
  const GradingClass g = lesions::grading_kind(s.kind).grading;
  if (g == GradingClass::PunchedOutAbnormal) return false;  // fibrotic base (icepick)
  if (g == GradingClass::PunchedOut && s.depth >= r.deep_depth) return false;  // steep, deep walls
  return true;
}

GbClass qualitative_class(const ScarState& s, const GradingRules& r) {
  if (classify(s, r) == GbRow::NotGraded) return GbClass::NotSeen;
  if (s.depth < r.mild_depth) return GbClass::Mild;  // not obvious at 50 cm
  return flattens_on_stretch(s, r) ? GbClass::Moderate : GbClass::Severe;
}

int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r) {
  int grade = 0;
  for (const auto& s : scars) grade = std::max(grade, static_cast<int>(qualitative_class(s, r)));
  return grade;
}

}  // namespace mnsim::outcomes
