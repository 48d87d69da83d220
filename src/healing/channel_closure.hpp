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
//    data/substances.toml [channels]; Romer 1996);
//  - the channel's lumen: the epidermis bridges the mouth over a provisional-matrix floor. A
//    channel that bled is filled to the mouth by its clot at once; one that did not must first
//    fill from its base, lumen below the viable epidermis / fill_speed (data/substances.toml
//    [channels]), and its mouth heals that much later: depth.
// One model for the channel's closure, its open fraction and the barrier: the 3D run's
// applications (run/applications.cpp), the reduced model's sessions (healing::run_column:
// barrier, closure, excess water loss) and its outcome (protocol/reduced.cpp) all call
// close_channels with channel_geometry. The reduced model's epidermal cell deficit (what feeds
// its viable-epidermis compartment) keeps the isolated, clot-free channel it was checked against
// the 3D engine with (docs/model.md, "Barrier and channels").
#pragma once

#include <filesystem>

#include "healing/params.hpp"
#include "healing/reepithelialization.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// data/substances.toml [channels].
struct ClosureParams {
  double clot_motility = 1.0;  // keratinocyte motility through a clotted mouth / free
  double fill_speed = 12.5;    // um/h, rise of the provisional-matrix floor in an unbled lumen
  static ClosureParams load(const std::filesystem::path& path);
  /// data/substances.toml from the data folder (read once).
  static const ClosureParams& defaults();
};

/// One session's channels, as the closure sees them.
struct ChannelGeometry {
  double radius_um = 0.0;  // mouth radius at the middle of the viable epidermis (after recoil)
  double density = 0.0;    // channels per um^2 (0: an isolated channel)
  bool bled = false;       // reached the superficial plexus: a clot plugs the mouth
  double lumen_um = 0.0;   // length of the lumen below the viable epidermis (um)
};

/// The channels of punctures `depth_um` deep (um below the surface) with mouth radius
/// `radius_um`, `density` per um^2, in skin `prof`: bled when they reach the superficial
/// plexus.
ChannelGeometry channel_geometry(const skin::SkinProfile& prof, double radius_um, double depth_um,
                                 double density);

/// Time (h) before the epidermis can bridge the mouth: 0 when the channel bled (its clot fills
/// it), else the lumen below the viable epidermis over the fill speed.
double fill_time(const ClosureParams& c, const ChannelGeometry& g);

/// `h` started `delay` h later: fully open (open fraction and relative damage 1) until then.
ChannelHealing delayed(const ChannelHealing& h, double delay);

/// The parameters heal_channel runs with for these channels (keratinocyte motility through the
/// clot), and the domain radius (unit cell, 0 for an isolated channel).
Params closure_params(const Params& p, const ClosureParams& c, const ChannelGeometry& g);
double closure_cell_radius(const ChannelGeometry& g);

/// heal_channel for these channels over t_end_h (h) after their fill time (delayed).
ChannelHealing close_channels(const Params& p, const ClosureParams& c, const ChannelGeometry& g,
                              double t_end_h);

}  // namespace mnsim::healing
