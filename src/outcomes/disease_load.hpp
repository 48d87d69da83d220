// Goodman & Baron qualitative grade by disease load. Goodman & Baron (2006, Dermatol Surg
// 32:1458) assign the grade "by lesion morphologies and disease load as indicated by patient
// perception of severity": a face with many mild scars and one icepick scar is not graded as
// severe by that one scar. outcomes::qualitative_grade returns the grade of the worst scar; this
// function returns the highest grade g that at least a share `load_share` of the graded scars
// reach (grade >= g), each scar graded alone by outcomes::qualitative_grade.
// load_share: data/outcomes.toml [grading] (assumed there).
#pragma once

#include <vector>

#include "outcomes/goodman_baron.hpp"

namespace mnsim::outcomes {

int qualitative_grade_by_load(const std::vector<ScarState>& scars, const GradingRules& r,
                              double load_share);

}  // namespace mnsim::outcomes
