// Goodman & Baron acne-scar grading, computed from a simulated scar inventory (docs/model.md
// "Goodman & Baron grading"; thresholds and their sources in data/grading.toml).
//
// Quantitative global score (Goodman GJ, Baron JA 2006, J Cosmet Dermatol 5:48-52): each scar
// type present scores its points (milder 1, moderate 2, severe 3) times a count multiplier
// (1-10 lesions x1, 11-20 x2, more than 20 x3); the score is the sum over types.
// Qualitative grade (Goodman GJ, Baron JA 2006, Dermatol Surg 32:1458-1466), scar by scar from
// the published definitions, the patient graded by the worst of their scars ("by lesion
// morphologies"):
//  - 2 mild: "may not be obvious at social distances of 50 cm": visible_depth <= depth <
//  mild_depth;
//  - 3 moderate: "obvious at social distances of 50 cm ... but still able to be flattened by
//    manual stretching of the skin": depth >= mild_depth and flattens_on_stretch;
//  - 4 severe: obvious at 50 cm and "not able to be flattened by manual stretching": a
//    punched-out scar with an abnormal base (icepick) or a punched-out scar at least deep_depth
//    deep (the paper's grade-4 examples: deep boxcar, icepick). Rolling scars, tethered or not,
//    are distensible: stretching flattens them (the paper lists "more significant rolling" under
//    grade 3).
// Grade 1 (macular: "a problem of colour, not contour") is never given: the model has no scar
// colour. Scars shallower than the skin texture (visible_depth) are not seen and count in neither
// score, so a filled atrophic scar does not become a macular mark.
#pragma once

#include <string>
#include <vector>

namespace mnsim::outcomes {

/// One scar as the grading sees it. Its kind's registry entry (lesions/registry.hpp) says how it
/// is graded: its GradingClass, after following grades_as (a measured surface grades as boxcar).
struct ScarState {
  std::string kind;    // a registered lesion kind: "icepick", "boxcar", "rolling", "striae", ...
  double depth = 0.0;  // m, depth of the depression below the surrounding surface
  double width = 0.0;  // m
};

/// Rows of the quantitative table for atrophic scars (points in brackets).
enum class GbRow {
  NotGraded,               // GradingClass::NotGraded kinds (striae, wrinkles: not acne scars);
                           // scars lost in the skin texture
  Macular,                 // A: macular erythematous or pigmented scar [1] (colour: not modelled)
  MildDish,                // A: mildly atrophic dish-like [1]
  ModerateAtrophic,        // B: moderately atrophic (rolling) [2]
  PunchedOutShallow,       // B: punched-out, shallow base, < 5 mm [2]
  ShallowBroad,            // B: shallow but broad atrophic area [2]
  PunchedOutDeep,          // C: punched-out, deep normal-appearing base, < 5 mm [3]
  PunchedOutDeepAbnormal,  // C: punched-out, deep abnormal base (icepick) [3]
  DeepBroad,               // C: deep, broad atrophic area [3]
};
int row_points(GbRow row);
const char* row_name(GbRow row);

/// The qualitative class of one scar: the G&B grade it would give a face on its own.
enum class GbClass {
  NotSeen = 0,   // not an acne scar (GradingClass::NotGraded), or lost in the skin texture
  Mild = 2,      // seen up close, not obvious at 50 cm
  Moderate = 3,  // obvious at 50 cm, flattens when the skin is stretched
  Severe = 4,    // obvious at 50 cm, does not flatten
};
const char* class_name(GbClass c);

/// Thresholds of data/grading.toml.
struct GradingRules {
  double visible_depth = 0.0;  // m; shallower: lost in the skin texture, not counted
  double mild_depth = 0.0;     // m; shallower: not obvious at social distance (50 cm)
  double deep_depth = 0.0;     // m; at least: deep (punched-out scars no longer flatten)
  double broad_width = 0.0;    // m; at least: broad atrophic area
};

/// Loads the thresholds from data/grading.toml (InputError on malformed data, on an unknown key
/// and on the removed load bands mild_load and grade_ratio).
GradingRules load_grading_rules(const std::string& path);

/// The row of a scar: NotGraded kinds and scars shallower than visible_depth are not graded;
/// PunchedOut and PunchedOutAbnormal kinds are punched-out (deep: abnormal base for the latter),
/// Atrophic kinds mildly/moderately atrophic; broad scars are shallow/deep broad atrophic areas.
/// std::invalid_argument for a kind that is not registered.
GbRow classify(const ScarState& s, const GradingRules& r);

/// Whether manual stretching of the skin around the scar brings its floor up to the surface:
/// not for a punched-out scar with an abnormal (fibrotic) base, not for a punched-out scar at
/// least deep_depth deep; sloping atrophic (rolling) scars, tethered or not, and shallow
/// punched-out scars flatten.
bool flattens_on_stretch(const ScarState& s, const GradingRules& r);

/// The qualitative class of one scar (see GbClass).
GbClass qualitative_class(const ScarState& s, const GradingRules& r);

/// Goodman & Baron quantitative global score of an inventory.
int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r);

/// Goodman & Baron qualitative grade 0..4 of an inventory: the worst class among its scars;
/// 0 when no scar is seen (never 1: no colour in the model).
int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r);

/// The count multiplier of a row holding `count` scars: 1-10 x1, 11-20 x2, more than 20 x3
/// (0 for an empty row).
int count_multiplier(int count);

/// One row of the quantitative table of an inventory before and after a course.
struct GbRowChange {
  GbRow row = GbRow::NotGraded;
  int count_before = 0, count_after = 0;
  int points_before = 0, points_after = 0;  // row_points x count_multiplier of the count
};

/// A scar whose row changed: its index in the inventory, kind, depths (m) and rows.
struct GbScarMove {
  std::size_t index = 0;
  std::string kind;
  double depth_before = 0.0, depth_after = 0.0;
  GbRow row_before = GbRow::NotGraded, row_after = GbRow::NotGraded;
};

/// The quantitative score's change read row by row (docs/model.md "Goodman & Baron grading",
/// "Reading a change of the score"). The published score is a sum over rows of the row's points
/// times a multiplier of the row's count, so a scar that moves to a row of fewer points can raise
/// the score: the row it enters gains points while the row it left keeps its multiplier. This
/// keeps the published score and says why it moved.
struct GbScoreChange {
  int before = 0, after = 0;
  std::vector<GbRowChange> rows;  // every row with a scar before or after, in table order
  std::vector<GbScarMove> moved;  // the scars whose row changed, in inventory order
  int shallower = 0, deeper = 0, unchanged = 0;  // scars by their depth change
  /// The score rose although no scar got deeper and every scar that changed row moved to one of
  /// fewer points (or out of the score): the rise is the scale's arithmetic.
  bool rose_with_milder_scars() const;
  /// One line per row: "moderately atrophic (2 points): 4 -> 3 scars, 2 -> 2 points".
  std::vector<std::string> row_lines() const;
  /// One line per moved scar: "rolling 152 -> 118 um: moderately atrophic -> mildly atrophic
  /// dish-like".
  std::vector<std::string> move_lines() const;
  /// Plain sentences: how the score changed and why (always says when a rise comes from scars
  /// that moved to rows of fewer points).
  std::string explanation() const;
};

/// Compares the inventory before and after (the same scars in the same order: scar i of `after`
/// is scar i of `before`). std::invalid_argument when the sizes differ.
GbScoreChange score_change(const std::vector<ScarState>& before,
                           const std::vector<ScarState>& after, const GradingRules& r);

}  // namespace mnsim::outcomes
