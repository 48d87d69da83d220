// Goodman & Baron acne-scar grading, computed from a simulated scar inventory.
//
// Quantitative global score (Goodman GJ, Baron JA 2006, J Cosmet Dermatol 5:48-52): each scar
// type present scores its points (milder 1, moderate 2, severe 3) times a count multiplier
// (1-10 lesions x1, 11-20 x2, more than 20 x3); the score is the sum over types.
// Qualitative grade (Goodman GJ, Baron JA 2006, Dermatol Surg 32:1458-1466): 1 macular, 2 mild
// (not obvious at social distances of 50 cm), 3 moderate (obvious at 50 cm), 4 severe; assigned
// "by lesion morphologies and disease load as indicated by patient perception of severity". Here
// by the scar load visible at social distance (social_load), in bands of equal ratio.
// Which simulated scar falls into which category is set by depth/width thresholds and loads in
// data/grading.toml (sources there; docs/model.md "Goodman & Baron grading").
// Scars shallower than the skin texture (visible_depth) are not seen and count in neither score
// (the model has no scar colour, so a filled atrophic scar does not become a macular mark).
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

/// Thresholds of data/grading.toml.
struct GradingRules {
  double visible_depth = 0.0;  // m; shallower: lost in the skin texture, not counted
  double mild_depth = 0.0;     // m; shallower: mildly atrophic, not resolved at social distance
  double deep_depth = 0.0;     // m; at least: deep (severe)
  double broad_width = 0.0;    // m; at least: broad atrophic area
  double mild_load = 0.0;      // m^2; social load at which grade 2 (mild) begins
  double grade_ratio = 2.0;    // ratio of the social load between successive grade limits
};

/// Loads the thresholds from data/grading.toml (InputError on malformed data).
GradingRules load_grading_rules(const std::string& path);

/// The row of a scar: NotGraded kinds and scars shallower than visible_depth are not graded;
/// PunchedOut and PunchedOutAbnormal kinds are punched-out (deep: abnormal base for the latter),
/// Atrophic kinds mildly/moderately atrophic; broad scars are shallow/deep broad atrophic areas.
/// std::invalid_argument for a kind that is not registered.
GbRow classify(const ScarState& s, const GradingRules& r);

/// Goodman & Baron quantitative global score of an inventory.
int quantitative_score(const std::vector<ScarState>& scars, const GradingRules& r);

/// Scar load visible at social distance (m^2): sum over graded scars (kinds not NotGraded)
/// of width x max(0, depth - mild_depth), the shadow area beyond the resolution of the eye at
/// 50 cm under 45 degree light.
double social_load(const std::vector<ScarState>& scars, const GradingRules& r);

/// Goodman & Baron qualitative grade 0..4 of an inventory: 0 if no graded scar is deeper than
/// visible_depth; else 1 below mild_load, 2 below mild_load x ratio, 3 below mild_load x ratio^2,
/// 4 above (L = social_load).
int qualitative_grade(const std::vector<ScarState>& scars, const GradingRules& r);

}  // namespace mnsim::outcomes
