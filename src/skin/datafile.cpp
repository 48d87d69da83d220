#include "skin/datafile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/schema.hpp"
#include "core/units.hpp"
#include "io/files.hpp"

namespace mnsim::skin {

namespace {

struct Unit {
  std::string_view symbol;
  double to_si;
};

const std::vector<Unit>& extra_units(DataDim d) {
  static const std::vector<Unit> conc = {
      {"kg/m^3", 1.0}, {"mg/mL", 1.0}, {"mg/ml", 1.0}, {"g/L", 1.0}, {"ug/mL", 1e-3}};
  static const std::vector<Unit> vol = {
      {"/mm^3", 1e9}, {"cells/mm^3", 1e9}, {"/mL", 1e6}, {"cells/mL", 1e6}, {"/m^3", 1.0}};
  static const std::vector<Unit> none;
  switch (d) {
    case DataDim::Concentration:
      return conc;
    case DataDim::VolumeDensity:
      return vol;
    default:
      return none;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const char* node_kind(const toml::node& n) {
  if (n.is_table()) return "a table";
  if (n.is_array()) return "an array";
  if (n.is_string()) return "a string";
  if (n.is_integer()) return "an integer";
  if (n.is_floating_point()) return "a float";
  if (n.is_boolean()) return "a boolean";
  return "a date or time";
}

}  // namespace

bool parse_data_quantity(std::string_view text, DataDim d, double& si, std::string& error) {
  auto core = [&](Dim cd) {
    const ParsedQuantity q = parse_quantity(text, cd);
    if (!q.ok()) {
      error = q.error;
      return false;
    }
    si = q.si;
    return true;
  };
  switch (d) {
    case DataDim::Length:
      return core(Dim::Length);
    case DataDim::Time:
      return core(Dim::Time);
    case DataDim::Fraction:
      return core(Dim::Fraction);
    case DataDim::Pressure:
      return core(Dim::Pressure);
    case DataDim::Tension:
      return core(Dim::Tension);
    case DataDim::AreaDensity:
      return core(Dim::AreaDensity);
    case DataDim::Angle:
      return core(Dim::Angle);
    default:
      break;
  }
  const std::string_view s = trim(text);
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
          s[i] == 'E' ||
          ((s[i] == '-' || s[i] == '+') && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E')))) {
    ++i;
  }
  std::string number(s.substr(0, i));
  if (!number.empty() && number.front() == '+') number.erase(0, 1);
  double v = 0.0;
  const auto res = std::from_chars(number.data(), number.data() + number.size(), v);
  if (number.empty() || res.ec != std::errc() || res.ptr != number.data() + number.size() ||
      !std::isfinite(v)) {
    error = fmt::format("'{}' does not start with a finite number", s);
    return false;
  }
  const std::string_view unit = trim(s.substr(i));
  if (d == DataDim::Number) {
    if (!unit.empty()) {
      error = fmt::format("'{}' is a plain factor and takes no unit", s);
      return false;
    }
    si = v;
    return true;
  }
  for (const auto& u : extra_units(d)) {
    if (u.symbol == unit) {
      si = v * u.to_si;
      return true;
    }
  }
  error =
      unit.empty() ? fmt::format("'{}' has no unit", s) : fmt::format("unknown unit '{}'", unit);
  return false;
}

std::string data_dim_expected(DataDim d) {
  switch (d) {
    case DataDim::Length:
      return expected_units(Dim::Length);
    case DataDim::Time:
      return expected_units(Dim::Time);
    case DataDim::Fraction:
      return expected_units(Dim::Fraction);
    case DataDim::Pressure:
      return expected_units(Dim::Pressure);
    case DataDim::Tension:
      return expected_units(Dim::Tension);
    case DataDim::AreaDensity:
      return expected_units(Dim::AreaDensity);
    case DataDim::Angle:
      return expected_units(Dim::Angle);
    case DataDim::Number:
      return "a plain number in a string, e.g. \"1.07\"";
    case DataDim::Concentration:
      return "a concentration such as \"250 mg/mL\" (units: kg/m^3, mg/mL, g/L, ug/mL)";
    case DataDim::VolumeDensity:
      return "a number per volume such as \"8000 /mm^3\" (units: /mm^3, cells/mm^3, /mL, /m^3)";
  }
  return "";
}

DataFile::DataFile(std::string path) : path_(std::move(path)) {
  const std::string text = io::read_text_file(path_, 4u << 20, "a TOML data file");
  if (text.find('\0') != std::string::npos) {
    throw InputError({path_, 1, 1}, "-", "NUL byte in file: this is not a text file",
                     "a UTF-8 TOML data file");
  }
  try {
    root_ = toml::parse(std::string_view(text), std::string_view(path_));
  } catch (const toml::parse_error& e) {
    throw InputError(
        {path_, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
        "toml", "syntax error: " + std::string(e.description()), "valid TOML 1.0");
  }
}

SourceLoc DataFile::loc(const toml::node& n) const {
  return {path_, static_cast<int>(n.source().begin.line),
          static_cast<int>(n.source().begin.column)};
}

void DataFile::fail(const toml::node& n, const std::string& key, const std::string& what,
                    const std::string& expected) const {
  throw InputError(loc(n), key, what, expected);
}

const toml::table& DataFile::table(const toml::table& t, const std::string& where,
                                   const std::string& key) const {
  const std::string full = where.empty() ? key : where + "." + key;
  const toml::node* n = t.get(key);
  if (!n) throw InputError(loc(t), full, "missing table", fmt::format("a [{}] table", full));
  if (!n->is_table()) fail(*n, full, fmt::format("expected a table, found {}", node_kind(*n)));
  return *n->as_table();
}

bool DataFile::optional_value(const toml::table& t, const std::string& where,
                              const std::string& key, DataDim d, double lo, double hi,
                              DataValue& out) const {
  const std::string full = where.empty() ? key : where + "." + key;
  const toml::node* n = t.get(key);
  if (!n) return false;
  const std::string form =
      "{ value = \"<number> <unit>\", source = \"<citation or assumed: why>\" }";
  if (!n->is_table()) {
    fail(*n, full, fmt::format("expected an inline table, found {}", node_kind(*n)), form);
  }
  const toml::table& e = *n->as_table();
  check_keys(e, full, {"value", "source"});
  const toml::node* v = e.get("value");
  const toml::node* s = e.get("source");
  if (!v) fail(*n, full, "missing 'value'", form);
  if (!s)
    fail(*n, full, "missing 'source'", "a citation (author, year, journal) or \"assumed: ...\"");
  if (!v->is_string()) {
    fail(*v, full + ".value", fmt::format("expected a string with a unit, found {}", node_kind(*v)),
         data_dim_expected(d));
  }
  if (!s->is_string()) {
    fail(*s, full + ".source", fmt::format("expected a string, found {}", node_kind(*s)),
         "a citation or \"assumed: ...\"");
  }
  DataValue dv;
  dv.text = v->as_string()->get();
  dv.source = s->as_string()->get();
  dv.loc = loc(*v);
  if (trim(dv.source).size() < 4) {
    fail(*s, full + ".source", "empty source",
         "a citation (author, year, journal) or \"assumed: ...\"");
  }
  std::string err;
  if (!parse_data_quantity(dv.text, d, dv.si, err))
    fail(*v, full + ".value", err, data_dim_expected(d));
  if (dv.si < lo || dv.si > hi) {
    fail(*v, full + ".value", fmt::format("'{}' is out of range", dv.text),
         fmt::format("between {:g} and {:g} (SI)", lo, hi));
  }
  out = std::move(dv);
  return true;
}

DataValue DataFile::value(const toml::table& t, const std::string& where, const std::string& key,
                          DataDim d, double lo, double hi) const {
  DataValue out;
  if (!optional_value(t, where, key, d, lo, hi, out)) {
    const std::string full = where.empty() ? key : where + "." + key;
    throw InputError(loc(t), full, "missing value", data_dim_expected(d));
  }
  return out;
}

void DataFile::check_keys(const toml::table& t, const std::string& where,
                          const std::vector<std::string>& known) const {
  for (auto&& [k, node] : t) {
    const std::string name(k.str());
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string guess = schema::suggest(name, known);
    SourceLoc l{path_, static_cast<int>(k.source().begin.line),
                static_cast<int>(k.source().begin.column)};
    if (l.line == 0) l = loc(node);
    throw InputError(l, where.empty() ? name : where + "." + name,
                     fmt::format("unknown key '{}'", name),
                     guess.empty() ? "one of the documented keys (docs/skin.md)"
                                   : fmt::format("did you mean '{}'?", guess));
  }
}

}  // namespace mnsim::skin
