#include "outcomes/goodman_baron.hpp"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

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

namespace {

constexpr std::size_t kRows = 9;  // GbRow values

std::array<int, kRows> row_counts(const std::vector<ScarState>& scars, const GradingRules& r) {
  std::array<int, kRows> counts{};
  for (const auto& s : scars) ++counts[static_cast<std::size_t>(classify(s, r))];
  return counts;
}

int score_of(const std::array<int, kRows>& counts) {
  int score = 0;
  for (std::size_t row = 1; row < counts.size(); ++row) {
    score += row_points(static_cast<GbRow>(row)) * count_multiplier(counts[row]);
  }
  return score;
}

std::string scars_word(int n) {
  return fmt::format("{} scar{}", n, n == 1 ? "" : "s");
}

}  // namespace

int count_multiplier(int count) {
  if (count <= 0) return 0;
  return count <= 10 ? 1 : (count <= 20 ? 2 : 3);
}

int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r) {
  return score_of(row_counts(scars, r));
}

GbScoreChange score_change(const std::vector<ScarState>& before,
                           const std::vector<ScarState>& after, const GradingRules& r) {
  if (before.size() != after.size()) {
    throw std::invalid_argument("score_change: the inventories before and after differ in size");
  }
  GbScoreChange c;
  const auto cb = row_counts(before, r), ca = row_counts(after, r);
  c.before = score_of(cb);
  c.after = score_of(ca);
  for (std::size_t row = 1; row < kRows; ++row) {
    if (cb[row] == 0 && ca[row] == 0) continue;
    const int pts = row_points(static_cast<GbRow>(row));
    c.rows.push_back({static_cast<GbRow>(row), cb[row], ca[row], pts * count_multiplier(cb[row]),
                      pts * count_multiplier(ca[row])});
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double d0 = before[i].depth, d1 = after[i].depth;
    if (d1 < d0) {
      ++c.shallower;
    } else if (d1 > d0) {
      ++c.deeper;
    } else {
      ++c.unchanged;
    }
    const GbRow r0 = classify(before[i], r), r1 = classify(after[i], r);
    if (r0 != r1) c.moved.push_back({i, before[i].kind, d0, d1, r0, r1});
  }
  return c;
}

bool GbScoreChange::rose_with_milder_scars() const {
  if (after <= before || deeper > 0) return false;
  return std::all_of(moved.begin(), moved.end(), [](const GbScarMove& m) {
    return row_points(m.row_after) < row_points(m.row_before);
  });
}

std::vector<std::string> GbScoreChange::row_lines() const {
  std::vector<std::string> out;
  for (const auto& x : rows) {
    out.push_back(fmt::format("{} ({} point{}): {} -> {} scars, {} -> {} points", row_name(x.row),
                              row_points(x.row), row_points(x.row) == 1 ? "" : "s", x.count_before,
                              x.count_after, x.points_before, x.points_after));
  }
  return out;
}

std::vector<std::string> GbScoreChange::move_lines() const {
  std::vector<std::string> out;
  for (const auto& m : moved) {
    out.push_back(fmt::format(
        "{} {:.0f} -> {:.0f} um: {} -> {}", m.kind, m.depth_before * 1e6, m.depth_after * 1e6,
        row_name(m.row_before),
        m.row_after == GbRow::NotGraded ? "lost in the skin texture" : row_name(m.row_after)));
  }
  return out;
}

std::string GbScoreChange::explanation() const {
  const std::string depths = fmt::format("{} shallower, {} deeper, {} unchanged",
                                         scars_word(shallower), scars_word(deeper), unchanged);
  std::string gained, kept;  // rows that gained points; rows left by scars that kept theirs
  for (const auto& x : rows) {
    if (x.points_after > x.points_before) {
      gained += fmt::format("{}{} ({} -> {} scars, {} -> {} points)", gained.empty() ? "" : "; ",
                            row_name(x.row), x.count_before, x.count_after, x.points_before,
                            x.points_after);
    } else if (x.count_after < x.count_before && x.points_after == x.points_before) {
      kept +=
          fmt::format("{}{} ({} -> {} scars, still x{})", kept.empty() ? "" : "; ", row_name(x.row),
                      x.count_before, x.count_after, count_multiplier(x.count_after));
    }
  }
  const std::string moves =
      fmt::format("{} changed row", scars_word(static_cast<int>(moved.size())));
  if (after > before && rose_with_milder_scars()) {
    return fmt::format(
        "The score rose from {} to {} although no scar got deeper ({}): {}, each to a row of "
        "fewer points or out of the score. Goodman & Baron's score adds, row by row, the row's "
        "points times a multiplier "
        "of the row's count (1-10 scars x1, 11-20 x2, more than 20 x3), so a row that gains "
        "scars adds points ({}) while a row the scars left keeps its multiplier{}. The rise is a "
        "property of the published scale: the scars are milder, not worse.",
        before, after, depths, moves, gained,
        kept.empty() ? std::string() : fmt::format(" ({})", kept));
  }
  if (after > before) {
    return fmt::format("The score rose from {} to {} ({}; {}): rows that gained points: {}.",
                       before, after, depths, moves, gained);
  }
  if (after < before) {
    std::string lost;
    for (const auto& x : rows) {
      if (x.points_after < x.points_before) {
        lost += fmt::format("{}{} ({} -> {} scars, {} -> {} points)", lost.empty() ? "" : "; ",
                            row_name(x.row), x.count_before, x.count_after, x.points_before,
                            x.points_after);
      }
    }
    return fmt::format(
        "The score fell from {} to {} ({}; {}): rows that lost points: {}{}.", before, after,
        depths, moves, lost,
        gained.empty() ? std::string() : fmt::format("; rows that gained points: {}", gained));
  }
  return fmt::format(
      "The score is unchanged at {} ({}; {}){}.", before, depths, moves,
      moved.empty() ? ": no scar crossed a depth limit of the table"
                    : ": the rows' points, each a row's points times the multiplier of its count, "
                      "add up to the same");
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
