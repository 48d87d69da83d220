#include "core/version.hpp"

#include "mnsim/version_info.hpp"

namespace mnsim {

std::string version() {
  return MNSIM_VERSION;
}
std::string git_commit() {
  return MNSIM_GIT_COMMIT;
}
std::string build_type() {
  return MNSIM_BUILD_TYPE;
}

}  // namespace mnsim
