// Substances as healing fields (healing/substances.hpp) and the closure of the channels they
// enter through (healing/channel_closure.hpp), against analytic solutions: first-order dermal
// clearance, the two-compartment lumen-tissue exchange, 1D diffusion from a constant-concentration
// source (erfc), the mass balance of a delivered dose, and tranexamic acid's share of the
// melanogenic stimulus (docs/substances.md, "Verification").
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/constants.hpp"
#include "healing/channel_closure.hpp"
#include "healing/engine.hpp"
#include "healing/substances.hpp"
#include "healing_model/test_tissue.hpp"
#include "skin/atlas.hpp"

namespace mnsim::healing {
namespace {

Application txa(double mg_per_ml) {
  Application a;
  a.agent = "tranexamic_acid";
  a.vehicle = "aqueous";
  a.concentration = mg_per_ml;
  a.film = 20e-6;
  a.contact = kHour;
  return a;
}

Baseline layer_baseline(skin::Layer l) {
  Baseline b;
  b.layer = l;
  b.vascular = l == skin::Layer::ViableEpidermis ? 0.0 : 0.05;
  b.fibroblasts = l == skin::Layer::ViableEpidermis ? 0.0 : 5000.0;
  return b;
}

TEST(Substances, DataGiveStokesEinsteinPottsGuyAndFlowLimitedClearance) {
  const SubstanceData& d = SubstanceData::defaults();
  const Agent& t = d.agents.at("tranexamic_acid");
  const Agent& m = d.agents.at("minoxidil");
  // kT / (6 pi eta r) with r from the molecular volume.
  const double r =
      std::cbrt(3.0 * t.molecular_weight * 1e-3 / 6.02214076e23 * d.specific_volume / (4.0 * kPi));
  EXPECT_NEAR(d.free_diffusivity(t), 1.380649e-23 * d.temperature / (6 * kPi * d.viscosity * r),
              1e-20);
  // A small solute in water: of order 1e-9 m^2/s; heavier molecules diffuse more slowly.
  EXPECT_GT(d.free_diffusivity(t), 4e-10);
  EXPECT_LT(d.free_diffusivity(t), 1.5e-9);
  EXPECT_LT(d.free_diffusivity(m), d.free_diffusivity(t));
  EXPECT_NEAR(d.tissue_diffusivity(t), d.hindrance * d.free_diffusivity(t) * 1e12 * 3600, 1e-6);
  // log10 kp (cm/h) = -2.7 + 0.71 log P - 0.0061 MW, in um/h.
  EXPECT_NEAR(d.sc_permeability(m), std::pow(10.0, -2.7 + 0.71 * 1.24 - 0.0061 * 209.25) * 1e4,
              1e-9);
  EXPECT_LT(d.sc_permeability(t), d.sc_permeability(m));  // hydrophilic: a poorer permeant
  EXPECT_NEAR(d.clearance_rate(), d.perfusion / d.blood_partition * 3600.0, 1e-12);
}

struct OneSolute {
  std::shared_ptr<SubstanceDrive> drive = std::make_shared<SubstanceDrive>();
  Model model = healing_model();
  SubstanceData data = SubstanceData::defaults();
  int C = -1, S = -1, liquid = -1, entered = -1, cleared = -1, mu = -1, I = -1, v = -1;
  explicit OneSolute(double perfusion = -1.0, double dx_um = 60.0) {
    if (perfusion >= 0.0) data.perfusion = perfusion;
    add_substances(model, data, {txa(40.0)}, drive, dx_um, 15.0);
    C = model.slot("tranexamic_acid");
    S = model.slot("tranexamic_acid_lumen");
    liquid = model.slot("tranexamic_acid_liquid");
    entered = model.slot("tranexamic_acid_permeated");
    cleared = model.slot("tranexamic_acid_cleared");
    mu = model.slot("melanin_excess");
    I = model.slot("inflammatory_signal");
    v = model.slot("vascular");
  }
};

TEST(Substances, DermalClearanceIsFirstOrderAndScalesWithTheVessels) {
  OneSolute o;
  const Params p = load_default_params().p;
  Reactor r(o.model, p);
  const Baseline b = layer_baseline(skin::Layer::ReticularDermis);
  State s = baseline_state(b, o.model);
  s[static_cast<std::size_t>(o.C)] = 100.0;
  const double k = o.data.clearance_rate();
  for (int i = 0; i < 10; ++i) r.react(b, s, 0.05);
  EXPECT_NEAR(s[static_cast<std::size_t>(o.C)], 100.0 * std::exp(-k * 0.5), 1e-9);
  EXPECT_NEAR(s[static_cast<std::size_t>(o.cleared)] + s[static_cast<std::size_t>(o.C)], 100.0,
              1e-9);
  // Twice the vascular fraction clears twice as fast.
  State s2 = baseline_state(b, o.model);
  s2[static_cast<std::size_t>(o.v)] = 2.0 * b.vascular;
  s2[static_cast<std::size_t>(o.C)] = 100.0;
  r.react(b, s2, 0.01);
  EXPECT_NEAR(s2[static_cast<std::size_t>(o.C)], 100.0 * std::exp(-2.0 * k * 0.01), 1e-3);
  // The epidermis has no vessels: nothing cleared there.
  const Baseline ve = layer_baseline(skin::Layer::ViableEpidermis);
  State s3 = baseline_state(ve, o.model);
  s3[static_cast<std::size_t>(o.C)] = 100.0;
  r.react(ve, s3, 1.0);
  EXPECT_EQ(s3[static_cast<std::size_t>(o.cleared)], 0.0);
}

TEST(Substances, LumenAndTissueExchangeAsTwoCompartments) {
  OneSolute o(0.0);
  const Params p = load_default_params().p;
  Reactor r(o.model, p);
  const Baseline b = layer_baseline(skin::Layer::ViableEpidermis);
  State s = baseline_state(b, o.model);
  const double phi = 0.2, S0 = 1000.0;
  s[static_cast<std::size_t>(o.liquid)] = phi;
  s[static_cast<std::size_t>(o.S)] = S0;
  // S(t) = phi T + (S0 - phi T) exp(-lambda t), lambda = 8 D / (dx^2 (1 - phi)).
  const double lambda = 8.0 * o.data.tissue_diffusivity(o.data.agents.at("tranexamic_acid")) /
                        (60.0 * 60.0 * (1.0 - phi));
  const double t = 0.3 / lambda;
  for (int i = 0; i < 3; ++i) r.react(b, s, t / 3.0);
  const double expect = phi * S0 + (S0 - phi * S0) * std::exp(-lambda * t);
  EXPECT_NEAR(s[static_cast<std::size_t>(o.S)], expect, 1e-9 * S0);
  EXPECT_NEAR(s[static_cast<std::size_t>(o.S)] + s[static_cast<std::size_t>(o.C)], S0, 1e-9 * S0);
  EXPECT_EQ(s[static_cast<std::size_t>(o.entered)], 0.0);  // nothing through the stratum corneum
  // At equilibrium the concentrations are equal: S / phi = C / (1 - phi).
  for (int i = 0; i < 100; ++i) r.react(b, s, 10.0 / lambda);
  EXPECT_NEAR(s[static_cast<std::size_t>(o.S)] / phi, s[static_cast<std::size_t>(o.C)] / (1 - phi),
              1e-6 * S0);
}

TEST(Substances, TheFilmPermeatesTheStratumCorneumAtKpTimesItsConcentration) {
  OneSolute o(0.0);
  o.drive->vehicle[0] = 40000.0;  // ug/mL in the film
  const Params p = load_default_params().p;
  Reactor r(o.model, p);
  const Baseline sc = layer_baseline(skin::Layer::StratumCorneum);
  State s = baseline_state(sc, o.model);
  r.react(sc, s, 0.5);
  // Flux kp C per area over the 15 um stratum corneum of OneSolute.
  const double kp = o.data.sc_permeability(o.data.agents.at("tranexamic_acid"));
  EXPECT_NEAR(s[static_cast<std::size_t>(o.C)], kp * 40000.0 * 0.5 / 15.0, 1e-9);
  EXPECT_EQ(s[static_cast<std::size_t>(o.entered)], s[static_cast<std::size_t>(o.C)]);
  // Only the stratum corneum takes it from the film.
  const Baseline ve = layer_baseline(skin::Layer::ViableEpidermis);
  State t = baseline_state(ve, o.model);
  r.react(ve, t, 0.5);
  EXPECT_EQ(t[static_cast<std::size_t>(o.C)], 0.0);
}

TEST(Substances, TranexamicAcidRemovesItsShareOfTheMelanogenicStimulus) {
  OneSolute o(0.0);
  const Params p = load_default_params().p;
  const Agent& t = o.data.agents.at("tranexamic_acid");
  Reactor r(o.model, p);
  const Baseline b = layer_baseline(skin::Layer::ViableEpidermis);
  State base = baseline_state(b, o.model);
  base[static_cast<std::size_t>(o.I)] = 0.3;
  base[static_cast<std::size_t>(o.mu)] = 0.01;
  State without = base, with = base;
  // Half occupancy of plasminogen's high-affinity site: Kd in ug/mL.
  with[static_cast<std::size_t>(o.C)] = t.half_inhibition_um * t.molecular_weight * 1e-3;
  r.react(b, without, 0.5);
  r.react(b, with, 0.5);
  const double decay = std::exp(-0.5 / p.epidermal_turnover);
  const double made_without = without[static_cast<std::size_t>(o.mu)] - 0.01 * decay;
  const double made_with = with[static_cast<std::size_t>(o.mu)] - 0.01 * decay;
  ASSERT_GT(made_without, 0.0);
  EXPECT_NEAR(made_with, (1.0 - 0.5 * t.plasmin_share) * made_without, 1e-12);
}

/// A test process holding the agent at C_s in the epidermis (a Dirichlet source for the erfc
/// test).
class HoldEpidermis final : public BoundProcess {
 public:
  explicit HoldEpidermis(const Binding& b) : C_(b.slot("tranexamic_acid")) {}
  void apply(const Cells& c) const override {
    if (c.baseline->layer != skin::Layer::StratumCorneum && !c.baseline->epidermal()) return;
    for (std::size_t i = 0; i < c.n; ++i) c.now[C_][i] = 1000.0;
  }

 private:
  int C_;
};

TEST(Substances, DiffusionFromAConstantSourceFollowsErfc) {
  // The agent's field as the engine transports it, below an epidermis held at C_s (a test
  // process), without clearance: C_s erfc(z / (2 sqrt(D t))), z from the centre of the last
  // held cell (a finite-volume cell held at C_s is a Dirichlet condition at its centre).
  OneSolute o(0.0);
  o.model.add_process({"test_hold", {}, {"tranexamic_acid"}, [](const Binding& b) {
                         return std::unique_ptr<BoundProcess>(std::make_unique<HoldEpidermis>(b));
                       }});
  const skin::Tissue tissue = testing::small_cheek_tissue("substances_test.toml");
  const Params p = load_default_params().p;
  EngineOptions opt;
  opt.dt_initial = opt.dt_after_event = 0.5;
  opt.dt_max = 2.0;
  Engine e(tissue, p, opt, o.model);
  const grid::Grid& g = e.grid();
  const int ic = g.nx / 2, jc = g.ny / 2;
  int k_end = 0;  // first cell below the epidermis
  while (e.layer_of()[static_cast<std::size_t>(g.at(ic, jc, k_end))] <=
         skin::layer_index(skin::Layer::ViableEpidermis) + 1) {
    ++k_end;
  }
  const double t_h = 0.05;
  e.stepper().advance_to(t_h * kHour);
  const double D = o.data.tissue_diffusivity(o.data.agents.at("tranexamic_acid")) * 1e-12 / kHour;
  const grid::ConstFieldView C = e.fields().view(o.C);
  // Held by the reaction step; the last transport step moved a little out of it (splitting).
  const double cs = C(ic, jc, k_end - 1);
  EXPECT_NEAR(cs, 1000.0, 50.0);
  int compared = 0;
  for (int k = k_end; k < g.nz; ++k) {
    const double z = g.zc(k) - g.zc(k_end - 1);
    const double want = std::erfc(z / (2.0 * std::sqrt(D * t_h * kHour)));
    if (want < 0.02) break;
    EXPECT_NEAR(C(ic, jc, k) / cs, want, 0.02) << "z = " << z * 1e6 << " um";
    ++compared;
  }
  EXPECT_GE(compared, 5);
}

TEST(Substances, DeliveredDoseBalancesLumenTissueAndClearance) {
  OneSolute o;
  const skin::Tissue tissue = testing::small_cheek_tissue("substances_test.toml");
  const Params p = load_default_params().p;
  Engine e(tissue, p, {}, o.model);
  const grid::Grid& g = e.grid();
  float* liquid = e.fields().view(o.liquid).data;
  float* S = e.fields().view(o.S).data;
  double put = 0.0;
  // A channel of the formulation down the middle column, 0.6 mm deep.
  for (int k = 0; k < g.k_of_depth(0.6e-3); ++k) {
    const std::ptrdiff_t c = g.at(g.nx / 2, g.ny / 2, k);
    if (e.layer_of()[static_cast<std::size_t>(c)] == 0) continue;
    liquid[c] = 0.3f;
    S[c] = 0.3f * 40000.0f;
    put += S[c] * g.dx * g.dx * g.dz(k);
  }
  e.stepper().advance_to(1.0 * kHour);
  auto total = [&](int f) {
    double s = 0.0;
    const float* u = e.fields().view(f).data;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) s += u[g.at(i, j, k)] * g.dx * g.dx * g.dz(k);
    return s;
  };
  const double lumen = total(o.S), tissue_amount = total(o.C), cleared = total(o.cleared);
  EXPECT_GT(cleared, 0.1 * put);  // the blood took some
  EXPECT_GT(tissue_amount, 0.0);  // some is still in the tissue
  EXPECT_NEAR(lumen + tissue_amount + cleared, put, 1e-4 * put);
  EXPECT_EQ(total(o.entered), 0.0);  // no film on the skin: nothing through the stratum corneum
}

TEST(ChannelClosure, WiderBleedingAndIsolatedChannelsCloseLater) {
  const Params p = load_default_params().p;
  const ClosureParams& c = ClosureParams::defaults();
  auto closure = [&](double r, double density, bool bled) {
    ChannelGeometry g{r, density, bled, 0.0};
    return close_channels(p, c, g, 96.0).closure_time;
  };
  const double base = closure(35.0, 0.0, false);
  ASSERT_GT(base, 0.0);
  EXPECT_GT(closure(50.0, 0.0, false), base);  // diameter
  EXPECT_GT(closure(35.0, 0.0, true), base);   // a clot in the mouth (depth past the plexus)
  // Density: a dense lattice shares the cells between the channels (the unit cell bounds the
  // domain) and closes them at another time than an isolated channel.
  EXPECT_NE(closure(35.0, 3000e-8, false), base);
  // Clot-free channels run with the calibrated keratinocyte motility.
  EXPECT_EQ(closure_params(p, c, {35.0, 0.0, false, 0.0}).keratinocyte_motility,
            p.keratinocyte_motility);
  EXPECT_EQ(closure_params(p, c, {35.0, 0.0, true, 0.0}).keratinocyte_motility,
            p.keratinocyte_motility * c.clot_motility);
}

// Depth: a channel that did not bleed waits for its lumen to fill from the base before the
// epidermis bridges its mouth. Closed form: closure(L) = closure(0) + L / fill_speed, the open
// fraction 1 until then; a channel that bled is filled by its clot at once (no wait).
TEST(ChannelClosure, UnbledLumenDelaysClosureByItsFillTime) {
  const Params p = load_default_params().p;
  const ClosureParams& c = ClosureParams::defaults();
  ASSERT_GT(c.fill_speed, 0.0);
  auto heal = [&](double lumen, bool bled) {
    return close_channels(p, c, {35.0, 300e-8, bled, lumen}, 96.0);
  };
  const ChannelHealing h0 = heal(0.0, false);
  ASSERT_GT(h0.closure_time, 0.0);
  for (double lumen : {50.0, 150.0, 400.0}) {
    const ChannelHealing h = heal(lumen, false);
    const double wait = lumen / c.fill_speed;
    EXPECT_NEAR(h.closure_time, h0.closure_time + wait, 1e-9) << lumen;
    EXPECT_EQ(h.open_at(0.5 * wait), 1.0);
    EXPECT_NEAR(h.open_at(wait + 2.0), h0.open_at(2.0), 1e-12);
    EXPECT_NEAR(h.damage_at(wait + 2.0), h0.damage_at(2.0), 1e-12);
  }
  // The barrier is read at the samples: the wait is sampled as finely as the healing, so the
  // barrier (set by the sealing of the opening, hours) is not pushed to the end of the wait.
  const ChannelHealing waiting = heal(400.0, false);
  EXPECT_LE(waiting.t[1] - waiting.t[0], h0.t[1] - h0.t[0] + 1e-12);
  EXPECT_LT(barrier_recovery_time(p, waiting, 300e-8), 0.5 * 400.0 / c.fill_speed);
  // Bled: the lumen's length does not matter.
  EXPECT_EQ(heal(400.0, true).closure_time, heal(0.0, true).closure_time);
  // The geometry from a skin profile: the lumen is what lies below the viable epidermis; past
  // the superficial plexus the channel bleeds.
  const skin::SkinProfile prof =
      skin::default_atlas().make_profile("medial_cheek", 35.0, skin::Sex::Female, 3);
  const double ve_bottom = 1e6 * prof.bottom_of(skin::Layer::ViableEpidermis);
  const ChannelGeometry shallow = channel_geometry(prof, 35.0, 0.5 * ve_bottom, 0.0);
  EXPECT_EQ(shallow.lumen_um, 0.0);
  const double z = 0.5 * (ve_bottom + 1e6 * prof.plexus_depth);
  const ChannelGeometry mid = channel_geometry(prof, 35.0, z, 0.0);
  EXPECT_FALSE(mid.bled);
  EXPECT_NEAR(mid.lumen_um, z - ve_bottom, 1e-9);
  EXPECT_NEAR(fill_time(c, mid), (z - ve_bottom) / c.fill_speed, 1e-12);
  const ChannelGeometry deep = channel_geometry(prof, 35.0, 1.1e6 * prof.plexus_depth, 0.0);
  EXPECT_TRUE(deep.bled);
  EXPECT_EQ(fill_time(c, deep), 0.0);
}

}  // namespace
}  // namespace mnsim::healing
