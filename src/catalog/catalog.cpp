#include "catalog/catalog.hpp"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "core/error.hpp"
#include "core/scenario_schema.hpp"
#include "core/units.hpp"
#include "devices/catalog.hpp"

namespace mnsim {

namespace {

std::string keys_text() {
  std::string out = "Scenario keys (see docs/scenario.md):\n";
  for (const auto& fk : schema::flatten(scenario_schema())) {
    const auto& k = *fk.key;
    if (k.type == schema::Type::Table || k.type == schema::Type::TableArray) {
      out += fmt::format("\n[{}]{}  {}\n", fk.path,
                         fk.variant.empty() ? "" : " (" + fk.variant + ")", k.doc);
      continue;
    }
    std::string def = k.required ? "required" : (k.def.empty() ? "optional" : "default " + k.def);
    const std::string range = schema::range_text(k);
    out += fmt::format("  {:<34} {} ({}{}){}  {}\n", fk.path, schema::type_name(k), def,
                       range.empty() ? "" : "; " + range,
                       fk.variant.empty() ? "" : " [" + fk.variant + "]", k.doc);
  }
  return out;
}

std::string units_text() {
  std::string out = "Units accepted in quantities (a number, a space, a unit):\n";
  for (Dim d : {Dim::Length, Dim::Time, Dim::Frequency, Dim::Force, Dim::Velocity, Dim::AreaDensity,
                Dim::Angle, Dim::Pressure, Dim::Tension, Dim::Fraction}) {
    std::string units;
    for (const auto& u : units_for(d)) {
      if (u.symbol.empty()) continue;
      units += fmt::format("{}{} (= {:g} {})", units.empty() ? "" : ", ", u.symbol, u.to_si,
                           si_unit(d).empty() ? "1" : si_unit(d));
    }
    out += fmt::format("  {:<14} {}\n", dim_name(d), units);
  }
  out += "  A month is 365.25/12 days; a year 365.25 days. Fractions also take a bare number.\n";
  return out;
}

struct Topic {
  std::string name;
  std::string about;
  std::function<std::string()> text;
};

const std::vector<Topic>& topics() {
  static const std::vector<Topic> t = {
      {"keys", "every scenario key with type, unit, range and default", keys_text},
      {"units", "units accepted in quantities", units_text},
      {"devices", "microneedling devices (rollers, pens, stamps) with sources",
       [] { return devices::DeviceCatalog::defaults().listing(); }},
  };
  return t;
}

}  // namespace

std::string catalog_topics_text() {
  std::string s;
  for (const auto& t : topics()) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

std::string catalog_text(const std::string& topic) {
  if (topic.empty()) {
    std::string out = "mnsim catalog TOPIC, where TOPIC is one of:\n";
    for (const auto& t : topics()) out += fmt::format("  {:<10} {}\n", t.name, t.about);
    return out;
  }
  std::vector<std::string> names;
  for (const auto& t : topics()) {
    if (t.name == topic) return t.text();
    names.push_back(t.name);
  }
  const std::string guess = schema::suggest(topic, names);
  throw InputError(
      {"command line", 0, 0}, "catalog", fmt::format("unknown topic '{}'", topic),
      guess.empty() ? "one of " + catalog_topics_text() : fmt::format("did you mean '{}'?", guess));
}

}  // namespace mnsim
