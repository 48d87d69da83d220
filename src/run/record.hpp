// What a run accumulates while it simulates the course: the record that the outcome assessment,
// the report and the writers read, and that the checkpoint saves (run/run_state.hpp). Everything
// here influences the results (docs/reliability.md, "Checkpoint state").
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "devices/puncture.hpp"
#include "io/timeseries.hpp"
#include "run/checkpoint.hpp"

namespace mnsim {

/// One treatment session as summary.json lists it ("sessions").
struct SessionRecord {
  int session = 0;  // 1-based
  double day = 0.0;
  std::string date;  // ISO date, empty without a course start date
  std::size_t punctures = 0;
  double density_per_cm2 = 0.0;  // mean over the treatment area
  double depth_um_mean = 0.0;    // mean depth reached
  double fraction_bleeding = 0.0;
  double fraction_past_dermis = 0.0;  // punctures reaching the hypodermis (skin::past_dermis)
  double lumen_volume_mm3 = 0.0;      // channel lumen deposited in the tissue
  double blood_volume_mm3 = 0.0;
};

nlohmann::json to_json(const SessionRecord& s);
/// The session log as summary.json and the checkpoint store it.
nlohmann::json sessions_json(const std::vector<SessionRecord>& sessions);
/// Reads what to_json wrote (a checkpoint's session log); throws nlohmann::json::exception.
SessionRecord session_from_json(const nlohmann::json& j);

struct RunRecord {
  /// Layer means of every field at each sample time (timeseries.csv).
  io::TimeSeries ts;
  /// Each scar at each sample time (scars.csv).
  std::vector<RunState::ScarSample> scars;
  /// Each lesion's tethering band after the sessions so far (untethered lesions: untouched).
  std::vector<outcomes::TetherState> tethers;
  std::vector<SessionRecord> sessions;
  /// The device stage's statistics of session 1 (devices::puncture_stats); null before it.
  nlohmann::json first_stats;
  /// The applications' state (ApplicationDriver::state) at the last checkpoint; null: none.
  nlohmann::json applications_state;
  /// Session 1's punctures (the report's density map; drawn again on resume, same seed).
  devices::Punctures first_punctures;
  double bleeding_sum = 0.0;  // punctures that bled, over all sessions
  std::size_t puncture_total = 0;
  /// punctures.csv of every session so far, the session number in front.
  std::string punctures_csv;
  /// Field snapshots taken (stored in OUT/checkpoint until fields.h5 is assembled).
  std::vector<RunState::Snapshot> snapshots;
  /// The end of follow-up is reached: only outcomes and results remain.
  bool finished = false;

  /// Appends one session's punctures (devices::punctures_csv) under its session number.
  void add_punctures_csv(int session, const std::string& csv);
};

}  // namespace mnsim
