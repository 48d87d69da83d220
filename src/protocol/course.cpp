#include "protocol/course.hpp"
#include "core/constants.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace mnsim::protocol {

schema::Key course_schema() {
  using namespace schema;
  return table(
      "course", "The treatment course: sessions, interval, calendar and follow-up.",
      {
          integer("sessions", "5", "Number of sessions.", 1, 20),
          quantity("interval", Dim::Time, "weeks", "4 weeks", "Time between two sessions.",
                   1 * kDay, 366 * kDay),
          date("start_date",
               "Calendar date of the first session (optional); dates every session in outputs."),
          quantity("follow_up", Dim::Time, "months", "6 months",
                   "Simulated time after the session named by follow_up_from.", 0.0,
                   3 * 366 * kDay),
          enumeration("follow_up_from", {"first", "last"}, "first",
                      "Count the follow-up from the first or the last session."),
      });
}

Course make_course(const Table& t) {
  Course c;
  const int n = static_cast<int>(t.integer("sessions"));
  const double interval = t.quantity("interval");
  if (t.has("start_date")) c.start_date = t.str("start_date");
  for (int i = 0; i < n; ++i) {
    Session s;
    s.index = i;
    s.time = i * interval;
    if (!c.start_date.empty()) {
      s.date = add_days(c.start_date, std::lround(s.time / kDay));
    }
    c.sessions.push_back(s);
  }
  const double from = t.str("follow_up_from") == "first" ? 0.0 : c.sessions.back().time;
  c.end_time = from + t.quantity("follow_up");
  if (c.end_time < c.sessions.back().time) {
    t.fail("follow_up",
           fmt::format("the follow-up ends {:.0f} days after the first session, before the last "
                       "session (day {:.0f})",
                       c.end_time / kDay, c.sessions.back().time / kDay),
           "a follow-up that covers every session, or follow_up_from = \"last\"");
  }
  return c;
}

std::string add_days(const std::string& iso, long days) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%d", &y, &m, &d) != 3) return iso;
  using namespace std::chrono;
  const sys_days base =
      year_month_day{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  const year_month_day r{base + std::chrono::days{days}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(r.year()),
                     static_cast<unsigned>(r.month()), static_cast<unsigned>(r.day()));
}

}  // namespace mnsim::protocol
