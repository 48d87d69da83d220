#include "mechanics/penetration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>

#include "io/sourced.hpp"

namespace mnsim::mechanics {
namespace {

using std::numbers::pi;

// A uniform skin: every layer the same modulus, so the stiffness is easy to compute by hand.
skin::SkinProfile uniform_skin(double e, double tension) {
  skin::SkinProfile s;
  s.thickness = {20e-6, 60e-6, 100e-6, 1000e-6, 2000e-6};
  s.youngs_modulus = {e, e, e, e, e};
  s.tension = tension;
  s.plexus_depth = 180e-6;
  return s;
}

NeedleGeometry steel(double length) {
  return {length, 250e-6, 5e-6, 30.0 * pi / 180.0, 2.5e-3};
}

PenetrationParams hand_params(double stiffening) {
  PenetrationParams p;
  p.puncture_stress = 190e6;
  p.friction_stress = 10e3;
  p.poisson = 0.5;
  p.modulus_factor = 1.0;
  p.stiffening = stiffening;
  p.stiffness_depth = 3.0;
  return p;
}

TEST(Penetration, HandCalculatedDepthWithoutStiffening) {
  const PenetrationParams p = hand_params(0.0);
  const auto s = uniform_skin(1e6, 10.0);
  const NeedleGeometry g = steel(1e-3);
  // By hand: F_p = 190e6 * pi * 25e-12; k = 2 * 125e-6 * 1e6 / 0.75 + 2 pi 10 / ln(1.25/0.125);
  // with beta = 0, k does not depend on the hub, so d + (F_p + f d)/k = L is linear in d.
  const double fp = 190e6 * pi * 25e-12;
  const double k = 2 * 125e-6 * 1e6 / 0.75 + 2 * pi * 10 / std::log(10.0);
  const double f = 10e3 * pi * 250e-6;
  const double d = (1e-3 - fp / k) / (1 + f / k);
  const PenetrationResult r = penetrate(g, 0.5, s, p);
  ASSERT_TRUE(r.punctured);
  EXPECT_NEAR(r.puncture_force, fp, 1e-12);
  EXPECT_NEAR(r.stiffness, k, 1e-9);
  EXPECT_NEAR(r.depth, d, 1e-11);
  EXPECT_NEAR(r.dimple, (fp + f * d) / k, 1e-11);
  // Force-limited: just above the puncture force the needle stops early.
  const double f_small = fp + f * 100e-6;
  EXPECT_NEAR(penetrate(g, f_small, s, p).depth, 100e-6, 1e-9);
  // Below the puncture force nothing happens.
  EXPECT_FALSE(penetrate(g, 0.9 * fp, s, p).punctured);
  EXPECT_EQ(penetrate(g, 0.9 * fp, s, p).depth, 0.0);
}

TEST(Penetration, HubPressureStiffensTheSkinByHand) {
  const double beta = 2.0;
  const PenetrationParams p = hand_params(beta);
  const auto s = uniform_skin(50e3, 8.0);
  const NeedleGeometry g = steel(0.8e-3);
  const double force = 0.2;
  const PenetrationResult r = penetrate(g, force, s, p);
  ASSERT_TRUE(r.punctured);
  // Recompute the state at the depth found, by hand.
  const double d = r.depth;
  const double fp = 190e6 * pi * 25e-12;
  const double res = fp + 10e3 * pi * 250e-6 * d;
  const double ph = (force - res) / (2.5e-3 * 2.5e-3);
  const double h = 20e-6 + 60e-6 + 100e-6 + 1000e-6;
  const double et = 50e3 + beta * (8.0 / h + ph);
  const double k = 2 * 125e-6 * et / 0.75 + 2 * pi * 8.0 / std::log(1.25e-3 / 125e-6);
  EXPECT_NEAR(r.hub_pressure, ph, 1e-6 * ph);
  EXPECT_NEAR(r.modulus, et, 1e-6 * et);
  EXPECT_NEAR(r.stiffness, k, 1e-6 * k);
  EXPECT_NEAR(d + res / k, g.length, 1e-10);  // the hub has reached the skin
  EXPECT_NEAR(r.dimple, res / k, 1e-10);
  // Without stiffening the same needle dimples more.
  EXPECT_LT(penetrate(g, force, s, hand_params(0.0)).depth, d);
}

TEST(Penetration, SingleNeedleWithoutHub) {
  const PenetrationParams p = hand_params(2.0);
  const auto s = uniform_skin(50e3, 8.0);
  NeedleGeometry g = steel(2e-3);
  g.spacing = 0.0;
  // No hub: no hub pressure, no membrane term; only the pre-stress stiffens the half-space.
  const double h = 1180e-6;
  const double k = 2 * 125e-6 * (50e3 + 2.0 * 8.0 / h) / 0.75;
  EXPECT_EQ(hub_pressure(g, 10.0, 0.01), 0.0);
  EXPECT_NEAR(skin_stiffness(g, s, p, 0.0), k, 1e-9);
  const auto r = penetrate(g, 10.0, s, p);
  ASSERT_TRUE(r.punctured);
  EXPECT_EQ(r.hub_pressure, 0.0);
  EXPECT_NEAR(r.depth + r.dimple, g.length, 1e-10);
}

TEST(Penetration, InsertionForceFollowsInterfacialArea) {
  const auto& p = PenetrationParams::defaults();
  NeedleGeometry g = steel(1e-3);
  const double f1 = puncture_force(g, p);
  g.tip_radius *= 2.0;
  EXPECT_NEAR(puncture_force(g, p), 4.0 * f1, 1e-12);  // area law: F ~ r_tip^2
  // Davis 2004 slope: 190 N/mm^2 of interfacial area.
  EXPECT_NEAR(f1 / interfacial_area(steel(1e-3)), 190e6, 1.0);
  // Olatunji 2013 measured 0.02-0.03 N per needle; a 5 um steel tip needs 0.015 N.
  EXPECT_NEAR(f1, 0.0149, 0.0001);
}

double observed(const std::string& entry, const std::string& key, Dim d) {
  for (const auto& e : io::read_sourced_file(default_mechanics_path())) {
    if (e.id() == entry) return e.quantity(key, d);
  }
  ADD_FAILURE() << "no [" << entry << "]";
  return 0.0;
}

// Human in vivo, OCT: 600 um Gantrez needles reached about 460 um (Donnelly 2011).
TEST(PenetrationValidation, Donnelly2010HumanInVivo) {
  const auto c = penetration_case(default_mechanics_path(), "donnelly2010");
  EXPECT_EQ(c.preparation, "human_forearm_in_vivo");
  EXPECT_GT(c.skin.tension, 5.0);
  const auto r = penetrate(c.needle, c.force, c.skin, PenetrationParams::defaults());
  ASSERT_TRUE(r.punctured);
  const double obs = observed("donnelly2010", "depth_reached", Dim::Length);
  std::printf("Donnelly 2010: model %.1f um, observed %.1f um\n", r.depth * 1e6, obs * 1e6);
  EXPECT_NEAR(r.depth, obs, 0.15 * obs);
}

// Rat ex vivo, histology: 770 um roller needles made channels 152.5 +- 9.6 um deep (Kalluri 2011).
TEST(PenetrationValidation, Kalluri2011RatExVivo) {
  const auto c = penetration_case(default_mechanics_path(), "kalluri2011");
  EXPECT_EQ(c.skin.tension, 0.0);
  // The force per needle is the roller's force sharing: 3 N over N arccos(R/(R+L))/pi needles.
  const double n = 192.0 * std::acos(10e-3 / (10e-3 + c.needle.length)) / pi;
  EXPECT_NEAR(c.force, 3.0 / n, 0.001);
  const auto r = penetrate(c.needle, c.force, c.skin, PenetrationParams::defaults());
  ASSERT_TRUE(r.punctured);
  const double obs = observed("kalluri2011", "depth_reached", Dim::Length);
  std::printf("Kalluri 2011: model %.1f um, observed %.1f um\n", r.depth * 1e6, obs * 1e6);
  EXPECT_NEAR(r.depth, obs, 0.30 * obs);
  // Same roller needle and force on human skin in vivo (tension 8.5 N/m): far deeper.
  const auto human = mechanics_profile(default_mechanics_path(), "human_forearm_in_vivo");
  const auto rh = penetrate(c.needle, c.force, human, PenetrationParams::defaults());
  std::printf("  same needle, human forearm in vivo: %.1f um\n", rh.depth * 1e6);
  EXPECT_GT(rh.depth, 2.0 * r.depth);
  // Tension is most of the difference: without it the human preparation dimples like the rat's.
  auto slack = human;
  slack.tension = 0.0;
  auto taut_rat = c.skin;
  taut_rat.tension = human.tension;
  const double d_slack = penetrate(c.needle, c.force, slack, PenetrationParams::defaults()).depth;
  const double d_taut = penetrate(c.needle, c.force, taut_rat, PenetrationParams::defaults()).depth;
  std::printf("  human with T = 0: %.1f um; rat with T = %.1f N/m: %.1f um\n", d_slack * 1e6,
              human.tension, d_taut * 1e6);
  EXPECT_LT(d_slack, r.depth);
  EXPECT_GT(d_taut, 2.0 * r.depth);
}

// Pig ex vivo, single steel needles: less than half the nominal insertion depth is buried below
// 1 mm (Lam 2008). Holds for every needle diameter from 100 to 300 um, not just the case's.
TEST(PenetrationValidation, Lam2008PigExVivoBuriedBelowHalf) {
  const auto c = penetration_case(default_mechanics_path(), "lam2008");
  const double max_fraction = observed("lam2008", "buried_fraction_max", Dim::Fraction);
  const auto& p = PenetrationParams::defaults();
  for (double dia : {100e-6, 150e-6, c.needle.diameter, 250e-6, 300e-6}) {
    NeedleGeometry g = c.needle;
    g.diameter = dia;
    double prev = 0.0;
    for (double l = 50e-6; l <= c.needle.length + 1e-12; l += 50e-6) {
      g.length = l;
      const double frac = penetrate(g, c.force, c.skin, p).depth / l;
      EXPECT_LT(frac, max_fraction) << "diameter " << dia << ", length " << l;
      EXPECT_GE(frac, prev) << "shorter insertions lose a larger fraction";
      prev = frac;
    }
    std::printf("Lam 2008, %.0f um needle: %.0f %% of 1 mm buried\n", dia * 1e6, prev * 100);
  }
  // The case's own needle punctures within 1 mm.
  EXPECT_TRUE(penetrate(c.needle, c.force, c.skin, p).punctured);
}

TEST(Penetration, DepthMonotoneInLengthAndForce) {
  const auto& p = PenetrationParams::defaults();
  const auto path = default_mechanics_path();
  for (const char* prep : {"human_forearm_in_vivo", "rat_ex_vivo", "pig_ex_vivo"}) {
    const auto s = mechanics_profile(path, prep);
    double prev = 0.0;
    for (double l = 0.1e-3; l <= 2.5e-3 + 1e-12; l += 0.05e-3) {
      const double d = penetrate(steel(l), 0.2, s, p).depth;
      EXPECT_GE(d, prev) << prep << " length " << l;
      EXPECT_LT(d, l);  // never deeper than the needle
      prev = d;
    }
    EXPECT_GT(prev, 1e-3) << prep;
    prev = 0.0;
    double first = -1.0;
    for (double f = 0.0; f <= 2.0; f += 0.005) {
      const double d = penetrate(steel(1.0e-3), f, s, p).depth;
      EXPECT_GE(d, prev) << prep << " force " << f;
      if (first < 0 && d > 0) first = d;
      prev = d;
    }
    EXPECT_GT(prev, first + 50e-6) << prep;  // force matters beyond the puncture threshold
    // ... and saturates at the nominal length.
    EXPECT_GT(penetrate(steel(1.0e-3), 1e3, s, p).depth, 0.99e-3) << prep;
  }
}

TEST(Penetration, TensionAndStiffnessReduceDimpling) {
  const auto& p = PenetrationParams::defaults();
  const NeedleGeometry g = steel(0.6e-3);
  const double slack = penetrate(g, 0.5, uniform_skin(1e6, 0.0), p).depth;
  const double taut = penetrate(g, 0.5, uniform_skin(1e6, 11.4), p).depth;
  const double stiff = penetrate(g, 0.5, uniform_skin(4e6, 0.0), p).depth;
  EXPECT_GT(taut, slack);
  EXPECT_GT(stiff, slack);
  // Blunter tips dimple more.
  NeedleGeometry blunt = g;
  blunt.tip_radius = 15e-6;
  EXPECT_LT(penetrate(blunt, 0.5, uniform_skin(1e6, 8.0), p).depth,
            penetrate(g, 0.5, uniform_skin(1e6, 8.0), p).depth);
  // A short needle may not puncture at all: the hub meets the skin before F_p is reached.
  const auto human = mechanics_profile(default_mechanics_path(), "human_forearm_in_vivo");
  EXPECT_FALSE(penetrate(steel(0.1e-3), 0.05, human, p).punctured);
}

TEST(Penetration, ChannelRadiusFollowsTipCone) {
  const NeedleGeometry g = steel(1e-3);
  EXPECT_NEAR(channel_radius(g, 0.0), 5e-6, 1e-12);
  EXPECT_NEAR(channel_radius(g, 100e-6), 5e-6 + 100e-6 * std::tan(15.0 * pi / 180), 1e-12);
  EXPECT_NEAR(channel_radius(g, 1e-3), 125e-6, 1e-12);
}

TEST(Penetration, MissingPreparationIsAnInputError) {
  EXPECT_THROW(mechanics_profile(default_mechanics_path(), "no_such_preparation"), InputError);
  EXPECT_THROW(penetration_case(default_mechanics_path(), "penetration"), InputError);
}

TEST(SourcedData, MissingSourceIsAnInputErrorAtItsLine) {
  const std::string text =
      "[a]\nx = { value = \"1 mm\", source = \"Someone 2020, J\" }\n"
      "y = { value = \"2 mm\" }\n";
  try {
    io::parse_sourced_text(text, "bad.toml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.loc().line, 3);
    EXPECT_EQ(e.key(), "a.y");
  }
  EXPECT_THROW(io::parse_sourced_text("[a]\nx = 3\n", "bad.toml"), InputError);
  const auto ok = io::parse_sourced_text(text.substr(0, text.find("y =")), "ok.toml");
  EXPECT_DOUBLE_EQ(ok[0].quantity("x", Dim::Length), 1e-3);
  EXPECT_THROW(ok[0].quantity("x", Dim::Time), InputError);
}

}  // namespace
}  // namespace mnsim::mechanics
