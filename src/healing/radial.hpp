// Axisymmetric (radial) finite-volume transport on annuli r in [0, n dr], shared by the reduced
// per-channel models. Zero flux at r = 0 (symmetry) and at the outer radius.
#pragma once

#include <vector>

namespace mnsim::healing {

/// Backward-Euler diffusion: solves (I - dt D Lap_r) u_new = u_old (tridiagonal, Thomas). An
/// M-matrix, so u stays >= 0; the amount sum(u_i * area_i) is conserved.
void radial_diffusion_implicit(std::vector<double>& u, double D, double dt, double dr);

/// Conservative first-order upwind chemotaxis -d/dr-part of div(chi u grad c) on annuli,
/// explicit with sub-cycling at half the positivity bound. Returns the number of sub-steps.
int radial_chemotaxis(std::vector<double>& u, const std::vector<double>& c, double chi, double dt,
                      double dr);

}  // namespace mnsim::healing
