// What a run may use of this machine: its memory estimate against the limits that apply to the
// process (physical memory, the cgroup's memory limit, the address-space limit of `ulimit -v`).
#pragma once

#include <cstdint>
#include <string>

namespace mnsim {

/// The memory a 3D run needs at its peak (bytes): the engine per cell (measured), one field
/// snapshot twice (a stored snapshot read back for fields.h5: the checkpoint file's bytes and its
/// values; fields.h5 itself is written to disk as it is built), and a fixed part (libraries,
/// data, report). docs/reliability.md.
struct MemoryEstimate {
  double engine = 0.0;      // fields, operators and tissue: kEngineBytesPerCell per cell
  double results = 0.0;     // one snapshot, twice (read back from its checkpoint file)
  double fixed = 0.0;       // libraries, data tables, report figures
  double per_thread = 0.0;  // address space each worker thread reserves (stack, arena share)
  double resident() const { return engine + results + fixed; }
};

/// Peak resident bytes per grid cell of the 3D engine, measured with a margin: 459 bytes at
/// 20 um (3 x 3 mm, 1.7 M cells; the checkpoint after a session, peak less this estimate's other
/// terms), 200 at 100 um (examples/01's patch); docs/numerics.md, "Shared passes and memory".
inline constexpr double kEngineBytesPerCell = 520.0;

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
