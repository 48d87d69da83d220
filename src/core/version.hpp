#pragma once

#include <string>

namespace mnsim {

/// "0.1.0"
std::string version();
/// Short git commit the library was built from, or "unknown".
std::string git_commit();
/// CMake build type ("Release", "Debug", "RelWithDebInfo").
std::string build_type();

}  // namespace mnsim
