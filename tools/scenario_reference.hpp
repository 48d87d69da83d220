// Markdown reference of every scenario key, generated from the schema (docs/scenario.md).
#pragma once

#include <fmt/format.h>

#include <string>

#include "protocol/calibration.hpp"
#include "protocol/cohort.hpp"
#include "protocol/dose_response.hpp"
#include "protocol/plan.hpp"
#include "protocol/sensitivity.hpp"
#include "protocol/validate.hpp"
#include "run/scenario_schema.hpp"
#include "run/sweep.hpp"

namespace mnsim::tools {

inline std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

/// One Markdown table per table of a schema, in schema order; `level` is the heading marker of
/// the tables ("###").
inline std::string schema_reference_markdown(const schema::Key& root, const std::string& level) {
  using schema::Type;
  std::string out;
  std::string current = "\x01";
  bool table_head = false;  // the current section's table has its head (a table of tables has none)
  auto header = [&](const std::string& section, const std::string& doc) {
    if (!table_head && out.ends_with("\n\n")) out.pop_back();  // after a section without keys
    out += fmt::format("\n{} {}\n\n{}\n\n", level,
                       section.empty() ? "Top level" : "`" + section + "`", doc);
    table_head = false;
  };
  // Top-level scalars first.
  const auto flat = schema::flatten(root);
  header("", "Keys at the top of the file.");
  for (const auto& fk : flat) {
    const auto& k = *fk.key;
    const bool is_table = k.type == Type::Table || k.type == Type::TableArray;
    const auto dot = fk.path.rfind('.');
    const std::string parent = dot == std::string::npos ? "" : fk.path.substr(0, dot);
    if (is_table) {
      header(fk.path,
             md_escape(k.doc) + (fk.variant.empty() ? "" : " Only with " + fk.variant + "."));
      current = fk.path;
      continue;
    }
    if (parent != current && !(parent.empty() && current == "\x01")) {
      // Scalars of a parent table after a nested table: repeat the parent header.
      header(parent, "(continued)");
      current = parent;
    }
    if (current == "\x01") current = "";
    if (!table_head) {
      out += "| key | type | default | range | description |\n|---|---|---|---|---|\n";
      table_head = true;
    }
    const std::string def =
        k.required ? "**required**" : (k.def.empty() ? "optional" : "`" + k.def + "`");
    out += fmt::format("| `{}` | {} | {} | {} | {}{} |\n", fk.path, md_escape(schema::type_name(k)),
                       md_escape(def), md_escape(schema::range_text(k)), md_escape(k.doc),
                       fk.variant.empty() ? "" : " (only with " + fk.variant + ")");
  }
  return out;
}

/// The scenario's keys, then those of cohort, planner patient and validation files.
inline std::string scenario_reference_markdown() {
  std::string out = schema_reference_markdown(scenario_schema(), "###");
  const struct {
    const char* title;
    const schema::Key& root;
  } others[] = {
      {"Cohort files (`mnsim cohort`, docs/cohort.md)", protocol::cohort_schema()},
      {"Planner patient files (`mnsim plan`)", protocol::plan_schema()},
      {"Validation files (`mnsim validate`)", protocol::validation_schema()},
      {"Dose-response files (`mnsim dose-response`, docs/model.md)",
       protocol::dose_response_schema()},
      {"Sweep files (`mnsim sweep`, docs/sweep.md)", sweep_schema()},
      {"Sensitivity files (`mnsim sensitivity`, docs/sensitivity.md)",
       protocol::sensitivity_schema()},
      {"Calibration files (`mnsim calibrate`, docs/calibration.md)",
       protocol::calibration_schema()},
  };
  for (const auto& o : others) {
    out += fmt::format("\n### {}\n", o.title);
    out += schema_reference_markdown(o.root, "####");
  }
  return out;
}

}  // namespace mnsim::tools
