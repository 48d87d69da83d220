// Reading parameter data files (data/*.toml): every value is an inline table
//   key = { value = "1.21 mm", source = "Author A et al. 2015, Journal 35:1007" }
// or, for a value that is not measured, source = "assumed: <reasoning>" / "calibrated: <to what>".
// Malformed data raise InputError at the file:line:col of the offending key.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace mnsim::skin {

/// Dimensions used in data files (SI inside).
enum class DataDim {
  Length,         // m          (nm, um, µm, mm, cm, m)
  Time,           // s          (years, days, ...)
  Fraction,       // ratio      ("%" or bare number)
  Number,         // bare number (dimensionless factor)
  Pressure,       // Pa         (Pa, kPa, MPa)
  Tension,        // N/m
  AreaDensity,    // 1/m^2      (/mm^2, /cm^2, /m^2)
  Concentration,  // kg/m^3     (mg/mL, g/L, kg/m^3, ug/mL)
  VolumeDensity,  // 1/m^3      (/mm^3, cells/mm^3, /mL, /m^3)
  Angle,          // rad        (deg, rad)
};

/// A value read from a data file.
struct DataValue {
  double si = 0.0;
  std::string text;    // as written, e.g. "1.21 mm"
  std::string source;  // citation or "assumed: ..."
  SourceLoc loc;
  bool assumed() const { return source.rfind("assumed", 0) == 0; }
};

/// Parses "<number> <unit>" for a data dimension into SI; returns false with `error` set.
bool parse_data_quantity(std::string_view text, DataDim d, double& si, std::string& error);
/// The display unit list for messages, e.g. "a length such as \"1.2 mm\"".
std::string data_dim_expected(DataDim d);

/// A TOML document read from a data file, with location-aware accessors.
class DataFile {
 public:
  /// Reads and parses `path` (syntax errors -> InputError at the error position).
  explicit DataFile(std::string path);
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
  DataValue value(const toml::table& t, const std::string& where, const std::string& key, DataDim d,
                  double lo, double hi) const;
  /// Like value() but returns false (and leaves `out`) when the key is absent.
  bool optional_value(const toml::table& t, const std::string& where, const std::string& key,
                      DataDim d, double lo, double hi, DataValue& out) const;
  /// Throws on any key of `t` not in `known` (typo protection).
  void check_keys(const toml::table& t, const std::string& where,
                  const std::vector<std::string>& known) const;

 private:
  std::string path_;
  toml::table root_;
};

}  // namespace mnsim::skin
