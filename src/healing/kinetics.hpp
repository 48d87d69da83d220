// Reaction kinetics of the micro-wound healing cascade (docs/model.md).
//
// Units: the healing working units of healing/params.hpp (h, um, ng/mL, mg/mL, cells/mm^3, 1).
// The fields and the reaction processes are registered in a healing::Model (healing/model.hpp;
// the healing cascade's own: healing_model(), healing/processes.cpp). This header gives the
// engine (a) the transport masks and capacity-form motility of a field, (b) the injury a puncture
// deposits, (c) the healing model's reaction step on one state, many states or a FieldSet, valid
// and positive for any step size. Transport (diffusion, chemotaxis) is applied by the engine
// between reaction steps (operator splitting); healing/chemotaxis.hpp provides a conservative
// upwind chemotaxis operator.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/puncture.hpp"
#include "grid/grid.hpp"
#include "healing/model.hpp"
#include "healing/params.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// Cells where a field moves: 1 where the cell's layer has a non-zero diffusivity for `spec`
/// (padded indexing like `layer_of`; 0 outside the skin). The `active` mask of chemotaxis_step.
std::vector<std::uint8_t> transport_mask(const FieldSpec& spec,
                                         std::span<const std::uint8_t> layer_of);

/// Text for `mnsim catalog healing`: the fields (unit, transport and where its coefficients come
/// from), the processes (what each reads and updates), and every parameter with unit and source.
std::string catalog_text(const ParamSet& ps, const Model& m = healing_model());

/// Motility of a resident cell population whose homeostatic density differs between the layers
/// it moves in (fibroblasts: papillary > reticular > hypodermis; vessels). Such a field moves in
/// capacity form, toward a uniform ratio to its baseline (chemotaxis.hpp, `Motility`): plain
/// diffusion of the density would drain the denser layer into its neighbour and the unwounded
/// skin would not be at rest (measured before: papillary fibroblasts fell to 76% of their
/// baseline within 90 days without any injury). Returns the diffusivity (um^2/h, the same in
/// every moving layer) and fills `capacity` with the baseline per layer, for a field registered
/// with Transport::CapacityMotility; 0 for every other field, and where the capacity form is
/// plain diffusion (one moving layer, a zero baseline, or a uniform one).
double capacity_motility(const FieldSpec& spec, const Baselines& base,
                         std::array<double, skin::kLayers>& capacity,
                         const Model& m = healing_model());

/// Advances one voxel's reactions (the healing model's processes) by dt (h). Exponential (exact
/// for frozen coefficients) update of each variable in a fixed Gauss-Seidel order:
/// unconditionally stable, keeps every field non-negative for any dt, and leaves the baseline
/// state exactly fixed. One call binds the processes; a driver that steps often keeps a Reactor.
void react(const Params& p, const Baseline& b, State& s, double dt);

/// react() for many states over the same dt: states[i] with the baseline base[layer[i]] (a
/// skin::layer_index). Results equal react()'s.
void react_states(const Params& p, const Baselines& base, std::span<const std::size_t> layer,
                  std::span<State> states, double dt);

/// The Sherratt-Murray reaction part alone (viable epidermis): n' = r_n [s(c) n (2 - n) - n],
/// c' = lambda (f(n) - c); s(c) = 1 + (s_max - 1) x/(x + K_c), x = max(c - 1, 0);
/// f(n) = n (1 + alpha^2)/(n^2 + alpha^2). Patankar / exponential, positive for any dt.
void react_epidermis(const Params& p, double& n, double& c, double dt);
/// react_epidermis for every cell i of n and c (the same size; std::invalid_argument otherwise),
/// with the same results, its decay factor computed once.
void react_epidermis(const Params& p, std::span<double> n, std::span<double> c, double dt);

/// The healing model's reactions over a whole FieldSet (Reactor::react_fields). `layer_of` gives,
/// for every padded cell index (grid.at), the skin::Layer value (0 = outside, skipped).
/// Deterministic and independent of the thread count (cells are independent).
void react_fields(const Params& p, const Baselines& base, std::span<const std::uint8_t> layer_of,
                  grid::FieldSet& fs, double dt);

/// Fills a FieldSet (a model's fields added in slot order if absent) with the baseline state.
void init_fields(const Baselines& base, std::span<const std::uint8_t> layer_of, grid::FieldSet& fs,
                 const Model& m = healing_model());

/// Radius (um) of a channel of surface radius r0 (um) at axial distance s (um) from the entry,
/// total axial length L (um): constant, then tapering linearly to 0 over the tip length.
double channel_radius(const Params& p, double r0, double s, double L);

/// Damage deposited at distance d (um) from the axis of a channel of local radius r (um):
/// 1 in the lumen, halo_damage * exp(-(d - r)/halo_width) outside.
double damage_at(const Params& p, double r, double d);

/// Area integral of damage_at over the plane, um^2: pi r^2 + 2 pi h (r w + w^2).
double damage_area(const Params& p, double r);

/// What a set of punctures deposited (for logs and tests).
struct InjuryTally {
  double lumen_volume = 0;        // m^3
  double blood_volume = 0;        // m^3
  double damage_volume = 0;       // m^3, integral of added damage
  double coag_volume = 0;         // m^3, thermal coagulation zones (RF needles) deposited
  double denatured_collagen = 0;  // mg/mL x m^3, collagen the zones denatured
  int punctures = 0;
};

/// Applies one puncture to the fields: lumen and halo damage (voxel-averaged by sub-sampling,
/// 4^3 near the lumen wall and 2^3 in the halo, of the tilted, tapered channel, widened along its
/// azimuth to the surface_length slot of roller arcs), loss of cells/matrix/vessels in proportion,
/// and, if the puncture bled, blood in the lumen (platelets and clot) outside an RF needle's
/// coagulation zone (Puncture::coagulated: the heat seals its vessels); the zone kills the cells
/// inside it (damage 1), moves the share Puncture::coag_denatured of its collagen I and III to
/// denatured_collagen (releasing as much of the scar matrix's hold), and removes its elastin
/// (matrix_loss), sub-sampled 3^3 per voxel. `surface` holds the depth
/// (m) of the local skin surface for each (i, j) column (nx*ny, x fastest), or is empty for a flat
/// surface at z = 0.
void apply_puncture(const Params& p, const devices::Puncture& pu,
                    std::span<const std::uint8_t> layer_of, std::span<const double> surface,
                    grid::FieldSet& fs, InjuryTally* tally = nullptr);

/// Growth law of the dermis from partial volumes (docs/model.md, "Scar remodelling"): the volume
/// of a voxel's matrix relative to its reference volume, for matrix content m (collagen I + III +
/// elastin over the layer's normal content) and set point `set` (1 - scar_matrix). Matrix up to
/// the set point is tissue at the normal density (it restores volume: a released scar deficit
/// filled); matrix above it packs into the dermis (denser, as histology shows after needling)
/// until the density reaches `packing` x normal (Params::packing_density over the layer's normal
/// matrix), beyond which the tissue swells: V = max(min(m, set), m / packing).
inline double matrix_volume(double m, double set, double packing) {
  const double restored = m < set ? m : set;
  const double packed = m / packing;
  return restored > packed ? restored : packed;
}

/// Derived outputs at one voxel.
double fibroblast_activation(const Params& p, double growth_factor);  // G/(G+K_G)
/// Redness of a vascularised layer: its blood over the normal amount, in units of the layer's
/// normal blood volume fraction: the vasodilation by the mediators I/(I + erythema_half) (the
/// share of the maximal dilation, which adds the normal blood volume) plus the extravasated blood
/// (clot) over the normal blood volume fraction; 0 in layers without vessels.
double erythema(const Params& p, const Baseline& b, const State& s);
/// Share of what is seen from above that comes from depths [top, bottom] (um below the top of
/// the dermis): exp(-top/L) - exp(-bottom/L), L = Params::redness_depth (the depth over which
/// a change of blood absorption changes the diffuse reflectance, light going in and coming
/// back).
double redness_weight(const Params& p, double top_um, double bottom_um);
/// Redness of a skin column as an observer sees it from above: the erythema of each
/// vascularised layer (its layer mean) weighted by redness_weight over the layer's depth below
/// the top of the dermis, over the weights of all of them (a uniform redness e is seen as e).
/// Layers without a normal blood volume (epidermis) add nothing. Thicknesses in um. `flare`
/// (0..1): the areal vasodilation of the neurogenic flare around the channels (flare_cover),
/// which dilates the vessels of the top of the dermis (the superficial plexus and its capillary
/// loops): the first vascularised layer's mediator dilation d becomes 1 - (1 - d)(1 - flare)
/// (the union of the dilated areas), to which its extravasated blood adds.
double erythema_seen(const Params& p, const Baselines& base,
                     const std::array<State, skin::kLayers>& layers,
                     const std::array<double, skin::kLayers>& thickness_um, double flare = 0.0);
/// Share of the skin's area inside the neurogenic flare of a session's channels right after the
/// session (docs/model.md, "Side effects"): each channel reddens a halo of radius
/// Params::flare_radius, scaled in area by `crossing`, the share of the papillary dermis (its
/// nerve plexus) the channel crosses (0..1); halos at random positions overlap, so the union
/// covers 1 - exp(-rho pi R^2 crossing). `density`: channels per um^2.
double flare_cover(const Params& p, double density, double crossing);
/// The flare's areal vasodilation `age` h after a session whose halos cover `cover`: cover
/// exp(-age / Params::flare_decay) (0 before the session).
double flare_at(const Params& p, double cover, double age);

}  // namespace mnsim::healing
