// `mnsim dose-response FILE`: the reduced model's response of one patient to the dose of a course
// - depth reached, punctures per session, interval between sessions - and to the skin type, on a
// full factorial grid (docs/model.md, "Dose and response"). The device is given by what it
// delivers (depth reached and punctures per cm^2, with the roller's wound radius), so the table
// describes the biology, not a device's penetration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/constants.hpp"
#include "core/schema.hpp"
#include "protocol/reduced.hpp"

namespace mnsim::protocol {

const schema::Key& dose_response_schema();

struct DoseResponseSpec {
  std::string title;
  PatientSpec patient;  // fitzpatrick: the reference type
  int sessions = 3;
  double follow_up = 3 * 30.44 * kDay;  // s after the last session
  double time_step = 6 * kHour;         // s
  std::vector<double> depths;           // m reached below the surface
  std::vector<double> densities;        // punctures/m^2 per session
  std::vector<double> intervals;        // s
  std::vector<int> fitzpatrick;         // 1..6
  // The reference point of the one-at-a-time tables (a value of each axis).
  double ref_depth = 0, ref_density = 0, ref_interval = 0;
  int ref_fitzpatrick = 3;
};

/// Reads a dose-response file (schema errors as InputError with file, line and key).
DoseResponseSpec load_dose_response(const std::string& path);

struct DoseResponsePoint {
  double depth = 0, density = 0, interval = 0;
  int fitzpatrick = 3;
  bool past_dermis = false;  // depth reached below the dermis of the site (skin/profile.hpp)
  PatientOutcome outcome;
};

struct DoseResponse {
  double dermis_bottom = 0;               // m, at the site for the reference type
  std::vector<DoseResponsePoint> points;  // depth-major, then density, interval, type
  outcomes::GradingRules grading;         // the model's, for the score's row-by-row note
};

/// Simulates every grid point (OpenMP, `threads` <= 0: all cores); the result does not depend on
/// the thread count.
DoseResponse run_dose_response(const ReducedModel& m, const DoseResponseSpec& s, int threads = 0);

/// Every point as CSV (one row per point, units in the header).
std::string dose_response_csv(const DoseResponse& r);
/// Markdown: one table per axis, the other axes at the reference point; then the G&B score at the
/// reference point row by row, why it moved, and at how many points it rose with milder scars.
std::string dose_response_markdown(const DoseResponseSpec& s, const DoseResponse& r);

}  // namespace mnsim::protocol
