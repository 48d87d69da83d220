// The thermal injury terms of the healing model (an RF needle's coagulation zone; docs/rf.md,
// "Into the healing engine"): the clearance of denatured collagen by MMPs and macrophages, and
// the monocytes it draws, against their closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "healing/kinetics.hpp"
#include "test_profile.hpp"

namespace mnsim::healing {
namespace {

const Params& P() {
  static const Params p = load_default_params().p;
  return p;
}

std::size_t S(const char* name) {
  return static_cast<std::size_t>(healing_model().slot(name));
}

/// The healing model's thermal_injury process alone, on the fields it declares.
Model thermal_only() {
  Model m;
  for (const char* f : {"macrophages", "mmp", "denatured_collagen"}) {
    m.add_field(healing_model().field(healing_model().slot(f)));
  }
  for (const ProcessDef& p : healing_model().processes()) {
    if (p.name == "thermal_injury") m.add_process(p);
  }
  return m;
}

TEST(ThermalInjury, DenaturedCollagenClearsAtItsClosedForm) {
  // dDc/dt = -(k_t + k_m m + k_M M) Dc with m, M held: Dc(t) = Dc0 exp(-(k_t + k_m m + k_M M) t),
  // whatever the step.
  const Model m = thermal_only();
  ASSERT_EQ(m.processes().size(), 1u);
  Reactor r(m, P());
  const Baselines b = baselines_from_profile(testing::cheek_profile());
  const Baseline& pd = b[skin::layer_index(skin::Layer::PapillaryDermis)];
  for (double M : {0.0, 1.0, 2.5}) {
    for (double mmp : {0.0, 1.0, 3.0}) {
      for (double dt : {0.5, 6.0, 48.0}) {
        State s{};
        s[0] = M;
        s[1] = mmp;
        s[2] = 80.0;
        double t = 0.0;
        for (int i = 0; i < 20; ++i) {
          r.react(pd, s, dt);
          t += dt;
        }
        const double k =
            P().collagen_turnover + P().denatured_mmp * mmp + P().denatured_macrophage * M;
        EXPECT_NEAR(s[2], 80.0 * std::exp(-k * t), 1e-11 * 80.0) << M << " " << mmp << " " << dt;
        EXPECT_EQ(s[0], M);
        EXPECT_EQ(s[1], mmp);
      }
    }
  }
}

TEST(ThermalInjury, DenaturedCollagenDrawsMonocytes) {
  // From the papillary baseline (no signal, no neutrophils, vessels at baseline), one step of
  // the full model with denatured collagen Dc: the macrophages follow their exact step with the
  // stimulus s = denatured_recruitment Dc / (C1_0 + C3_0),
  // M(dt) = M0 e^{-d dt} + rho s / (s + K) (1 - e^{-d dt}) / d.
  const Baselines b = baselines_from_profile(testing::cheek_profile());
  const Baseline& pd = b[skin::layer_index(skin::Layer::PapillaryDermis)];
  const double c0 = pd.collagen1 + pd.collagen3;
  for (double share : {0.0, 0.1, 0.5}) {
    State s = baseline_state(pd);
    s[S("denatured_collagen")] = share * c0;
    const double dt = 0.25;
    react(P(), pd, s, dt);
    const double stim = P().denatured_recruitment * share;
    const double d = P().macrophage_clearance;
    const double expected =
        P().macrophage_recruitment * stim / (stim + P().macrophage_half) * -std::expm1(-d * dt) / d;
    EXPECT_NEAR(s[S("macrophages")], expected, 1e-12 + 1e-9 * expected) << share;
    if (share > 0.0) {
      EXPECT_GT(s[S("macrophages")], 0.0);
    }
  }
}

TEST(ThermalInjury, DenaturedCollagenHoldsItsPlaceUntilCleared) {
  // Denatured collagen fills its place in the matrix: with it present, activated fibroblasts
  // deposit less new collagen into a voxel that lost its native collagen.
  const Baselines b = baselines_from_profile(testing::cheek_profile());
  const Baseline& rd = b[skin::layer_index(skin::Layer::ReticularDermis)];
  auto grown = [&](double denatured_share) {
    State s = baseline_state(rd);
    const double c0 = rd.collagen1 + rd.collagen3;
    s[S("collagen1")] *= 0.2;
    s[S("collagen3")] *= 0.2;
    s[S("denatured_collagen")] = denatured_share * c0;
    s[S("growth_factor")] = 5.0;
    const double before = s[S("collagen1")] + s[S("collagen3")];
    react(P(), rd, s, 1.0);
    return s[S("collagen1")] + s[S("collagen3")] - before;
  };
  EXPECT_GT(grown(0.0), grown(0.8));
  EXPECT_GT(grown(0.8), 0.0);
}

TEST(ThermalInjury, MechanicalWoundsDoNotTouchTheNewField) {
  // A state without denatured collagen keeps none, and the baseline is at rest.
  const Baselines b = baselines_from_profile(testing::cheek_profile());
  for (const Baseline& l : b) {
    State s = baseline_state(l);
    s[S("damage")] = 0.5;
    react(P(), l, s, 12.0);
    EXPECT_EQ(s[S("denatured_collagen")], 0.0);
  }
}

}  // namespace
}  // namespace mnsim::healing
