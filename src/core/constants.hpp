// Unit and mathematical constants shared by every module: SI values of the units mnsim converts
// between (lengths, times, angles). Values in scenario and data files carry their units and are
// parsed by core/units.hpp; these are for code that converts to and from display or working
// units.
#pragma once

#include <numbers>

namespace mnsim {

inline constexpr double kPi = std::numbers::pi;
inline constexpr double kDeg = kPi / 180.0;  // rad per degree

inline constexpr double kNm = 1e-9;  // m
inline constexpr double kUm = 1e-6;  // m
inline constexpr double kMm = 1e-3;  // m
inline constexpr double kCm = 1e-2;  // m

inline constexpr double kMinute = 60.0;         // s
inline constexpr double kHour = 3600.0;         // s
inline constexpr double kDay = 86400.0;         // s
inline constexpr double kWeek = 7.0 * kDay;     // s
inline constexpr double kYear = 365.25 * kDay;  // s, Julian year
inline constexpr double kMonth = kYear / 12.0;  // s, mean month (30.44 days)

inline constexpr double kHoursPerDay = 24.0;

}  // namespace mnsim
