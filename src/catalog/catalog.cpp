#include "catalog/catalog.hpp"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"
#include "devices/catalog.hpp"
#include "healing/kinetics.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/calibration.hpp"
#include "protocol/cohort.hpp"
#include "protocol/dose_response.hpp"
#include "protocol/plan.hpp"
#include "protocol/sensitivity.hpp"
#include "protocol/validate.hpp"
#include "run/scenario_schema.hpp"
#include "run/sweep.hpp"
#include "skin/atlas.hpp"

namespace mnsim {

namespace {

std::string schema_keys_text(const schema::Key& root) {
  std::string out;
  for (const auto& fk : schema::flatten(root)) {
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

std::string keys_text() {
  std::string out = "Scenario keys (see docs/scenario.md):\n" + schema_keys_text(scenario_schema());
  out += "\n\nCohort file keys (mnsim cohort):\n" + schema_keys_text(protocol::cohort_schema());
  out +=
      "\n\nPlanner patient file keys (mnsim plan):\n" + schema_keys_text(protocol::plan_schema());
  out += "\n\nValidation file keys (mnsim validate):\n" +
         schema_keys_text(protocol::validation_schema());
  out += "\n\nDose-response file keys (mnsim dose-response):\n" +
         schema_keys_text(protocol::dose_response_schema());
  out += "\n\nSweep file keys (mnsim sweep):\n" + schema_keys_text(sweep_schema());
  out += "\n\nSensitivity file keys (mnsim sensitivity):\n" +
         schema_keys_text(protocol::sensitivity_schema());
  out += "\n\nCalibration file keys (mnsim calibrate):\n" +
         schema_keys_text(protocol::calibration_schema());
  return out;
}

std::string units_text() {
  std::string out = "Units accepted in quantities (a number, a space, a unit):\n";
  for (Dim d : {Dim::Length, Dim::Time, Dim::Frequency, Dim::Force, Dim::Velocity, Dim::AreaDensity,
                Dim::Angle, Dim::Pressure, Dim::Tension, Dim::Fraction, Dim::Energy, Dim::Power}) {
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

std::string value_line(const std::string& name, const io::DataValue& v) {
  return fmt::format("    {:<30} {:<12} {}\n", name, v.text, v.source);
}

std::string sites_text() {
  const skin::Atlas& a = skin::default_atlas();
  std::string out = fmt::format(
      "Site atlas ({}; see docs/skin.md). Values at the reference age, "
      "with units and sources.\n",
      a.path());
  out += "\nModifiers:\n";
  out += value_line("reference_age", a.age().reference_age);
  out += value_line("epidermis loss/decade, men", a.age().epidermis_loss_male);
  out += value_line("epidermis loss/decade, women", a.age().epidermis_loss_female);
  out += value_line("dermis loss/decade", a.age().dermis_loss);
  out += value_line("minimum age factor", a.age().minimum_factor);
  out += value_line("epidermis male factor", a.epidermis_male_factor());
  for (int t = 1; t <= 6; ++t) {
    out += value_line(fmt::format("melanocyte activity, type {}", t), a.fitzpatrick_activity(t));
  }
  const auto& first = a.sites().front();
  out += "\nDefaults (every site unless overridden):\n";
  static const char* layers[] = {"stratum_corneum", "viable_epidermis", "papillary_dermis",
                                 "reticular_dermis", "hypodermis"};
  for (std::size_t l = 0; l < skin::kLayers; ++l) {
    out += value_line(fmt::format("youngs_{}", layers[l]), first.youngs[l]);
  }
  for (std::size_t l = 0; l < skin::kLayers; ++l) {
    for (std::size_t c = 0; c < skin::kCompositionKeys.size(); ++c) {
      out += value_line(fmt::format("{}.{}", layers[l], skin::kCompositionKeys[c]),
                        first.composition[l][c]);
    }
  }
  for (const auto& s : a.sites()) {
    out += fmt::format("\n{} ({})\n", s.key, s.name);
    out += value_line("stratum_corneum", s.stratum_corneum);
    out += value_line("viable epidermis", s.epidermis);
    out += value_line("dermis, women", s.dermis_female);
    out += value_line("dermis, men", s.dermis_male);
    out += value_line("papillary_fraction", s.papillary_fraction);
    out += value_line("melanocyte_density", s.melanocyte_density);
    out += value_line("tension", s.tension);
  }
  return out;
}

std::string lesions_text() {
  const lesions::LesionData& d = lesions::default_lesion_data();
  std::string out = fmt::format("Lesion kinds ({}; see docs/skin.md).\n", d.path());
  // The registered kinds (lesions/registry.hpp): what [[lesions]] takes beyond x and y.
  for (const auto& k : lesions::lesion_kinds()) {
    std::string keys;
    for (const auto& key : k.keys) keys += (keys.empty() ? "" : ", ") + key.name;
    out += k.placeable ? fmt::format("[[lesions]] kind = {} (x, y, {}): {}.\n", k.name, keys, k.doc)
                       : fmt::format("{}: {}.\n", k.name, k.doc);
  }
  std::string classes;
  for (const auto& c : lesions::inventory_classes()) classes += (classes.empty() ? "" : ", ") + c;
  out += fmt::format("[inventory] counts: {}.\n", classes);
  for (const auto& k : d.kinds()) {
    out += fmt::format("\n{}: {}\n", k.key, k.description);
    const auto entries = k.entries();
    for (const auto& [name, v] : entries) {
      if (!v->text.empty()) out += value_line(name, *v);
    }
  }
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
      {"sites", "the site atlas: layers, composition, modifiers, with units and sources",
       sites_text},
      {"lesions", "lesion kinds and their geometry, with units and sources", lesions_text},
      {"healing", "healing-model fields and parameters with sources",
       [] { return healing::catalog_text(healing::load_default_params()); }},
      {"devices", "microneedling devices (rollers, pens, stamps) with sources",
       [] { return devices::DeviceCatalog::defaults().listing(); }},
      {"outcomes", "scar remodelling, PIH, planner and device stand-in parameters with sources",
       [] { return outcomes::catalog_text(outcomes::default_outcome_params_path()); }},
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
    out += "mnsim catalog --bibtex prints the primary sources of the data files as BibTeX.\n";
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
