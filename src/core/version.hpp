// The build mnsim was made from, and the metadata every output carries.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mnsim {

/// "0.1.0"
std::string version();
/// Short git commit the library was built from, or "unknown".
std::string git_commit();
/// CMake build type ("Release", "Debug", "RelWithDebInfo").
std::string build_type();

/// The instruction set of this build and, where the hot kernels are multiversioned
/// (core/kernel.hpp), the version this CPU runs: "x86-64-v2 (kernels: x86-64-v3)", "x86-64-v2
/// (kernels: x86-64-v3, reactions x86-64-v4)", "native".
std::string instruction_set();

/// Metadata written into every output: version, commit, build type, seed, threads, how the
/// threads wait (core/openmp_wait.hpp), start time, wall time.
nlohmann::json run_metadata(std::uint64_t seed, int threads, const std::string& started_utc,
                            double wall_s);

/// The machine's 1-minute load average, or -1 where it cannot be read (recorded beside wall
/// times: sensitivity and calibration runs).
double load_average();

/// Current UTC time as ISO 8601 ("2026-11-22T21:15:30Z").
std::string utc_now_iso();

}  // namespace mnsim
