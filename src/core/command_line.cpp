#include "core/command_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace mnsim {

std::uint64_t parse_whole_option(std::string_view text, const std::string& flag, std::uint64_t lo,
                                 std::uint64_t hi, const std::string& what) {
  const SourceLoc cli{"command line", 0, 0};
  const std::string tail = what.empty() ? std::string() : ", " + what;
  const std::string range = fmt::format("expected {} to {}", lo, hi);
  if (text.empty()) {
    throw InputError(cli, flag, "empty value",
                     fmt::format("a whole number from {} to {}{}", lo, hi, tail));
  }
  const bool negative = text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (!all_digits) {
    throw InputError(
        cli, flag, fmt::format("'{}' is not a decimal whole number", text),
        fmt::format("digits only, no sign, spaces or decimal point: {} to {}{}", lo, hi, tail));
  }
  if (negative) throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  // Compare as digit strings: no overflow and no wrap-around, whatever the length.
  std::string_view d = digits;
  while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
  const std::string max = std::to_string(hi);
  if (d.size() > max.size() || (d.size() == max.size() && d > max)) {
    throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  }
  std::uint64_t v = 0;
  for (const char c : d) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v < lo) throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  return v;
}

std::uint64_t parse_seed_option(std::string_view text, const std::string& flag) {
  return parse_whole_option(text, flag, 0, kMaxSeed, "as the scenario's seed");
}

bool valid_date(int y, int m, int d) {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int dm = days[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) dm = 29;
  return d <= dm;
}

std::string parse_date_option(std::string_view text, const std::string& flag) {
  const SourceLoc cli{"command line", 0, 0};
  // Digits in the places of YYYY-MM-DD, nothing else (no sign, spaces or time of day).
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                      std::all_of(text.begin(), text.end(), [i = 0](char c) mutable {
                        const int at = i++;
                        return at == 4 || at == 7 || (c >= '0' && c <= '9');
                      });
  if (!shaped) {
    throw InputError(
        cli, flag,
        text.empty() ? std::string("empty value") : fmt::format("'{}' is not a date", text),
        "an ISO 8601 date YYYY-MM-DD such as 2026-03-15");
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  if (!valid_date(num(0, 4), num(5, 2), num(8, 2))) {
    throw InputError(cli, flag, fmt::format("{} is not a valid date", text),
                     "a real calendar date between 1900 and 2200");
  }
  return std::string(text);
}

}  // namespace mnsim
