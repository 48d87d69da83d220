// The settings of one open kind (a device's keys for its kind, a lesion's shape): values by key,
// each with the place it was written, so the module that interprets them reports an error at the
// key the user wrote ("s.toml:7:9: device.depth: ..."). Read from a scenario table by the
// module's spec reader, or made in code (the reduced model's roller, a cohort's protocol) with
// the location of whatever asked for it.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scenario.hpp"

namespace mnsim {

class Settings {
 public:
  /// Empty settings of a section (`section` names keys in messages: "device" -> device.depth).
  Settings(std::string section, SourceLoc loc);
  /// Every value of a scenario table (nested tables are not settings and are skipped).
  static Settings from_table(const Table& t);

  bool has(const std::string& key) const { return t_.has(key); }
  double quantity(const std::string& key) const { return t_.quantity(key); }
  double number(const std::string& key) const { return t_.number(key); }
  long long integer(const std::string& key) const { return t_.integer(key); }
  bool flag(const std::string& key) const { return t_.flag(key); }
  const std::string& text(const std::string& key) const { return t_.str(key); }
  const std::vector<std::string>& list(const std::string& key) const { return t_.list(key); }
  /// Whether the value was filled in from the schema's default (not written by the user).
  bool defaulted(const std::string& key) const { return t_.value(key).defaulted; }
  SourceLoc loc_of(const std::string& key) const { return t_.loc_of(key); }
  std::string key_path(const std::string& key) const { return t_.key_path(key); }
  /// Every value as TOML text (keys in the order set).
  std::string to_toml() const { return t_.to_toml(); }
  /// The section's own location.
  const SourceLoc& loc() const { return t_.loc(); }
  /// Throws an InputError at `key` (or at the section when the key was not written).
  [[noreturn]] void fail(const std::string& key, const std::string& what,
                         const std::string& expected = {}) const {
    t_.fail(key, what, expected);
  }

  /// Sets a value made in code: a quantity (SI, with its text as written, "1.5 mm"), an integer
  /// or a text, at `loc` (the place in the caller's file that asked for it).
  void set_quantity(const std::string& key, double si, Dim dim, std::string text, SourceLoc loc);
  void set_integer(const std::string& key, long long v, SourceLoc loc);
  void set_text(const std::string& key, std::string v, SourceLoc loc);

 private:
  Table t_;
};

}  // namespace mnsim
