// Parameters of the healing kinetics (data/healing.toml).
//
// Working units of the healing module (documented once, used everywhere in src/healing):
//   time h, length um, diffusivity um^2/h, growth factors ng/mL, matrix mg/mL (= kg/m^3),
//   fibroblasts cells/mm^3, everything else dimensionless ("1": fractions or levels relative to a
//   stated reference). Conversion from the SI library API happens at the module boundary
//   (kinetics.hpp: apply_puncture, Baseline::from_profile).
//
// Every parameter in the file is an inline table { value, unit, source }: the unit must be the
// documented one (no conversion), the source must be a citation or start with "calibrated" or
// "assumed". Anything else is an InputError at the offending key's file:line:col.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mnsim::healing {

struct Params {
  // [injury]
  double channel_recoil = 0;         // 1, wound radius / needle radius after elastic recoil
  double halo_width = 0;             // um, e-folding width of the crush/tear halo around the lumen
  double halo_damage = 0;            // 1, damage at the lumen wall in the halo
  double tip_length = 0;             // um, length of the conical tip (radius tapers to 0)
  double matrix_loss = 0;            // 1, fraction of matrix destroyed in the lumen
  double blood_fill = 0;             // 1, fraction of a bleeding channel's lumen filled by blood
  double blood_growth_factor = 0;    // ng/mL, TGF-b1 + PDGF-BB releasable from whole blood
  double platelet_release = 0;       // 1/h, platelet degranulation rate
  double clot_lysis = 0;             // 1/h, basal fibrinolysis
  double clot_lysis_macrophage = 0;  // 1/h per unit macrophage level
  // [barrier]
  double seal_rate = 0;  // 1/h, sealing of the stratum-corneum opening (exudate plug, recoil)
  double barrier_threshold = 0;   // 1, TEWL excess (fraction of baseline TEWL) counted as back
  double vapour_diffusivity = 0;  // um^2/h, water vapour in air at skin temperature
  double vapour_deficit = 0;      // g/m^3, saturated vapour at the wet channel minus room air
  double boundary_layer = 0;      // um, still-air diffusion layer above the skin
  double tewl_baseline = 0;       // g/m^2/h, intact facial skin
  // [epidermis]
  double keratinocyte_motility = 0;  // um^2/h
  double keratinocyte_mitosis = 0;   // 1/h, r_n
  double mitosis_max = 0;            // 1, s_max
  double mitosis_half = 0;           // 1, K_c
  double chemical_diffusivity = 0;   // um^2/h
  double chemical_decay = 0;         // 1/h, lambda
  double chemical_alpha = 0;         // 1, alpha in f(n)
  double thickening_rate = 0;        // 1/h, r_h
  double kgf_half = 0;               // ng/mL
  double epidermal_turnover = 0;     // h
  double melanin_rate = 0;           // 1/h
  double melanin_half = 0;           // 1
  // [inflammation]
  double signal_decay = 0;                  // 1/h
  double signal_neutrophil_gain = 0;        // 1
  double signal_macrophage_clearance = 0;   // 1/h per unit macrophage level
  double signal_diffusivity = 0;            // um^2/h
  double neutrophil_recruitment = 0;        // 1/h
  double neutrophil_half = 0;               // 1
  double neutrophil_death = 0;              // 1/h
  double efferocytosis = 0;                 // 1/h per unit macrophage level
  double neutrophil_motility = 0;           // um^2/h
  double neutrophil_chemotaxis = 0;         // um^2/h per unit signal
  double macrophage_recruitment = 0;        // 1/h
  double macrophage_neutrophil_signal = 0;  // 1
  double macrophage_half = 0;               // 1
  double macrophage_clearance = 0;          // 1/h
  double macrophage_motility = 0;           // um^2/h
  double damage_clearance = 0;              // 1/h, basal
  double damage_clearance_macrophage = 0;   // 1/h per unit macrophage level
  double denatured_recruitment = 0;         // 1, monocyte stimulus of fully denatured collagen
  double erythema_half = 0;                 // 1
  double erythema_visible = 0;              // 1
  double redness_depth = 0;                 // um, depth scale of the redness seen from above
  double flare_radius = 0;                  // um, neurogenic flare (halo) around one channel
  double flare_decay = 0;                   // h, time constant of the flare's vasodilation
  // [growth_factors]
  double gf_diffusivity = 0;    // um^2/h, TGF-b/PDGF
  double gf_decay = 0;          // 1/h
  double gf_macrophage = 0;     // ng/mL/h per unit macrophage level
  double gf_half = 0;           // ng/mL, half-maximal fibroblast activation
  double vegf_diffusivity = 0;  // um^2/h
  double vegf_decay = 0;        // 1/h
  double vegf_macrophage = 0;   // ng/mL/h per unit macrophage level
  double vegf_hypoxia = 0;      // ng/mL/h at full vascular loss
  double kgf_diffusivity = 0;   // um^2/h
  double kgf_decay = 0;         // 1/h
  double kgf_fibroblast = 0;    // ng/mL/h per unit relative fibroblast excess
  double mmp_macrophage = 0;    // 1/h per unit macrophage level
  double mmp_fibroblast = 0;    // 1/h per activated relative fibroblast density
  double mmp_decay = 0;         // 1/h
  // [fibroblasts]
  double fibroblast_motility = 0;       // um^2/h
  double fibroblast_chemotaxis = 0;     // um^2/h per ng/mL
  double fibroblast_proliferation = 0;  // 1/h
  double fibroblast_capacity = 0;       // 1, carrying capacity / baseline density
  double fibroblast_return = 0;         // 1/h
  // [matrix]
  double collagen_synthesis = 0;    // 1/h, fraction of baseline collagen per h at full activation
  double collagen1_share = 0;       // 1, share of new synthesis that is type I
  double collagen_turnover = 0;     // 1/h, basal degradation of collagen I and III
  double collagen_maturation = 0;   // 1/h, III -> I replacement of excess III
  double collagen_mmp = 0;          // 1/h per unit MMP level
  double collagen_remodelling = 0;  // 1/h, return of excess collagen to the set point
  double scar_susceptibility = 0;   // 1, MMP susceptibility of scar matrix / normal collagen
  double scar_phenotype_share = 0;  // 1, scar-phenotype share of an untreated scar's fibroblasts
  double packing_density = 0;       // mg/mL, densest dermal matrix before new matrix swells it
  double growth_law_width = 0;      // um, side of the area the growth law averages the matrix over
  double elastin_synthesis = 0;     // 1/h, fraction of baseline elastin per h at full activation
  double elastin_turnover = 0;      // 1/h
  double elastin_mmp = 0;           // 1/h per unit MMP level
  double denatured_mmp = 0;         // 1/h per unit MMP level: gelatinolysis of denatured collagen
  double denatured_macrophage = 0;  // 1/h per unit macrophage level: its phagocytosis
  // [angiogenesis]
  double vascular_growth = 0;      // 1/h
  double vegf_half = 0;            // ng/mL
  double vascular_capacity = 0;    // 1, maximum / baseline vascular fraction
  double vascular_regression = 0;  // 1/h
  double vascular_motility = 0;    // um^2/h
};

/// One entry of the parameter registry: where it lives in the file and what it means.
struct ParamInfo {
  std::string_view section;
  std::string_view key;
  std::string_view unit;  // the exact unit string required in the file
  double min, max;        // inclusive admissible range
  double Params::*member;
  std::string_view meaning;
};

/// All parameters, in file order.
const std::vector<ParamInfo>& param_registry();

/// A parameter as read: value plus its documentation.
struct ParamRecord {
  std::string section, key, unit, source;
  double value = 0;
  int line = 0;
};

struct ParamSet {
  Params p;
  std::vector<ParamRecord> records;  // registry order
  std::string file;
};

/// Format version of data/healing.toml (`[meta] version`); another version is refused.
inline constexpr int kHealingFileVersion = 1;

/// Parses healing-parameter TOML text; `file` is used in messages. Throws InputError.
ParamSet parse_params(const std::string& text, const std::string& file);
/// Reads a parameter file (data/healing.toml).
ParamSet load_params(const std::string& path);
/// The default parameter file shipped with mnsim (MNSIM_DATA_DIR/healing.toml).
ParamSet load_default_params();
/// Writes a parameter set back as TOML in the same layout (round trip).
std::string to_toml(const ParamSet& ps);

}  // namespace mnsim::healing
