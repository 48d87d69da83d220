// Physical quantities in scenario files: "1.5 mm", "4 weeks", "90 Hz", "2 N", "250 /cm^2".
//
// Internally every quantity is a double in SI base units (m, s, Hz, N, m/s, 1/m^2, rad, Pa, N/m,
// kg/m^3, 1/m^3, J, W, K, S/m, W/(m K), J/(kg K), J/mol); dimensionless fractions are plain ratios
// (so "50 %" is 0.5). Scenario files and the parameter data files (data/*.toml) share these
// dimensions and units. The healing grid later converts to documented working units (um, hours) in
// one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mnsim {

enum class Dim {
  Length,
  Time,
  Frequency,
  Force,
  Velocity,
  AreaDensity,  // per area, e.g. punctures per cm^2
  Angle,
  Pressure,
  Tension,                 // force per length
  Fraction,                // dimensionless, "%" allowed
  Number,                  // a plain factor, no unit
  Concentration,           // mass per volume, kg/m^3 (mg/mL is the same number)
  VolumeDensity,           // per volume, e.g. cells per mm^3
  Energy,                  // J
  Power,                   // W
  Temperature,             // K (absolute; no offset units)
  ElectricalConductivity,  // S/m
  ThermalConductivity,     // W/(m K)
  SpecificHeat,            // J/(kg K)
  MolarEnergy,             // J/mol (activation energies)
};

struct UnitInfo {
  std::string_view symbol;  // as written in files, e.g. "mm"
  double to_si;             // multiply a value in this unit by to_si to get SI
};

/// Name of a dimension ("length", "time", ...).
std::string_view dim_name(Dim d);
/// Canonical SI unit of a dimension ("m", "s", ...).
std::string_view si_unit(Dim d);
/// The units accepted for a dimension, in the order they are documented.
const std::vector<UnitInfo>& units_for(Dim d);
/// A short human list of accepted units, e.g. "a length such as \"1.5 mm\" (units: nm, um, µm, mm,
/// cm, m)".
std::string expected_units(Dim d);

/// Result of parsing a quantity string; on failure `error` says what is wrong.
struct ParsedQuantity {
  double si = 0.0;
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};

/// Parses "<number> <unit>" (space optional) into SI. A bare number is an error that names the
/// unit.
ParsedQuantity parse_quantity(std::string_view text, Dim d);

/// Converts an SI value to the given unit symbol of dimension d; nullopt if the unit is unknown.
std::optional<double> si_to(double si, Dim d, std::string_view unit);

/// Formats an SI value in a unit chosen for readability ("366 days", "250 um", "1.5 mm").
std::string format_nice(double si, Dim d);

/// Formats an SI value with a unit symbol: format_quantity(0.0015, Dim::Length, "mm") -> "1.5 mm".
std::string format_quantity(double si, Dim d, std::string_view unit);

}  // namespace mnsim
