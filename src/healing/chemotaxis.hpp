// Conservative first-order upwind chemotaxis on the healing grid (docs/model.md, "Transport").
//
//   du/dt = -div( chi * u * grad c )
//
// Finite volumes: at each interior face between cells a and b (both active) the chemotactic
// velocity is w = chi (c_b - c_a) / |x_b - x_a| (positive from a to b) and the flux carries the
// upwind value of u (u_a if w > 0, else u_b). Faces touching an inactive cell (other layer,
// outside the skin, the patch boundary) carry no flux, so the total of u*volume is conserved
// exactly. Explicit in time with automatic sub-cycling at CFL <= 1/2 of the outflow bound,
// which keeps u >= 0. Units: chi in um^2/h per unit of c, dt in h; the grid is in metres.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "grid/grid.hpp"
#include "healing/face_box.hpp"

namespace mnsim::healing {

/// Largest explicit step (h) that keeps the upwind update positive: for every cell, dt times
/// the sum of its outgoing face speeds / spacing is <= 1. Infinity when nothing moves.
double chemotaxis_max_dt(grid::ConstFieldView attractant, double chi,
                         std::span<const std::uint8_t> active);

/// Advances u by dt (h), sub-cycling at half the positivity limit. `active` holds 1 for cells
/// where the cells may move (padded indexing, grid.at). Returns the number of sub-steps taken.
/// Cells are updated from a copy of the old values, so the result does not depend on threads.
int chemotaxis_step(grid::FieldView u, grid::ConstFieldView attractant, double chi,
                    std::span<const std::uint8_t> active, double dt);

/// Backward-Euler upwind chemotaxis, split by direction (x, then y, then z). Each direction solves
/// one tridiagonal system per grid line,
///     u_m + dt/L_m (F_{m+1/2} - F_{m-1/2}) = u_m^old,   F = w+ u_left - w- u_right,
/// with the same face speeds w as chemotaxis_step. The matrix is an M-matrix whose columns,
/// weighted by the cell widths L_m, sum to L_m: the update is positive and conserves the amount
/// sum(u * volume) exactly for any dt (no stability limit, no sub-cycling), first order in dt.
/// Lines are solved independently (Thomas algorithm in single precision without subtractions,
/// accurate to a few float roundings for any dt: healing/chemotaxis.cpp), so the result does not
/// depend on threads. This is the operator of the 3D engine; chemotaxis_step (explicit,
/// sub-cycled) is its reference for small steps.
///
/// Optional random motility in capacity form (`Motility`): the face flux gains
///     D c_f (u_a / c_a - u_b / c_b) / |x_b - x_a|,   c_f = 2 c_a c_b / (c_a + c_b),
/// where c is the field's homeostatic baseline per cell (fibroblast density differs between the
/// papillary and reticular dermis). Within a layer (c uniform) this is plain diffusion with
/// diffusivity D; across a layer face it moves cells toward u / c uniform, so the baseline is an
/// exact fixed point of the operator, where plain diffusion of u would drain the denser layer.
/// It enters the same tridiagonal systems with positive coefficients on both sides: the update
/// stays positive and conservative.
struct Motility {
  double diffusivity = 0.0;         // um^2/h; 0 = none
  grid::ConstFieldView capacity{};  // baseline per cell (> 0 wherever `active`)
};
void chemotaxis_step_implicit(grid::FieldView u, grid::ConstFieldView attractant, double chi,
                              std::span<const std::uint8_t> active, double dt,
                              const Motility& motility = {});

/// chemotaxis_step_implicit for one field, with what does not change during a run computed once:
/// which faces carry flux (both cells active, one byte per face) and the capacity in the
/// transposed layout of the x sweep; the motility coefficient D c_f / (dist c_a c_b) of a face
/// is computed from the capacities where it is used (storing it took 24 bytes per cell). Each
/// direction's lines are solved together, one SIMD lane per line: x lines from a transposed copy of
/// each plane (contiguous lanes, no strided gathers), y and z lines in place; assembly and forward
/// elimination run in one pass. The same operations in the same order as
/// chemotaxis_step_implicit, so the result is bit for bit its result.
class ChemotaxisOperator {
 public:
  /// The grid must outlive the operator; `active` and the motility's capacity are copied.
  ChemotaxisOperator(const grid::Grid& g, std::span<const std::uint8_t> active, double chi,
                     const Motility& motility = {});
  /// Advances u by dt (h) up the attractant (which may be empty when chi == 0).
  void step(grid::FieldView u, grid::ConstFieldView attractant, double dt) const;

 private:
  template <bool Chemo, bool Motile>
  void sweep(grid::FieldView u, grid::ConstFieldView attractant, double dt) const;

  const grid::Grid* g_;
  double chi_;
  double mot_;  // um^2/h, 0 = no motility
  int w_;       // lanes of a transposed plane (ny rounded up to 16)
  // Per face from a cell to its + neighbour, by direction (x, y, z): 1 where both cells are
  // active, 0 where no flux. Layouts: x (k nx + i) w + j, y (k ny + j) nx + i, z (j nz + k)
  // nx + i. (The motility coefficient of a face is computed from the capacities where used.)
  std::vector<std::uint8_t> on_[3];
  std::vector<FaceBox> box_[3];  // where faces carry flux: x, y per plane k, z per row j
  std::vector<float> cap_;       // capacity, padded (y and z sweeps)
  std::vector<float> capx_;      // capacity, transposed planes (x sweep)
};

}  // namespace mnsim::healing
