// `mnsim sensitivity FILE --out DIR` (docs/sensitivity.md): the analysis of a sensitivity file
// (protocol/sensitivity.hpp) written into an output folder (io::OutputFolder: locked while it
// runs, results committed together): sensitivity.json, sensitivity.csv and the figure
// sensitivity.png (report/sensitivity_figure.hpp).
#pragma once

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
};

struct SensitivityRun {
  protocol::SensitivityResult result;
  protocol::SensitivityRunInfo info;
  std::vector<std::string> files;  // written into the folder, in commit order
};

/// The files of the folder, in the order they are committed.
const std::vector<std::string>& sensitivity_files();

/// Opens the folder (InputError for a foreign non-empty folder without `force`, or one another
/// process is writing), evaluates the model, writes and commits the results.
SensitivityRun run_sensitivity_into(const protocol::ReducedModel& m,
                                    const protocol::SensitivitySpec& spec,
                                    const SensitivityOptions& o);

}  // namespace mnsim
