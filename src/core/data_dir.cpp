#include "core/data_dir.hpp"

#include <cstdlib>

namespace mnsim {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MNSIM_DATA_DIR"); env && *env) return env;
  return MNSIM_DATA_DIR;
}

std::filesystem::path data_file(std::string_view name) {
  return data_dir() / name;
}

}  // namespace mnsim
