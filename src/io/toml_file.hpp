// Reading a TOML input file (scenario, cohort, planner or validation file) into a validated
// Table: the file is opened as an input (regular files only, size-limited) and parsed against a
// schema root by core/scenario.hpp.
#pragma once

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace mnsim::io {

/// Reads and validates a file against a schema root. `what` describes the file in messages
/// ("a TOML cohort file").
/// `overrides`: keys set on the command line (core/scenario.hpp, Override).
Table load_toml_file(const std::string& path, const schema::Key& root,
                     const std::string& what = "a TOML scenario file",
                     const std::vector<Override>& overrides = {});

/// The kinds of mnsim input files (`mnsim check` takes any of them).
enum class InputKind {
  Scenario,
  Cohort,
  Plan,
  Validation,
  DoseResponse,
  Sweep,
  Sensitivity,
  Calibration
};
/// Which kind a file is, from its top-level tables (a line opening [grid] anywhere: dose-response
/// grid; [sensitivity] or [[parameters]] anywhere: sensitivity analysis; a top-level `scenario =`
/// or [[axis]]: sweep; otherwise the first of [population]: cohort; [[case]]: validation;
/// [constraints], [search], [inventory] or [[scars]]: planner patient; anything else a scenario,
/// whose reader then reports what is wrong). Reads the file as read_text_file does (regular files
/// only, size-limited; InputError otherwise).
InputKind detect_input_kind(const std::string& path);

}  // namespace mnsim::io
