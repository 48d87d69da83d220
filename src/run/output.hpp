// The [output] section: which result files a run writes besides summary.json and
// scenario.resolved.toml, which field snapshots fields.h5 stores, and the times at which
// timeseries.csv and scars.csv are sampled (docs/outputs.md).
#pragma once

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "protocol/course.hpp"

namespace mnsim {

schema::Key output_schema();

struct OutputPlan {
  // fields.h5 and fields.xmf: when a snapshot is taken, and of which fields.
  bool before_sessions = true;
  bool after_sessions = true;
  bool end = true;
  double every = 0.0;               // s; 0 = no periodic snapshots
  std::vector<std::string> fields;  // healing fields stored in fields.h5
  // The other result files (summary.json and scenario.resolved.toml are always written).
  bool report = true;      // report.html and figures/
  bool timeseries = true;  // timeseries.csv
  bool scars = true;       // scars.csv
  bool punctures = true;   // punctures.csv
  /// Reduced-model evaluations of each predictive band of summary.json (run/bands.hpp); 0: none.
  int band_draws = 16;
  /// Times (s, ascending, inside the follow-up and apart from the sessions) at which the layer
  /// means and the scars are sampled besides the start, before and after each session and the
  /// end of follow-up: the stepper stops there (healing::Stepper::add_stop).
  std::vector<double> sample_times;

  /// Whether any snapshot is taken (fields.h5 and fields.xmf are written).
  bool snapshots() const { return before_sessions || after_sessions || end || every > 0.0; }
};

/// Reads [output] for a course (InputError at output.timeseries_times for a time after the end
/// of follow-up).
OutputPlan make_output_plan(const Table& output, const protocol::Course& course);

/// The default sampling grid (docs/outputs.md, "Sampling"): after each session, every 6 hours for
/// the first 7 days, then daily until the next session or the end of follow-up.
std::vector<double> default_sample_times(const protocol::Course& course);

}  // namespace mnsim
