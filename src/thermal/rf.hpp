// The thermal injury of one radio-frequency (RF) microneedle (docs/rf.md): a needle of radius a
// whose uninsulated tip, from the insulated length to the depth reached, is the active
// electrode, in the layered skin of a SkinProfile, solved on an axisymmetric (r, z) grid around
// the needle's axis:
//   - quasi-static potential div(sigma(T) grad V) = 0 (electrode held at 1, return at the edge
//     of the local domain, insulating skin surface), sigma per layer from Gabriel's 4-Cole-Cole
//     model of the layer's tissue at the pulse's frequency, rising with temperature by
//     sigma_temp_coeff per K;
//   - Joule heating q = sigma |grad V|^2, scaled so that the needle delivers the set power
//     (energy / pulse duration) during the pulse;
//   - Pennes bioheat rho c dT/dt = div(k grad T) + q + w_b rho_b c_b (T_a - T), backward Euler,
//     through the pulse and the cooling after it;
//   - Arrhenius damage Omega = integral A exp(-E_a / (R T)) dt; the coagulation zone is Omega >= 1;
//     the collagen's own damage integral Omega_c (its denaturation kinetics) gives the share of
//     the zone's collagen denatured, 1 - exp(-Omega_c), which the healing engine deposits as
//     denatured collagen (docs/rf.md, "Into the healing engine").
// Every coefficient is in data/rf.toml with its source.
#pragma once

#include <array>
#include <filesystem>
#include <vector>

#include "skin/profile.hpp"
#include "thermal/axisym.hpp"

namespace mnsim::thermal {

/// Universal gas constant, J/(mol K).
inline constexpr double kGasConstant = 8.314462618;

/// Gabriel, Lau & Gabriel's (1996, Phys Med Biol 41:2271) parametric model of a tissue's
/// dielectric spectrum: eps*(w) = eps_inf + sum_n delta_n / (1 + (j w tau_n)^(1 - alpha_n)) +
/// sigma_ionic / (j w eps_0), four Cole-Cole dispersions and the ionic conductivity.
struct ColeCole {
  double eps_inf = 1.0;
  std::array<double, 4> delta{};  // dispersion magnitudes
  std::array<double, 4> tau{};    // relaxation times, s
  std::array<double, 4> alpha{};  // distribution parameters
  double sigma_ionic = 0.0;       // static ionic conductivity, S/m
  /// Conductivity sigma(f) = w eps_0 eps''(w), S/m, at frequency f (Hz).
  double conductivity(double f) const;
  /// Relative permittivity eps'(w) at frequency f (Hz).
  double permittivity(double f) const;
};

/// The RF frequencies the model accepts (Hz): the quasi-static potential with the conductivity
/// of Gabriel's model at the carrier frequency (docs/rf.md, "Frequency").
inline constexpr double kRfFrequencyMin = 1e5, kRfFrequencyMax = 1e7;

/// Electrical and thermal properties of one skin layer.
struct LayerProperties {
  ColeCole dielectric;     // the layer's tissue in Gabriel's model (data/rf.toml [dielectric.*])
  double sigma = 0.0;      // electrical conductivity at the solve's frequency, S/m (layer_cells)
  double k = 0.0;          // thermal conductivity, W/(m K)
  double rho = 0.0;        // density, kg/m^3
  double c = 0.0;          // specific heat, J/(kg K)
  double perfusion = 0.0;  // blood perfusion, m^3 blood per m^3 tissue per s
};

/// Tissue, blood, damage and numerical parameters of the RF model (data/rf.toml).
struct RfTissue {
  std::array<LayerProperties, skin::kLayers> layer{};  // SC, VE, papillary, reticular, hypodermis
  double sigma_temp_coeff = 0.0;                       // relative rise of sigma per K
  double blood_density = 0.0;                          // kg/m^3
  double blood_heat = 0.0;                             // J/(kg K)
  double body_temperature = 0.0;                       // K: initial tissue and arterial temperature
  double arrhenius_a = 0.0;                            // frequency factor, 1/s
  double arrhenius_ea = 0.0;                           // activation energy, J/mol
  // Thermal denaturation of fibrillar collagen: its own first-order kinetics (slower than the
  // cells' injury above about 45 C; docs/rf.md, "Collagen denaturation").
  double collagen_a = 0.0;   // frequency factor, 1/s
  double collagen_ea = 0.0;  // activation energy, J/mol
  // Numerics of the local solve.
  double cell = 0.0;             // grid spacing, m
  double domain_radius = 0.0;    // m: the return electrode and body temperature beyond it
  double depth_below_tip = 0.0;  // m: domain depth below the needle tip
  int steps_per_pulse = 0;       // time steps during the pulse
  double cooling_time = 0.0;     // s simulated after the pulse

  static RfTissue load(const std::filesystem::path& path);
  /// data/rf.toml from the data folder (read once).
  static const RfTissue& defaults();
};

/// One needle's pulse.
struct RfPulse {
  double needle_radius = 0.0;     // m
  double depth = 0.0;             // depth of the tip below the surface, m
  double insulated_length = 0.0;  // insulated part of the shaft from the surface, m (< depth)
  double energy = 0.0;            // energy delivered per needle per pulse, J
  double duration = 0.0;          // pulse duration, s
  double frequency = 1e6;         // carrier frequency, Hz (kRfFrequencyMin..kRfFrequencyMax)
};

/// The coagulation zone (Omega >= 1) of one needle, and what the solve saw.
struct CoagulationZone {
  double radius = 0.0;             // largest radial extent from the needle axis, m (0: none)
  double top = 0.0, bottom = 0.0;  // shallowest and deepest extent below the surface, m
  double volume = 0.0;             // volume with Omega >= 1 (needle excluded), m^3
  // Mean fraction of the collagen denatured inside the zone: the volume mean over the cells
  // with Omega >= 1 of 1 - exp(-Omega_c), Omega_c the collagen's damage integral (0..1).
  double denatured = 0.0;
  double peak_temperature = 0.0;  // highest tissue temperature, K
  double delivered_energy = 0.0;  // Joule heat deposited in the tissue, J (= energy)
  double impedance = 0.0;         // needle-to-return resistance at the start, ohm
  int steps = 0;                  // time steps taken
  bool coagulated() const { return radius > 0.0 && bottom > top; }
};

/// Arrhenius damage rate A exp(-E_a / (R T)), 1/s.
double arrhenius_rate(double temperature, double a, double ea);

/// The per-layer properties on the grid cells (layer of the cell centre's depth), with each
/// layer's conductivity at `frequency` (Hz).
std::vector<LayerProperties> layer_cells(const AxiGrid& g, const skin::SkinProfile& skin,
                                         const RfTissue& t, double frequency = 1e6);

/// Solves one needle's pulse and returns its coagulation zone. Throws InputError-free
/// std::invalid_argument on a pulse that does not fit the model (insulation past the tip, a
/// non-positive energy or duration) and NumericalError if a solve fails.
CoagulationZone coagulation_zone(const RfPulse& pulse, const skin::SkinProfile& skin,
                                 const RfTissue& tissue = RfTissue::defaults());

}  // namespace mnsim::thermal
