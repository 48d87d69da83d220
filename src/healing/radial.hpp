// Axisymmetric (radial) finite-volume transport on annuli r in [0, n dr], shared by the reduced
// per-channel models. Zero flux at r = 0 (symmetry) and at the outer radius.
#pragma once

#include <vector>

#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

/// Backward-Euler diffusion: solves (I - dt D Lap_r) u_new = u_old (tridiagonal, Thomas). An
/// M-matrix, so u stays >= 0; the amount sum(u_i * area_i) is conserved.
void radial_diffusion_implicit(std::vector<double>& u, double D, double dt, double dr);

/// radial_diffusion_implicit on n annuli of width dr, factorised once for (D, dt) and applied
/// to many profiles of size n (the same arithmetic: identical results).
class RadialDiffusionFactor {
 public:
  RadialDiffusionFactor(std::size_t n, double D, double dt, double dr);
  /// u.size() must be n.
  void apply(std::vector<double>& u) const;
  /// apply(u) and other.apply(v) in one pass (the same results; heal_channel's two fields).
  void apply_pair(std::vector<double>& u, const RadialDiffusionFactor& other,
                  std::vector<double>& v) const;

 private:
  bool active_ = false;
  TridiagonalFactor factor_;
};

/// Conservative first-order upwind chemotaxis -d/dr-part of div(chi u grad c) on annuli,
/// explicit with sub-cycling at half the positivity bound. Returns the number of sub-steps.
int radial_chemotaxis(std::vector<double>& u, const std::vector<double>& c, double chi, double dt,
                      double dr);

}  // namespace mnsim::healing

namespace mnsim::healing {

/// A non-uniform axisymmetric mesh of n annuli on [0, R] (um): the resolved reduced driver's
/// unit cell around one channel (column.hpp, ColumnProtocol::annuli).
struct RadialMesh {
  std::vector<double> edge;  // n + 1 radii, edge[0] = 0, edge[n] = R
  std::vector<double> mid;   // n annulus mid-radii
  std::vector<double> area;  // n annulus areas, um^2
  std::vector<double> face;  // n - 1: 2 pi edge[i+1] / (mid[i+1] - mid[i]), the face's length over
                             // the distance between the centres it joins
  std::size_t size() const { return area.size(); }
  double total_area() const;
  /// Area-weighted mean of u (size n).
  double mean(const double* u) const;
};

/// n >= 1 annuli: max(1, n / 4) of equal width inside r_in (the channel), then widths growing
/// geometrically (edges r_in q^k) out to R, finest at the channel wall where the injury and the
/// gradients are. Uniform widths when R <= r_in. Throws std::invalid_argument for n < 1 or
/// R <= 0 or r_in <= 0.
RadialMesh radial_mesh(double r_in, double R, int n);

/// Backward-Euler step of diffusion (D, um^2/h) and, when chi != 0, upwind chemotaxis up the
/// gradient of `attractant` (velocity chi dc/dr) on the mesh, zero flux at r = 0 and at R: one
/// tridiagonal M-matrix solve, so u stays >= 0 for any dt and sum(u area) is conserved.
void radial_transport_implicit(const RadialMesh& m, double* u, double D, double dt,
                               const double* attractant = nullptr, double chi = 0.0);

/// radial_transport_implicit on m profiles at once, interleaved: u[i * m + j] and
/// attractant[i * m + j] are annulus i of profile j, D[j] its diffusivity; dt and chi are shared.
/// Each profile gets what radial_transport_implicit gives it alone (the same operations: identical
/// results); the independent systems fill the latency of the divisions.
void radial_transport_implicit_many(const RadialMesh& m, double* u, std::size_t lanes,
                                    const double* D, double dt, const double* attractant,
                                    double chi);

/// radial_transport_implicit without chemotaxis, factorised once for (mesh, D, dt) and applied
/// to many profiles (identical results).
class RadialDiffusionStep {
 public:
  RadialDiffusionStep(const RadialMesh& m, double D, double dt);
  /// Refactors for another diffusivity or step, reusing the storage (the same arithmetic as a
  /// new step: identical results).
  void reset(const RadialMesh& m, double D, double dt);
  void apply(double* u) const;
  /// apply() to m profiles at once, interleaved: u[i * m + j] is annulus i of profile j
  /// (identical results).
  void apply_many(double* u, std::size_t m) const;

 private:
  const RadialMesh* mesh_;
  bool active_ = false;
  TridiagonalFactor factor_;
  std::vector<double> lo_, di_, up_;
  mutable std::vector<double> rhs_;
};

}  // namespace mnsim::healing
