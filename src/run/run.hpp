// `mnsim run`: one scenario from file to results folder. The CLI is a thin shell over this.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/cancel.hpp"
#include "core/progress.hpp"
#include "core/scenario.hpp"
#include "run/resources.hpp"

namespace mnsim {

struct RunOptions {
  std::filesystem::path out_dir;      // results folder
  int threads = 0;                    // 0: OpenMP default
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  bool force = false;                 // write into a non-empty foreign folder
  Progress* progress = nullptr;       // may be null
  const StopToken* stop = nullptr;    // SIGINT/SIGTERM: checkpoint and stop at the next step
  /// Continue from OUT/checkpoint (docs/reliability.md); without a checkpoint there, start from
  /// the beginning. Without `resume`, a checkpoint in OUT is refused unless `force`.
  bool resume = false;
  /// Wall time between checkpoints (s); <= 0: only at session boundaries and on a stop request.
  double checkpoint_every = 300.0;
};

struct RunResult {
  std::filesystem::path out_dir;
  nlohmann::json summary;    // what summary.json holds
  std::string summary_text;  // a few lines for the terminal
};

/// Applies --seed and returns the seed in force.
std::uint64_t apply_seed_override(Table& scenario, std::optional<std::uint64_t> seed);

/// Cross-key checks that need more than one key (a lesion outside the patch, a needle longer
/// than the skin is deep), and the memory the run would need against the limits that apply to
/// this process (refused at tissue.resolution). Builds the model set-up without simulating.
/// Returns the memory estimate. Throws InputError.
MemoryEstimate validate_semantics(const Table& scenario);

/// Runs a loaded scenario and writes its results. Throws InputError, NumericalError, OutputError.
RunResult run_scenario(Table scenario, const RunOptions& opts);

}  // namespace mnsim
