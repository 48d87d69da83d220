// The course loop of `mnsim run`: schedules each session (the device stage's punctures deposited
// into the tissue), the periodic snapshots and the sample times on the engine's stepper, samples
// the layer means and the scars, stores field snapshots, and checkpoints (at the first step after
// each session, every `checkpoint_every` of wall time, on a stop request, and at the end of
// follow-up).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/cancel.hpp"
#include "core/phase_clock.hpp"
#include "core/progress.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "io/files.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/course.hpp"
#include "run/applications.hpp"
#include "run/assess.hpp"
#include "run/checkpoint.hpp"
#include "run/output.hpp"
#include "run/record.hpp"
#include "skin/profile.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// What the course loop needs besides the engine: the typed specs of the treatment.
struct CourseInputs {
  const protocol::Course& course;
  const OutputPlan& plan;
  const devices::DeviceSpec& device;
  const devices::Technique& technique;
  const skin::SkinProfile& profile;
  devices::Rect area;
  std::uint64_t seed = 0;
  const skin::SkinPatch& patch;               // its lesions are sampled (scars.csv)
  const healing::Params& params;              // the wound radius of the scar link
  ApplicationDriver* applications = nullptr;  // the [[application]]s (null or empty: none)
};

/// Where and how often the loop saves its state.
struct CourseCheckpoints {
  std::filesystem::path out;     // results folder (OUT/checkpoint below it)
  std::uint64_t key = 0;         // run_checkpoint_key of the resolved scenario
  std::string started;           // UTC start of the run (metadata)
  std::function<double()> wall;  // wall time of the run so far, all attempts together
  double every = 300.0;          // s of wall time; <= 0: only at sessions and stops
  const StopToken* stop = nullptr;
};

/// Where the course loop's time goes besides the engine's steps (core/phase_clock.hpp).
struct CourseTimes {
  PhaseTime sessions;     // device stages and punctures deposited
  PhaseTime samples;      // layer means and scars (timeseries.csv, scars.csv)
  PhaseTime snapshots;    // field snapshots stored
  PhaseTime checkpoints;  // run state saved
};

class CourseRunner {
 public:
  CourseRunner(healing::Engine& engine, CourseInputs in, CourseCheckpoints ck, RunRecord& rec,
               Progress& progress);

  /// Puts a checkpoint back (fields, stepper, record) and draws session 1's punctures again.
  void restore(const RunState& r);
  /// Simulates to the end of follow-up: samples, snapshots and checkpoints along the way; then
  /// the final sample and snapshot, and a checkpoint marked finished. Nothing if the record is
  /// already finished. Throws Interrupted on a stop request (after checkpointing).
  void run(bool resumed);
  /// Session `s` draws its punctures from this seed (core/rng.hpp session_seed).
  devices::StageResult device_stage(int session_index) const;
  const CourseTimes& times() const { return times_; }

 private:
  void schedule();
  void sample(double t);
  void snapshot(double t, const std::string& label, const grid::FieldSet& fields);
  void session(const protocol::Session& s, double t, grid::FieldSet& fields);
  void observe(double t, double dt);
  /// Captures the run state; its file is written on writes_' thread. `durable`: returns only once
  /// it (and every snapshot before it) is synced and in place (a stop request, the end of
  /// follow-up, whose results read the snapshots).
  void save(bool durable = false);

  healing::Engine& engine_;
  CourseInputs in_;
  CourseCheckpoints ck_;
  RunRecord& rec_;
  Progress& progress_;
  std::vector<outcomes::ScarGeometry> geometry_;  // of the patch's lesions (run/assess.hpp)
  std::vector<ScarFootprint> footprints_;         // where their outcomes read the fields
  std::uint64_t events_total_ = 0;  // events scheduled (checkpoints count those that ran)
  bool session_ran_ = false;        // a session since the last checkpoint
  long measures_logged_ = 0;        // the stepper's error measures logged (observe, debug)
  std::chrono::steady_clock::time_point last_checkpoint_;
  CourseTimes times_;
  /// The snapshots' and checkpoints' files, written, synced and renamed on a thread of their
  /// own while the engine steps on (one at a time, in order; a failure is thrown by the next).
  io::BackgroundWrites writes_;
};

}  // namespace mnsim
