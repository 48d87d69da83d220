// `mnsim calibrate FILE --out DIR` (docs/calibration.md): the posterior sample of a calibration
// file (protocol/calibration.hpp) written into an output folder (io::OutputFolder: locked while
// it runs, results committed together): calibration.json, posterior.csv and the figure
// calibration.png (report/calibration_figure.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/progress.hpp"
#include "io/state.hpp"
#include "protocol/calibration.hpp"

namespace mnsim {

struct CalibrationOptions {
  std::filesystem::path out_dir;
  int threads = 0;     // <= 0: the default
  bool force = false;  // write into a non-empty folder that is not an mnsim output
  Progress* progress = nullptr;
  const Ranks* ranks = nullptr;  // MPI ranks (null: one); only the root writes the folder
  // A state folder of a job array, every stage closed (io::StateFolder, Mode::Replay): the
  // sampler's batches are read from it instead of computed (docs/scaling.md, "State folders").
  io::StateFolder* state = nullptr;
};

struct CalibrationRun {
  protocol::CalibrationResult result;
  protocol::CalibrationRunInfo info;
  std::vector<std::string> files;  // written into the folder, in commit order
};

/// The files of the folder, in the order they are committed.
const std::vector<std::string>& calibration_files();

/// Opens the folder (InputError for a foreign non-empty folder without `force`, or one another
/// process is writing), runs the sampler, writes and commits the results.
CalibrationRun run_calibration_into(const protocol::ReducedModel& m,
                                    const protocol::CalibrationSpec& spec,
                                    const CalibrationOptions& o);

}  // namespace mnsim
