#include "outcomes/disease_load.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace mnsim::outcomes {

int qualitative_grade_by_load(const std::vector<ScarState>& scars, const GradingRules& r,
                              double load_share) {
  std::array<int, 5> at_least{};  // number of graded scars of grade >= g
  int n = 0;
  for (const auto& s : scars) {
    if (classify(s, r) == GbRow::NotGraded) continue;
    ++n;
    const int g = qualitative_grade({s}, r);
    for (int k = 0; k <= g; ++k) ++at_least[static_cast<std::size_t>(k)];
  }
  if (n == 0) return 0;
  const double need = std::max(1.0, load_share * n);
  for (int g = 4; g >= 1; --g) {
    if (at_least[static_cast<std::size_t>(g)] >= need - 1e-9) return g;
  }
  return 0;
}

}  // namespace mnsim::outcomes
