// The root of the scenario schema, assembled from the sections each module contributes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/schema.hpp"

namespace mnsim {

/// The full scenario schema (built once, immutable).
const schema::Key& scenario_schema();

/// The scenario key at a dotted path ("course.sessions", "patient.age"; a variant's key as
/// "device.needle_length@roller"). Cohort, planner and validation files build their mirrors of
/// scenario keys from it, so ranges, units and choices cannot drift apart. Throws
/// std::logic_error for an unknown path.
const schema::Key& scenario_key(const std::string& path);

/// A copy of the scenario key at `path` (as scenario_key) under another name, default and
/// description: the same type, unit, range and choices. `def` is written as for schema::quantity,
/// enumeration or integer ("30 years", "medial_cheek", "3"); empty: no default. Not required.
schema::Key mirror_key(const std::string& path, std::string name, const std::string& def,
                       std::string doc);

/// Largest seed (2^53 - 1): the range of the scenario's `seed` key.
inline constexpr std::uint64_t kMaxSeed = 9007199254740991ULL;

/// Parses a whole-number command-line value strictly: decimal digits only (no sign, no spaces,
/// not empty, no 0x), `lo` to `hi`. Throws InputError at "command line" and `flag` otherwise
/// (`what` ends the expected text, e.g. "as the scenario's seed").
std::uint64_t parse_whole_option(std::string_view text, const std::string& flag, std::uint64_t lo,
                                 std::uint64_t hi, const std::string& what = {});

/// Parses a --seed value strictly: decimal digits only (no sign, no spaces, not empty), 0 to
/// kMaxSeed. Throws InputError at "command line" and `flag` otherwise.
std::uint64_t parse_seed_option(std::string_view text, const std::string& flag = "--seed");

}  // namespace mnsim
