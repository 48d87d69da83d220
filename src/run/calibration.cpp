#include "run/calibration.hpp"

#include <chrono>
#include <optional>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ranks.hpp"
#include "core/version.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "report/calibration_figure.hpp"

namespace mnsim {

const std::vector<std::string>& calibration_files() {
  static const std::vector<std::string> f{"calibration.json", "posterior.csv", "calibration.png"};
  return f;
}

CalibrationRun run_calibration_into(const protocol::ReducedModel& m,
                                    const protocol::CalibrationSpec& spec,
                                    const CalibrationOptions& o) {
  const Ranks& ranks = o.ranks != nullptr ? *o.ranks : Ranks::single();
  // Only the root opens the folder; any rank's failure is every rank's (core/ranks.hpp).
  std::optional<io::OutputFolder> folder;
  agree(ranks, [&] {
    if (o.state != nullptr) o.state->require_finished();
    if (ranks.root()) folder.emplace(io::OutputFolder::open(o.out_dir, o.force, "mnsim calibrate"));
  });
  CalibrationRun run;
#ifdef _OPENMP
  run.info.threads = o.threads > 0 ? o.threads : omp_get_max_threads();
#else
  run.info.threads = 1;
#endif
  run.info.ranks = ranks.size();
  run.info.load_start = load_average();
  const auto t0 = std::chrono::steady_clock::now();
  run.result = protocol::run_calibration(m, spec, o.threads, o.progress, &ranks, o.state);
  if (o.state != nullptr) run.info.state_stages = static_cast<int>(o.state->stages());
  if (!ranks.root()) return run;
  run.info.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.info.load_end = load_average();
  const auto& files = calibration_files();
  io::write_file_atomic(folder->staging() / files[0],
                        protocol::calibration_json(spec, run.result, run.info));
  io::write_file_atomic(folder->staging() / files[1], protocol::calibration_csv(spec, run.result));
  io::write_file_atomic(folder->staging() / files[2], report::calibration_png(spec, run.result));
  const std::uint64_t key =
      io::fnv1a64(spec.resolved.to_toml() + version() + git_commit() + build_type());
  folder->commit(files, key);
  run.files = files;
  return run;
}

}  // namespace mnsim
