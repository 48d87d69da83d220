#include "outcomes/goodman_baron.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <array>

#include "core/error.hpp"
#include "core/units.hpp"
#include "io/files.hpp"

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
  const std::string text = io::read_text_file(path, 1 << 20);
  toml::table doc;
  try {
    doc = toml::parse(std::string_view(text), std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw InputError(
        {path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
        "toml", "syntax error: " + std::string(e.description()), "valid TOML");
  }
  auto length = [&](const char* key) {
    const toml::node* t = doc.get(key);
    const toml::node* v = t && t->is_table() ? t->as_table()->get("value") : nullptr;
    const toml::node* src = t && t->is_table() ? t->as_table()->get("source") : nullptr;
    const SourceLoc loc{path, t ? static_cast<int>(t->source().begin.line) : 1,
                        t ? static_cast<int>(t->source().begin.column) : 1};
    if (!v || !v->is_string()) {
      throw InputError(loc, std::string(key) + ".value", "missing or not a string",
                       "a length such as \"150 um\"");
    }
    if (!src || !src->is_string() || src->as_string()->get().empty()) {
      throw InputError(loc, std::string(key) + ".source", "missing source",
                       "a citation, or 'assumed: reasoning'");
    }
    const ParsedQuantity q = parse_quantity(v->as_string()->get(), Dim::Length);
    const SourceLoc vloc{path, static_cast<int>(v->source().begin.line),
                         static_cast<int>(v->source().begin.column)};
    if (!q.ok())
      throw InputError(vloc, std::string(key) + ".value", q.error, expected_units(Dim::Length));
    if (q.si <= 0)
      throw InputError(vloc, std::string(key) + ".value", "must be positive", "a length > 0");
    return q.si;
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
  if (s.kind == "striae" || s.kind == "wrinkle") return GbRow::NotGraded;
  if (s.depth < r.visible_depth) return GbRow::Macular;
  const bool broad = s.width >= r.broad_width;
  const bool punched = s.kind == "boxcar" || s.kind == "icepick";
  if (s.depth >= r.deep_depth) {
    if (broad) return GbRow::DeepBroad;
    return s.kind == "icepick" ? GbRow::PunchedOutDeepAbnormal
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

int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r) {
  int grade = 0;
  for (const auto& s : scars) {
    const GbRow row = classify(s, r);
    int g = 0;
    switch (row_points(row)) {
      case 0:
        g = 0;
        break;
      case 1:
        g = row == GbRow::Macular ? 1 : 2;
        break;
      case 2:
        g = 3;
        break;
      // Deep rolling/broad scars flatten when the skin is stretched (distensible): grade 3;
      // deep punched-out scars do not: grade 4.
      case 3:
        g = (row == GbRow::DeepBroad && s.kind == "rolling") ? 3 : 4;
        break;
    }
    grade = std::max(grade, g);
  }
  return grade;
}

}  // namespace mnsim::outcomes
