#include "healing/kinetics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mnsim::healing {

namespace {

// Exact solution of y' = a - b y (a, b >= 0 frozen) over a step: y e^{-b dt} + a dt phi1(b dt),
// phi1(x) = (1 - e^{-x}) / x, with one transcendental call (expm1). Constructed once per step
// where the rate is the same for every cell (ReactFactors), per cell otherwise (expstep).
struct Decay {
  bool tiny = true;
  double dt = 0.0, e = 1.0, q = 0.0;  // e = e^{-b dt}, q = dt phi1(b dt)
  Decay() = default;
  Decay(double b, double step) : dt(step) {
    const double x = b * step;
    tiny = x < 1e-12;
    if (tiny) return;
    const double em = std::expm1(-x);
    e = 1.0 + em;
    q = step * (x < 1e-8 ? 1.0 - 0.5 * x : -em / x);
  }
  double operator()(double y, double a) const {
    return tiny ? y + a * dt : std::max(0.0, y * e + a * q);  // written to stay non-negative
  }
  /// Integral of y over the step.
  double integral(double y, double a, double b) const {
    if (tiny) return y * dt + 0.5 * a * dt * dt;
    const double yeq = a / b;
    return std::max(0.0, yeq * dt + (y - yeq) * q);
  }
};

// One exact step with a state-dependent rate; also writes the integral of y over the step to
// *integral if given.
double expstep(double y, double a, double b, double dt, double* integral = nullptr) {
  const Decay d(b, dt);
  if (integral) *integral = d.integral(y, a, b);
  return d(y, a);
}

}  // namespace

/// Per-step constants of the reaction update: every decay whose rate does not depend on the
/// state, evaluated once per step instead of once per cell.
struct ReactFactors {
  double dt = 0.0;
  Decay seal, platelet, macrophage, gf, vegf, mmp, kgf, turnover, fibro_return, vasc_return,
      chemical;
  ReactFactors(const Params& p, double step)
      : dt(step),
        seal(p.seal_rate, step),
        platelet(p.platelet_release, step),
        macrophage(p.macrophage_clearance, step),
        gf(p.gf_decay, step),
        vegf(p.vegf_decay, step),
        mmp(p.mmp_decay, step),
        kgf(p.kgf_decay, step),
        turnover(1.0 / p.epidermal_turnover, step),
        fibro_return(p.fibroblast_return, step),
        vasc_return(p.vascular_regression, step),
        chemical(p.chemical_decay, step) {}
};

namespace {}  // namespace

std::vector<FieldSpec> field_specs(const Params& p) {
  auto all_but_sc = [](double d) { return std::array<double, skin::kLayers>{0.0, d, d, d, d}; };
  auto dermal = [](double d) { return std::array<double, skin::kLayers>{0.0, 0.0, d, d, d}; };
  auto epi = [](double d) { return std::array<double, skin::kLayers>{0.0, d, 0.0, 0.0, 0.0}; };
  const std::array<double, skin::kLayers> none{};
  std::vector<FieldSpec> v = {
      {kDamage, "damage", "1", none},
      {kPlatelets, "platelets", "1", none},
      {kClot, "clot", "1", none},
      {kSignal, "inflammatory_signal", "1", all_but_sc(p.signal_diffusivity), -1, 0.0,
       p.signal_decay},
      {kNeutrophils, "neutrophils", "1", all_but_sc(p.neutrophil_motility), kSignal,
       p.neutrophil_chemotaxis},
      {kMacrophages, "macrophages", "1", dermal(p.macrophage_motility)},
      {kGrowthFactor, "growth_factor", "ng/mL", all_but_sc(p.gf_diffusivity), -1, 0.0, p.gf_decay},
      {kVegf, "vegf", "ng/mL", all_but_sc(p.vegf_diffusivity), -1, 0.0, p.vegf_decay},
      {kKgf, "kgf", "ng/mL", all_but_sc(p.kgf_diffusivity), -1, 0.0, p.kgf_decay},
      {kMmp, "mmp", "1", none},
      {kFibroblasts, "fibroblasts", "cells/mm^3", dermal(p.fibroblast_motility), kGrowthFactor,
       p.fibroblast_chemotaxis},
      {kCollagen3, "collagen3", "mg/mL", none},
      {kCollagen1, "collagen1", "mg/mL", none},
      {kElastin, "elastin", "mg/mL", none},
      {kVascular, "vascular", "1", dermal(p.vascular_motility)},
      {kKeratinocytes, "keratinocytes", "1", epi(p.keratinocyte_motility)},
      {kChemical, "mitosis_chemical", "1", epi(p.chemical_diffusivity), -1, 0.0, p.chemical_decay},
      {kEpidermalThickness, "epidermal_thickness", "1", none},
      {kMelanin, "melanin_excess", "1", none},
  };
  return v;
}

std::vector<std::uint8_t> transport_mask(const FieldSpec& spec,
                                         std::span<const std::uint8_t> layer_of) {
  std::vector<std::uint8_t> m(layer_of.size(), 0);
  for (std::size_t c = 0; c < layer_of.size(); ++c) {
    const int l = layer_of[c];
    m[c] = (l >= 1 && l <= skin::kLayers && spec.diffusivity[static_cast<std::size_t>(l - 1)] > 0.0)
               ? 1
               : 0;
  }
  return m;
}

double capacity_motility(const FieldSpec& spec, const Baselines& base,
                         std::array<double, skin::kLayers>& capacity) {
  capacity.fill(0.0);
  if (spec.decay > 0.0) return 0.0;
  double d = 0.0, lo = 0.0, hi = 0.0;
  int moving = 0;
  for (int l = 0; l < skin::kLayers; ++l) {
    const auto k = static_cast<std::size_t>(l);
    if (!(spec.diffusivity[k] > 0.0)) continue;
    const double b = baseline_state(base[k])[static_cast<std::size_t>(spec.id)];
    if (!(b > 0.0)) return 0.0;
    if (moving > 0 && spec.diffusivity[k] != d) return 0.0;
    d = spec.diffusivity[k];
    lo = moving > 0 ? std::min(lo, b) : b;
    hi = moving > 0 ? std::max(hi, b) : b;
    capacity[k] = b;
    ++moving;
  }
  if (moving < 2 || lo == hi) {
    capacity.fill(0.0);
    return 0.0;
  }
  return d;
}

std::string catalog_text(const ParamSet& ps) {
  std::string out = "Healing model fields (docs/model.md; layers SC, VE, PD, RD, HD):\n";
  for (const auto& f : field_specs(ps.p)) {
    std::string d;
    for (double x : f.diffusivity) d += (d.empty() ? "" : ", ") + fmt::format("{:g}", x);
    out += fmt::format(
        "  {:<20} {:<11} diffusivity um^2/h [{}]{}\n", f.name, f.unit, d,
        f.chemoattractant >= 0
            ? fmt::format("; chemotaxis chi = {:g} up {}", f.chemotaxis,
                          field_specs(ps.p)[static_cast<std::size_t>(f.chemoattractant)].name)
            : "");
  }
  out += fmt::format("\nHealing parameters ({}; working units h, um, ng/mL, mg/mL):\n", ps.file);
  for (const auto& r : ps.records) {
    out += fmt::format("  {:<40} {:<10g} {:<16} {}\n", r.section + "." + r.key, r.value, r.unit,
                       r.source);
  }
  return out;
}

Baseline Baseline::from_profile(const skin::SkinProfile& prof, skin::Layer l) {
  Baseline b;
  b.layer = l;
  const auto& c = prof.composition[static_cast<std::size_t>(skin::layer_index(l))];
  b.collagen1 = c.collagen1;  // kg/m^3 == mg/mL
  b.collagen3 = c.collagen3;
  b.elastin = c.elastin;
  b.fibroblasts = c.fibroblasts * 1e-9;  // cells/m^3 -> cells/mm^3
  b.vascular = c.vascular;
  b.melanocyte_activity = prof.melanocyte_activity;
  return b;
}

Baselines baselines_from_profile(const skin::SkinProfile& prof) {
  Baselines out;
  for (int i = 0; i < skin::kLayers; ++i) {
    out[static_cast<std::size_t>(i)] = Baseline::from_profile(prof, skin::layer_from_index(i));
  }
  return out;
}

State baseline_state(const Baseline& b) {
  State s{};
  s[kFibroblasts] = b.fibroblasts;
  s[kCollagen3] = b.collagen3;
  s[kCollagen1] = b.collagen1;
  s[kElastin] = b.elastin;
  s[kVascular] = b.vascular;
  const double epi = b.epidermal() ? 1.0 : 0.0;
  s[kKeratinocytes] = epi;
  s[kChemical] = epi;
  s[kEpidermalThickness] = epi;
  return s;
}

double fibroblast_activation(const Params& p, double g) {
  g = std::max(g, 0.0);
  return g / (g + p.gf_half);
}

double erythema(const Params& p, const Baseline& b, const State& s) {
  if (b.vascular <= 0.0) return 0.0;
  const double i = std::max(s[kSignal], 0.0);
  return i / (i + p.erythema_half);
}

namespace {
void epidermis_step(const Params& p, const Decay& chemical, double& n, double& c, double dt) {
  const double x = std::max(c - 1.0, 0.0);
  const double s = 1.0 + (p.mitosis_max - 1.0) * x / (x + p.mitosis_half);
  n = (n + dt * p.keratinocyte_mitosis * 2.0 * s * n) /
      (1.0 + dt * p.keratinocyte_mitosis * (1.0 + s * n));
  const double a2 = p.chemical_alpha * p.chemical_alpha;
  const double f = n * (1.0 + a2) / (n * n + a2);
  c = chemical(c, p.chemical_decay * f);
}

void react_with(const Params& p, const ReactFactors& k, const Baseline& b, State& s);
}  // namespace

void react_epidermis(const Params& p, double& n, double& c, double dt) {
  epidermis_step(p, Decay(p.chemical_decay, dt), n, c, dt);
}

void react(const Params& p, const Baseline& b, State& s, double dt) {
  if (!(dt > 0.0)) return;
  react_with(p, ReactFactors(p, dt), b, s);
}

void react_states(const Params& p, const Baselines& base, std::span<const std::size_t> layer,
                  std::span<State> states, double dt) {
  if (layer.size() != states.size()) {
    throw std::invalid_argument("react_states: one layer per state");
  }
  if (!(dt > 0.0)) return;
  const ReactFactors factors(p, dt);
  for (std::size_t i = 0; i < states.size(); ++i) react_with(p, factors, base[layer[i]], states[i]);
}

namespace {
void react_with(const Params& p, const ReactFactors& k, const Baseline& b, State& s) {
  const double dt = k.dt;
  const bool sc = b.cornified();
  const bool ve = b.epidermal();
  double& D = s[kDamage];
  double& P = s[kPlatelets];
  double& K = s[kClot];
  double& I = s[kSignal];
  double& N = s[kNeutrophils];
  double& M = s[kMacrophages];
  double& G = s[kGrowthFactor];
  double& V = s[kVegf];
  double& Kg = s[kKgf];
  double& m = s[kMmp];
  double& F = s[kFibroblasts];
  double& C3 = s[kCollagen3];
  double& C1 = s[kCollagen1];
  double& E = s[kElastin];
  double& v = s[kVascular];
  double& n = s[kKeratinocytes];
  double& c = s[kChemical];
  double& h = s[kEpidermalThickness];
  double& mu = s[kMelanin];

  // The mediators (I, G, V, KGF) act on cells with their values at the start of the step: the
  // values the coupled diffusion-decay transport left (FieldSpec::decay). Updating them first
  // and acting with the decayed values would starve every cell fed by diffusion once steps are
  // longer than the mediator's lifetime.
  const double I0 = std::max(I, 0.0), G0 = std::max(G, 0.0), V0 = std::max(V, 0.0),
               Kg0 = std::max(Kg, 0.0);
  // 1. Damage (non-epidermal; the viable epidermis derives it from n below).
  if (sc) {
    D = k.seal(D, 0.0);
  } else if (!ve) {
    D = expstep(D, 0.0, p.damage_clearance + p.damage_clearance_macrophage * M, dt);
  }
  // 2-3. Platelets degranulate; clot lyses.
  const double p_old = P;
  P = k.platelet(P, 0.0);
  const double released = std::max(0.0, p_old - P);  // blood fraction degranulated this step
  K = expstep(K, 0.0, p.clot_lysis + p.clot_lysis_macrophage * M, dt);
  // 4. Inflammatory signal.
  const double d_src = sc ? 0.0 : D;
  I = expstep(I, p.signal_decay * (d_src + p.signal_neutrophil_gain * N),
              p.signal_decay + p.signal_macrophage_clearance * M, dt);
  // 5-6. Neutrophils and macrophages, recruited from the vasculature.
  const double vr = b.vascular > 0.0 ? v / b.vascular : 0.0;
  N = expstep(N, p.neutrophil_recruitment * vr * I0 / (I0 + p.neutrophil_half),
              p.neutrophil_death + p.efferocytosis * M, dt);
  const double stim = I0 + p.macrophage_neutrophil_signal * N;
  M = k.macrophage(M, p.macrophage_recruitment * vr * stim / (stim + p.macrophage_half));
  // 7. TGF-b/PDGF: platelet releasate (mean rate over the step) + macrophages.
  const double A = fibroblast_activation(p, G0);
  G = k.gf(G, p.blood_growth_factor * released / dt + p.gf_macrophage * M);
  // 8. VEGF: macrophages + hypoxia of lost vessels.
  const double hyp = b.vascular > 0.0 ? std::max(0.0, 1.0 - v / b.vascular) : 0.0;
  V = k.vegf(V, p.vegf_macrophage * M + p.vegf_hypoxia * hyp);
  // 9. MMP activity.
  const double fr_old = b.fibroblasts > 0.0 ? F / b.fibroblasts : 0.0;
  m = k.mmp(m, p.mmp_macrophage * M + p.mmp_fibroblast * fr_old * A);
  // 10. Fibroblasts: logistic proliferation when activated, return to baseline (Patankar-Euler:
  // positive production explicit, losses implicit).
  if (b.fibroblasts > 0.0) {
    const double F0 = b.fibroblasts;
    const double rA = p.fibroblast_proliferation * A;
    const double Fmax = p.fibroblast_capacity * F0;
    F = (F + dt * (p.fibroblast_return * F0 + rA * F)) /
        (1.0 + dt * (p.fibroblast_return + rA * F / Fmax));
  } else {
    F = k.fibro_return(F, 0.0);
  }
  const double fr = b.fibroblasts > 0.0 ? F / b.fibroblasts : 0.0;
  // 11. Collagen III and I.
  const double Cb = b.collagen1 + b.collagen3;
  if (Cb > 0.0) {
    // Set-point restoration (remodelling) acts on each type: -k_rem (C_i - C_i0).
    const double krem = p.collagen_remodelling;
    const double deg = p.collagen_turnover + p.collagen_mmp * m + krem;
    const bool excess3 = C3 > b.collagen3;
    const double kmat = excess3 ? p.collagen_maturation : 0.0;
    const double a3 = fr * (p.collagen_turnover * b.collagen3 +
                            (1.0 - p.collagen1_share) * p.collagen_synthesis * Cb * A) +
                      (kmat + krem) * b.collagen3;
    double int3 = 0.0;
    C3 = expstep(C3, a3, deg + kmat, dt, &int3);
    const double converted = kmat * std::max(0.0, int3 - b.collagen3 * dt);
    const double a1 = fr * (p.collagen_turnover * b.collagen1 +
                            p.collagen1_share * p.collagen_synthesis * Cb * A) +
                      krem * b.collagen1 + converted / dt;
    C1 = expstep(C1, a1, deg, dt);
  } else {
    C3 = expstep(C3, 0.0, p.collagen_turnover + p.collagen_mmp * m, dt);
    C1 = expstep(C1, 0.0, p.collagen_turnover + p.collagen_mmp * m, dt);
  }
  // 12. Elastin.
  E = expstep(E, fr * b.elastin * (p.elastin_turnover + p.elastin_synthesis * A),
              p.elastin_turnover + p.elastin_mmp * m, dt);
  // 13. Vascular density: VEGF-driven logistic growth, regression to baseline (Patankar-Euler).
  if (b.vascular > 0.0) {
    const double rS = p.vascular_growth * V0 / (V0 + p.vegf_half);
    const double vmax = p.vascular_capacity * b.vascular;
    v = (v + dt * (p.vascular_regression * b.vascular + rS * v)) /
        (1.0 + dt * (p.vascular_regression + rS * v / vmax));
  } else {
    v = k.vasc_return(v, 0.0);
  }
  // 14-15. Sherratt-Murray epidermis: n' = r_n [s(c) n (2 - n) - n], c' = lambda (f(n) - c).
  if (ve) {
    epidermis_step(p, k.chemical, n, c, dt);
    D = std::clamp(1.0 - n, 0.0, 1.0);
  }
  // 16. KGF from fibroblasts in excess of baseline.
  Kg = k.kgf(Kg, p.kgf_fibroblast * std::max(fr - 1.0, 0.0));
  // 17-18. Epidermal thickness and melanin (viable epidermis only).
  if (ve) {
    const double inv_tau = 1.0 / p.epidermal_turnover;
    h = k.turnover(h, p.thickening_rate * Kg0 / (Kg0 + p.kgf_half) + inv_tau);
    mu = k.turnover(mu, p.melanin_rate * b.melanocyte_activity * I0 / (I0 + p.melanin_half));
  }
}
}  // namespace

void init_fields(const Baselines& base, std::span<const std::uint8_t> layer_of,
                 grid::FieldSet& fs) {
  const Params dummy{};
  const auto specs = field_specs(dummy);
  std::array<int, kFields> id{};
  for (const auto& sp : specs) {
    int i = fs.index(std::string(sp.name));
    if (i < 0) i = fs.add(std::string(sp.name));
    id[static_cast<std::size_t>(sp.id)] = i;
  }
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("init_fields: layer_of must cover the padded grid");
  }
  std::array<State, skin::kLayers> bs;
  for (int l = 0; l < skin::kLayers; ++l) {
    bs[static_cast<std::size_t>(l)] = baseline_state(base[static_cast<std::size_t>(l)]);
  }
  for (int f = 0; f < kFields; ++f) {
    float* d = fs.view(id[static_cast<std::size_t>(f)]).data;
    for (std::size_t c = 0; c < g.padded_size(); ++c) {
      const int l = layer_of[c];
      d[c] =
          l >= 1 && l <= skin::kLayers
              ? static_cast<float>(bs[static_cast<std::size_t>(l - 1)][static_cast<std::size_t>(f)])
              : 0.0f;
    }
  }
}

void react_fields(const Params& p, const Baselines& base, std::span<const std::uint8_t> layer_of,
                  grid::FieldSet& fs, double dt) {
  const Params dummy{};
  const auto specs = field_specs(dummy);
  std::array<float*, kFields> ptr{};
  for (const auto& sp : specs) {
    const int i = fs.index(std::string(sp.name));
    if (i < 0) throw std::invalid_argument("react_fields: missing field " + std::string(sp.name));
    ptr[static_cast<std::size_t>(sp.id)] = fs.view(i).data;
  }
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("react_fields: layer_of must cover the padded grid");
  }
  if (!(dt > 0.0)) return;
  const ReactFactors factors(p, dt);
#pragma omp parallel for collapse(2) schedule(static)
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      for (int i = 0; i < g.nx; ++i) {
        const std::ptrdiff_t c = g.at(i, j, k);
        const int l = layer_of[static_cast<std::size_t>(c)];
        if (l < 1 || l > skin::kLayers) continue;
        State s;
        for (int f = 0; f < kFields; ++f)
          s[static_cast<std::size_t>(f)] = ptr[static_cast<std::size_t>(f)][c];
        react_with(p, factors, base[static_cast<std::size_t>(l - 1)], s);
        for (int f = 0; f < kFields; ++f) {
          ptr[static_cast<std::size_t>(f)][c] = static_cast<float>(s[static_cast<std::size_t>(f)]);
        }
      }
    }
  }
}

double channel_radius(const Params& p, double r0, double s, double L) {
  if (s < 0.0 || s > L) return 0.0;
  const double tip = std::min(p.tip_length, L);
  const double from_tip = L - s;
  if (tip <= 0.0 || from_tip >= tip) return r0;
  return r0 * from_tip / tip;
}

double damage_at(const Params& p, double r, double d) {
  if (r <= 0.0) return 0.0;
  if (d <= r) return 1.0;
  if (p.halo_width <= 0.0) return 0.0;
  return p.halo_damage * std::exp(-(d - r) / p.halo_width);
}

double damage_area(const Params& p, double r) {
  const double pi = 3.14159265358979323846;
  if (r <= 0.0) return 0.0;
  const double w = p.halo_width;
  return pi * r * r + 2.0 * pi * p.halo_damage * (r * w + w * w);
}

void apply_puncture(const Params& p, const devices::Puncture& pu,
                    std::span<const std::uint8_t> layer_of, std::span<const double> surface,
                    grid::FieldSet& fs, InjuryTally* tally) {
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("apply_puncture: layer_of must cover the padded grid");
  }
  const bool flat = surface.empty();
  if (!flat && surface.size() != static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny)) {
    throw std::invalid_argument("apply_puncture: surface must hold nx*ny depths");
  }
  const Params dummy{};
  std::array<float*, kFields> ptr{};
  for (const auto& sp : field_specs(dummy)) {
    const int i = fs.index(std::string(sp.name));
    if (i < 0) throw std::invalid_argument("apply_puncture: missing field " + std::string(sp.name));
    ptr[static_cast<std::size_t>(sp.id)] = fs.view(i).data;
  }
  auto surf_at = [&](double x, double y) {
    if (flat) return 0.0;
    int i = static_cast<int>(std::floor(x / g.dx)) - g.i0;
    int j = static_cast<int>(std::floor(y / g.dx)) - g.j0;
    i = std::clamp(i, 0, g.nx - 1);
    j = std::clamp(j, 0, g.ny - 1);
    return surface[static_cast<std::size_t>(j) * static_cast<std::size_t>(g.nx) +
                   static_cast<std::size_t>(i)];
  };
  // Geometry in um.
  const double um = 1e6;
  const double ex = pu.x * um, ey = pu.y * um, ez = surf_at(pu.x, pu.y) * um;
  const double ct = std::cos(pu.tilt), st = std::sin(pu.tilt);
  const double ux = st * std::cos(pu.azimuth), uy = st * std::sin(pu.azimuth), uz = ct;
  const double L = ct > 1e-6 ? pu.depth * um / ct : 0.0;
  // The wound is the needle's track closed by elastic recoil. The roller's rigid-skin sweep
  // (Puncture::surface_length) is an upper bound of the opening, not tissue cut along the whole
  // channel: the skin is dragged along with the shaft (docs/model.md section 4).
  const double r0 = p.channel_recoil * pu.radius * um;
  if (L <= 0.0 || r0 <= 0.0) return;
  const double halo_reach = 8.0 * p.halo_width;  // exp(-8): beyond it the halo is negligible
  const double reach = r0 + halo_reach;
  const double xmin = std::min(ex, ex + L * ux) - reach, xmax = std::max(ex, ex + L * ux) + reach;
  const double ymin = std::min(ey, ey + L * uy) - reach, ymax = std::max(ey, ey + L * uy) + reach;
  const double zmax = ez + L * uz + reach;
  const double dxu = g.dx * um;
  const int i_lo = std::max(0, static_cast<int>(std::floor(xmin / dxu)) - g.i0);
  const int i_hi = std::min(g.nx - 1, static_cast<int>(std::floor(xmax / dxu)) - g.i0);
  const int j_lo = std::max(0, static_cast<int>(std::floor(ymin / dxu)) - g.j0);
  const int j_hi = std::min(g.ny - 1, static_cast<int>(std::floor(ymax / dxu)) - g.j0);
  const int k_hi = g.k_of_depth(zmax / um);
  InjuryTally t;
  for (int k = 0; k <= k_hi; ++k) {
    const double z0 = g.zf[static_cast<std::size_t>(k)] * um, dz = g.dz(k) * um;
    for (int j = j_lo; j <= j_hi; ++j) {
      for (int i = i_lo; i <= i_hi; ++i) {
        const std::ptrdiff_t cidx = g.at(i, j, k);
        const int l = layer_of[static_cast<std::size_t>(cidx)];
        if (l < 1 || l > skin::kLayers) continue;
        const double x0 = (g.i0 + i) * dxu, y0 = (g.j0 + j) * dxu;
        // Distance of the voxel centre to the channel axis segment (slot widened): voxels
        // farther than the reach plus the half diagonal are skipped, voxels entirely inside the
        // constant-radius part of the lumen are filled without sub-sampling.
        const double hd = 0.5 * std::sqrt(2.0 * dxu * dxu + dz * dz);
        double dcen = 0.0, scen = 0.0;
        {
          const double px = x0 + 0.5 * dxu - ex, py = y0 + 0.5 * dxu - ey, pz = z0 + 0.5 * dz - ez;
          scen = px * ux + py * uy + pz * uz;
          const double sc = std::clamp(scen, 0.0, L);
          const double qx = px - sc * ux, qy = py - sc * uy, qz = pz - sc * uz;
          dcen = std::sqrt(qx * qx + qy * qy + qz * qz);
        }
        if (dcen - hd > r0 + halo_reach) continue;
        // Sub-samples per axis: 4 where the lumen wall may cross the voxel, 2 in the smooth halo.
        const int S = dcen - hd > r0 ? 2 : 4;
        double dsum = 0.0, lsum = 0.0;
        const bool inside =
            dcen + hd < r0 && scen - hd >= 0.0 && scen + hd <= L - std::min(p.tip_length, L);
        if (inside) {
          dsum = lsum = static_cast<double>(S * S * S);
        } else {
          for (int a = 0; a < S; ++a) {
            for (int bb = 0; bb < S; ++bb) {
              for (int cc = 0; cc < S; ++cc) {
                const double px = x0 + (a + 0.5) * dxu / S - ex;
                const double py = y0 + (bb + 0.5) * dxu / S - ey;
                const double pz = z0 + (cc + 0.5) * dz / S - ez;
                const double s = px * ux + py * uy + pz * uz;
                if (s < 0.0 || s > L) continue;
                const double qx = px - s * ux, qy = py - s * uy, qz = pz - s * uz;
                const double d = std::sqrt(qx * qx + qy * qy + qz * qz);
                const double r = channel_radius(p, r0, s, L);
                dsum += damage_at(p, r, d);
                lsum += (r > 0.0 && d <= r) ? 1.0 : 0.0;
              }
            }
          }
        }
        if (dsum <= 0.0) continue;
        const double inv = 1.0 / (S * S * S);
        const double dadd = std::min(1.0, dsum * inv);
        const double lumen = lsum * inv;
        const double vol = g.dx * g.dx * g.dz(k);
        auto at = [&](Field f) -> float& { return ptr[static_cast<std::size_t>(f)][cidx]; };
        const double keep = 1.0 - dadd;
        at(kDamage) = static_cast<float>(1.0 - (1.0 - at(kDamage)) * keep);
        // Cells, and the mitosis-regulating chemical they produce (removed with them, as at the
        // start of the per-channel re-epithelialisation model, reepithelialization.hpp).
        for (Field f :
             {kFibroblasts, kNeutrophils, kMacrophages, kVascular, kKeratinocytes, kChemical}) {
          at(f) = static_cast<float>(at(f) * keep);
        }
        const double mkeep = 1.0 - p.matrix_loss * lumen;
        for (Field f : {kCollagen1, kCollagen3, kElastin}) {
          at(f) = static_cast<float>(at(f) * mkeep);
        }
        if (pu.bled) {
          const double blood = p.blood_fill * lumen;
          at(kPlatelets) = static_cast<float>(std::min(1.0, at(kPlatelets) + blood));
          at(kClot) = static_cast<float>(std::min(1.0, at(kClot) + blood));
          t.blood_volume += blood * vol;
        }
        t.lumen_volume += lumen * vol;
        t.damage_volume += dadd * vol;
      }
    }
  }
  if (tally) {
    tally->lumen_volume += t.lumen_volume;
    tally->blood_volume += t.blood_volume;
    tally->damage_volume += t.damage_volume;
    tally->punctures += 1;
  }
}

}  // namespace mnsim::healing
