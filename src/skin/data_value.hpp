// Values of parameter data files (data/*.toml): a number with a unit, and its source.
// Reading the files themselves: skin/datafile.hpp.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace mnsim::skin
