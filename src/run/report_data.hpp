// The report of `mnsim run` as data (report/report.hpp draws it): the consultation part (the
// patient, site and device in words, each scar before and after, grades, side effects, safety,
// what is known of the uncertainty, the session calendar), then the technical part: the scenario
// and numerics, session 1's puncture density and depth histogram, time courses under display
// names, a cross-section before and after (the after one under the remodelled surface), scar
// profiles and the full outcome table.
#pragma once

#include <optional>
#include <string>

#include "devices/device.hpp"
#include "healing/engine.hpp"
#include "protocol/course.hpp"
#include "report/report.hpp"
#include "run/assess.hpp"
#include "run/record.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// What the report says about the run besides the simulated state.
struct ReportText {
  std::string title;
  std::optional<std::string> notes;  // the scenario's notes
  skin::PatientSpec patient;
  std::string scenario_toml;  // resolved scenario
  std::string run_metadata;   // JSON text
};

report::ReportData make_report_data(const ReportText& text, const skin::Tissue& tissue,
                                    const healing::Engine& engine, const RunRecord& rec,
                                    const Outcome& outcome, const protocol::Course& course,
                                    const devices::Rect& area);

}  // namespace mnsim
