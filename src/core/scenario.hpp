// A scenario file parsed and validated against the schema, with every default filled in.
//
// Every value remembers where it came from (file:line:col), so checks made later by any module
// (a device that does not fit the grid, a lesion outside the patch) report the exact key.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/schema.hpp"

namespace mnsim {

struct Value {
  schema::Type type = schema::Type::String;
  Dim dim = Dim::Fraction;
  std::string text;  // as it reads back in TOML: "\"1.5 mm\"", "3", "true"
  double num = 0.0;  // SI for quantities; the number for Integer/Number
  bool flag = false;
  std::string str;                   // String / Enum / Date (ISO) / Quantity (as written)
  std::vector<std::string> list;     // EnumList; QuantityList: each item as written; ValueList:
                                     // each item's TOML text
  std::vector<double> nums;          // QuantityList: each item in SI
  std::vector<SourceLoc> item_locs;  // ValueList: the place of each item
  SourceLoc loc;
  bool defaulted = false;
};

class Table {
 public:
  Table() = default;
  Table(std::string path, SourceLoc loc) : path_(std::move(path)), loc_(std::move(loc)) {}

  const std::string& path() const { return path_; }
  const SourceLoc& loc() const { return loc_; }

  bool has(const std::string& key) const;
  const Value& value(const std::string& key) const;
  double quantity(const std::string& key) const { return value(key).num; }
  double number(const std::string& key) const { return value(key).num; }
  long long integer(const std::string& key) const;
  bool flag(const std::string& key) const { return value(key).flag; }
  const std::string& str(const std::string& key) const { return value(key).str; }
  const std::vector<std::string>& list(const std::string& key) const { return value(key).list; }
  /// A QuantityList's items in SI, ascending.
  const std::vector<double>& quantities(const std::string& key) const { return value(key).nums; }
  bool has_table(const std::string& key) const;
  const Table& table(const std::string& key) const;
  const std::vector<Table>& tables(const std::string& key) const;  // empty if absent

  /// Location of a key (its value, or the table itself if absent).
  SourceLoc loc_of(const std::string& key) const;
  /// Full dotted key name for messages: "device.needle_length".
  std::string key_path(const std::string& key) const;
  /// Throws an InputError pointing at `key` in this table.
  [[noreturn]] void fail(const std::string& key, const std::string& what,
                         const std::string& expected = {}) const;

  // Building (used by the parser).
  void set(const std::string& key, Value v);
  Table& add_table(const std::string& key, Table t);
  std::vector<Table>& add_array(const std::string& key);

  /// Entries in insertion (schema) order.
  const std::vector<std::string>& order() const { return order_; }

  /// The resolved scenario as TOML text (every default filled in, with units).
  std::string to_toml() const;
  /// The resolved scenario as JSON (quantities as their strings with units).
  nlohmann::json to_json() const;

 private:
  void to_toml_into(std::string& out, const std::string& header) const;

  std::string path_;
  SourceLoc loc_;
  std::vector<std::string> order_;
  std::map<std::string, Value> values_;
  std::map<std::string, Table> tables_;
  std::map<std::string, std::vector<Table>> arrays_;
};

/// Largest scenario file accepted (a scenario is a few kilobytes).
inline constexpr std::size_t kMaxScenarioBytes = 4u << 20;

/// A key set on the command line (`--set KEY=VALUE`): `key` a dotted path below the root
/// ("device.depth", "protocol.sessions", an element of an array of tables as "lesions[0].depth"),
/// `value` TOML ("3", "\"1.5 mm\"", "[\"horizontal\"]") or, when it does not parse as TOML, the
/// text as a string (`--set device.depth=1.5 mm`).
struct Override {
  std::string key, value;
};
/// Splits "KEY=VALUE" (InputError at `flag` without '=' or with an empty key).
Override parse_override(const std::string& text, const std::string& flag = "--set");

/// Parses and validates TOML text against a schema root. `file` is used in messages only;
/// `what` names the kind of file in them (empty: a scenario). `overrides` are set in the parsed
/// document, in order, before it is validated: they meet the same schema (a message about one
/// names `--set KEY` as its place) and appear in the resolved Table as if written in the file.
Table parse_scenario_text(const std::string& text, const std::string& file, const schema::Key& root,
                          const std::string& what = {},
                          const std::vector<Override>& overrides = {});

}  // namespace mnsim
