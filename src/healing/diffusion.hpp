// Finite-volume diffusion-decay of one field on a grid::Grid (see docs/numerics.md).
//
//   du/dt = div(D grad u) - lambda u + S
//
// Cell-centred finite volumes: uniform spacing dx in x and y, non-uniform z faces `Grid::zf`.
// The flux through a face is g (u_nb - u) with the face conductance g of the two half cells in
// series, g = 1 / (h1 / (2 e1) + h2 / (2 e2)), e = D(k) * p(i,j,k) (per-layer diffusivity times
// an optional per-voxel permeability p in [0, 1]; p = 0 makes a voxel flux-free, e.g. outside the
// skin). Boundaries are zero-flux, except optionally a Dirichlet value at the top face z = 0.
//
// Two time integrators:
//  - step_implicit: backward Euler, locally one-dimensional (LOD): one tridiagonal solve per grid
//    line along x, then y, then z (Thomas algorithm). Unconditionally stable, positivity
//    preserving (each 1-D matrix is an M-matrix), mass conserving. First order in time.
//  - step_explicit: forward Euler on the same fluxes, sub-cycled so that every sub-step is within
//    the stability/positivity limit explicit_dt_limit(); sub-steps are accumulated in double.
// Decay and source are applied exactly (u <- u e^{-lambda dt} + S (1 - e^{-lambda dt}) / lambda):
// before the implicit solve (with constant lambda and zero-flux walls this commutes with
// diffusion; with a Dirichlet top it is a first-order splitting), and after each explicit
// sub-step.
//
// All kernels are OpenMP-parallel over independent grid lines with fixed per-line arithmetic, so
// results are bit-identical for any thread count. Ghost cells are neither read nor written.
// Units: SI (m, s); field units are the caller's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "grid/grid.hpp"
#include "healing/face_box.hpp"

namespace mnsim::healing {

/// Transport coefficients of one field.
struct DiffusionSpec {
  /// Diffusivity (m^2/s): one value (uniform) or one per z cell (size nz, e.g. per skin layer).
  std::vector<double> diffusivity;
  /// Optional per-voxel relative permeability in [0, 1] on the same grid (values outside [0, 1]
  /// void the stability limit of the explicit solver). Read live at every step, so it may be a
  /// field that changes during the run. Null data = 1 everywhere (fast path).
  grid::ConstFieldView permeability{};
  double decay = 0.0;   // first-order decay rate lambda (1/s), >= 0
  double source = 0.0;  // uniform zeroth-order source S (field unit / s), >= 0 keeps positivity
  /// Dirichlet value at the top face z = 0 (field unit); zero-flux when empty.
  std::optional<double> top_value{};
  /// The permeability does not change after the first step: the implicit solver then computes
  /// its face conductances once instead of at every step (same values either way).
  bool permeability_fixed = false;
};

class Diffusion {
 public:
  /// Throws std::invalid_argument for a negative or non-finite coefficient or a diffusivity
  /// vector of the wrong size.
  Diffusion(const grid::Grid& g, DiffusionSpec spec);

  const grid::Grid& grid() const { return *g_; }
  const DiffusionSpec& spec() const { return spec_; }
  /// True when some diffusivity is positive (a field with D = 0 only decays).
  bool diffuses() const { return diffuses_; }

  /// One backward-Euler LOD step of length dt (s) on the interior of u, after exact decay/source.
  void step_implicit(grid::FieldView u, double dt);

  /// True when this operator's implicit step may use `other`'s face conductances: both take the
  /// permeability path with the same fixed permeability field and either the same diffusivities
  /// or each one diffusivity on every layer (their conductances are then kept without it, of the
  /// permeability alone), so the conductances are the same numbers.
  bool can_share(const Diffusion& other) const;
  /// Uses `other`'s face conductances from now on (can_share must hold): one table for both
  /// (the memory of one field's worth of x, y and z faces saved).
  void share_conductances(Diffusion& other);
  /// True when both operators use one table of face conductances (share_conductances).
  bool shares_with(const Diffusion& other) const {
    return cond_ != nullptr && cond_ == other.cond_;
  }
  /// step_implicit of several fields, u[m] by ops[m] over dt[m] (s), whose operators share their
  /// face conductances (shares_with ops[0]): one pass over the grid and the conductances for
  /// all of them, each plane or row of every field solved while its conductances are in cache,
  /// and fields with the same step (dt and no Dirichlet top) next to each other in the list
  /// share the elimination itself (its pivots), computed once. Each field's result is bit for
  /// bit what its own step_implicit gives. `flags` (empty, or one per field; a null one for a
  /// field not screened): the health screen of u[m] after its step, for operators that
  /// screens(): flags[m][k] is set (non-zero) for every plane k of u[m] holding a NaN, an
  /// infinite or a negative interior value (Stepper::set_screened); the flags of clean planes
  /// are left as they were.
  static void step_implicit_shared(std::span<Diffusion* const> ops,
                                   std::span<const grid::FieldView> u, std::span<const double> dt,
                                   std::span<std::uint8_t* const> flags = {});
  /// Whether step_implicit_shared screens this operator's field (the permeability path: its z
  /// sweep reads every row of columns back while it is in the cache).
  bool screens() const { return variable_path(); }

  /// Forward-Euler steps covering dt (s), sub-cycled into explicit_substeps(dt) equal sub-steps.
  void step_explicit(grid::FieldView u, double dt);
  /// Largest stable and positivity-preserving forward-Euler step (s); +inf when nothing diffuses.
  double explicit_dt_limit() const { return dt_explicit_; }
  /// Number of equal sub-steps step_explicit uses for dt.
  int explicit_substeps(double dt) const;
  /// Whether step_implicit and step_implicit_shared may be called by every member of a team at
  /// once, sharing their loops (healing/team.hpp): the permeability path and decay/source alone;
  /// the uniform path (its factors cached per step) opens its own region.
  bool team_kernels() const { return variable_path() || (!diffuses_ && !spec_.top_value); }

 private:
  struct Factor {  // precomputed Thomas factors of one line family: y_l = p d_l + q y_{l-1},
    std::vector<float> p, q, c;  // u_l = y_l + c u_{l+1}
  };
  void factorize(double dt);
  void implicit_uniform(grid::FieldView u, double dt);
  /// The permeability path for the fields u[m] of operators sharing conductances (ops[0]'s).
  static void implicit_variable(std::span<Diffusion* const> ops, std::span<const grid::FieldView> u,
                                std::span<const double> dt,
                                std::span<std::uint8_t* const> flags = {});
  bool variable_path() const { return spec_.permeability.data != nullptr && diffuses_; }
  /// Face conductances D p / cond_scale() of the permeability path (harmonic means in x and y,
  /// series of half cells in z) into cond_: x in transposed planes ((k nx + i) w + j), y ((k ny +
  /// j) nx + i) and z ((j nz + k) nx + i); face i joins cells i and i + 1, the last face of a line
  /// is 0.
  void face_conductances();
  struct Conductances {
    std::vector<float> x, y, z;
    /// Where faces carry flux (healing/face_box.hpp): x and y per plane k, z per row of
    /// columns j; the sweeps leave out the lines and cells outside (the identity).
    std::vector<FaceBox> bx, by, bz;
  };
  void explicit_once(const double* old, double* out, double dt) const;
  /// The factor of the conductances that the permeability path keeps out of its table: the
  /// diffusivity when it is the same on every layer (d_free_), else 1 (D in every face).
  double cond_scale() const { return d_free_ ? dk_[0] : 1.0; }

  const grid::Grid* g_;
  DiffusionSpec spec_;
  std::vector<double> dk_;  // D per z cell
  std::vector<double> gz_;  // z-face conductances (size nz+1) with p = 1, gz_[0] = top (Dirichlet)
  bool diffuses_ = false;
  bool d_free_ = false;  // one positive diffusivity on every layer (cond_scale)
  double dt_explicit_ = 0.0;
  double factored_dt_ = -1.0;
  Factor fx_, fy_, fz_;                  // fx_, fy_: nz lines of nx (ny) entries; fz_: nz entries
  float top_rhs_coef_ = 0.0f;            // dt * g_top / dz0 (Dirichlet contribution to cell k = 0)
  std::vector<double> work_a_, work_b_;  // explicit solver state (padded, double)
  std::shared_ptr<Conductances> cond_;   // face conductances, maybe shared (face_conductances)
};

/// Diffusion time of a step dt for a field that a separate step decays exactly at rate `decay`
/// (1/time): (1 - e^{-decay dt}) / decay, which tends to dt for short steps and to the lifetime
/// 1/decay for long ones. Exact decay then implicit diffusion over this time has the discrete
/// steady state of diffusion-decay-source as its fixed point for any dt (docs/numerics.md,
/// "Coupled diffusion and decay"), where splitting with the full dt would spread the field over
/// sqrt(D dt) instead of its decay length sqrt(D / decay).
double coupled_diffusion_time(double dt, double decay);

/// Exact decay and source over dt: u <- u e^{-decay dt} + source (1 - e^{-decay dt}) / decay.
void decay_source(grid::FieldView u, double dt, double decay, double source);

/// Integral of u over the interior (sum of u * cell volume), summed in a fixed order (double).
double integral(grid::ConstFieldView u);

}  // namespace mnsim::healing
