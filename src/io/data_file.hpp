// The one reader of mnsim's cited parameter data files (data/*.toml): every value carries its
// source, as an inline table
//   key = { value = "1.21 mm", source = "Author A et al. 2015, Journal 35:1007" }
// or, for a value that is not measured, source = "assumed: <reasoning>" / "calibrated: <to what>".
// DataFile reads and parses a file (regular files only, no NUL bytes, TOML 1.0) and gives
// location-aware access to its tables and cited values; io/sourced.hpp views the same parse as a
// list of entries. Quantities use the dimensions and units of core/units.hpp. Malformed data
// raise InputError at the file:line:col of the offending key.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"

namespace mnsim::io {

/// A value read from a data file.
struct DataValue {
  double si = 0.0;
  std::string text;    // as written, e.g. "1.21 mm"
  std::string source;  // citation or "assumed: ..."
  SourceLoc loc;
  bool assumed() const { return source.rfind("assumed", 0) == 0; }
};

/// A TOML document read from a data file, with location-aware accessors.
class DataFile {
 public:
  /// Reads and parses `path` (syntax errors -> InputError at the error position).
  explicit DataFile(std::string path);
  /// Parses `text` as the file `path` (for messages).
  static DataFile from_text(const std::string& text, std::string path);
  const std::string& path() const { return path_; }
  const toml::table& root() const { return root_; }

  SourceLoc loc(const toml::node& n) const;
  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& what,
                         const std::string& expected = {}) const;

  /// Sub-table `key` of `t` (named `where` in messages); throws if absent or not a table.
  const toml::table& table(const toml::table& t, const std::string& where,
                           const std::string& key) const;
  /// The value entry `key` of table `t`; throws if absent or malformed. `lo`/`hi` bound the SI
  /// value (inclusive).
  DataValue value(const toml::table& t, const std::string& where, const std::string& key, Dim d,
                  double lo, double hi) const;
  /// Like value() but returns false (and leaves `out`) when the key is absent.
  bool optional_value(const toml::table& t, const std::string& where, const std::string& key, Dim d,
                      double lo, double hi, DataValue& out) const;
  /// Throws on any key of `t` not in `known` (typo protection).
  void check_keys(const toml::table& t, const std::string& where,
                  const std::vector<std::string>& known) const;

 private:
  DataFile() = default;
  void parse(const std::string& text);
  std::string path_;
  toml::table root_;
};

}  // namespace mnsim::io
