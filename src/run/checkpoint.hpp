// What `mnsim run` saves to continue a killed run bit for bit (docs/reliability.md).
//
// OUT/checkpoint/run.ckpt        the run state (kind "run"): simulated time, the stepper's next
//                                step and statistics, how many scheduled events have run, every
//                                healing field (padded buffers, ghost layers included), the time
//                                series rows and scar samples, the tethering bands' state
//                                (outcomes::TetherState), the session log, the punctures
//                                CSV so far, the applications' films, records and channels
//                                (ApplicationDriver::state), the list of snapshots taken and
//                                the wall time.
// OUT/checkpoint/snapshot-NNNNNN.ckpt   one field snapshot each (kind "snapshot"), written when
//                                it is taken; fields.h5 is assembled from them at the end.
// Both are io/checkpoint.hpp containers keyed by run_checkpoint_key(), so a checkpoint of another
// scenario, seed or mnsim build is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "healing/stepper.hpp"
#include "io/checkpoint.hpp"
#include "io/timeseries.hpp"
#include "outcomes/scar_remodel.hpp"

namespace mnsim {

struct RunState {
  // Stepper.
  double t = 0.0;
  double dt = 0.0;
  healing::StepStats stats;
  std::int64_t steps_since_check = 0;  // healing::Stepper::steps_since_check()
  double checked_step = 0.0;           // healing::Stepper::checked_step()
  std::uint64_t events_done = 0;
  // The run loop.
  /// The simulation has reached the end of follow-up (its last sample and snapshot taken): a
  /// resumed run only computes the outcomes and writes the results.
  bool finished = false;
  double bleeding_sum = 0.0;
  std::uint64_t puncture_total = 0;
  std::string first_stats_json = "null";
  std::string session_log_json = "[]";
  /// The topical applications' films, records and channels (ApplicationDriver::state), JSON.
  std::string applications_json = "null";
  std::string punctures_csv;
  std::vector<io::TimeSeries::Row> timeseries;
  /// One scar at one sample time (scars.csv; run/assess.hpp ScarNow).
  struct ScarSample {
    double t = 0.0;
    std::uint32_t scar = 0;                      // index in the patch's lesions
    double depth = 0.0;                          // m
    double rise_under = 0.0, rise_around = 0.0;  // m
    double band_intact = 1.0;
  };
  std::vector<ScarSample> scars;
  /// Each lesion's tethering band (course state: cut by sessions, re-formed, failed).
  std::vector<outcomes::TetherState> tethers;
  struct Snapshot {
    double t = 0.0;
    std::string label;
  };
  std::vector<Snapshot> snapshots;
  // Metadata (not part of the results).
  std::string started_utc;
  double wall_s = 0.0;  // wall time of the run up to this checkpoint, all attempts together
  // Fields: names and padded buffers (decode fills `fields`; encode takes views).
  int nx = 0, ny = 0, nz = 0;
  std::uint64_t padded = 0;
  std::vector<std::string> field_names;
  std::vector<std::vector<float>> fields;
};

/// Key of every checkpoint of a run: the resolved scenario (seed included) and the mnsim build.
std::uint64_t run_checkpoint_key(const std::string& resolved_scenario);

/// Encodes a run state; `fields` are the padded buffers named by s.field_names (s.fields is
/// ignored, so the run does not copy its fields).
io::CheckpointFile encode_run_state(const RunState& s,
                                    std::span<const std::span<const float>> fields,
                                    std::uint64_t key);
/// Decodes and checks a "run" checkpoint (InputError naming `file` if anything is off).
RunState decode_run_state(const io::CheckpointFile& c, const std::string& file);

/// One stored field snapshot: interior values (i fastest) per field.
struct StoredSnapshot {
  double t = 0.0;
  std::string label;
  int nx = 0, ny = 0, nz = 0;
  std::vector<std::string> field_names;
  std::vector<std::vector<float>> values;
};
io::CheckpointFile encode_snapshot(const StoredSnapshot& s, std::uint64_t key);
StoredSnapshot decode_snapshot(const io::CheckpointFile& c, const std::string& file);

/// OUT/checkpoint, OUT/checkpoint/run.ckpt, OUT/checkpoint/snapshot-NNNNNN.ckpt.
std::filesystem::path checkpoint_dir(const std::filesystem::path& out);
std::filesystem::path run_checkpoint_path(const std::filesystem::path& out);
std::filesystem::path snapshot_path(const std::filesystem::path& out, std::size_t index);

}  // namespace mnsim
