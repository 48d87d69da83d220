#include "outcomes/goodman_baron.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <string_view>

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

GradingRules load_grading_rules(const std::string& path) {
  const io::DataFile file(path);
  const toml::table& doc = file.root();
  // kind: 'l' a length ("150 um"), 'a' an area in mm^2 ("2.0 mm^2"), 'n' a plain number.
  auto entry = [&](const char* key, char kind, const char* example) {
    const toml::node* t = doc.get(key);
    const toml::node* v = t && t->is_table() ? t->as_table()->get("value") : nullptr;
    const toml::node* src = t && t->is_table() ? t->as_table()->get("source") : nullptr;
    const SourceLoc loc{path, t ? static_cast<int>(t->source().begin.line) : 1,
                        t ? static_cast<int>(t->source().begin.column) : 1};
    if (!v || !v->is_string()) {
      throw InputError(loc, std::string(key) + ".value", "missing or not a string", example);
    }
    if (!src || !src->is_string() || src->as_string()->get().empty()) {
      throw InputError(loc, std::string(key) + ".source", "missing source",
                       "a citation, or 'assumed: reasoning'");
    }
    const SourceLoc vloc{path, static_cast<int>(v->source().begin.line),
                         static_cast<int>(v->source().begin.column)};
    std::string text = v->as_string()->get();
    double scale = 1.0;
    if (kind == 'a') {
      constexpr std::string_view unit = " mm^2";
      if (text.size() <= unit.size() ||
          text.compare(text.size() - unit.size(), unit.size(), unit.data(), unit.size()) != 0) {
        throw InputError(vloc, std::string(key) + ".value", "not an area in mm^2", example);
      }
      text.resize(text.size() - unit.size());
      scale = 1e-6;  // mm^2 -> m^2
    }
    const Dim dim = kind == 'l' ? Dim::Length : Dim::Fraction;
    const ParsedQuantity q = parse_quantity(text, dim);
    if (!q.ok()) {
      throw InputError(vloc, std::string(key) + ".value", q.error,
                       kind == 'l' ? expected_units(dim) : std::string(example));
    }
    if (q.si <= 0) throw InputError(vloc, std::string(key) + ".value", "must be positive", example);
    return q.si * scale;
  };
  auto length = [&](const char* key) { return entry(key, 'l', "a length such as \"150 um\""); };
  GradingRules r;
  r.visible_depth = length("visible_depth");
  r.mild_depth = length("mild_depth");
  r.deep_depth = length("deep_depth");
  r.broad_width = length("broad_width");
  r.mild_load = entry("mild_load", 'a', "an area such as \"2.0 mm^2\"");
  r.grade_ratio = entry("grade_ratio", 'n', "a number > 1 such as \"2.0\"");
  if (!(r.grade_ratio > 1.0)) {
    const toml::node* t = doc.get("grade_ratio");
    throw InputError({path, t ? static_cast<int>(t->source().begin.line) : 1,
                      t ? static_cast<int>(t->source().begin.column) : 1},
                     "grade_ratio.value", "must be greater than 1", "a number > 1 such as \"2.0\"");
  }
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

double social_load(const std::vector<ScarState>& scars, const GradingRules& r) {
  double load = 0.0;
  for (const auto& s : scars) {
    if (lesions::grading_kind(s.kind).grading == lesions::GradingClass::NotGraded) continue;
    load += s.width * std::max(0.0, s.depth - r.mild_depth);
  }
  return load;
}

int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r) {
  bool visible = false;
  for (const auto& s : scars) visible |= classify(s, r) != GbRow::NotGraded;
  if (!visible) return 0;
  const double load = social_load(scars, r);
  double limit = r.mild_load;
  for (int grade = 1; grade < 4; ++grade) {
    if (load < limit) return grade;
    limit *= r.grade_ratio;
  }
  return 4;
}

}  // namespace mnsim::outcomes
