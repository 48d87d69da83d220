// Data files whose every parameter carries its source, read by io::DataFile and viewed as a list of
// entries: a TOML file of top-level tables (entries),
// each key an inline table `{ value = ..., source = "..." }`. The value is a quantity string
// ("2 cm"), a list of quantity strings, an integer, a number or a string; the source names the
// author, year and journal/agency, or starts with "assumed:" or "calibrated:" with its reasoning.
// Plain strings (without a source) are allowed for descriptive keys such as `kind` and `name`.
// Malformed data throws InputError naming file:line:col and the key.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"

namespace mnsim::io {

struct SourcedSpec {
  enum class Kind { Text, Integer, Number, List } kind = Kind::Text;
  std::string text;                // Text: the string as written (quantity or word)
  double number = 0.0;             // Integer / Number
  std::vector<std::string> items;  // List: strings as written
  std::vector<SourceLoc> item_locs;
  std::string source;  // empty for plain descriptive strings
  SourceLoc loc;
};

/// One top-level table of a sourced data file.
class SourcedEntry {
 public:
  SourcedEntry() = default;
  SourcedEntry(std::string id, SourceLoc loc) : id_(std::move(id)), loc_(std::move(loc)) {}

  const std::string& id() const { return id_; }
  const SourceLoc& loc() const { return loc_; }
  bool has(const std::string& key) const { return specs_.count(key) != 0; }
  const SourcedSpec& spec(const std::string& key) const;  // InputError if absent
  /// Keys in file order.
  const std::vector<std::string>& keys() const { return order_; }

  /// A quantity in SI; InputError if absent, not a quantity string, or out of (lo, hi].
  double quantity(const std::string& key, Dim d) const;
  /// A list of quantities in SI.
  std::vector<double> quantities(const std::string& key, Dim d) const;
  long long integer(const std::string& key) const;
  double number(const std::string& key) const;
  /// A string value (sourced or plain).
  const std::string& text(const std::string& key) const;
  /// The source text of a key ("" for plain strings).
  const std::string& source(const std::string& key) const { return spec(key).source; }

  [[noreturn]] void fail(const std::string& key, const std::string& what,
                         const std::string& expected = {}) const;

  void add(const std::string& key, SourcedSpec s);

 private:
  std::string id_;
  SourceLoc loc_;
  std::vector<std::string> order_;
  std::map<std::string, SourcedSpec> specs_;
};

/// Reads a sourced data file: every top-level table is an entry (in file order). A top-level
/// key that is not a table, a spec without `value` or without a non-empty `source`, or an
/// unsupported value type is an InputError at its position.
std::vector<SourcedEntry> read_sourced_file(const std::filesystem::path& path);
/// Same, from text (`file` is used in messages).
std::vector<SourcedEntry> parse_sourced_text(const std::string& text, const std::string& file);

}  // namespace mnsim::io
