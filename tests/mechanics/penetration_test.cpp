#include "mechanics/penetration.hpp"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(Penetration, HandCalculatedDepth) {
  PenetrationParams p;
  p.puncture_stress = 190e6;
  p.friction_stress = 10e3;
  p.poisson = 0.5;
  p.modulus_factor = 1.0;
  p.stiffness_depth = 3.0;
  const auto s = uniform_skin(1e6, 10.0);
  const NeedleGeometry g = steel(1e-3);
  // By hand: F_p = 190e6 * pi * 25e-12; k = 2 * 125e-6 * 1e6 / 0.75 + 2 pi 10 / ln(1.25/0.125).
  const double fp = 190e6 * pi * 25e-12;
  const double k = 2 * 125e-6 * 1e6 / 0.75 + 2 * pi * 10 / std::log(10.0);
  const double f = 10e3 * pi * 250e-6;
  const double d = (1e-3 - fp / k) / (1 + f / k);
  const PenetrationResult r = penetrate(g, 0.5, s, p);
  ASSERT_TRUE(r.punctured);
  EXPECT_NEAR(r.puncture_force, fp, 1e-12);
  EXPECT_NEAR(r.stiffness, k, 1e-9);
  EXPECT_NEAR(r.depth, d, 1e-12);
  // Force-limited: just above the puncture force the needle stops early.
  const double f_small = fp + f * 100e-6;
  EXPECT_NEAR(penetrate(g, f_small, s, p).depth, 100e-6, 1e-9);
  // Below the puncture force nothing happens.
  EXPECT_FALSE(penetrate(g, 0.9 * fp, s, p).punctured);
  EXPECT_EQ(penetrate(g, 0.9 * fp, s, p).depth, 0.0);
}

TEST(Penetration, InsertionForceFollowsInterfacialArea) {
  const auto& p = PenetrationParams::defaults();
  NeedleGeometry g = steel(1e-3);
  const double f1 = puncture_force(g, p);
  g.tip_radius *= 2.0;
  EXPECT_NEAR(puncture_force(g, p), 4.0 * f1, 1e-12);  // area law: F ~ r_tip^2
  // Davis 2004 slope: 190 N/mm^2 of interfacial area.
  EXPECT_NEAR(f1 / interfacial_area(steel(1e-3)), 190e6, 1.0);
}

TEST(Penetration, CalibratedToDonnelly2010) {
  const auto path = default_mechanics_path();
  const auto entries = io::read_sourced_file(path);
  const io::SourcedEntry* c = nullptr;
  for (const auto& e : entries) {
    if (e.id() == "donnelly2010") c = &e;
  }
  ASSERT_NE(c, nullptr);
  NeedleGeometry g;
  g.length = c->quantity("needle_length", Dim::Length);
  g.diameter = c->quantity("needle_diameter", Dim::Length);
  g.tip_radius = c->quantity("tip_radius", Dim::Length);
  g.tip_angle = c->quantity("tip_angle", Dim::Angle);
  g.spacing = c->quantity("spacing", Dim::Length);
  const auto skin = mechanics_profile(path, "donnelly2010");
  const auto r = penetrate(g, c->quantity("force_per_needle", Dim::Force), skin,
                           PenetrationParams::defaults());
  ASSERT_TRUE(r.punctured);
  EXPECT_NEAR(r.depth, c->quantity("depth_reached", Dim::Length), 5e-6);
}

TEST(Penetration, DepthMonotoneInLengthAndForce) {
  const auto& p = PenetrationParams::defaults();
  const auto s = uniform_skin(2e6, 8.0);
  double prev = 0.0;
  for (double l = 0.1e-3; l <= 2.5e-3 + 1e-12; l += 0.05e-3) {
    const double d = penetrate(steel(l), 0.2, s, p).depth;
    EXPECT_GE(d, prev) << "length " << l;
    EXPECT_LT(d, l);  // never deeper than the needle
    prev = d;
  }
  EXPECT_GT(prev, 1e-3);
  prev = 0.0;
  double first = -1.0;
  for (double f = 0.0; f <= 1.0; f += 0.005) {
    const double d = penetrate(steel(1.5e-3), f, s, p).depth;
    EXPECT_GE(d, prev) << "force " << f;
    if (first < 0 && d > 0) first = d;
    prev = d;
  }
  EXPECT_GT(prev, first);  // force matters beyond the puncture threshold
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
}

TEST(Penetration, ChannelRadiusFollowsTipCone) {
  const NeedleGeometry g = steel(1e-3);
  EXPECT_NEAR(channel_radius(g, 0.0), 5e-6, 1e-12);
  EXPECT_NEAR(channel_radius(g, 100e-6), 5e-6 + 100e-6 * std::tan(15.0 * pi / 180), 1e-12);
  EXPECT_NEAR(channel_radius(g, 1e-3), 125e-6, 1e-12);
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
