// The printable page of `mnsim plan --html`: one self-contained HTML file (inline CSS, no
// scripts, nothing loaded from the network; print style for A4) with the patient in plain words,
// what was searched and why protocols were left out, the ranked protocols with a legend of every
// column, and a session calendar of the best three (dated from a start date, else in weeks from
// the first session). Presentation only: the plan is protocol::make_plan's.
#pragma once

#include <string>

#include "protocol/plan.hpp"

namespace mnsim::report {

/// The page as text. `start_date`: ISO date of the first session (validated by the caller,
/// mnsim::parse_date_option), or empty for relative times. Every text from the patient file (the
/// title) is HTML-escaped.
std::string plan_html(const protocol::PlanPatient& p, const protocol::Plan& plan,
                      const std::string& start_date);

}  // namespace mnsim::report
