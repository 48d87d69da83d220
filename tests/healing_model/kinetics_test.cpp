// Pointwise reaction step, injury deposition and field list.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <random>

#include "core/constants.hpp"
#include "healing/kinetics.hpp"
#include "test_profile.hpp"

namespace mnsim::healing {
namespace {

const Params& P() {
  static const Params p = load_default_params().p;
  return p;
}

Baselines base() {
  return baselines_from_profile(testing::cheek_profile());
}

/// Slot of a healing-model field.
std::size_t S(const char* name) {
  return static_cast<std::size_t>(healing_model().slot(name));
}
const int kFields = static_cast<int>(healing_model().size());

TEST(HealingKinetics, FieldListIsCompleteAndConsistent) {
  const auto specs = field_specs(P());
  ASSERT_EQ(static_cast<int>(specs.size()), kFields);
  ASSERT_EQ(kFields, 22);
  for (int i = 0; i < kFields; ++i) {
    EXPECT_EQ(specs[static_cast<std::size_t>(i)].slot, i);
    EXPECT_FALSE(specs[static_cast<std::size_t>(i)].name.empty());
    EXPECT_EQ(healing_model().slot(specs[static_cast<std::size_t>(i)].name), i);
  }
  // The FieldSet order of fields.h5 and timeseries.csv (docs/model.md section 2).
  EXPECT_EQ(specs.front().name, "damage");
  EXPECT_EQ(specs[S("fibroblasts")].slot, 10);
  EXPECT_EQ(specs.back().name, "denatured_collagen");
  EXPECT_EQ(specs[S("fibroblasts")].chemoattractant, static_cast<int>(S("growth_factor")));
  EXPECT_DOUBLE_EQ(specs[S("fibroblasts")].chemotaxis, P().fibroblast_chemotaxis);
  EXPECT_EQ(specs[S("neutrophils")].chemoattractant, static_cast<int>(S("inflammatory_signal")));
  EXPECT_EQ(specs[S("fibroblasts")].transport, Transport::CapacityMotility);
  EXPECT_EQ(specs[S("vascular")].transport, Transport::CapacityMotility);
  EXPECT_EQ(specs[S("growth_factor")].transport, Transport::Diffusion);
  EXPECT_EQ(specs[S("collagen1")].transport, Transport::None);
  // Diffusivities and decays come from the parameters named in the registry.
  EXPECT_DOUBLE_EQ(specs[S("growth_factor")].diffusivity[2], P().gf_diffusivity);
  EXPECT_DOUBLE_EQ(specs[S("growth_factor")].decay, P().gf_decay);
  EXPECT_DOUBLE_EQ(specs[S("inflammatory_signal")].decay, P().signal_decay);
  EXPECT_DOUBLE_EQ(specs[S("mitosis_chemical")].decay, P().chemical_decay);
  EXPECT_EQ(specs[S("neutrophils")].decay, 0.0);
  EXPECT_EQ(healing_model().field(static_cast<int>(S("kgf"))).decay.param, "kgf_decay");
  // Fibroblasts do not cross into the epidermis; keratinocytes stay in it.
  EXPECT_EQ(specs[S("fibroblasts")].diffusivity[1], 0.0);
  EXPECT_GT(specs[S("fibroblasts")].diffusivity[2], 0.0);
  EXPECT_GT(specs[S("keratinocytes")].diffusivity[1], 0.0);
  EXPECT_EQ(specs[S("keratinocytes")].diffusivity[2], 0.0);
  EXPECT_EQ(specs[S("collagen1")].diffusivity[2], 0.0);
}

TEST(HealingKinetics, TransportMaskFollowsLayerDiffusivities) {
  const auto specs = field_specs(P());
  const std::vector<std::uint8_t> layer = {0, 1, 2, 3, 4, 5, 3};
  const auto fib = transport_mask(specs[S("fibroblasts")], layer);
  EXPECT_EQ(fib, (std::vector<std::uint8_t>{0, 0, 0, 1, 1, 1, 1}));
  const auto ker = transport_mask(specs[S("keratinocytes")], layer);
  EXPECT_EQ(ker, (std::vector<std::uint8_t>{0, 0, 1, 0, 0, 0, 0}));
  const std::string cat = catalog_text(load_default_params());
  EXPECT_NE(cat.find("matrix.collagen_synthesis"), std::string::npos);
  EXPECT_NE(cat.find("chemotaxis chi = 1000 up growth_factor (fibroblast_chemotaxis = 1000)"),
            std::string::npos);
  // Where each transport coefficient comes from, and the processes in their order.
  EXPECT_NE(cat.find("diffusivity um^2/h signal_diffusivity = "), std::string::npos);
  EXPECT_NE(cat.find("decay 1/h gf_decay = "), std::string::npos);
  EXPECT_NE(cat.find("capacity motility in PD RD HD"), std::string::npos);
  EXPECT_LT(cat.find("  inflammation "), cat.find("  growth_factors "));
  EXPECT_LT(cat.find("  vessels "), cat.find("  epidermis "));
}

TEST(HealingKinetics, BaselineIsAFixedPointForAnyStep) {
  for (const auto& b : base()) {
    for (double dt : {1e-3, 1.0, 1e3, 1e6}) {
      State s = baseline_state(b);
      const State s0 = s;
      react(P(), b, s, dt);
      for (int f = 0; f < kFields; ++f) {
        EXPECT_NEAR(s[static_cast<std::size_t>(f)], s0[static_cast<std::size_t>(f)],
                    1e-9 * (1.0 + std::abs(s0[static_cast<std::size_t>(f)])))
            << "layer " << static_cast<int>(b.layer) << " field " << f << " dt " << dt;
      }
    }
  }
}

TEST(HealingKinetics, IsolatedDecaysAreExact) {
  // Only the signal is non-zero in the stratum corneum: I(t) = I0 exp(-delta_I t) exactly.
  const Baseline sc = base()[0];
  State s = baseline_state(sc);
  s[S("inflammatory_signal")] = 0.8;
  react(P(), sc, s, 3.0);
  EXPECT_NEAR(s[S("inflammatory_signal")], 0.8 * std::exp(-P().signal_decay * 3.0), 1e-12);
  // Open barrier seals at seal_rate.
  s = baseline_state(sc);
  s[S("damage")] = 1.0;
  react(P(), sc, s, 2.0);
  EXPECT_NEAR(s[S("damage")], std::exp(-2.0 * P().seal_rate), 1e-12);
  // Platelet release feeds the growth factor: G(t) for P' = -k P, G' = c k P - d G.
  const Baseline pd = base()[2];
  s = baseline_state(pd);
  s[S("platelets")] = 0.5;
  react(P(), pd, s, 1e-3);
  const double expect =
      P().blood_growth_factor * 0.5 * (1 - std::exp(-P().platelet_release * 1e-3));
  EXPECT_NEAR(s[S("growth_factor")], expect, 1e-3 * expect);
}

TEST(ScarMatrix, AnUntreatedScarHoldsItsDeficit) {
  // A scar's dermis at (1 - d) of the normal matrix with scar matrix d is at rest: only the
  // basal collagen turnover (half-life 15 years) wears the scar matrix, 4.5% of it a year, and
  // the collagen follows the set point b (1 - S) with the remodelling lag (about a year).
  for (std::size_t l : {std::size_t{2}, std::size_t{3}}) {
    const Baseline b = base()[l];
    const double d = 0.3;
    State s = baseline_state(b);
    for (const char* f : {"collagen1", "collagen3", "elastin"}) s[S(f)] *= 1.0 - d;
    s[S("scar_matrix")] = d;
    s[S("scar_fibroblasts")] = P().scar_phenotype_share;
    for (int day = 0; day < 365; ++day) react(P(), b, s, 24.0);
    const double S1 = s[S("scar_matrix")];
    EXPECT_NEAR(S1, d * std::exp(-P().collagen_turnover * 365 * 24.0), 1e-9);
    EXPECT_LT(d - S1, 0.05 * d);
    EXPECT_NEAR(s[S("collagen1")] / b.collagen1, 1.0 - S1, 0.01);
    EXPECT_NEAR(s[S("collagen3")] / b.collagen3, 1.0 - S1, 0.01);
  }
}

TEST(ScarPhenotype, DilutedByTheNewCellsOfAWoundResponseExactly) {
  // Growth factor held: the fibroblasts proliferate, and the cells they add take the normal
  // phenotype, so the scar-phenotype cells q F keep their number while F rises (q = q0 F0 / F,
  // exactly, for any steps); on the return to baseline (apoptosis of both phenotypes alike) q
  // stays.
  for (std::size_t l : {std::size_t{2}, std::size_t{3}}) {
    const Baseline b = base()[l];
    State s = baseline_state(b);
    s[S("scar_fibroblasts")] = 0.8;
    const double scar_cells = 0.8 * b.fibroblasts;
    double prev = s[S("fibroblasts")];
    for (double dt : {0.5, 3.0, 7.0, 24.0, 1.0, 48.0}) {
      s[S("growth_factor")] = 3.0;
      react(P(), b, s, dt);
      EXPECT_GT(s[S("fibroblasts")], prev);
      prev = s[S("fibroblasts")];
      EXPECT_NEAR(s[S("scar_fibroblasts")] * s[S("fibroblasts")], scar_cells, 1e-9 * scar_cells);
    }
    const double q_peak = s[S("scar_fibroblasts")];
    EXPECT_LT(q_peak, 0.8 / 1.5);
    for (int day = 0; day < 60; ++day) {
      s[S("growth_factor")] = 0.0;
      react(P(), b, s, 24.0);
    }
    EXPECT_LT(s[S("fibroblasts")], prev);
    EXPECT_DOUBLE_EQ(s[S("scar_fibroblasts")], q_peak);
  }
}

TEST(ScarPhenotype, NormalFibroblastsReplaceScarMatrixAtTheRemodellingRate) {
  // No wound (no growth factor, no MMP, fibroblasts at baseline): the scar matrix decays as
  // S0 e^{-(k_t + k_rem (1 - q)) t}, exactly: the normal phenotype replaces it at the
  // remodelling rate, the scar phenotype maintains it.
  const Baseline b = base()[3];
  for (double q : {0.0, 0.25, 1.0}) {
    State s = baseline_state(b);
    for (const char* f : {"collagen1", "collagen3", "elastin"}) s[S(f)] *= 0.7;
    s[S("scar_matrix")] = 0.3;
    s[S("scar_fibroblasts")] = q;
    const double t = 3000.0;
    for (int i = 0; i < 3; ++i) react(P(), b, s, t / 3);
    const double k = P().collagen_turnover + P().collagen_remodelling * (1.0 - q);
    EXPECT_NEAR(s[S("scar_matrix")], 0.3 * std::exp(-k * t), 1e-12) << q;
    EXPECT_DOUBLE_EQ(s[S("scar_fibroblasts")], q);
  }
}

TEST(ScarMatrix, AReleasedDeficitRefillsAtTheRemodellingRate) {
  // Scar matrix gone, no wound (no growth factor, no MMP, resting fibroblasts): collagen III
  // returns to its baseline as C(t) = b - (b - C0) e^{-(k_t + k_rem) t}, exactly.
  const Baseline b = base()[3];
  State s = baseline_state(b);
  const double c0 = 0.7 * b.collagen3;
  s[S("collagen3")] = c0;
  const double t = 2000.0;
  react(P(), b, s, t);
  const double k = P().collagen_turnover + P().collagen_remodelling;
  EXPECT_NEAR(s[S("collagen3")], b.collagen3 - (b.collagen3 - c0) * std::exp(-k * t),
              1e-9 * b.collagen3);
}

TEST(ScarMatrix, MmpsReleaseItAndActivatedFibroblastsFillTheDeficit) {
  // A wound over a scar: MMP activity degrades the scar matrix at scar_susceptibility x the
  // collagen rate; activated fibroblasts fill the released deficit much faster than remodelling
  // alone.
  const Baseline b = base()[3];
  auto scar = [&](double mmp, double gf) {
    State s = baseline_state(b);
    for (const char* f : {"collagen1", "collagen3", "elastin"}) s[S(f)] *= 0.7;
    s[S("scar_matrix")] = 0.3;
    s[S("mmp")] = mmp;
    s[S("growth_factor")] = gf;
    return s;
  };
  State rest = scar(0.0, 0.0), wound = scar(1.0, 0.0);
  react(P(), b, rest, 1.0);
  react(P(), b, wound, 1.0);
  EXPECT_LT(wound[S("scar_matrix")], rest[S("scar_matrix")]);
  // Released by hand: with growth factor held, the fill outpaces the remodelling-only refill.
  State slow = scar(0.0, 0.0), fast = scar(0.0, 5.0);
  slow[S("scar_matrix")] = fast[S("scar_matrix")] = 0.0;
  for (int h = 0; h < 48; ++h) {
    fast[S("growth_factor")] = 5.0;
    react(P(), b, slow, 1.0);
    react(P(), b, fast, 1.0);
  }
  const double C0 = 0.7 * (b.collagen1 + b.collagen3);
  const double gain_slow = slow[S("collagen1")] + slow[S("collagen3")] - C0;
  const double gain_fast = fast[S("collagen1")] + fast[S("collagen3")] - C0;
  EXPECT_GT(gain_slow, 0.0);
  EXPECT_GT(gain_fast, 5.0 * gain_slow);
}

TEST(GrowthLaw, RestoresUpToTheSetPointThenPacksThenSwells) {
  const double P = 1.35;
  EXPECT_DOUBLE_EQ(matrix_volume(1.0, 1.0, P), 1.0);  // normal dermis
  EXPECT_DOUBLE_EQ(matrix_volume(0.7, 0.7, P), 0.7);  // a scar's dermis at its set point
  EXPECT_DOUBLE_EQ(matrix_volume(0.8, 1.0, P), 0.8);  // a deficit filled: volume restored
  EXPECT_DOUBLE_EQ(matrix_volume(1.2, 1.0, P), 1.0);  // excess packs: denser, same volume
  EXPECT_DOUBLE_EQ(matrix_volume(1.35, 1.0, P), 1.0);
  EXPECT_DOUBLE_EQ(matrix_volume(1.62, 1.0, P), 1.62 / P);  // past the packing limit: swells
  // Excess over a scar's set point packs too, and the density never exceeds P x normal.
  EXPECT_DOUBLE_EQ(matrix_volume(0.8, 0.7, P), 0.7);
  for (double m : {0.1, 0.5, 1.0, 1.5, 3.0})
    for (double set : {0.5, 0.8, 1.0}) EXPECT_LE(m / matrix_volume(m, set, P), P + 1e-12);
}

// Redness seen from above (docs/model.md, "Side effects"): each vascularised layer's erythema
// weighted by exp(-top/L) - exp(-bottom/L) of its depth below the top of the dermis.
TEST(Erythema, SeenFromAboveWeighsEachLayerByItsOpticalDepth) {
  Params p = P();
  const Baselines b = base();
  const double L = p.redness_depth;
  ASSERT_GT(L, 0.0);
  // Closed form of the weight; it adds over adjacent depth ranges.
  EXPECT_NEAR(redness_weight(p, 0.0, L), 1.0 - std::exp(-1.0), 1e-12);
  EXPECT_NEAR(redness_weight(p, 0.0, 100.0) + redness_weight(p, 100.0, 300.0),
              redness_weight(p, 0.0, 300.0), 1e-12);
  EXPECT_EQ(redness_weight(p, 200.0, 200.0), 0.0);
  std::array<double, skin::kLayers> h{};
  h.fill(0.0);
  const auto pd = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const auto rd = static_cast<std::size_t>(skin::layer_index(skin::Layer::ReticularDermis));
  const auto ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
  h[ve] = 80.0;
  h[pd] = 150.0;
  h[rd] = 800.0;
  std::array<State, skin::kLayers> s{};
  for (std::size_t k = 0; k < skin::kLayers; ++k) s[k] = baseline_state(b[k]);
  EXPECT_EQ(erythema_seen(p, b, s, h), 0.0);  // no injury: no redness
  // Blood out of the vessels (clot) in one layer: seen with the layer's share of the weight,
  // exactly, and the same blood deeper is seen less.
  const double wp = redness_weight(p, 0.0, 150.0), wr = redness_weight(p, 150.0, 950.0);
  const double wtot = wp + wr;  // the hypodermis has no thickness here: no weight
  auto papillary = s, reticular = s;
  papillary[pd][S("clot")] = 0.5 * b[pd].vascular;
  reticular[rd][S("clot")] = 0.5 * b[rd].vascular;
  EXPECT_NEAR(erythema_seen(p, b, papillary, h), 0.5 * wp / wtot, 1e-12);
  EXPECT_NEAR(erythema_seen(p, b, reticular, h), 0.5 * wr / wtot, 1e-12);
  EXPECT_GT(erythema_seen(p, b, papillary, h), erythema_seen(p, b, reticular, h));
  // A uniform redness is seen as itself; the epidermis (no blood) adds nothing.
  auto both = s;
  both[pd][S("clot")] = 0.3 * b[pd].vascular;
  both[rd][S("clot")] = 0.3 * b[rd].vascular;
  EXPECT_NEAR(erythema_seen(p, b, both, h), 0.3, 1e-12);
  // A deeper scale sees more of the reticular blood.
  p.redness_depth = 4.0 * L;
  EXPECT_GT(erythema_seen(p, b, reticular, h), 0.5 * wr / wtot);
  p.redness_depth = L;
  // The neurogenic flare dilates the top of the dermis: a flare f alone is seen as f with the
  // papillary dermis's share of the weight; blood out of the vessels there adds to it.
  EXPECT_NEAR(erythema_seen(p, b, s, h, 0.6), 0.6 * wp / wtot, 1e-12);
  EXPECT_NEAR(erythema_seen(p, b, papillary, h, 0.6), (0.6 + 0.5) * wp / wtot, 1e-12);
  EXPECT_NEAR(erythema_seen(p, b, reticular, h, 0.6), (0.6 * wp + 0.5 * wr) / wtot, 1e-12);
  EXPECT_EQ(erythema_seen(p, b, s, h, 0.0), 0.0);
}

// The redness of a layer is its blood over the normal amount (docs/model.md, "Side effects"):
// the mediators' dilation (the share of the maximal, which adds the normal blood volume) plus the
// blood out of the vessels; the flare's halos dilate fully, the rest by the mediators' share.
TEST(Erythema, DilationAndExtravasatedBloodAdd) {
  const Params& p = P();
  const Baselines b = base();
  const auto pd = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const auto ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
  const double K = p.erythema_half;
  ASSERT_GT(K, 0.0);
  State s = baseline_state(b[pd]);
  EXPECT_EQ(erythema(p, b[pd], s), 0.0);
  s[S("inflammatory_signal")] = K / 3.0;  // a quarter of the maximal dilation
  EXPECT_NEAR(erythema(p, b[pd], s), 0.25, 1e-12);
  s[S("clot")] = 0.35 * b[pd].vascular;  // and a third of the normal blood volume outside
  EXPECT_NEAR(erythema(p, b[pd], s), 0.25 + 0.35, 1e-12);
  // Each alone below erythema_visible (0.5), together above it: the redness of a session
  // whose mediators and pinpoint bleeding are both modest (issue 17's slow phase).
  ASSERT_DOUBLE_EQ(p.erythema_visible, 0.5);
  EXPECT_GE(erythema(p, b[pd], s), p.erythema_visible);
  State e = baseline_state(b[ve]);  // no vessels: no redness, whatever the mediators
  e[S("inflammatory_signal")] = 10.0 * K;
  EXPECT_EQ(erythema(p, b[ve], e), 0.0);
  // Seen from above with one vascularised layer of any thickness: the layer's redness; the
  // flare's halos (f of the area) dilate fully, the rest by the mediators: d' = 1 - (1-d)(1-f).
  std::array<State, skin::kLayers> layers{};
  for (std::size_t k = 0; k < skin::kLayers; ++k) layers[k] = baseline_state(b[k]);
  layers[pd] = s;
  std::array<double, skin::kLayers> h{};
  h[pd] = 150.0;
  EXPECT_NEAR(erythema_seen(p, b, layers, h), 0.6, 1e-12);
  EXPECT_NEAR(erythema_seen(p, b, layers, h, 0.2), 1.0 - 0.75 * 0.8 + 0.35, 1e-12);
}

// The duration of the mediators' redness when they fall as I0 exp(-k t) with no blood out of
// the vessels: visible while I/(I + K_E) >= e_vis, i.e. until
// t = ln(I0 (1 - e_vis) / (e_vis K_E)) / k; extravasated blood B0 exp(-l t) prolongs it to the root
// of I/(I + K_E) + B = e_vis, past both durations alone.
TEST(Erythema, AnalyticMediatorDecayGivesTheDurationFormula) {
  const Params& p = P();
  const Baselines b = base();
  const auto pd = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const double K = p.erythema_half, ev = p.erythema_visible;
  // Mediators visible alone at first (2/3 of the maximal dilation), the blood never (0.3).
  const double I0 = 2.0 * K, k = 0.05, l = 0.03, B0 = 0.3;  // k, l in 1/h
  auto seen = [&](double t, double blood) {
    std::array<State, skin::kLayers> layers{};
    for (std::size_t q = 0; q < skin::kLayers; ++q) layers[q] = baseline_state(b[q]);
    layers[pd][S("inflammatory_signal")] = I0 * std::exp(-k * t);
    layers[pd][S("clot")] = blood * std::exp(-l * t) * b[pd].vascular;
    std::array<double, skin::kLayers> h{};
    h[pd] = 150.0;
    return erythema_seen(p, b, layers, h);
  };
  // Last time of a 0.01 h scan at which the redness is visible (the column driver's rule).
  auto last_visible = [&](double blood) {
    double last = -1.0;
    for (int i = 0; i <= 20000; ++i) {
      const double t = 0.01 * i;
      if (seen(t, blood) >= ev) last = t;
    }
    return last;
  };
  const double formula = std::log(I0 * (1.0 - ev) / (ev * K)) / k;
  EXPECT_NEAR(last_visible(0.0), formula, 0.011);
  // With the blood: the root of the sum, by bisection on the analytic curves.
  double lo = formula, hi = 200.0;
  auto f = [&](double t) {
    const double i = I0 * std::exp(-k * t);
    return i / (i + K) + B0 * std::exp(-l * t) - ev;
  };
  ASSERT_GT(f(lo), 0.0);
  ASSERT_LT(f(hi), 0.0);
  for (int it = 0; it < 60; ++it) (f(0.5 * (lo + hi)) > 0.0 ? lo : hi) = 0.5 * (lo + hi);
  EXPECT_NEAR(last_visible(B0), lo, 0.011);
  EXPECT_GT(lo, formula);  // the blood alone (0.3 < 0.5) is never visible
}

// The flare's reddened area is the union of the channels' halos at random positions (Poisson
// overlap) and fades exponentially.
TEST(Erythema, FlareCoverIsTheUnionOfTheHalosAndFades) {
  Params p = P();
  const double R = p.flare_radius, tau = p.flare_decay;
  ASSERT_GT(R, 0.0);
  ASSERT_GT(tau, 0.0);
  const double rho = 100.0 * 1e-8;  // 100 /cm^2 in /um^2
  EXPECT_NEAR(flare_cover(p, rho, 1.0), 1.0 - std::exp(-rho * kPi * R * R), 1e-12);
  // Sparse halos barely overlap: the cover is about rho pi R^2; a half crossing, half the area.
  const double sparse = 1e-3 / (kPi * R * R);
  EXPECT_NEAR(flare_cover(p, sparse, 1.0), 1e-3, 1e-6);
  EXPECT_NEAR(flare_cover(p, sparse, 0.5), 5e-4, 1e-6);
  // More channels, or channels crossing more of the papillary dermis, redden more; never > 1.
  EXPECT_GT(flare_cover(p, 3.0 * rho, 1.0), flare_cover(p, rho, 1.0));
  EXPECT_GT(flare_cover(p, rho, 1.0), flare_cover(p, rho, 0.3));
  EXPECT_LE(flare_cover(p, 1e3 * rho, 1.0), 1.0);
  EXPECT_EQ(flare_cover(p, rho, 0.0), 0.0);  // a channel that does not reach the dermis
  EXPECT_EQ(flare_cover(p, 0.0, 1.0), 0.0);
  EXPECT_NEAR(flare_at(p, 0.8, tau), 0.8 * std::exp(-1.0), 1e-12);
  EXPECT_EQ(flare_at(p, 0.8, -1.0), 0.0);  // before the session
}

TEST(HealingKinetics, PositiveAndFiniteForHugeSteps) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto bs = base();
  for (int trial = 0; trial < 2000; ++trial) {
    const Baseline& b = bs[static_cast<std::size_t>(trial % skin::kLayers)];
    State s = baseline_state(b);
    for (int f = 0; f < kFields; ++f) {
      const double scale = 1.0 + s[static_cast<std::size_t>(f)];
      s[static_cast<std::size_t>(f)] = 5.0 * scale * u(rng) * u(rng);
    }
    s[S("damage")] = std::min(1.0, s[S("damage")]);
    const double dt = std::pow(10.0, -3.0 + 9.0 * u(rng));  // 1e-3 .. 1e6 h
    react(P(), b, s, dt);
    for (int f = 0; f < kFields; ++f) {
      const double x = s[static_cast<std::size_t>(f)];
      ASSERT_TRUE(std::isfinite(x) && x >= 0.0) << "field " << f << " dt " << dt << " x " << x;
    }
    // A few more huge steps land on the homeostatic state (one step from an arbitrary state
    // lands on the quasi-equilibrium of the frozen coefficients, not yet the true one).
    if (dt > 1e5) {
      for (int q = 0; q < 40; ++q) react(P(), b, s, 1e8);
      const State s0 = baseline_state(b);
      for (int f = 0; f < kFields; ++f) {
        // Epidermal fields are not evolved outside the viable epidermis; the scar-phenotype share
        // is a memory with no homeostatic value (only new cells dilute it).
        if (f >= static_cast<int>(S("keratinocytes")) && !b.epidermal()) continue;
        if (f == static_cast<int>(S("scar_fibroblasts"))) continue;
        ASSERT_NEAR(s[static_cast<std::size_t>(f)], s0[static_cast<std::size_t>(f)],
                    1e-3 * (1 + s0[static_cast<std::size_t>(f)]))
            << "field " << f;
      }
    }
  }
}

TEST(HealingKinetics, StepsConvergeAtFirstOrder) {
  const Baseline pd = base()[2];
  auto run = [&](double dt) {
    State s = baseline_state(pd);
    s[S("damage")] = 0.3;
    s[S("platelets")] = 0.2;
    s[S("clot")] = 0.2;
    s[S("fibroblasts")] *= 0.7;
    s[S("vascular")] *= 0.7;
    const int n = static_cast<int>(std::lround(96.0 / dt));
    for (int i = 0; i < n; ++i) react(P(), pd, s, dt);
    return s;
  };
  const State ref = run(0.0005);
  // Sum of relative errors of the cellular and growth-factor fields: first order in dt.
  auto err = [&](double dt) {
    const State a = run(dt);
    double e = 0.0;
    for (const char* name :
         {"neutrophils", "macrophages", "growth_factor", "fibroblasts", "collagen3"}) {
      const std::size_t f = S(name);
      e += std::abs(a[f] - ref[f]) / std::abs(ref[f]);
    }
    return e;
  };
  const double e1 = err(1.0), e2 = err(0.25), e3 = err(0.0625);
  // 1 h steps: within 6% summed over five fields after 4 days (measured 4.8%; the mediators act
  // with their start-of-step values, FieldSpec::decay)
  EXPECT_LT(e1, 0.06);
  EXPECT_LT(e2, 0.6 * e1);
  EXPECT_LT(e3, 0.6 * e2);
}

TEST(HealingKinetics, DamageAreaMatchesQuadrature) {
  const double r = 40.0;
  double sum = 0.0;
  const double h = 0.01;
  for (double d = 0.5 * h; d < r + 40 * P().halo_width; d += h) {
    sum += damage_at(P(), r, d) * 2.0 * 3.14159265358979 * d * h;
  }
  EXPECT_NEAR(damage_area(P(), r), sum, 1e-4 * sum);
  EXPECT_DOUBLE_EQ(channel_radius(P(), 50.0, 10.0, 1000.0), 50.0);
  EXPECT_NEAR(channel_radius(P(), 50.0, 1000.0 - 0.5 * P().tip_length, 1000.0), 25.0, 1e-12);
  EXPECT_EQ(channel_radius(P(), 50.0, 1001.0, 1000.0), 0.0);
}

struct Tissue {
  grid::FieldSet fs;
  std::vector<std::uint8_t> layer;
  Baselines b;
};

Tissue make_tissue(int nx, double dx, int nz, double dz) {
  Tissue t{grid::FieldSet(grid::Grid::uniform(nx, nx, nz, dx)), {}, base()};
  const auto prof = testing::cheek_profile();
  const grid::Grid& g = t.fs.grid();
  t.layer.assign(g.padded_size(), 0);
  for (int k = 0; k < nz; ++k) {
    for (int j = 0; j < nx; ++j) {
      for (int i = 0; i < nx; ++i) {
        t.layer[static_cast<std::size_t>(g.at(i, j, k))] =
            static_cast<std::uint8_t>(prof.layer_at(g.zc(k)));
      }
    }
  }
  init_fields(t.b, t.layer, t.fs);
  (void)dz;
  return t;
}

TEST(HealingKinetics, PunctureDepositsTheChannelVolume) {
  Tissue t = make_tissue(40, 10e-6, 80, 10e-6);  // 400 x 400 x 800 um
  devices::Puncture pu;
  pu.x = pu.y = 200e-6;
  pu.depth = 600e-6;
  pu.radius = 100e-6;  // needle radius; the wound is channel_recoil of it
  pu.bled = true;
  InjuryTally tally;
  apply_puncture(P(), pu, t.layer, {}, t.fs, &tally);
  const double r = P().channel_recoil * 100.0, L = 600.0, tip = P().tip_length;
  const double lumen = 3.14159265358979 * r * r * ((L - tip) + tip / 3.0) * 1e-18;  // m^3
  EXPECT_NEAR(tally.lumen_volume, lumen, 0.03 * lumen);
  EXPECT_NEAR(tally.blood_volume, P().blood_fill * tally.lumen_volume, 1e-25);
  EXPECT_GT(tally.damage_volume, tally.lumen_volume);
  // Damage volume agrees with the area integral used by the reduced driver.
  double dv = 0.0;
  for (double s = 0.25; s < L; s += 0.5) dv += damage_area(P(), channel_radius(P(), r, s, L)) * 0.5;
  dv *= 1e-18;
  EXPECT_NEAR(tally.damage_volume, dv, 0.05 * dv);
  // The axis cell in the papillary dermis is destroyed, a far corner untouched.
  const grid::Grid& g = t.fs.grid();
  const auto D = t.fs.view("damage");
  EXPECT_NEAR(D(20, 20, g.k_of_depth(200e-6)), 1.0, 1e-6);
  EXPECT_EQ(D(0, 0, g.k_of_depth(200e-6)), 0.0f);
  EXPECT_NEAR(t.fs.view("fibroblasts")(20, 20, g.k_of_depth(200e-6)), 0.0, 1e-3);
  EXPECT_GT(t.fs.view("platelets")(20, 20, g.k_of_depth(200e-6)), 0.9f);
  // Below the tip nothing happens.
  EXPECT_EQ(D(20, 20, g.k_of_depth(700e-6)), 0.0f);
  // A channel that does not bleed leaves no blood.
  Tissue t2 = make_tissue(40, 10e-6, 80, 10e-6);
  pu.bled = false;
  InjuryTally t2ally;
  apply_puncture(P(), pu, t2.layer, {}, t2.fs, &t2ally);
  EXPECT_EQ(t2ally.blood_volume, 0.0);
  EXPECT_DOUBLE_EQ(t2ally.lumen_volume, tally.lumen_volume);
}

TEST(HealingKinetics, TiltedChannelKeepsItsVolume) {
  Tissue t = make_tissue(60, 10e-6, 80, 10e-6);
  devices::Puncture pu;
  pu.x = pu.y = 300e-6;
  pu.depth = 500e-6;
  pu.radius = 80e-6;
  pu.tilt = 0.3;
  pu.azimuth = 1.0;
  pu.surface_length = 900e-6;  // the roller's rigid sweep does not widen the wound
  InjuryTally tally;
  apply_puncture(P(), pu, t.layer, {}, t.fs, &tally);
  const double L = 500.0 / std::cos(0.3), tip = P().tip_length, r = P().channel_recoil * 80.0;
  const double lumen = 3.14159265358979 * r * r * ((L - tip) + tip / 3.0) * 1e-18;
  EXPECT_NEAR(tally.lumen_volume, lumen, 0.04 * lumen);
}

TEST(HealingKinetics, RfCoagulationZoneIsDepositedAsThermalInjury) {
  // An RF needle's zone (Puncture::coag_*, docs/rf.md): a spheroid of radius 150 um from 300 to
  // 700 um below the surface, on the axis of a channel 600 um deep that bled; 60 % of the
  // collagen inside it denatured.
  Tissue t = make_tissue(50, 10e-6, 90, 10e-6);  // 500 x 500 x 900 um
  devices::Puncture pu;
  pu.x = pu.y = 250e-6;
  pu.depth = 600e-6;
  pu.radius = 50e-6;
  pu.bled = true;
  pu.coag_radius = 150e-6;
  pu.coag_top = 300e-6;
  pu.coag_bottom = 700e-6;
  pu.coag_denatured = 0.6;
  InjuryTally tally;
  apply_puncture(P(), pu, t.layer, {}, t.fs, &tally);
  const double zone = 4.0 / 3.0 * 3.14159265358979 * 150e-6 * 150e-6 * 200e-6;
  EXPECT_NEAR(tally.coag_volume, zone, 0.03 * zone);
  const grid::Grid& g = t.fs.grid();
  const auto D = t.fs.view("damage");
  // Inside the zone beside the channel (100 um off the axis, 500 um deep): the cells killed,
  // 60 % of the collagen moved to the denatured pool, the elastin lost (matrix_loss); outside
  // it (below the zone, 800 um deep): untouched.
  const int k = g.k_of_depth(500e-6);
  EXPECT_NEAR(D(35, 25, k), 1.0, 1e-6);
  EXPECT_NEAR(t.fs.view("fibroblasts")(35, 25, k), 0.0, 1e-3);
  Tissue ref = make_tissue(50, 10e-6, 90, 10e-6);
  const double c1 = ref.fs.view("collagen1")(35, 25, k), c3 = ref.fs.view("collagen3")(35, 25, k);
  EXPECT_NEAR(t.fs.view("collagen1")(35, 25, k), c1 * 0.4, 1e-3 * c1);
  EXPECT_NEAR(t.fs.view("collagen3")(35, 25, k), c3 * 0.4, 1e-3 * c3);
  EXPECT_NEAR(t.fs.view("denatured_collagen")(35, 25, k), 0.6 * (c1 + c3), 1e-3 * (c1 + c3));
  EXPECT_NEAR(t.fs.view("elastin")(35, 25, k),
              ref.fs.view("elastin")(35, 25, k) * (1.0 - P().matrix_loss), 1e-4);
  EXPECT_GT(tally.denatured_collagen, 0.0);
  EXPECT_EQ(D(25, 25, g.k_of_depth(800e-6)), 0.0f);
  EXPECT_EQ(D(2, 2, k), 0.0f);
  EXPECT_EQ(t.fs.view("denatured_collagen")(25, 25, g.k_of_depth(800e-6)), 0.0f);
  // The heat seals the vessels: no blood in the lumen inside the zone (on the axis, 500 um
  // deep), blood in the lumen above it (150 um).
  EXPECT_EQ(t.fs.view("platelets")(25, 25, k), 0.0f);
  EXPECT_GT(t.fs.view("platelets")(25, 25, g.k_of_depth(150e-6)), 0.5f);
  // The same channel without its zone bleeds along its whole lumen.
  InjuryTally mech;
  pu.coag_radius = 0.0;
  apply_puncture(P(), pu, ref.layer, {}, ref.fs, &mech);
  EXPECT_EQ(mech.coag_volume, 0.0);
  EXPECT_EQ(mech.denatured_collagen, 0.0);
  EXPECT_GT(ref.fs.view("platelets")(25, 25, k), 0.5f);
  EXPECT_GT(mech.blood_volume, tally.blood_volume * 1.5);
}

TEST(HealingKinetics, FieldSetReactionMatchesPointwiseAndIgnoresThreads) {
  auto run = [&](int threads) {
    Tissue t = make_tissue(20, 10e-6, 40, 10e-6);
    devices::Puncture pu;
    pu.x = pu.y = 100e-6;
    pu.depth = 350e-6;
    pu.radius = 40e-6;
    pu.bled = true;
    apply_puncture(P(), pu, t.layer, {}, t.fs);
    const int old = omp_get_max_threads();
    omp_set_num_threads(threads);
    for (int s = 0; s < 5; ++s) react_fields(P(), t.b, t.layer, t.fs, 2.0);
    omp_set_num_threads(old);
    return t;
  };
  Tissue a = run(1), b = run(2);
  for (int f = 0; f < a.fs.size(); ++f) {
    const float* x = a.fs.view(f).data;
    const float* y = b.fs.view(f).data;
    for (std::size_t c = 0; c < a.fs.grid().padded_size(); ++c) ASSERT_EQ(x[c], y[c]);
  }
  // Pointwise comparison at the channel axis in the papillary dermis.
  Tissue t = make_tissue(20, 10e-6, 40, 10e-6);
  devices::Puncture pu;
  pu.x = pu.y = 100e-6;
  pu.depth = 350e-6;
  pu.radius = 40e-6;
  pu.bled = true;
  apply_puncture(P(), pu, t.layer, {}, t.fs);
  const grid::Grid& g = t.fs.grid();
  const int k = g.k_of_depth(150e-6);
  State s{};
  for (int f = 0; f < kFields; ++f) s[static_cast<std::size_t>(f)] = t.fs.view(f)(10, 10, k);
  const Baseline& bl = t.b[skin::layer_index(skin::Layer::PapillaryDermis)];
  for (int st = 0; st < 5; ++st) {
    react(P(), bl, s, 2.0);
    for (auto& x : s) x = static_cast<float>(x);
  }
  // Bit for bit: the FieldSet path runs the same operations on the same (float) inputs.
  for (int f = 0; f < kFields; ++f) {
    EXPECT_EQ(static_cast<double>(a.fs.view(f)(10, 10, k)), s[static_cast<std::size_t>(f)])
        << a.fs.name(f);
  }
}

}  // namespace
}  // namespace mnsim::healing
