#include "core/units.hpp"
#include "core/constants.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace mnsim {

namespace {

const std::vector<UnitInfo> kLength = {{"nm", 1e-9}, {"um", 1e-6}, {"µm", 1e-6},
                                       {"mm", 1e-3}, {"cm", 1e-2}, {"m", 1.0}};
const std::vector<UnitInfo> kTime = {
    {"ms", 1e-3},       {"s", 1.0},      {"sec", 1.0},       {"min", 60.0},       {"minute", 60.0},
    {"minutes", 60.0},  {"h", 3600.0},   {"hour", 3600.0},   {"hours", 3600.0},   {"d", kDay},
    {"day", kDay},      {"days", kDay},  {"week", 7 * kDay}, {"weeks", 7 * kDay}, {"month", kMonth},
    {"months", kMonth}, {"year", kYear}, {"years", kYear}};
const std::vector<UnitInfo> kFrequency = {
    {"Hz", 1.0}, {"kHz", 1e3}, {"MHz", 1e6}, {"/s", 1.0}, {"/min", 1.0 / 60}};
const std::vector<UnitInfo> kForce = {{"mN", 1e-3}, {"N", 1.0}};
const std::vector<UnitInfo> kVelocity = {
    {"um/s", 1e-6}, {"µm/s", 1e-6}, {"mm/s", 1e-3}, {"cm/s", 1e-2}, {"m/s", 1.0}};
const std::vector<UnitInfo> kAreaDensity = {{"/mm^2", 1e6}, {"/mm2", 1e6}, {"/cm^2", 1e4},
                                            {"/cm2", 1e4},  {"/m^2", 1.0}, {"/m2", 1.0}};
const std::vector<UnitInfo> kAngle = {{"deg", kDeg}, {"°", kDeg}, {"rad", 1.0}};
const std::vector<UnitInfo> kPressure = {{"Pa", 1.0}, {"kPa", 1e3}, {"MPa", 1e6}};
const std::vector<UnitInfo> kTension = {{"N/m", 1.0}, {"mN/m", 1e-3}};
const std::vector<UnitInfo> kFraction = {{"%", 0.01}, {"", 1.0}};
const std::vector<UnitInfo> kNumber = {{"", 1.0}};
const std::vector<UnitInfo> kConcentration = {
    {"kg/m^3", 1.0}, {"mg/mL", 1.0}, {"mg/ml", 1.0}, {"g/L", 1.0}, {"ug/mL", 1e-3}};
const std::vector<UnitInfo> kVolumeDensity = {
    {"/mm^3", 1e9}, {"cells/mm^3", 1e9}, {"/mL", 1e6}, {"cells/mL", 1e6}, {"/m^3", 1.0}};
const std::vector<UnitInfo> kEnergy = {{"uJ", 1e-6}, {"µJ", 1e-6}, {"mJ", 1e-3}, {"J", 1.0}};
const std::vector<UnitInfo> kPower = {{"mW", 1e-3}, {"W", 1.0}};
const std::vector<UnitInfo> kTemperature = {{"K", 1.0}};
const std::vector<UnitInfo> kElectricalConductivity = {
    {"S/m", 1.0}, {"mS/m", 1e-3}, {"mS/cm", 0.1}};
const std::vector<UnitInfo> kThermalConductivity = {{"W/m/K", 1.0}};
const std::vector<UnitInfo> kSpecificHeat = {{"J/kg/K", 1.0}, {"kJ/kg/K", 1e3}};
const std::vector<UnitInfo> kMolarEnergy = {{"J/mol", 1.0}, {"kJ/mol", 1e3}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string example(Dim d) {
  switch (d) {
    case Dim::Length:
      return "\"1.5 mm\"";
    case Dim::Time:
      return "\"4 weeks\"";
    case Dim::Frequency:
      return "\"90 Hz\"";
    case Dim::Force:
      return "\"2 N\"";
    case Dim::Velocity:
      return "\"2 cm/s\"";
    case Dim::AreaDensity:
      return "\"250 /cm^2\"";
    case Dim::Angle:
      return "\"15 deg\"";
    case Dim::Pressure:
      return "\"1 MPa\"";
    case Dim::Tension:
      return "\"8 N/m\"";
    case Dim::Fraction:
      return "\"50 %\" or 0.5";
    case Dim::Number:
      return "\"1.07\"";
    case Dim::Concentration:
      return "\"250 mg/mL\"";
    case Dim::VolumeDensity:
      return "\"8000 /mm^3\"";
    case Dim::Energy:
      return "\"10 mJ\"";
    case Dim::Power:
      return "\"2 W\"";
    case Dim::Temperature:
      return "\"310.15 K\"";
    case Dim::ElectricalConductivity:
      return "\"0.22 S/m\"";
    case Dim::ThermalConductivity:
      return "\"0.37 W/m/K\"";
    case Dim::SpecificHeat:
      return "\"3391 J/kg/K\"";
    case Dim::MolarEnergy:
      return "\"628 kJ/mol\"";
  }
  return "";
}
}  // namespace

std::string_view dim_name(Dim d) {
  switch (d) {
    case Dim::Length:
      return "length";
    case Dim::Time:
      return "time";
    case Dim::Frequency:
      return "frequency";
    case Dim::Force:
      return "force";
    case Dim::Velocity:
      return "speed";
    case Dim::AreaDensity:
      return "areal density";
    case Dim::Angle:
      return "angle";
    case Dim::Pressure:
      return "pressure";
    case Dim::Tension:
      return "tension";
    case Dim::Fraction:
      return "fraction";
    case Dim::Number:
      return "plain number";
    case Dim::Concentration:
      return "concentration";
    case Dim::VolumeDensity:
      return "number per volume";
    case Dim::Energy:
      return "energy";
    case Dim::Power:
      return "power";
    case Dim::Temperature:
      return "temperature";
    case Dim::ElectricalConductivity:
      return "electrical conductivity";
    case Dim::ThermalConductivity:
      return "thermal conductivity";
    case Dim::SpecificHeat:
      return "specific heat";
    case Dim::MolarEnergy:
      return "molar energy";
  }
  return "?";
}

std::string_view si_unit(Dim d) {
  switch (d) {
    case Dim::Length:
      return "m";
    case Dim::Time:
      return "s";
    case Dim::Frequency:
      return "Hz";
    case Dim::Force:
      return "N";
    case Dim::Velocity:
      return "m/s";
    case Dim::AreaDensity:
      return "/m^2";
    case Dim::Angle:
      return "rad";
    case Dim::Pressure:
      return "Pa";
    case Dim::Tension:
      return "N/m";
    case Dim::Fraction:
    case Dim::Number:
      return "";
    case Dim::Concentration:
      return "kg/m^3";
    case Dim::VolumeDensity:
      return "/m^3";
    case Dim::Energy:
      return "J";
    case Dim::Power:
      return "W";
    case Dim::Temperature:
      return "K";
    case Dim::ElectricalConductivity:
      return "S/m";
    case Dim::ThermalConductivity:
      return "W/m/K";
    case Dim::SpecificHeat:
      return "J/kg/K";
    case Dim::MolarEnergy:
      return "J/mol";
  }
  return "";
}

const std::vector<UnitInfo>& units_for(Dim d) {
  switch (d) {
    case Dim::Length:
      return kLength;
    case Dim::Time:
      return kTime;
    case Dim::Frequency:
      return kFrequency;
    case Dim::Force:
      return kForce;
    case Dim::Velocity:
      return kVelocity;
    case Dim::AreaDensity:
      return kAreaDensity;
    case Dim::Angle:
      return kAngle;
    case Dim::Pressure:
      return kPressure;
    case Dim::Tension:
      return kTension;
    case Dim::Fraction:
      return kFraction;
    case Dim::Number:
      return kNumber;
    case Dim::Concentration:
      return kConcentration;
    case Dim::VolumeDensity:
      return kVolumeDensity;
    case Dim::Energy:
      return kEnergy;
    case Dim::Power:
      return kPower;
    case Dim::Temperature:
      return kTemperature;
    case Dim::ElectricalConductivity:
      return kElectricalConductivity;
    case Dim::ThermalConductivity:
      return kThermalConductivity;
    case Dim::SpecificHeat:
      return kSpecificHeat;
    case Dim::MolarEnergy:
      return kMolarEnergy;
  }
  return kFraction;
}

std::string expected_units(Dim d) {
  std::string units;
  for (const auto& u : units_for(d)) {
    if (u.symbol.empty()) continue;
    if (!units.empty()) units += ", ";
    units += u.symbol;
  }
  const std::string_view name = dim_name(d);
  const char* a =
      std::string_view("aeiou").find(name.front()) != std::string_view::npos ? "an" : "a";
  if (units.empty()) return fmt::format("{} {} such as {}", a, name, example(d));
  return fmt::format("{} {} such as {}; units: {}", a, name, example(d), units);
}

ParsedQuantity parse_quantity(std::string_view text, Dim d) {
  ParsedQuantity out;
  const std::string_view s = trim(text);
  if (s.empty()) {
    out.error = "empty quantity";
    return out;
  }
  // Leading number: optional sign, digits, point, exponent.
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  }
  if (digits && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    std::size_t k = j;
    while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
    if (k > j) i = k;
  }
  if (!digits) {
    out.error = fmt::format("'{}' does not start with a number", s);
    return out;
  }
  std::string number(s.substr(0, i));
  if (!number.empty() && number.front() == '+') number.erase(0, 1);
  double value = 0.0;
  const auto res = std::from_chars(number.data(), number.data() + number.size(), value);
  if (res.ec != std::errc() || res.ptr != number.data() + number.size() || !std::isfinite(value)) {
    out.error = fmt::format("'{}' is not a finite number", s.substr(0, i));
    return out;
  }
  const std::string_view unit = trim(s.substr(i));
  for (const auto& u : units_for(d)) {
    if (u.symbol == unit) {
      if (unit.empty() && d != Dim::Fraction && d != Dim::Number) break;
      out.si = value * u.to_si;
      if (!std::isfinite(out.si)) {
        out.error = fmt::format("'{}' overflows", s);
      }
      return out;
    }
  }
  if (unit.empty()) {
    out.error = fmt::format("'{}' has no unit", s);
  } else if (d == Dim::Number) {
    out.error = fmt::format("'{}' is a plain factor and takes no unit", s);
  } else {
    out.error = fmt::format("unknown {} unit '{}'", dim_name(d), unit);
  }
  return out;
}

std::optional<double> si_to(double si, Dim d, std::string_view unit) {
  for (const auto& u : units_for(d)) {
    if (u.symbol == unit) return si / u.to_si;
  }
  return std::nullopt;
}

std::string format_quantity(double si, Dim d, std::string_view unit) {
  const auto v = si_to(si, d, unit);
  if (!v) return fmt::format("{:g} {}", si, si_unit(d));
  if (unit.empty()) return fmt::format("{:g}", *v);
  if (unit == "%") return fmt::format("{:g} %", *v);
  return fmt::format("{:g} {}", *v, unit);
}

std::string format_nice(double si, Dim d) {
  const double a = std::fabs(si);
  switch (d) {
    case Dim::Length:
      return format_quantity(si, d, a < 1e-3 ? "um" : (a < 1e-2 ? "mm" : (a < 1.0 ? "cm" : "m")));
    case Dim::Time:
      if (a >= 4 * kYear) return format_quantity(si, d, "years");
      return format_quantity(si, d,
                             a < 60 ? "s" : (a < 3600 ? "min" : (a < 2 * kDay ? "h" : "days")));
    case Dim::Force:
      return format_quantity(si, d, a < 0.1 ? "mN" : "N");
    case Dim::Frequency:
      return format_quantity(si, d, a >= 1e6 ? "MHz" : (a >= 1e3 ? "kHz" : "Hz"));
    case Dim::Energy:
      return format_quantity(si, d, a < 1e-3 ? "uJ" : (a < 1.0 ? "mJ" : "J"));
    case Dim::Power:
      return format_quantity(si, d, a < 1.0 ? "mW" : "W");
    case Dim::Pressure:
      return format_quantity(si, d, a < 1e3 ? "Pa" : (a < 1e6 ? "kPa" : "MPa"));
    case Dim::Velocity:
      return format_quantity(si, d, a < 1e-3 ? "um/s" : (a < 1e-2 ? "mm/s" : "cm/s"));
    case Dim::AreaDensity:
      return format_quantity(si, d, "/cm^2");
    case Dim::Angle:
      return format_quantity(si, d, "deg");
    case Dim::Fraction:
      return format_quantity(si, d, "%");
    default:
      return format_quantity(si, d, si_unit(d));
  }
}

}  // namespace mnsim
