#include "core/version.hpp"

#include <ctime>

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

std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json run_metadata(std::uint64_t seed, int threads, const std::string& started_utc,
                            double wall_s) {
  return {{"mnsim_version", version()}, {"git_commit", git_commit()},
          {"build_type", build_type()}, {"seed", seed},
          {"threads", threads},         {"started_utc", started_utc},
          {"wall_time_s", wall_s}};
}

}  // namespace mnsim
