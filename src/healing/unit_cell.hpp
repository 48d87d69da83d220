// Resolved check of the mean-field reduced driver: the axisymmetric unit cell around one channel
// of a regular lattice of density rho (cell radius R = 1/sqrt(pi rho)), in one dermal layer, with
// the local kinetics (healing::react per annulus), implicit diffusion and upwind chemotaxis of
// the field_specs transport. Unlike the real device, every session re-injures the same central
// channel. Used to measure how far the well-mixed compartments of healing/column.hpp are from a
// spatially resolved solution (docs/model.md, section 7).
#pragma once

#include <vector>

#include "healing/column.hpp"

namespace mnsim::healing {

struct UnitCellRun {
  double cell_radius = 0;                 // um
  std::vector<double> t;                  // h
  std::vector<double> collagen_change;    // areal mean (C1 + C3)/C0 - 1
  std::vector<double> erythema;           // areal mean of the local vasodilation e
  std::vector<double> r;                  // um, annulus centres
  std::vector<double> final_collagen;     // (C1 + C3)/C0 - 1 per annulus at the end
  std::vector<double> final_fibroblasts;  // F/F0 per annulus at the end
  /// Linear interpolation of the areal collagen change at time t (h).
  double collagen_at(double time) const;
  /// Last time (h) within [t0, t1] at which the areal erythema was >= threshold (-1: never).
  double erythema_until(double threshold, double t0, double t1) const;
};

/// Runs the unit cell for one layer baseline (dermal: fibroblasts and collagen > 0) with the
/// channel radius pr.radius through the whole layer, pr.density, pr.bled, the sessions and the
/// step control of the protocol. dr_um: annulus width.
UnitCellRun run_unit_cell(const Params& p, const Baseline& b, const ColumnProtocol& pr,
                          double dr_um = 2.0);

}  // namespace mnsim::healing
