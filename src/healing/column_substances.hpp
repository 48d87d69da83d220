// Topical applications in the reduced model (docs/substances.md, "In the reduced model"): what
// cohorts and the planner use instead of the 3D fields of run/applications.hpp, with the same
// film and channel bookkeeping (healing/film.hpp) and the same per-compartment solute step
// (healing::solute_step).
//
// The treated patch is laterally well mixed at each depth: the lumen a session's channels open
// is spread over the area (lumen_by_layer: density x pi r^2 per depth), and a solute's areal mean
// concentration obeys 1D diffusion in depth with the lumen exchange, the stratum-corneum input
// and the dermal clearance of the 3D process. The reduction holds when the agent crosses the
// unit cell of the channel lattice (radius 1/sqrt(pi rho), ~0.36 mm at 250 /cm^2) faster than
// the times it is reported at: (0.36 mm)^2 / D is ~8 min for tranexamic acid (D ~ 2.7e-10 m^2/s
// in tissue), against records from 5 min to 48 h. PRP's platelets go into the column driver's
// platelet field (ColumnProtocol::additions) at each application, layer by layer, as the 3D
// driver puts them into the open lumen.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "healing/column.hpp"
#include "healing/film.hpp"
#include "healing/substances.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// One session's channels as the applications see them.
struct AppliedSession {
  double t = 0.0;            // s since the first session
  ChannelGeometry geometry;  // the mouth, the lattice, the clot (the closure's)
  ChannelHealing closure;    // close_channels(geometry)
  double density = 0.0;      // channels per m^2
  double radius = 0.0;       // m, the lumen's radius after recoil
  double depth = 0.0;        // m reached below the surface
};

/// An application's dose at one time.
struct DoseRecord {
  double hours = 0.0;                               // after the application
  double entered = 0.0;                             // ug/cm^2 (ng/cm^2 for prp)
  double skin_route = 0.0;                          // ug/cm^2 through the stratum corneum
  double lumen = 0.0, tissue = 0.0, cleared = 0.0;  // ug/cm^2
  std::array<double, skin::kLayers> by_layer{};     // ug/cm^2 in the tissue of each layer
};

struct AppliedDose {
  Film film;
  std::vector<DoseRecord> records;  // prp: one, at the application
};

struct ColumnApplications {
  std::vector<Application> apps;
  std::vector<AppliedSession> sessions;
  double end_s = 0.0;              // s, the end of the course
  std::vector<AppliedDose> doses;  // one per film (schedule_films' order)
  ChannelBook channels;
  std::vector<double> depth_um;  // the solute cells' mid-depths
  /// Largest relative mass-balance error of a solute over its records: |applied agent in
  /// (drained + through the stratum corneum) - (tissue + lumen + cleared)| / in.
  double balance_error = 0.0;
  /// The platelets PRP adds for the column driver (ColumnProtocol::additions).
  std::vector<ColumnAddition> additions;
  /// Each solute's mean concentration in the viable epidermis over time (column_solutes): what
  /// tranexamic acid's melanogenic block reads (melanin_without_block).
  struct EpidermisTrace {
    std::string agent;
    std::vector<double> t_h;    // h since the first session, ascending
    std::vector<double> ug_ml;  // ug/mL at t_h
  };
  std::vector<EpidermisTrace> epidermis;
};

/// Relative vascular fraction (over the layer's baseline) of layer index l at t (h since the
/// first session): the clearance scales with it, as in the 3D process.
using VascularTrace = std::function<double(std::size_t l, double t_h)>;

/// The applications over sessions `sessions` (ascending times) of a course ending at end_s:
/// the channels, the films, PRP's platelets (`additions`, for the column driver) and, when
/// `vascular` is given, the solutes' transport and records (else column_solutes later).
ColumnApplications column_applications(const Params& p, const SubstanceData& d,
                                       const skin::SkinProfile& prof,
                                       const std::vector<Application>& apps,
                                       const std::vector<AppliedSession>& sessions, double end_s);

/// The solutes of `ca` through the skin: films, lumen exchange, diffusion in depth, clearance
/// (vascular: from the column run; empty: the baseline).
void column_solutes(ColumnApplications& ca, const Params& p, const SubstanceData& d,
                    const skin::SkinProfile& prof, const VascularTrace& vascular = {});

/// Tranexamic acid's melanogenic block in the reduced model, as the 3D process
/// `<agent>_melanogenesis` (healing/substances.cpp) takes it: of each step's melanin production
/// in the viable epidermis (melanin[n+1] - melanin[n] e^(-dt/tau), tau the epidermal turnover;
/// production does not depend on the melanin excess, so it is the same with and without the
/// block), the share plasmin_share x C/(C + K_d) is removed, C the layer's mean concentration at
/// the start of the step (ca.epidermis). t_h, melanin: the column's samples (h; the viable
/// epidermis's melanin_excess). Returns the melanin excess with the block (melanin itself when no
/// agent has a plasmin share).
std::vector<double> melanin_with_block(const ColumnApplications& ca, const SubstanceData& d,
                                       double epidermal_turnover_h, const std::vector<double>& t_h,
                                       const std::vector<double>& melanin);

/// The delivered dose of application k (an index into ca.apps) summed over its films: the last
/// record's `entered` of each (ng/cm^2 of growth factors for prp, ug/cm^2 for a solute).
double delivered_dose(const ColumnApplications& ca, std::size_t k);

}  // namespace mnsim::healing
