#include "report/words.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mnsim::report {

std::string fitzpatrick_words(int type) {
  static const char* const roman[] = {"I", "II", "III", "IV", "V", "VI"};
  static const char* const words[] = {"very fair skin that always burns and never tans",
                                      "fair skin that usually burns",
                                      "medium skin that sometimes burns and tans gradually",
                                      "olive skin that rarely burns",
                                      "brown skin that very rarely burns",
                                      "dark brown to black skin that never burns"};
  const int i = std::clamp(type, 1, 6) - 1;
  return fmt::format("Fitzpatrick skin type {} ({})", roman[i], words[i]);
}

std::string um_text(double um) {
  if (!std::isfinite(um)) return {};
  return fmt::format("{:.0f} \u00b5m", um);
}

std::string duration_text(double days) {
  if (!std::isfinite(days)) return {};
  if (!(days > 0)) return "none";
  if (days >= 0.995) return fmt::format("{:.1f} days", days);
  const double hours = days * 24;
  if (hours < 1) return "less than 1 h";
  return fmt::format("{:.0f} h", hours);
}

std::string hours_text(double hours) {
  if (!std::isfinite(hours)) return {};
  if (!(hours > 0)) return "none";
  if (hours < 1) return "less than 1 h";
  if (hours < 47.5) return fmt::format("{:.0f} h", hours);
  return duration_text(hours / 24.0);
}

std::string grade_words(int grade) {
  static const char* const words[] = {"no scars visible", "macular: flat marks of colour", "mild",
                                      "moderate", "severe"};
  if (grade < 0 || grade > 4) return fmt::format("{}", grade);
  return fmt::format("{} ({})", grade, words[grade]);
}

std::string day_text(double day) {
  if (!std::isfinite(day)) return {};
  return fmt::format("{}", std::lround(day));
}

std::string week_text(long day) {
  if (day % 7 == 0) return fmt::format("week {}", day / 7);
  return fmt::format("week {:.1f}", static_cast<double>(day) / 7.0);
}

}  // namespace mnsim::report
