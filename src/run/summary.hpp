// summary.json of `mnsim run` (docs/outputs.md) and the few lines the terminal shows.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "healing/options.hpp"
#include "healing/stepper.hpp"
#include "run/assess.hpp"
#include "run/record.hpp"

namespace mnsim {

/// The whole of summary.json: `run` is the run metadata (core/version.hpp run_metadata),
/// `scenario` the resolved scenario as JSON and `outputs` the files and folders the run writes
/// (run/writers.hpp result_entries).
nlohmann::json summary_json(nlohmann::json run, nlohmann::json scenario, const RunRecord& rec,
                            const healing::EngineOptions& engine, const healing::StepStats& steps,
                            const Outcome& outcome, const std::vector<std::string>& outputs);

/// A few lines for the terminal, from what summary.json holds (also for results read back).
std::string summary_text(const nlohmann::json& summary, const std::filesystem::path& out);

}  // namespace mnsim
