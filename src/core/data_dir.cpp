#include "core/data_dir.hpp"

#include <cstdlib>
#include <system_error>

namespace mnsim {

namespace {

/// <dir of the running program>/MNSIM_DATA_FROM_BIN when that folder holds the data files (an
/// installed mnsim), else empty.
std::filesystem::path installed_data_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  const std::filesystem::path dir = (exe.parent_path() / MNSIM_DATA_FROM_BIN).lexically_normal();
  if (!std::filesystem::is_regular_file(dir / "sites.toml", ec)) return {};
  return dir;
}

}  // namespace

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MNSIM_DATA_DIR"); env && *env) return env;
  static const std::filesystem::path installed = installed_data_dir();
  if (!installed.empty()) return installed;
  return MNSIM_DATA_DIR;
}

std::filesystem::path data_file(std::string_view name) {
  return data_dir() / name;
}

}  // namespace mnsim
