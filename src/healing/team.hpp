// Threads of the healing engine's step: when threads pay for a grid, and one OpenMP team for a
// whole trial step (docs/numerics.md, "One team per step").
//
// Stepper::solve opens one parallel region for a trial step of the engine: the reactions
// (Reactor::react_fields), every field's transport, the cell transport and the health checks'
// scan, where each used to open its own (and before that each field's kernel). Its threads are
// members of the team (TeamMember): the kernels called on them (Reactor::react_fields,
// decay_source, the permeability path of Diffusion, the cell transport's ChemotaxisOperator) see
// in_team() and run their loops as worksharing loops of that team (orphaned `omp for`), every
// member calling the same kernels in the same order; called anywhere else they open a region of
// their own, as before. A kernel's loops end with a barrier where the kernel itself reads what
// they wrote; its last loop may end without one (the permeability path's z sweep), so what
// reads a kernel's results waits at a barrier of the caller's (Stepper::transport_members). What
// is computed once for the run (the reactions' coefficients for a step size, fixed face
// conductances) is done by the first member to come, in a critical section, not behind a
// barrier. Every line of a field is computed by the same code whichever thread takes it, so
// results do not depend on the team.
#pragma once

#include <cstddef>

#include "grid/grid.hpp"

namespace mnsim::healing {

/// Grids with at least this many interior cells are computed with threads; smaller ones run
/// serially (starting threads and their barriers would cost more than the work).
inline constexpr std::size_t kThreadMinCellsDefault = 32768;
/// The threshold now in force (kThreadMinCellsDefault unless set_thread_min_cells changed it).
std::size_t thread_min_cells();
/// Changes the threshold for the whole process (benchmarks measuring where threads start to pay;
/// results do not depend on it). Not thread-safe: set it before any step.
void set_thread_min_cells(std::size_t cells);
/// Whether the engine's kernels use threads on grid g.
inline bool threads_pay(const grid::Grid& g) {
  return g.cells() >= thread_min_cells();
}

/// True on a thread that is a member of a team opened for a whole stage (TeamMember): kernels
/// then share their loops with the team instead of opening a parallel region.
bool in_team();

/// Marks the calling thread as a member of the enclosing parallel region's team while it lives
/// (one per thread, at the top of the region).
class TeamMember {
 public:
  TeamMember();
  ~TeamMember();
  TeamMember(const TeamMember&) = delete;
  TeamMember& operator=(const TeamMember&) = delete;
};

}  // namespace mnsim::healing
