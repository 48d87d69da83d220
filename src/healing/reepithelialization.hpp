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
// Barrier: the excess transepidermal water loss through the channel is taken proportional to
// the still-open channel area times the unsealed fraction exp(-seal_rate t) of its opening.
#pragma once

#include <vector>

#include "healing/params.hpp"

namespace mnsim::healing {

struct ChannelHealing {
  double radius = 0;         // um, channel radius in the epidermis
  double closure_time = -1;  // h, first time n >= 1/2 everywhere in the channel (-1: not closed)
  double barrier_time = -1;  // h, first time the TEWL excess <= barrier_threshold (-1: not yet)
  std::vector<double> t;     // h
  std::vector<double> open_fraction;  // of the initial channel area where n < 1/2
  std::vector<double> tewl_excess;    // relative to the fresh channel (1 at t = 0)
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
/// size `dr_um` and time step `dt_h`.
ChannelHealing heal_channel(const Params& p, double radius_um, double t_end_h = 96.0,
                            double dr_um = 1.0, double dt_h = 0.01);

}  // namespace mnsim::healing
