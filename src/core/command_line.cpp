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

}  // namespace mnsim
