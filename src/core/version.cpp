#include "core/version.hpp"

#include <cstdlib>
#include <ctime>

#include "core/kernel.hpp"
#include "core/openmp_wait.hpp"
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

std::string instruction_set() {
  std::string isa = MNSIM_ARCH_NAME[0] != '\0' ? MNSIM_ARCH_NAME : "compiler default";
#if defined(MNSIM_KERNEL_CLONES) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
  // The conditions the kernels' resolvers test (target_clones "arch=x86-64-v3", and
  // "arch=x86-64-v4" for the reaction kernels: MNSIM_REACTION_KERNEL).
  if (__builtin_cpu_supports("x86-64-v4")) {
    isa += " (kernels: x86-64-v3, reactions x86-64-v4)";
  } else {
    isa += __builtin_cpu_supports("x86-64-v3") ? " (kernels: x86-64-v3)" : " (kernels: baseline)";
  }
#endif
  return isa;
}

double load_average() {
  double l[1] = {-1.0};
  return ::getloadavg(l, 1) == 1 ? l[0] : -1.0;
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
  return {{"mnsim_version", version()},
          {"git_commit", git_commit()},
          {"build_type", build_type()},
          {"instruction_set", instruction_set()},
          {"seed", seed},
          {"threads", threads},
          {"openmp_wait", openmp_wait()},
          {"started_utc", started_utc},
          {"wall_time_s", wall_s}};
}

}  // namespace mnsim
