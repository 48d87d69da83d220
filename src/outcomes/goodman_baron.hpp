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

/// Category points in the quantitative score (0 = no longer visible).
enum class GbCategory { None = 0, Milder = 1, Moderate = 2, Severe = 3 };

struct GradingRules {
  double visible_depth = 50e-6;   // below: flat (macular at most), scores 0
  double mild_depth = 150e-6;     // below: milder (dish-like) scar, 1 point
  double severe_depth = 500e-6;   // at or above: severe, 3 points (else moderate, 2)
  double broad_width = 5e-3;      // wider: "broad atrophic area"
  double macular_fraction = 0.0;  // unused placeholder removed
};

/// Loads the thresholds from data/grading.toml (InputError on malformed data).
GradingRules load_grading_rules(const std::string& path);

GbCategory categorize(const ScarState& s, const GradingRules& r);

/// Goodman & Baron quantitative global score of an inventory.
int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r);

/// Goodman & Baron qualitative grade 0..4 (0: no visible scarring).
int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r);

}  // namespace mnsim::outcomes
