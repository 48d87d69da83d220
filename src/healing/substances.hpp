// Topical substances applied after needling, as fields of the healing engine (docs/substances.md;
// data/substances.toml). A scenario's [[application]] puts a film of an agent in a vehicle on the
// treated skin some time after a session. The agent enters the tissue
//  - through the open channels: when applied, the film drains into the open lumen (as far as its
//    volume goes), and the tissue around each channel takes the agent up from the lumen's liquid
//    by diffusion (two compartments per voxel, exchanging at 8 D phi / dx^2, phi the voxel's
//    liquid fraction);
//  - through the intact stratum corneum from the film left on the skin while it is wet: flux
//    kp C_film, kp from Potts & Guy 1992;
// diffuses in the tissue (Stokes-Einstein in water at skin temperature x the extracellular
// hindrance), and is cleared by the dermal blood flow (flow-limited, Kety 1951; the rate scales
// with the local vascular fraction over its baseline). The film's concentration falls as the
// agent enters (mass balance), and an unoccluded film dries. Platelet-rich plasma fills the open
// channels with platelets, whose growth factors the healing engine releases (its platelet field);
// tranexamic acid takes the plasmin-borne share of the melanogenic stimulus away from the
// melanocytes (Maeda & Naganuma 1998) in proportion to its occupancy of plasminogen's
// high-affinity lysine binding site (Hoylaerts 1981).
//
// Units: the healing working units (h, um); solute concentrations ug/mL (= mg/L), platelet
// growth factors ng/mL.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "healing/model.hpp"

namespace mnsim::healing {

enum class AgentKind { Solute, Platelets };

struct Agent {
  std::string name;
  AgentKind kind = AgentKind::Solute;
  double molecular_weight = 0.0;    // g/mol (solutes)
  double log_p = 0.0;               // log10 octanol-water partition (solutes)
  double plasmin_share = 0.0;       // share of the melanogenic stimulus it can block (0: none)
  double half_inhibition_um = 0.0;  // uM, half occupancy of the plasminogen binding site
  double growth_factor = 0.0;       // ng/mL (platelets)
};

struct Vehicle {
  std::string name;
  double water_fraction = 1.0;
};

/// data/substances.toml.
struct SubstanceData {
  double hindrance = 0.4;           // 1
  double viscosity = 0.765e-3;      // Pa s
  double temperature = 305.15;      // K
  double specific_volume = 0.8e-3;  // m^3/kg
  double perfusion = 0.00196;       // 1/s
  double blood_partition = 1.0;     // 1
  double potts_guy_a = -2.7, potts_guy_b = 0.71, potts_guy_c = 0.0061;
  double evaporation = 470.0;  // g/m^2/h, wet film
  std::map<std::string, Agent> agents;
  std::map<std::string, Vehicle> vehicles;

  static SubstanceData load(const std::filesystem::path& path);
  /// data/substances.toml from the data folder (read once).
  static const SubstanceData& defaults();

  /// Free (water) diffusivity by Stokes-Einstein, m^2/s.
  double free_diffusivity(const Agent& a) const;
  /// Diffusivity in the tissue, um^2/h.
  double tissue_diffusivity(const Agent& a) const;
  /// Stratum-corneum permeability coefficient from an aqueous vehicle (Potts & Guy), um/h.
  double sc_permeability(const Agent& a) const;
  /// Dermal clearance rate at the baseline vascular fraction, 1/h.
  double clearance_rate() const;
};

/// Agents and vehicles a scenario may name ("saline": the vehicle alone, a control).
const std::vector<std::string>& agent_names();
const std::vector<std::string>& vehicle_names();

/// One [[application]] of a scenario.
struct Application {
  std::string agent;           // agent_names()
  std::string vehicle;         // vehicle_names()
  double concentration = 0.0;  // kg/m^3 (= mg/mL) in the film (solutes)
  double film = 0.0;           // m, volume applied per area (1 uL/cm^2 = 10 um)
  bool occluded = false;       // covered: the film does not dry
  double delay = 0.0;          // s after the session's needling
  double contact = 0.0;        // s on the skin at most (then washed off)
  int session = 0;             // 1-based; 0: after every session
  std::size_t index = 0;       // its place in [[application]]
};

/// The scenario's [[application]] key.
schema::Key application_schema();
/// Reads and checks the [[application]] tables (InputError at file:line:col and key: an agent
/// without a concentration, a session past the course, a contact shorter than nothing).
std::vector<Application> read_applications(const Table& scenario, int sessions);

/// What the driver changes between engine steps and the processes read (one per run, shared).
struct SubstanceDrive {
  static constexpr std::size_t kMaxAgents = 2;
  double vehicle[kMaxAgents] = {};  // ug/mL of each solute in the film on the skin (0: none)
};

/// The fields and processes of the applied agents, added to a model.
struct SubstanceFields {
  std::vector<std::string> solutes;  // solute agents with a field, in drive order
  int lumen = -1;                    // slot of channel_lumen
};

/// Adds channel_lumen (the lumen the session's channels opened, volume fraction) and, per solute
/// agent applied, its concentration field `agent` (ug/mL of tissue, diffusing in every skin
/// layer), `agent_lumen` (ug/mL, the agent in the lumen's liquid), `agent_liquid` (the
/// formulation's volume fraction in the lumen), `agent_permeated` and `agent_cleared` (ug/mL, the
/// amounts that came in through the stratum corneum there and that the blood cleared there), and
/// for PRP `prp_growth_factor` (ng/mL of tissue delivered). Processes: per solute
/// `agent_transport` (entry, clearance) and, for tranexamic acid, `agent_melanogenesis`.
/// `dx_um`: the lateral voxel size; `sc_thickness_um`: the stratum corneum's thickness.
SubstanceFields add_substances(Model& m, const SubstanceData& d,
                               const std::vector<Application>& apps,
                               std::shared_ptr<const SubstanceDrive> drive, double dx_um,
                               double sc_thickness_um);

/// The layers whose blood clears a solute (papillary and reticular dermis, hypodermis).
bool clears_solutes(skin::Layer l);

/// Largest liquid fraction of a voxel (the tissue keeps some of it).
inline constexpr double kMaxLumenLiquid = 0.95;

/// One voxel's (or one well-mixed compartment's) solute over dt (h), as agent_transport steps it
/// (the 3D engine's process and the reduced model's compartments): the lumen's liquid (volume
/// fraction phi, amount S) and the tissue (amount C) exchange towards S/phi = C/(1 - phi) at
/// k_wall (1/h) x phi (1/phi + 1/(1 - phi)), exactly for the step; `sc_add` (ug/mL) comes in
/// through the stratum corneum (added to `in`); the blood clears the tissue at `k_clear` (1/h;
/// 0: none), the amount added to `out`.
inline void solute_step(double k_wall, double phi, double sc_add, double k_clear, double dt,
                        double& C, double& S, double& in, double& out) {
  double x = C;
  phi = std::clamp(phi, 0.0, kMaxLumenLiquid);
  if (phi > 0.0) {
    const double total = S + x;
    const double s_eq = phi * total;
    const double lambda = k_wall * phi * (1.0 / phi + 1.0 / (1.0 - phi));
    const double s_new = s_eq + (S - s_eq) * std::exp(-lambda * dt);
    const double y = total - s_new;
    S = std::max(s_new, 0.0);
    x = y;
  }
  if (sc_add > 0.0) {
    x += sc_add;
    in += sc_add;
  }
  if (k_clear > 0.0) {
    const double y = x * std::exp(-k_clear * dt);
    out += x - y;
    x = y;
  }
  C = std::max(x, 0.0);
}

/// Time (s) an application's film stays wet on the skin: its contact time, or, unoccluded, the
/// time it takes to dry if shorter (water fraction x film / evaporation).
double wet_time(const SubstanceData& d, const Application& a);

}  // namespace mnsim::healing
