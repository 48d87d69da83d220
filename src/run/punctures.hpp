// `mnsim punctures`: the device stage of session 1 of a scenario on its own, written to a results
// folder: punctures.csv, density.csv, punctures.json (statistics and run metadata) and
// scenario.resolved.toml.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/scenario.hpp"

namespace mnsim {

struct PuncturesOptions {
  std::filesystem::path out_dir;
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  bool force = false;                 // write into a non-empty foreign folder
};

/// `mnsim punctures`: runs the device stage and writes punctures.csv, density.csv,
/// punctures.json (statistics and run metadata) and scenario.resolved.toml. Returns the stats.
nlohmann::json run_punctures(Table scenario, const PuncturesOptions& opt);

}  // namespace mnsim
