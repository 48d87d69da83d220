// Finite volumes on an axisymmetric (r, z) grid: the operator div(kappa grad u) with a cell
// coefficient kappa, fixed (Dirichlet) cells, zero-flux or Dirichlet outer boundaries, and a
// Jacobi-preconditioned conjugate-gradient solver. Used for the quasi-static electric potential
// and the Pennes bioheat equation of radio-frequency needles (thermal/rf.hpp; docs/rf.md).
//
// Cell (i, j) spans r in [i dr, (i + 1) dr], z in [j dz, (j + 1) dz] (z down from the surface);
// the axis r = 0 has no area, so it needs no boundary condition. Face conductances are
// harmonic means of the neighbouring cells' kappa times face area over centre distance, so the
// discrete operator is symmetric and conserves flux; second order on smooth solutions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace mnsim::thermal {

struct AxiGrid {
  int nr = 0, nz = 0;
  double dr = 0.0, dz = 0.0;  // m
  std::size_t size() const { return static_cast<std::size_t>(nr) * static_cast<std::size_t>(nz); }
  std::size_t at(int i, int j) const {
    return static_cast<std::size_t>(j) * static_cast<std::size_t>(nr) + static_cast<std::size_t>(i);
  }
  double rc(int i) const { return (i + 0.5) * dr; }  // cell centre radius
  double zc(int j) const { return (j + 0.5) * dz; }  // cell centre depth
  double volume(int i) const;                        // m^3 (the ring of column i)
};

/// An outer boundary: zero flux, or a value held at the boundary face.
struct Boundary {
  bool dirichlet = false;
  /// The held value at the face point (r, z), used when dirichlet.
  std::function<double(double r, double z)> value;
};

struct AxiBoundaries {
  Boundary top, bottom, outer;  // z = 0, z = nz dz, r = nr dr
};

/// The assembled operator A u = sum over faces of G_f (u_nb - u): conductances of each cell's
/// east (i + 1) and south (j + 1) faces, and of its boundary faces.
class AxiOperator {
 public:
  /// kappa per cell (>= 0). `fixed` marks cells whose value is held (electrode, excluded cells);
  /// a free cell with no conducting face is held too (at its current value).
  AxiOperator(const AxiGrid& g, const std::vector<double>& kappa,
              const std::vector<std::uint8_t>& fixed, const AxiBoundaries& bc);
  const AxiGrid& grid() const { return g_; }
  /// Conductance of the face between (i, j) and (i + 1, j) / (i, j + 1); W/K or S.
  double east(std::size_t c) const { return ge_[c]; }
  double south(std::size_t c) const { return gs_[c]; }
  /// Solves (D + A) u = b for the free cells, D >= 0 a diagonal term per cell (capacity over dt,
  /// perfusion), b the right-hand side per cell (sources); fixed cells keep the values of `u`,
  /// Dirichlet boundaries enter the right-hand side. `u` is the starting guess. Returns the
  /// iterations used; throws NumericalError when the relative residual does not reach `tol`.
  int solve(const std::vector<double>& diag, const std::vector<double>& rhs, std::vector<double>& u,
            double tol = 1e-10, int max_iter = 20000) const;
  /// Sum over the faces with both cells in the grid, and the Dirichlet boundary faces, of
  /// G_f (u_a - u_b)^2, attributed half to each side (all of it to a free cell beside a fixed
  /// one, or beside a boundary): a per-cell dissipation (W for a potential in V and G in S).
  std::vector<double> dissipation(const std::vector<double>& u) const;

 private:
  void apply(const std::vector<double>& x, std::vector<double>& y) const;  // y = -A x (free)
  AxiGrid g_;
  std::vector<double> ge_, gs_;      // interior faces
  std::vector<double> gb_;           // sum of Dirichlet boundary conductances per cell
  std::vector<double> bb_;           // sum of G_b u_b per cell (boundary values)
  std::vector<std::uint8_t> fixed_;  // held cells
};

}  // namespace mnsim::thermal
