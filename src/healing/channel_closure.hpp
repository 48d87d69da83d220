// Closure of the puncture channels of one session, for what flows through them (the channel open
// fraction over time, substances; docs/substances.md, "Channels").
//
// Each channel closes by re-epithelialisation of its mouth: the Sherratt-Murray radial model of
// healing/reepithelialization.hpp, with
//  - the mouth's radius (the needle's track at the viable epidermis after recoil: wider needles,
//    and tapered tips inserted less deep than their taper, give other radii: diameter, and depth
//    through the tip's taper);
//  - the session's lattice: neighbouring channels share the cells between them (the domain is
//    bounded by the unit cell 1/sqrt(pi rho): density);
//  - the channel's contents: a channel that reached the superficial vascular plexus bled and its
//    mouth is plugged by a fibrin clot, through which the migrating keratinocytes advance only as
//    fast as their plasmin dissolves the fibrin (keratinocyte motility x clot_motility,
//    data/substances.toml [channels]; Romer 1996): depth.
// The reduced model's epidermal damage course (healing::run_column) keeps the isolated,
// clot-free channel it was calibrated with; this is the channel as a path.
#pragma once

#include <filesystem>

#include "healing/params.hpp"
#include "healing/reepithelialization.hpp"

namespace mnsim::healing {

/// data/substances.toml [channels].
struct ClosureParams {
  double clot_motility = 1.0;  // keratinocyte motility through a clotted mouth / free
  static ClosureParams load(const std::filesystem::path& path);
  /// data/substances.toml from the data folder (read once).
  static const ClosureParams& defaults();
};

/// One session's channels, as the closure sees them.
struct ChannelGeometry {
  double radius_um = 0.0;  // mouth radius at the middle of the viable epidermis (after recoil)
  double density = 0.0;    // channels per um^2 (0: an isolated channel)
  bool bled = false;       // reached the superficial plexus: a clot plugs the mouth
};

/// The parameters heal_channel runs with for these channels (keratinocyte motility through the
/// clot), and the domain radius (unit cell, 0 for an isolated channel).
Params closure_params(const Params& p, const ClosureParams& c, const ChannelGeometry& g);
double closure_cell_radius(const ChannelGeometry& g);

/// heal_channel for these channels over t_end_h (h).
ChannelHealing close_channels(const Params& p, const ClosureParams& c, const ChannelGeometry& g,
                              double t_end_h);

}  // namespace mnsim::healing
