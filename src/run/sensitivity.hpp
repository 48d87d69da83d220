// `mnsim sensitivity FILE --out DIR` (docs/sensitivity.md): the analysis of a sensitivity file
// (protocol/sensitivity.hpp) written into an output folder (io::OutputFolder: locked while it
// runs, results committed together): sensitivity.json, sensitivity.csv and the figure
// sensitivity.png (report/sensitivity_figure.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/progress.hpp"
#include "protocol/sensitivity.hpp"

namespace mnsim {

struct SensitivityOptions {
  std::filesystem::path out_dir;
  int threads = 0;     // <= 0: the default
  bool force = false;  // write into a non-empty folder that is not an mnsim output
  Progress* progress = nullptr;
  /// The MPI ranks that share the evaluations (core/ranks.hpp; null: this process alone). Every
  /// rank calls run_sensitivity_into with the same spec and options; the root opens the folder
  /// and writes the results, the other ranks return an empty SensitivityRun.
  const Ranks* ranks = nullptr;
  /// Shard `shard` of `shards` of a job array (1-based; shards = 0: the whole design): only the
  /// evaluations e with e mod shards = shard - 1 are run, and the folder holds shard.json and
  /// shard.rec (io/shards.hpp) instead of the results; merge_sensitivity_into joins the shards.
  /// Not with several ranks (std::invalid_argument).
  int shard = 0, shards = 0;
};

struct SensitivityRun {
  protocol::SensitivityResult result;
  protocol::SensitivityRunInfo info;
  std::vector<std::string> files;     // written into the folder, in commit order
  std::size_t shard_evaluations = 0;  // a shard: the evaluations it ran
};

/// The files of the folder, in the order they are committed.
const std::vector<std::string>& sensitivity_files();

/// Opens the folder (InputError for a foreign non-empty folder without `force`, or one another
/// process is writing), evaluates the model, writes and commits the results.
SensitivityRun run_sensitivity_into(const protocol::ReducedModel& m,
                                    const protocol::SensitivitySpec& spec,
                                    const SensitivityOptions& o);

/// The key of a sensitivity file's design: the resolved file, the parameters' nominal values
/// and ranges, and the build. Shards with another key do not join.
std::uint64_t sensitivity_key(const protocol::SensitivitySpec& spec);

/// `mnsim merge FILE SHARD_DIR... --out DIR` for a sensitivity file: joins the folders of
/// run_sensitivity_into with shard i of N (every i once, io::read_shards: InputError, nothing
/// written, for a missing, repeated, foreign or torn shard) and writes into `o.out_dir` what the
/// whole run writes (the same files; sensitivity.json's "run" says how it was merged).
SensitivityRun merge_sensitivity_into(const protocol::ReducedModel& m,
                                      const protocol::SensitivitySpec& spec,
                                      const std::vector<std::filesystem::path>& shard_dirs,
                                      const SensitivityOptions& o);

}  // namespace mnsim
