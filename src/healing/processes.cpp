// The healing cascade's fields and processes (healing_model(), docs/model.md sections 2-3).
//
// Each process is the group of reaction terms of one part of the cascade, applied to a run of
// cells in the fixed order inflammation, growth_factors, fibroblasts, matrix, vessels,
// epidermis: inside a cell the variables are advanced one after the other in the order D, P, K,
// I, N, M, G, V, m, F, C3, C1, E, v, (n, c, D_VE), K_g, h, mu (Gauss-Seidel), every one by the
// same operations as when the reaction step was one function (before the registry). Each process
// loops over a run of one layer's cells without branches (the layer's are taken once per run),
// so that the loop vectorises; the exponentials come from expm1_nonpositive (healing/expm1.hpp).
// The library is compiled without implicit multiply-add fusion, so a cell's result is the same
// in a vector lane or alone, and in either version of the multiversioned loops (core/kernel.hpp;
// docs/numerics.md, "Performance of the reaction step", "Portable builds").
#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "core/kernel.hpp"
#include "healing/expm1.hpp"
#include "healing/kinetics.hpp"
#include "healing/model.hpp"

namespace mnsim::healing {

namespace {

// std::max and std::clamp by value, with their results (std::max(a, b) is a < b ? b : a): in an
// `omp simd` loop, the references std::max binds to temporaries become per-lane arrays that stop
// the vectoriser.
inline double max_of(double a, double b) {
  return a < b ? b : a;
}
inline double clamp_of(double v, double lo, double hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

// Exact solution of y' = a - b y (a, b >= 0 frozen) over a step: y e^{-b dt} + a dt phi1(b dt),
// phi1(x) = (1 - e^{-x}) / x, with one expm1 (healing/expm1.hpp). Constructed once per step
// where the rate is the same for every cell (BoundProcess::prepare); a rate that differs from
// cell to cell takes exp_step, the same operations without branches.
struct Decay {
  // x = b dt; below 1e-12 the linear step. Tested as a double comparison where it is used: a
  // vector loop selects on it without a vector of bools, which only AVX-512 has.
  double x = 0.0;
  double dt = 0.0, e = 1.0, q = 0.0;  // e = e^{-b dt}, q = dt phi1(b dt)
  Decay() = default;
  Decay(double b, double step) : x(b * step), dt(step) {
    if (x < 1e-12) return;
    const double em = expm1_nonpositive(-x);  // as ExpStep's: the same on every CPU
    e = 1.0 + em;
    q = step * (x < 1e-8 ? 1.0 - 0.5 * x : -em / x);
  }
  double operator()(double y, double a) const {
    const double linear = y + a * dt;
    const double exact = max_of(0.0, y * e + a * q);  // written to stay non-negative
    return x < 1e-12 ? linear : exact;
  }
};

// Decay(b, dt)(y, a) for a rate b of the cell's own (one exact step), every branch evaluated and
// the result selected, with the vectorisable expm1 (healing/expm1.hpp, as Decay's):
// the same value as the scalar Decay, in a loop the compiler vectorises. Also writes the
// integral of y over the step to `integral` (Decay's integral: a/b dt + (y - a/b) q).
struct ExpStep {
  double x, em, q;
  ExpStep(double b, double dt) : x(b * dt), em(expm1_nonpositive(-x)) {
    const double series = 1.0 - 0.5 * x;
    const double exact = -em / x;
    q = dt * (x < 1e-8 ? series : exact);
  }
  bool tiny() const { return x < 1e-12; }
  double operator()(double y, double a, double dt) const {
    const double e = 1.0 + em;
    const double linear = y + a * dt;
    const double exact = max_of(0.0, y * e + a * q);
    return tiny() ? linear : exact;
  }
  double integral(double y, double a, double b, double dt) const {
    const double linear = y * dt + 0.5 * a * dt * dt;
    const double yeq = a / b;
    const double exact = max_of(0.0, yeq * dt + (y - yeq) * q);
    return tiny() ? linear : exact;
  }
};

inline double exp_step(double y, double a, double b, double dt) {
  return ExpStep(b, dt)(y, a, dt);
}

/// exp_step(y, 0, b, dt), the same value without the source's factor q (a division): with
/// a = 0, y e + a q is y e (+ +0, which only turns -0 into +0, as the max with 0 does) wherever q
/// is finite, and where it is not (b NaN) so is e, and both give 0.
inline double exp_decay(double y, double b, double dt) {
  const double x = b * dt;
  const double e = 1.0 + expm1_nonpositive(-x);
  const double linear = y + 0.0;
  const double exact = max_of(0.0, y * e);
  return x < 1e-12 ? linear : exact;
}

/// One Patankar-Euler step of logistic growth at rate r up to the capacity xmax with return to
/// x0 at rate k, dx/dt = k (x0 - x) + r x (1 - x / xmax): positive for any step (fibroblasts,
/// vessels). Takes 1 / xmax (a constant of the run: a multiplication per cell, not a division).
inline double logistic_return_step(double x, double x0, double k, double r, double inv_xmax,
                                   double dt) {
  return (x + dt * (k * x0 + r * x)) / (1.0 + dt * (k + r * x * inv_xmax));
}

/// Whether every cell of the run holds +0 in every one of the fields (slots).
inline bool all_positive_zero(const Cells& c, std::initializer_list<int> fields) {
  for (const int f : fields) {
    const double* x = c.now[f];
    for (std::size_t i = 0; i < c.n; ++i) {
      if (x[i] != 0.0 || std::signbit(x[i])) return false;
    }
  }
  return true;
}

/// 1 / x0 of a layer's baseline x0 (a constant of a run of cells), 0 where the layer has none.
inline double inverse(double x0) {
  return x0 > 0.0 ? 1.0 / x0 : 0.0;
}

/// x / x0 as x times inverse(x0) (relative densities phi, nu): a multiplication per cell, not a
/// division (within 1.5 ulp of x / x0 where it was within 0.5); 0 where the layer has none.
inline double relative(double x, double inv_x0) {
  return inv_x0 > 0.0 ? x * inv_x0 : 0.0;
}

inline void epidermis_step(const Params& p, const Decay& chemical, double& n, double& c,
                           double dt) {
  const double x = max_of(c - 1.0, 0.0);
  const double s = 1.0 + (p.mitosis_max - 1.0) * x / (x + p.mitosis_half);
  n = (n + dt * p.keratinocyte_mitosis * 2.0 * s * n) /
      (1.0 + dt * p.keratinocyte_mitosis * (1.0 + s * n));
  const double a2 = p.chemical_alpha * p.chemical_alpha;
  const double f = n * (1.0 + a2) / (n * n + a2);
  c = chemical(c, p.chemical_decay * f);
}

/// Base of the seven processes: the parameters, kept by value. Every cell of a run lies in one
/// layer (Cells::baseline): the processes branch on the layer once per run, outside the loop
/// over its cells, which the compiler vectorises (`omp simd`: a cell's values are independent of
/// every other cell's).
class HealingProcess : public BoundProcess {
 protected:
  explicit HealingProcess(const Binding& b) : p_(b.params()) {}
  /// fibroblast_activation (kinetics.hpp), inline for the vector loops.
  double activation(double g) const {
    g = max_of(g, 0.0);
    return g / (g + p_.gf_half);
  }
  const Params p_;
};

// 1-6. Injury and hemostasis, inflammation: damage clearance (non-epidermal; the viable
// epidermis derives it from n), platelet degranulation, clot lysis, the inflammatory signal,
// neutrophils and macrophages recruited from the vasculature.
class Inflammation final : public HealingProcess {
 public:
  explicit Inflammation(const Binding& b)
      : HealingProcess(b),
        D_(b.slot("damage")),
        P_(b.slot("platelets")),
        K_(b.slot("clot")),
        I_(b.start_slot("inflammatory_signal")),
        N_(b.slot("neutrophils")),
        M_(b.slot("macrophages")),
        v_(b.slot("vascular")),
        Dc_(b.slot("denatured_collagen")) {}
  void prepare(double dt) override {
    seal_ = Decay(p_.seal_rate, dt);
    platelet_ = Decay(p_.platelet_release, dt);
    macrophage_ = Decay(p_.macrophage_clearance, dt);
  }
  // Dispatches to run, the loops over the run's cells, multiversioned (core/kernel.hpp; apply is
  // virtual).
  void apply(const Cells& c) const override {
    const Baseline& b = *c.baseline;
    if (b.cornified()) {
      run<Layer::Cornified>(c);
    } else if (b.epidermal()) {
      run<Layer::Epidermal>(c);
    } else {
      run<Layer::Other>(c);
    }
  }

 private:
  enum class Layer { Cornified, Epidermal, Other };
  template <Layer kLayer>
  MNSIM_REACTION_KERNEL void run(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;  // a local copy: its loads are invariant in the vector loop
    const double inv_bv = inverse(c.baseline->vascular);
    // Thermally denatured collagen over the layer's normal collagen (0 without collagen).
    const double c0 = c.baseline->collagen1 + c.baseline->collagen3;
    const double dc_gain = c0 > 0.0 ? p.denatured_recruitment / c0 : 0.0;
    const double* Dc = c.now[Dc_];
    double* D = c.now[D_];
    double* P = c.now[P_];
    double* K = c.now[K_];
    double* I = c.now[I_];
    double* N = c.now[N_];
    double* M = c.now[M_];
    const double* v = c.now[v_];
    const double* I_start = c.start[I_];
    const Decay seal = seal_, platelet = platelet_, macrophage = macrophage_;  // invariant
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      // The mediators act on cells with their values at the start of the step: the values the
      // coupled diffusion-decay transport left (FieldDef::decay). Updating them first and
      // acting with the decayed values would starve every cell fed by diffusion once steps are
      // longer than the mediator's lifetime.
      const double I0 = max_of(I_start[i], 0.0);
      if constexpr (kLayer == Layer::Cornified) {
        D[i] = seal(D[i], 0.0);
      } else if constexpr (kLayer == Layer::Other) {
        D[i] = exp_decay(D[i], p.damage_clearance + p.damage_clearance_macrophage * M[i], dt);
      }
      P[i] = platelet(P[i], 0.0);
      K[i] = exp_decay(K[i], p.clot_lysis + p.clot_lysis_macrophage * M[i], dt);
      const double d_src = kLayer == Layer::Cornified ? 0.0 : D[i];
      I[i] = exp_step(I[i], p.signal_decay * (d_src + p.signal_neutrophil_gain * N[i]),
                      p.signal_decay + p.signal_macrophage_clearance * M[i], dt);
      const double vr = relative(v[i], inv_bv);
      N[i] = exp_step(N[i], p.neutrophil_recruitment * vr * I0 / (I0 + p.neutrophil_half),
                      p.neutrophil_death + p.efferocytosis * M[i], dt);
      // Monocytes are also drawn by denatured collagen's peptides (Postlethwaite & Kang 1976).
      const double stim = I0 + p.macrophage_neutrophil_signal * N[i] + dc_gain * Dc[i];
      M[i] = macrophage(M[i], p.macrophage_recruitment * vr * stim / (stim + p.macrophage_half));
    }
  }

  int D_, P_, K_, I_, N_, M_, v_, Dc_;
  Decay seal_, platelet_, macrophage_;
};

// 7-9. TGF-b/PDGF (platelet releasate as its mean rate over the step, macrophages), VEGF
// (macrophages, hypoxia of lost vessels), MMP activity (macrophages, activated fibroblasts).
class GrowthFactors final : public HealingProcess {
 public:
  explicit GrowthFactors(const Binding& b)
      : HealingProcess(b),
        P_(b.start_slot("platelets")),
        M_(b.slot("macrophages")),
        F_(b.slot("fibroblasts")),
        v_(b.slot("vascular")),
        G_(b.start_slot("growth_factor")),
        V_(b.slot("vegf")),
        m_(b.slot("mmp")) {}
  void prepare(double dt) override {
    gf_ = Decay(p_.gf_decay, dt);
    vegf_ = Decay(p_.vegf_decay, dt);
    mmp_ = Decay(p_.mmp_decay, dt);
  }
  void apply(const Cells& c) const override { run_cells(c); }
  // The loops over the run's cells, multiversioned (core/kernel.hpp; apply is virtual).
  MNSIM_REACTION_KERNEL void run_cells(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;             // a local copy: its loads are invariant in the vector loop
    const Baseline b = *c.baseline;  // a local copy, as p
    const double* P = c.now[P_];
    const double* P_start = c.start[P_];
    const double* M = c.now[M_];
    const double* F = c.now[F_];
    const double* v = c.now[v_];
    const double* G_start = c.start[G_];
    double* G = c.now[G_];
    double* V = c.now[V_];
    double* m = c.now[m_];
    const Decay gf = gf_, vegf = vegf_, mmp = mmp_;  // invariant in the loop
    // The run's constants: the platelets' releasate per unit of blood degranulated over the
    // step, the inverse baselines.
    const double release_rate = p.blood_growth_factor / dt;
    const double inv_bv = inverse(b.vascular), inv_F0 = inverse(b.fibroblasts);
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double A = activation(max_of(G_start[i], 0.0));
      const double released = max_of(0.0, P_start[i] - P[i]);  // blood degranulated this step
      G[i] = gf(G[i], release_rate * released + p.gf_macrophage * M[i]);
      const double hyp = inv_bv > 0.0 ? max_of(0.0, 1.0 - v[i] * inv_bv) : 0.0;
      V[i] = vegf(V[i], p.vegf_macrophage * M[i] + p.vegf_hypoxia * hyp);
      const double fr = relative(F[i], inv_F0);
      m[i] = mmp(m[i], p.mmp_macrophage * M[i] + p.mmp_fibroblast * fr * A);
    }
  }

 private:
  int P_, M_, F_, v_, G_, V_, m_;
  Decay gf_, vegf_, mmp_;
};

// 10. Fibroblasts: logistic proliferation when activated, return to baseline (Patankar-Euler:
// positive production explicit, losses implicit). The share q of them in the scar phenotype (an
// atrophic scar's resident fibroblasts, which maintain its cross-linked matrix) is diluted by
// every net gain of cells: the cells a wound response adds take the normal phenotype, and the
// return to baseline (apoptosis) and the injury remove both phenotypes alike, so q only falls,
// by the ratio of the density before to after a rise (docs/model.md, "Scar remodelling").
class Fibroblasts final : public HealingProcess {
 public:
  explicit Fibroblasts(const Binding& b)
      : HealingProcess(b),
        G_(b.start_slot("growth_factor")),
        F_(b.slot("fibroblasts")),
        q_(b.slot("scar_fibroblasts")) {}
  void prepare(double dt) override { fibro_return_ = Decay(p_.fibroblast_return, dt); }
  void apply(const Cells& c) const override { run_cells(c); }
  // The loops over the run's cells, multiversioned (core/kernel.hpp; apply is virtual).
  MNSIM_REACTION_KERNEL void run_cells(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;  // a local copy: its loads are invariant in the vector loop
    const double* G_start = c.start[G_];
    double* F = c.now[F_];
    double* q = c.now[q_];
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
    const double F0 = c.baseline->fibroblasts;
    if (!(F0 > 0.0)) {
      const Decay fibro_return = fibro_return_;
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < n; ++i) F[i] = fibro_return(F[i], 0.0);
      return;
    }
    const double inv_Fmax = 1.0 / (p.fibroblast_capacity * F0);
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double A = activation(max_of(G_start[i], 0.0));
      const double rA = p.fibroblast_proliferation * A;
      const double before = F[i];
      F[i] = logistic_return_step(F[i], F0, p.fibroblast_return, rA, inv_Fmax, dt);
      // Dilution by the new (normal) cells: q before / after = F after / before on a rise.
      const double kept = F[i] > before ? before / F[i] : 1.0;
      q[i] = q[i] * kept;
    }
  }

 private:
  int G_, F_, q_;
  Decay fibro_return_;
};

// 11-12. Collagen III and I (synthesis by activated fibroblasts, maturation of excess III into
// I, MMP degradation, remodelling to the set point), elastin, and the scar matrix S of an
// atrophic scar: the share of the normal matrix content the scar's cross-linked, disorganised
// collagen holds the dermis below (the set point is b (1 - S)). S is degraded by MMPs
// (scar_susceptibility x collagen_mmp) and cut by needles (apply_puncture); what it releases is
// filled by activated fibroblasts at their synthesis rate and by remodelling (docs/model.md,
// "Scar remodelling").
class Matrix final : public HealingProcess {
 public:
  explicit Matrix(const Binding& b)
      : HealingProcess(b),
        G_(b.start_slot("growth_factor")),
        F_(b.slot("fibroblasts")),
        m_(b.slot("mmp")),
        C3_(b.slot("collagen3")),
        C1_(b.slot("collagen1")),
        E_(b.slot("elastin")),
        S_(b.slot("scar_matrix")),
        q_(b.slot("scar_fibroblasts")),
        Dc_(b.slot("denatured_collagen")) {}
  // Dispatches to run, the loops over the run's cells, multiversioned (core/kernel.hpp; apply is
  // virtual).
  void apply(const Cells& c) const override {
    const Baseline& b = *c.baseline;
    if (b.collagen1 + b.collagen3 > 0.0) {
      run<true>(c);
    } else if (b.elastin > 0.0 || !none(c)) {
      run<false>(c);
    }
    // Else a layer without matrix (the epidermis) that holds none: every step of run<false>
    // would be exp_step(0, 0, ...) = +0 (sources scale with the baseline's elastin), so the
    // cells are left as they are (the same values, bit for bit).
  }

 private:
  template <bool kCollagen>
  MNSIM_REACTION_KERNEL void run(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;             // a local copy: its loads are invariant in the vector loop
    const Baseline b = *c.baseline;  // a local copy, as p
    const double* G_start = c.start[G_];
    const double* F = c.now[F_];
    const double* m = c.now[m_];
    double* C3 = c.now[C3_];
    double* C1 = c.now[C1_];
    double* E = c.now[E_];
    double* S = c.now[S_];
    const double* q = c.now[q_];
    const double* Dc = c.now[Dc_];
    const double inv_F0 = inverse(b.fibroblasts), inv_dt = 1.0 / dt;  // the run's constants
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double A = activation(max_of(G_start[i], 0.0));
      const double fr = relative(F[i], inv_F0);
      // Scar matrix: basal turnover, MMP degradation at its own susceptibility, and replacement
      // by the fibroblasts of the normal phenotype (fr (1 - q) of the baseline density) at the
      // remodelling rate; the scar phenotype maintains (re-cross-links) it.
      const double normal = fr * max_of(0.0, 1.0 - q[i]);
      const double s =
          exp_decay(S[i],
                    p.collagen_turnover + p.scar_susceptibility * p.collagen_mmp * m[i] +
                        p.collagen_remodelling * normal,
                    dt);
      S[i] = s;
      const double hold = 1.0 - s;  // set point / normal content
      if constexpr (kCollagen) {
        // Set-point restoration (remodelling) acts on each type: -k_rem (C_i - C_i0 (1 - S)).
        const double krem = p.collagen_remodelling;
        const double deg = p.collagen_turnover + p.collagen_mmp * m[i] + krem;
        const bool excess3 = C3[i] > b.collagen3;
        const double kmat = excess3 ? p.collagen_maturation : 0.0;
        // Activated fibroblasts deposit into the room the matrix leaves below the packing
        // density (lumens, a released scar deficit and the loose papillary dermis have the most),
        // frozen over the step.
        // Denatured collagen fills its place until it is cleared (ThermalInjury).
        const double room = max_of(0.0, p.packing_density - C1[i] - C3[i] - E[i] - Dc[i]);
        const double dep = fr * p.collagen_synthesis * A * room;
        const double a3 = fr * p.collagen_turnover * b.collagen3 * hold +
                          (1.0 - p.collagen1_share) * dep + kmat * b.collagen3 +
                          krem * b.collagen3 * hold;
        const ExpStep s3(deg + kmat, dt);
        const double int3 = s3.integral(C3[i], a3, deg + kmat, dt);
        C3[i] = s3(C3[i], a3, dt);
        const double converted = kmat * max_of(0.0, int3 - b.collagen3 * dt);
        const double a1 = fr * p.collagen_turnover * b.collagen1 * hold + p.collagen1_share * dep +
                          krem * b.collagen1 * hold + converted * inv_dt;
        C1[i] = exp_step(C1[i], a1, deg, dt);
      } else {
        C3[i] = exp_decay(C3[i], p.collagen_turnover + p.collagen_mmp * m[i], dt);
        C1[i] = exp_decay(C1[i], p.collagen_turnover + p.collagen_mmp * m[i], dt);
      }
      E[i] = exp_step(E[i], fr * b.elastin * (p.elastin_turnover * hold + p.elastin_synthesis * A),
                      p.elastin_turnover + p.elastin_mmp * m[i], dt);
    }
  }

  /// No matrix at all in the run's cells.
  bool none(const Cells& c) const {
    return all_positive_zero(c, {C3_, C1_, E_, S_, Dc_});
  }

  int G_, F_, m_, C3_, C1_, E_, S_, q_, Dc_;
};

// 19. Thermal injury (an RF needle's coagulation zone, docs/rf.md): the collagen the heat
// denatured (deposited by apply_puncture and the column driver) is degraded by MMPs (gelatinases)
// and cleared by macrophages, first order in each, and turns over at least as fast as native
// collagen: dDc/dt = -(k_t + k_m m + k_M M) Dc. It fills its
// place in the matrix until removed (Matrix's room) and draws monocytes while it lasts
// (Inflammation's stimulus).
class ThermalInjury final : public HealingProcess {
 public:
  explicit ThermalInjury(const Binding& b)
      : HealingProcess(b),
        M_(b.slot("macrophages")),
        m_(b.slot("mmp")),
        Dc_(b.slot("denatured_collagen")) {}
  // Without denatured collagen in the run (every run but near an RF needle's zone) every step
  // would be exp_step(+0, 0, ...) = +0: the cells are left as they are (the same values).
  void apply(const Cells& c) const override {
    if (!all_positive_zero(c, {Dc_})) run_cells(c);
  }
  // The loops over the run's cells, multiversioned (core/kernel.hpp; apply is virtual).
  MNSIM_REACTION_KERNEL void run_cells(const Cells& c) const {
    const double dt = c.dt;
    const double kt = p_.collagen_turnover, km = p_.denatured_mmp, kM = p_.denatured_macrophage;
    const double* M = c.now[M_];
    const double* m = c.now[m_];
    double* Dc = c.now[Dc_];
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      Dc[i] = exp_decay(Dc[i], kt + km * max_of(m[i], 0.0) + kM * max_of(M[i], 0.0), dt);
    }
  }

 private:
  int M_, m_, Dc_;
};

// 13. Vascular density: VEGF-driven logistic growth, regression to baseline (Patankar-Euler).
class Vessels final : public HealingProcess {
 public:
  explicit Vessels(const Binding& b)
      : HealingProcess(b), V_(b.start_slot("vegf")), v_(b.slot("vascular")) {}
  void prepare(double dt) override { vasc_return_ = Decay(p_.vascular_regression, dt); }
  void apply(const Cells& c) const override { run_cells(c); }
  // The loops over the run's cells, multiversioned (core/kernel.hpp; apply is virtual).
  MNSIM_REACTION_KERNEL void run_cells(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;  // a local copy: its loads are invariant in the vector loop
    const double* V_start = c.start[V_];
    double* v = c.now[v_];
    const auto n = static_cast<std::ptrdiff_t>(c.lanes());
    const double v0 = c.baseline->vascular;
    if (!(v0 > 0.0)) {
      const Decay vasc_return = vasc_return_;
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < n; ++i) v[i] = vasc_return(v[i], 0.0);
      return;
    }
    const double inv_vmax = 1.0 / (p.vascular_capacity * v0);
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double V0 = max_of(V_start[i], 0.0);
      const double rS = p.vascular_growth * V0 / (V0 + p.vegf_half);
      v[i] = logistic_return_step(v[i], v0, p.vascular_regression, rS, inv_vmax, dt);
    }
  }

 private:
  int V_, v_;
  Decay vasc_return_;
};

// 14-18. Epidermis: Sherratt-Murray keratinocytes and mitosis-regulating chemical (viable
// epidermis; its damage is 1 - n), KGF from fibroblasts in excess of baseline (the dermal signal
// to the epidermis, every layer: it reads the fibroblasts of this step), epidermal thickness and
// melanin (viable epidermis).
class Epidermis final : public HealingProcess {
 public:
  explicit Epidermis(const Binding& b)
      : HealingProcess(b),
        I_(b.start_slot("inflammatory_signal")),
        F_(b.slot("fibroblasts")),
        n_(b.slot("keratinocytes")),
        c_(b.slot("mitosis_chemical")),
        D_(b.slot("damage")),
        Kg_(b.start_slot("kgf")),
        h_(b.slot("epidermal_thickness")),
        mu_(b.slot("melanin_excess")) {}
  void prepare(double dt) override {
    chemical_ = Decay(p_.chemical_decay, dt);
    kgf_ = Decay(p_.kgf_decay, dt);
    turnover_ = Decay(1.0 / p_.epidermal_turnover, dt);
  }
  // Dispatches to run, the loops over the run's cells, multiversioned (core/kernel.hpp; apply is
  // virtual).
  void apply(const Cells& c) const override {
    if (c.baseline->epidermal()) {
      run<true>(c);
    } else {
      run<false>(c);
    }
  }

 private:
  template <bool kViable>
  MNSIM_REACTION_KERNEL void run(const Cells& c) const {
    const double dt = c.dt;
    const Params p = p_;             // a local copy: its loads are invariant in the vector loop
    const Baseline b = *c.baseline;  // a local copy, as p
    const double* I_start = c.start[I_];
    const double* Kg_start = c.start[Kg_];
    const double* F = c.now[F_];
    double* n = c.now[n_];
    double* ch = c.now[c_];
    double* D = c.now[D_];
    double* Kg = c.now[Kg_];
    double* h = c.now[h_];
    double* mu = c.now[mu_];
    const Decay chemical = chemical_, kgf = kgf_, turnover = turnover_;  // invariant in the loop
    const double inv_F0 = inverse(b.fibroblasts);                        // the run's constant
    const auto cells = static_cast<std::ptrdiff_t>(c.lanes());
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < cells; ++i) {
      // n' = r_n [s(c) n (2 - n) - n], c' = lambda (f(n) - c).
      if constexpr (kViable) {
        epidermis_step(p, chemical, n[i], ch[i], dt);
        D[i] = clamp_of(1.0 - n[i], 0.0, 1.0);
      }
      const double fr = relative(F[i], inv_F0);
      Kg[i] = kgf(Kg[i], p.kgf_fibroblast * max_of(fr - 1.0, 0.0));
      if constexpr (kViable) {
        const double I0 = max_of(I_start[i], 0.0), Kg0 = max_of(Kg_start[i], 0.0);
        const double inv_tau = 1.0 / p.epidermal_turnover;
        h[i] = turnover(h[i], p.thickening_rate * Kg0 / (Kg0 + p.kgf_half) + inv_tau);
        mu[i] =
            turnover(mu[i], p.melanin_rate * b.melanocyte_activity * I0 / (I0 + p.melanin_half));
      }
    }
  }

  int I_, F_, n_, c_, D_, Kg_, h_, mu_;
  Decay chemical_, kgf_, turnover_;
};

template <class R>
ProcessDef process(std::string name, std::vector<std::string> reads,
                   std::vector<std::string> updates) {
  return {std::move(name), std::move(reads), std::move(updates),
          [](const Binding& b) -> std::unique_ptr<BoundProcess> { return std::make_unique<R>(b); }};
}

Coefficient param(std::string key) {
  return Coefficient{std::move(key), 0.0, {}};
}

Model make_healing_model() {
  constexpr LayerSet kAllButSc = {false, true, true, true, true};
  constexpr LayerSet kDermal = {false, false, true, true, true};
  constexpr LayerSet kEpidermal = {false, true, false, false, false};
  auto fixed = [](std::string name, std::string unit) {
    FieldDef f;
    f.name = std::move(name);
    f.unit = std::move(unit);
    return f;
  };
  auto moving = [&](std::string name, std::string unit, Transport t, LayerSet layers,
                    std::string diffusivity) {
    FieldDef f = fixed(std::move(name), std::move(unit));
    f.transport = t;
    f.layers = layers;
    f.diffusivity = param(std::move(diffusivity));
    return f;
  };
  auto mediator = [&](std::string name, std::string unit, LayerSet layers, std::string diffusivity,
                      std::string decay) {
    FieldDef f = moving(std::move(name), std::move(unit), Transport::Diffusion, layers,
                        std::move(diffusivity));
    f.decay = param(std::move(decay));
    return f;
  };
  auto slow = [](FieldDef f, double (*baseline)(const Baseline&)) {
    f.slow = true;
    f.baseline = baseline;
    return f;
  };
  auto chemotactic = [](FieldDef f, std::string attractant, std::string chi) {
    f.attractant = std::move(attractant);
    f.chemotaxis = param(std::move(chi));
    return f;
  };
  auto epidermal = [](const Baseline& b) { return b.epidermal() ? 1.0 : 0.0; };

  Model m;
  m.add_field(fixed("damage", "1"));     // D: destroyed fraction (SC: open barrier fraction)
  m.add_field(fixed("platelets", "1"));  // P: un-degranulated platelets, blood volume fraction
  m.add_field(fixed("clot", "1"));       // K: fibrin clot volume fraction
  m.add_field(mediator("inflammatory_signal", "1", kAllButSc, "signal_diffusivity",
                       "signal_decay"));  // I: 1 = level of a fully destroyed voxel
  m.add_field(chemotactic(
      moving("neutrophils", "1", Transport::Diffusion, kAllButSc, "neutrophil_motility"),
      "inflammatory_signal", "neutrophil_chemotaxis"));  // N
  m.add_field(moving("macrophages", "1", Transport::Diffusion, kDermal,
                     "macrophage_motility"));  // M
  m.add_field(mediator("growth_factor", "ng/mL", kAllButSc, "gf_diffusivity",
                       "gf_decay"));  // G: TGF-b1 + PDGF lumped
  m.add_field(mediator("vegf", "ng/mL", kAllButSc, "vegf_diffusivity", "vegf_decay"));  // V
  m.add_field(mediator("kgf", "ng/mL", kAllButSc, "kgf_diffusivity", "kgf_decay"));     // K_g
  m.add_field(fixed("mmp", "1"));  // m: MMP activity
  m.add_field(slow(chemotactic(moving("fibroblasts", "cells/mm^3", Transport::CapacityMotility,
                                      kDermal, "fibroblast_motility"),
                               "growth_factor", "fibroblast_chemotaxis"),
                   [](const Baseline& b) { return b.fibroblasts; }));  // F
  m.add_field(slow(fixed("collagen3", "mg/mL"), [](const Baseline& b) { return b.collagen3; }));
  m.add_field(slow(fixed("collagen1", "mg/mL"), [](const Baseline& b) { return b.collagen1; }));
  m.add_field(slow(fixed("elastin", "mg/mL"), [](const Baseline& b) { return b.elastin; }));
  m.add_field(slow(fixed("scar_matrix", "1"), nullptr));  // S: deficit held by scar matrix
  m.add_field(
      slow(moving("vascular", "1", Transport::CapacityMotility, kDermal, "vascular_motility"),
           [](const Baseline& b) { return b.vascular; }));  // v: vascular volume fraction
  FieldDef keratinocytes =
      moving("keratinocytes", "1", Transport::Diffusion, kEpidermal, "keratinocyte_motility");
  keratinocytes.baseline = epidermal;  // n: viable-epidermis cell density / baseline
  m.add_field(keratinocytes);
  FieldDef chemical =
      mediator("mitosis_chemical", "1", kEpidermal, "chemical_diffusivity", "chemical_decay");
  chemical.baseline = epidermal;  // c: mitosis-regulating chemical / baseline
  m.add_field(chemical);
  m.add_field(slow(fixed("epidermal_thickness", "1"), epidermal));  // h: / baseline
  m.add_field(slow(fixed("melanin_excess", "1"), nullptr));         // mu: PIH index
  // q: share of the fibroblasts in the scar phenotype (0 in normal skin). Not followed by the
  // step control: it changes only with the fibroblasts, which are.
  m.add_field(fixed("scar_fibroblasts", "1"));
  // Dc: collagen denatured by an RF needle's heat, left in place until cleared (docs/rf.md).
  m.add_field(slow(fixed("denatured_collagen", "mg/mL"), nullptr));

  m.add_process(process<Inflammation>(
      "inflammation", {"vascular", "denatured_collagen"},
      {"damage", "platelets", "clot", "inflammatory_signal", "neutrophils", "macrophages"}));
  m.add_process(process<GrowthFactors>("growth_factors",
                                       {"platelets", "macrophages", "fibroblasts", "vascular"},
                                       {"growth_factor", "vegf", "mmp"}));
  m.add_process(
      process<Fibroblasts>("fibroblasts", {"growth_factor"}, {"fibroblasts", "scar_fibroblasts"}));
  m.add_process(process<Matrix>(
      "matrix", {"growth_factor", "fibroblasts", "mmp", "scar_fibroblasts", "denatured_collagen"},
      {"collagen3", "collagen1", "elastin", "scar_matrix"}));
  m.add_process(process<Vessels>("vessels", {"vegf"}, {"vascular"}));
  m.add_process(process<Epidermis>("epidermis", {"inflammatory_signal", "fibroblasts"},
                                   {"keratinocytes", "mitosis_chemical", "damage", "kgf",
                                    "epidermal_thickness", "melanin_excess"}));
  m.add_process(
      process<ThermalInjury>("thermal_injury", {"macrophages", "mmp"}, {"denatured_collagen"}));
  return m;
}

}  // namespace

const Model& healing_model() {
  static const Model m = make_healing_model();
  return m;
}

void react_epidermis(const Params& p, double& n, double& c, double dt) {
  epidermis_step(p, Decay(p.chemical_decay, dt), n, c, dt);
}

namespace {
// The loop of react_epidermis, vectorised (cells are independent), multiversioned
// (core/kernel.hpp).
MNSIM_REACTION_KERNEL void epidermis_cells(const Params& p, double* n, double* c,
                                           std::ptrdiff_t cells, double dt) {
  const Decay chemical(p.chemical_decay, dt);
  const Params q = p;  // a local copy: its loads are invariant in the vector loop
#pragma omp simd
  for (std::ptrdiff_t i = 0; i < cells; ++i) epidermis_step(q, chemical, n[i], c[i], dt);
}
}  // namespace

void react_epidermis(const Params& p, std::span<double> n, std::span<double> c, double dt) {
  if (n.size() != c.size()) throw std::invalid_argument("react_epidermis: one c per n");
  epidermis_cells(p, n.data(), c.data(), static_cast<std::ptrdiff_t>(n.size()), dt);
}

}  // namespace mnsim::healing
