#include "run/resources.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace mnsim {

namespace {

/// A cgroup memory limit file's value; 0 when absent, "max" or unlimited.
double read_limit(const std::string& path) {
  std::ifstream in(path);
  std::string v;
  if (!(in >> v) || v == "max") return 0.0;
  try {
    const double b = std::stod(v);
    return b > 0 && b < 1e18 ? b : 0.0;  // v1 writes about 2^63 for "no limit"
  } catch (...) {
    return 0.0;
  }
}

/// The memory limit of this process's cgroup (v2 unified, or v1 memory controller).
double cgroup_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  double best = 0.0;
  auto take = [&](double b) {
    if (b > 0 && (best <= 0 || b < best)) best = b;
  };
  while (std::getline(in, line)) {
    const auto a = line.find(':');
    const auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string ctrl = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (line.rfind("0::", 0) == 0) {
      take(read_limit("/sys/fs/cgroup" + path + "/memory.max"));
      take(read_limit("/sys/fs/cgroup/memory.max"));
    } else if (ctrl == "memory" || ctrl.find("memory") != std::string::npos) {
      // Inside a container the hierarchy is often mounted at its own cgroup.
      take(read_limit("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes"));
      take(read_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    }
  }
  return best;
}

/// Address space this process has mapped now (bytes).
double mapped_now() {
  std::ifstream in("/proc/self/statm");
  double pages = 0;
  in >> pages;
  return pages * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
}

}  // namespace

MemoryEstimate estimate_run_memory(double cells, int snapshots, int stored_fields) {
  MemoryEstimate m;
  m.engine = kEngineBytesPerCell * cells;
  const double snapshot = 4.0 * cells * stored_fields;
  // fields.h5 is written to disk snapshot by snapshot (io::FieldsWriter), so the results hold one
  // snapshot at a time: read back from its checkpoint file (the file's bytes and the values).
  m.results = snapshots > 0 ? 2.0 * snapshot : snapshot;
  m.fixed = 64.0 * (1 << 20);
  // An OpenMP worker's stack (8 MiB) and as much again for its share of the malloc arenas
  // (glibc falls back to a shared arena when the limit refuses a thread its own).
  m.per_thread = 16.0 * (1 << 20);
  return m;
}

MemoryLimit memory_limit(const MemoryEstimate& need, int threads) {
  MemoryLimit lim;
  auto take = [&](double bytes, bool as, std::string source) {
    if (bytes <= 0 && !as) return;
    if (lim.source.empty() || bytes < lim.bytes) {
      lim.bytes = bytes;
      lim.address_space = as;
      lim.source = std::move(source);
    }
  };
  const double phys = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                      static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (phys > 0) {
    take(0.8 * phys, false,
         fmt::format("this machine has {:.1f} GiB (a run may use 80 %)", phys / (1 << 30)));
  }
  if (const double cg = cgroup_limit(); cg > 0) {
    take(cg, false, fmt::format("the cgroup's memory limit is {:.1f} GiB", cg / (1 << 30)));
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const double as = static_cast<double>(rl.rlim_cur);
    // What the limit leaves for the run's own memory: minus what is mapped already and what
    // the worker threads reserve. Compared with the resident estimate below.
    const double left = as - mapped_now() - need.per_thread * std::max(threads, 1);
    take(left, true,
         fmt::format("the address-space limit (ulimit -v) of {:.2f} GiB leaves {:.2f} GiB",
                     as / (1 << 30), std::max(left, 0.0) / (1 << 30)));
  }
  return lim;
}

}  // namespace mnsim
