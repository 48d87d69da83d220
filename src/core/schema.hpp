// The scenario schema: every key the scenario language knows, with its type, unit dimension,
// allowed range, default and a one-line description. Modules contribute their own sections
// (skin, devices, protocol, ...) and run/scenario_schema.cpp assembles the scenario's root.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace mnsim::schema {

enum class Type {
  Table,       // [name]
  TableArray,  // [[name]]
  String,
  Enum,     // string from a fixed list
  Integer,  // TOML integer
  Number,   // TOML integer or float (dimensionless)
  Bool,
  Quantity,      // string with a unit, e.g. "1.5 mm"
  Date,          // ISO 8601 date, TOML date or string
  EnumList,      // array of strings from a fixed list
  QuantityList,  // array of quantities with units, ascending, e.g. ["1 day", "30 days"]
  ValueList,     // array of scalar values (strings, numbers, booleans), each kept as its TOML text
};

struct Key {
  std::string name;
  Type type = Type::String;
  Dim dim = Dim::Fraction;         // Quantity only
  std::string unit;                // display unit for messages and docs, e.g. "mm"
  std::optional<double> min, max;  // SI for quantities
  bool min_exclusive = false;
  std::string def;  // default as TOML text ("\"1.5 mm\"", "3", "true"); empty = no default
  bool required = false;
  std::vector<std::string> choices;  // Enum / EnumList
  std::string doc;
  std::vector<Key> children;                         // Table / TableArray element
  std::string discriminator;                         // child Enum key selecting a variant
  std::map<std::string, std::vector<Key>> variants;  // extra children per discriminator value
  std::size_t max_items = 100000;                    // TableArray / EnumList / QuantityList
  bool allow_empty = false;  // EnumList / QuantityList: an empty list is accepted (it means none)
  bool always = false;       // Table: created with defaults even when absent from the file
  // String: the path of a file, relative to the file the key is written in. An empty path is an
  // error at the key; the resolved file (Table::to_toml) names it by its absolute path, so a
  // resolved scenario written elsewhere (an output folder) still finds it.
  bool file_path = false;

  // Fluent helpers used when writing schema sections.
  Key& range(std::optional<double> lo, std::optional<double> hi, bool lo_exclusive = false) {
    min = lo;
    max = hi;
    min_exclusive = lo_exclusive;
    return *this;
  }
  Key& must() {
    required = true;
    return *this;
  }
  Key& path() {
    file_path = true;
    return *this;
  }
  Key& may_be_empty() {
    allow_empty = true;
    return *this;
  }
};

Key table(std::string name, std::string doc, std::vector<Key> children, bool always = true);
Key table_array(std::string name, std::string doc, std::vector<Key> children,
                std::size_t max_items = 100000);
Key string(std::string name, std::string def, std::string doc);
Key enumeration(std::string name, std::vector<std::string> choices, std::string def,
                std::string doc);
Key enum_list(std::string name, std::vector<std::string> choices, std::string def, std::string doc);
/// An array of scalar values of any TOML type (strings, integers, floats, booleans), at most
/// max_items; each is kept as its TOML text (Value::list) with its place (Value::item_locs).
Key value_list(std::string name, std::string doc, std::size_t max_items = 10000);
Key integer(std::string name, std::string def, std::string doc, std::optional<double> lo = {},
            std::optional<double> hi = {});
Key number(std::string name, std::string def, std::string doc, std::optional<double> lo = {},
           std::optional<double> hi = {});
Key boolean(std::string name, std::string def, std::string doc);
/// def is the quantity as written, e.g. "1.5 mm" (no quotes); lo/hi in SI.
Key quantity(std::string name, Dim dim, std::string unit, std::string def, std::string doc,
             std::optional<double> lo = {}, std::optional<double> hi = {});
Key date(std::string name, std::string doc);
/// A list of quantities in ascending order, each within lo..hi (SI); def as TOML text ("[]") or
/// empty for none.
Key quantity_list(std::string name, Dim dim, std::string unit, std::string def, std::string doc,
                  std::optional<double> lo = {}, std::optional<double> hi = {},
                  std::size_t max_items = 10000);

/// Bounds are inclusive and compared in SI with this relative tolerance, so a documented bound
/// is accepted whatever unit it is written in ("100 um", "0.1 mm" and "1e-4 m" convert to SI
/// values a few ulps apart). Integers are compared exactly.
inline constexpr double kBoundRelTolerance = 1e-14;

/// Checks `v` (SI for quantities) against the key's range. Returns false when it is outside;
/// a value within the tolerance of a bound is set to the bound.
bool clamp_to_range(const Key& k, double& v);

/// Type name for docs and messages ("length", "integer", "one of ...").
std::string type_name(const Key& k);
/// Human range, e.g. "0.1 mm to 3 mm"; empty when unbounded.
std::string range_text(const Key& k);

/// One documented key path, flattened: "course.sessions[].needle_length".
struct FlatKey {
  std::string path;
  const Key* key;
  std::string variant;  // "kind = roller" for variant-specific keys
};
std::vector<FlatKey> flatten(const Key& root);

/// The key at a dotted path below `root` ("course.sessions", "patient.age"; a variant's key as
/// "device.needle_length@roller"). Throws std::logic_error for an unknown path.
const Key& find_key(const Key& root, const std::string& path);

/// A copy of `source` under another name, default and description: the same type, unit, range
/// and choices (a file that mirrors a scenario key cannot drift from it). `def` is written as for
/// quantity, enumeration or integer ("30 years", "medial_cheek", "3"); empty: no default. Not
/// required.
Key mirror(const Key& source, std::string name, const std::string& def, std::string doc);

/// The `seed` key of scenario, cohort and planner files: a whole number, 0 to kMaxSeed, default 1.
Key seed_key(std::string doc);

/// Edit distance for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);
/// The closest candidate within a sensible distance, or empty.
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mnsim::schema
