// Plain words and the one unit style of the pages a person reads (the run report and the
// planner's page): µm, mm, cm², days, h. Presentation only.
#pragma once

#include <string>

namespace mnsim::report {

/// "Fitzpatrick skin type III (medium skin that sometimes burns and tans gradually)"; the type is
/// clamped to 1..6.
std::string fitzpatrick_words(int type);

/// A depth or length given in µm: "350 µm" (whole µm); "" when not finite.
std::string um_text(double um);

/// A duration given in days for a reader: "1.4 days" from a day on, whole hours below ("5 h"),
/// "less than 1 h", "none" for none; "" when not finite.
std::string duration_text(double days);

/// A duration given in hours: whole hours below two days ("31 h"), else as duration_text.
std::string hours_text(double hours);

/// The Goodman & Baron qualitative grade in words: "2 (mild)"; 0 "0 (no scars visible)".
std::string grade_words(int grade);

/// A day count for a reader: whole days ("183"); "" when not finite.
std::string day_text(double day);

/// "week 4" for a day that is a whole number of weeks, else "week 13.1" (days / 7, one decimal).
std::string week_text(long day);

}  // namespace mnsim::report
