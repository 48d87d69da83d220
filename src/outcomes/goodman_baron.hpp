// Goodman & Baron acne-scar grading, computed from a simulated scar inventory.
//
// Quantitative global score (Goodman GJ, Baron JA 2006, J Cosmet Dermatol 5:48-52): each scar
// type present scores its points (milder 1, moderate 2, severe 3) times a count multiplier
// (1-10 lesions x1, 11-20 x2, more than 20 x3); the score is the sum over types.
// Qualitative grade (Goodman GJ, Baron JA 2006, Dermatol Surg 32:1458-1466): 1 macular, 2 mild,
// 3 moderate (distensible by stretching), 4 severe (not distensible).
// Which simulated scar falls into which category is set by depth/width thresholds in
// data/grading.toml (marked assumed there, with reasoning).
#pragma once

#include <string>
#include <vector>

namespace mnsim::outcomes {

/// One scar as the grading sees it.
struct ScarState {
  std::string kind;    // "icepick", "boxcar", "rolling", "striae", "wrinkle"
  double depth = 0.0;  // m, depth of the depression below the surrounding surface
  double width = 0.0;  // m
};

/// Rows of the quantitative table for atrophic scars (points in brackets).
enum class GbRow {
  NotGraded,               // striae, wrinkles: not acne scars
  Macular,                 // A: macular (flat) scar [1]
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

/// Depth/width thresholds that place a simulated scar in a row (data/grading.toml).
struct GradingRules {
  double visible_depth = 0.0;  // m; shallower: macular (flat)
  double mild_depth = 0.0;     // m; shallower: mildly atrophic
  double deep_depth = 0.0;     // m; at least: deep (severe)
  double broad_width = 0.0;    // m; at least: broad atrophic area
};

/// Loads the thresholds from data/grading.toml (InputError on malformed data).
GradingRules load_grading_rules(const std::string& path);

GbRow classify(const ScarState& s, const GradingRules& r);

/// Goodman & Baron quantitative global score of an inventory.
int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r);

/// Goodman & Baron qualitative grade 0..4 (0: no visible scarring).
int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r);

}  // namespace mnsim::outcomes
