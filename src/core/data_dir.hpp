// Where mnsim's parameter data files (data/*.toml) are read from: $MNSIM_DATA_DIR if it is set and
// not empty, else the data/ folder of the source tree mnsim was built from. The one place that
// decides it.
#pragma once

#include <filesystem>
#include <string_view>

namespace mnsim {

/// The folder of the data files.
std::filesystem::path data_dir();

/// One data file in that folder, e.g. data_file("sites.toml").
std::filesystem::path data_file(std::string_view name);

}  // namespace mnsim
