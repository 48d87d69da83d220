// A treatment course: sessions (count + interval, or listed one by one with their own dates
// offsets), an optional calendar start date, and the follow-up time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace mnsim::protocol {

/// The [course] section of the scenario schema.
schema::Key course_schema();

struct Session {
  int index = 0;      // 0-based
  double time = 0.0;  // s since the first session
  std::string date;   // ISO date if the course has a start date
};

struct Course {
  std::vector<Session> sessions;
  double end_time = 0.0;   // s since the first session: end of the simulated follow-up
  std::string start_date;  // ISO 8601, empty if none
};

/// Builds the course from the validated [course] table (checks cross-key consistency).
Course make_course(const Table& course);

/// ISO date plus a number of whole days ("2026-01-31" + 30 -> "2026-03-02").
std::string add_days(const std::string& iso_date, long days);

}  // namespace mnsim::protocol
