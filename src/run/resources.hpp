// What a run may use of this machine: its memory estimate against the limits that apply to the
// process (physical memory, the cgroup's memory limit, the address-space limit of `ulimit -v`).
#pragma once

#include <cstdint>
#include <string>

namespace mnsim {

/// The memory a 3D run needs at its peak (bytes): the engine per cell (measured), one field
/// snapshot being assembled, fields.h5 being built in memory (compressed: assumed at most half
/// of the raw values), and a fixed part (libraries, data, report). docs/reliability.md.
struct MemoryEstimate {
  double engine = 0.0;      // fields, operators and tissue: kEngineBytesPerCell per cell
  double results = 0.0;     // one snapshot + fields.h5 in memory
  double fixed = 0.0;       // libraries, data tables, report figures
  double per_thread = 0.0;  // address space each worker thread reserves (stack, arena share)
  double resident() const { return engine + results + fixed; }
};

/// Peak resident bytes per grid cell of the 3D engine, measured (grids of 45 000 to 720 000
/// cells, examples/01 settings: 450 to 520 bytes) with a margin.
inline constexpr double kEngineBytesPerCell = 580.0;

MemoryEstimate estimate_run_memory(double cells, int snapshots, int stored_fields);

/// The tightest limit on this process's memory that applies: 80 % of physical memory, the
/// cgroup's memory limit (v1 or v2), or what RLIMIT_AS leaves beyond the address space already
/// mapped and the threads' reservations. `source` says which, for the message.
struct MemoryLimit {
  double bytes = 0.0;          // <= 0: nothing known
  bool address_space = false;  // an address-space limit (counts reservations, not residency)
  std::string source;
};
MemoryLimit memory_limit(const MemoryEstimate& need, int threads);

}  // namespace mnsim
