#include "core/openmp_wait.hpp"

#include <cstdlib>

namespace mnsim {

bool set_default_openmp_wait() {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return false;
  }
  return ::setenv("GOMP_SPINCOUNT", kDefaultSpinCount, 1) == 0;
}

std::string openmp_wait() {
  std::string s;
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    if (const char* v = std::getenv(name)) {
      if (!s.empty()) s += ", ";
      s += name;
      s += '=';
      s += v;
    }
  }
  return s.empty() ? std::string("libgomp default") : s;
}

}  // namespace mnsim
