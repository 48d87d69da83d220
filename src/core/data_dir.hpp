// Where mnsim's parameter data files (data/*.toml) are read from, the one place that decides it:
//   1. $MNSIM_DATA_DIR, if it is set and not empty;
//   2. the installed data folder next to the running program: <prefix>/share/mnsim/data when the
//      program is <prefix>/bin/mnsim (`cmake --install`; found from /proc/self/exe, so an
//      installation can be moved);
//   3. the data/ folder of the source tree mnsim was built from.
#pragma once

#include <filesystem>
#include <string_view>

namespace mnsim {

/// The folder of the data files.
std::filesystem::path data_dir();

/// One data file in that folder, e.g. data_file("sites.toml").
std::filesystem::path data_file(std::string_view name);

}  // namespace mnsim
