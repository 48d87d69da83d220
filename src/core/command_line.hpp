// Numbers and dates given on the command line, parsed strictly (the CLI and the library share
// these).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mnsim {

/// Largest seed (2^53 - 1): the range of the scenario's `seed` key and of --seed.
inline constexpr std::uint64_t kMaxSeed = 9007199254740991ULL;

/// Parses a whole-number command-line value strictly: decimal digits only (no sign, no spaces,
/// not empty, no 0x), `lo` to `hi`. Throws InputError at "command line" and `flag` otherwise
/// (`what` ends the expected text, e.g. "as the scenario's seed").
std::uint64_t parse_whole_option(std::string_view text, const std::string& flag, std::uint64_t lo,
                                 std::uint64_t hi, const std::string& what = {});

/// Parses a --seed value strictly: decimal digits only (no sign, no spaces, not empty), 0 to
/// kMaxSeed. Throws InputError at "command line" and `flag` otherwise.
std::uint64_t parse_seed_option(std::string_view text, const std::string& flag = "--seed");

/// Whether y-m-d is a real calendar date from 1900 to 2200 (the range of a scenario's dates).
bool valid_date(int y, int m, int d);

/// Parses an ISO 8601 date given on the command line strictly: exactly YYYY-MM-DD, a real
/// calendar date from 1900 to 2200 (as a scenario's `course.start_date`). Returns it as given.
/// Throws InputError at "command line" and `flag` otherwise.
std::string parse_date_option(std::string_view text, const std::string& flag);

}  // namespace mnsim
