// Per-channel re-epithelialisation and barrier recovery: a reduced, radially symmetric model of
// the epidermis around one channel, in the spirit of Sherratt & Murray 1990 (Proc R Soc B 241:29):
// epidermal cell density n and a mitosis-regulating chemical c, with the channel closing from
// its rim (docs/model.md, "Re-epithelialisation").
//
//   dn/dt = D_n (1/r) d/dr (r dn/dr) + r_n [ s(c) n (2 - n) - n ]
//   dc/dt = D_c (1/r) d/dr (r dc/dr) + lambda [ f(n) - c ]
//
// with the same reaction terms as healing::react for the viable epidermis. Initially n = c = 0
// in the channel (r < a) and n = c = 1 outside; zero flux at r = 0 and at the outer radius.
// Diffusion is implicit (backward Euler, finite volumes on annuli), reactions exponential /
// Patankar, so any step is stable and positive.
//
// Neighbouring channels share the cells between them: the outer radius is the unit cell of the
// session's lattice, 1/sqrt(pi rho) (zero flux there), when that is smaller than the isolated
// channel's domain, so dense punctures close more slowly.
//
// Barrier (docs/model.md, "Barrier and channels"): water evaporates from the wet channel through
// the still air above the skin. Each open channel is a disc sink of conductance 4 D_v a_eff
// (diffusion-limited evaporation from a disc in a plane; Berg HC, Purcell EM 1977, Biophys J
// 20:193), a_eff = a sqrt(open(t)) exp(-seal_rate t) (the re-epithelialised part of its area
// closed, the stratum-corneum opening sealing); n channels per area act in parallel, in series
// with the boundary layer delta: excess TEWL = dc D_v / (delta + 1 / (4 n a_eff)), which tends to
// the evaporation of a wet surface when the channels are dense. Barrier recovered: excess TEWL
// below barrier_threshold x the baseline TEWL.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <vector>

#include "healing/params.hpp"

namespace mnsim::healing {

struct ChannelHealing {
  double radius = 0;         // um, channel radius in the epidermis
  double cell_radius = 0;    // um, outer radius of the domain (unit cell or isolated channel)
  double closure_time = -1;  // h, first time n >= 1/2 everywhere in the channel (-1: not closed)
  std::vector<double> t;     // h
  std::vector<double> open_fraction;  // of the initial channel area where n < 1/2
  // Cell deficit around the channel, relative to the fresh channel (1 at t = 0): the areal
  // integral of max(0, 1 - n) (the viable epidermis's damage, as healing::react derives it from
  // n) over the channel and its rim, divided by its value at t = 0. Unlike the open fraction it
  // keeps the closed but not yet repopulated channel, the crushed halo and the rim the cells
  // migrated from.
  std::vector<double> damage;
  /// Open fraction at time t (linear interpolation; 0 after the end if closed).
  double open_at(double time) const;
  /// Relative cell deficit (`damage`) at time t (linear interpolation; the last value after the
  /// end).
  double damage_at(double time) const;
};

/// Runs the radial model for a channel of radius `radius_um` until `t_end_h` (h), with cell
/// size `dr_um` and time step `dt_h`. `cell_radius_um` > 0: the unit cell of the puncture
/// lattice, 1/sqrt(pi rho), bounds the domain (0: an isolated channel).
ChannelHealing heal_channel(const Params& p, double radius_um, double t_end_h = 96.0,
                            double dr_um = 1.0, double dt_h = 0.01, double cell_radius_um = 0.0);

/// What heal_channel's result depends on, bit for bit: its arguments and every parameter it
/// reads (keratinocyte motility and mitosis, the mitosis chemical, the puncture's halo). Calls
/// with equal keys give equal results, so it keys a cache of healings shared between parameter
/// sets that differ elsewhere (the reduced model's cohorts and sensitivity analyses).
struct ChannelKey {
  std::array<std::uint64_t, 14> bits{};  // the values' bit patterns (NaN compares as itself)
  auto operator<=>(const ChannelKey&) const = default;
};
ChannelKey channel_key(const Params& p, double radius_um, double t_end_h = 96.0, double dr_um = 1.0,
                       double dt_h = 0.01, double cell_radius_um = 0.0);

/// Unit-cell radius (um) of a lattice of `density` channels per um^2 (0 for no channels).
double unit_cell_radius(double density);

/// Excess transepidermal water loss of the treated area over the baseline TEWL, `t` h after the
/// session, for `density` channels per um^2 of radius `radius_um`, a fraction `open` of each
/// still open (see the header comment).
double tewl_excess_ratio(const Params& p, double density, double radius_um, double open, double t);

/// First time (h) the excess TEWL of `density` channels per um^2 healing as `ch` falls to
/// barrier_threshold (-1: not within the channel's time line; 0: no channels).
double barrier_recovery_time(const Params& p, const ChannelHealing& ch, double density);

}  // namespace mnsim::healing
