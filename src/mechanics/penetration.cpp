#include "mechanics/penetration.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "io/sourced.hpp"

namespace mnsim::mechanics {

using std::numbers::pi;

std::filesystem::path default_mechanics_path() {
  return io::data_dir() / "mechanics.toml";
}

PenetrationParams PenetrationParams::load(const std::filesystem::path& path) {
  const auto entries = io::read_sourced_file(path);
  const io::SourcedEntry* e = nullptr;
  for (const auto& x : entries) {
    if (x.id() == "penetration") e = &x;
  }
  if (!e) {
    throw InputError({path.string(), 1, 1}, "penetration", "missing [penetration] table",
                     "the penetration model parameters");
  }
  PenetrationParams p;
  auto positive = [&](const std::string& key, double v) {
    if (!(v > 0.0) || !std::isfinite(v)) e->fail(key, "must be positive and finite");
    return v;
  };
  p.puncture_stress = positive("puncture_stress", e->quantity("puncture_stress", Dim::Pressure));
  p.friction_stress = positive("friction_stress", e->quantity("friction_stress", Dim::Pressure));
  p.poisson = e->number("poisson_ratio");
  if (!(p.poisson >= 0.0 && p.poisson < 0.5)) e->fail("poisson_ratio", "out of range", "0 to 0.5");
  p.modulus_factor = positive("modulus_factor", e->number("modulus_factor"));
  p.stiffness_depth = positive("stiffness_depth", e->number("stiffness_depth"));
  return p;
}

const PenetrationParams& PenetrationParams::defaults() {
  static const PenetrationParams p = load(default_mechanics_path());
  return p;
}

double interfacial_area(const NeedleGeometry& g) {
  return pi * g.tip_radius * g.tip_radius;
}

double puncture_force(const NeedleGeometry& g, const PenetrationParams& p) {
  return p.puncture_stress * interfacial_area(g);
}

double mean_modulus(const skin::SkinProfile& s, double depth) {
  double z = 0.0, sum = 0.0;
  for (int i = 0; i < skin::kLayers && z < depth; ++i) {
    const double t = std::min(s.thickness[static_cast<std::size_t>(i)], depth - z);
    sum += t * s.youngs_modulus[static_cast<std::size_t>(i)];
    z += t;
  }
  if (z <= 0.0) return s.youngs_modulus[0];
  return sum / z;
}

double skin_stiffness(const NeedleGeometry& g, const skin::SkinProfile& s,
                      const PenetrationParams& p) {
  const double a = 0.5 * g.diameter;
  const double e_ind = p.modulus_factor * mean_modulus(s, p.stiffness_depth * a);
  const double k_e = 2.0 * a * e_ind / (1.0 - p.poisson * p.poisson);
  const double b = std::max(0.5 * g.spacing, 2.0 * a);
  const double k_t = 2.0 * pi * std::max(0.0, s.tension) / std::log(b / a);
  return k_e + k_t;
}

double channel_radius(const NeedleGeometry& g, double depth) {
  const double a = 0.5 * g.diameter;
  const double half = 0.5 * g.tip_angle;
  const double r = g.tip_radius + std::max(0.0, depth) * std::tan(half);
  return std::min(a, r);
}

PenetrationResult penetrate(const NeedleGeometry& g, double force, const skin::SkinProfile& s,
                            const PenetrationParams& p) {
  PenetrationResult r;
  r.force = force;
  r.puncture_force = puncture_force(g, p);
  r.stiffness = skin_stiffness(g, s, p);
  const double k = r.stiffness;
  const double f = p.friction_stress * pi * g.diameter;
  if (force < r.puncture_force) {
    r.dimple = force / k;
    return r;
  }
  const double d_geo = (g.length - r.puncture_force / k) / (1.0 + f / k);
  const double d_force = (force - r.puncture_force) / f;
  const double d = std::min(d_geo, d_force);
  if (!(d > 0.0)) {
    r.dimple = std::min(force / k, g.length);
    return r;
  }
  r.punctured = true;
  r.depth = d;
  r.dimple = (r.puncture_force + f * d) / k;
  r.channel_radius = channel_radius(g, d);
  return r;
}

}  // namespace mnsim::mechanics

namespace mnsim::mechanics {

skin::SkinProfile mechanics_profile(const std::filesystem::path& path, const std::string& entry) {
  const auto entries = io::read_sourced_file(path);
  for (const auto& e : entries) {
    if (e.id() != entry) continue;
    skin::SkinProfile s;
    s.site = entry;
    const char* layers[] = {"stratum_corneum", "viable_epidermis", "papillary_dermis",
                            "reticular_dermis", "hypodermis"};
    for (int i = 0; i < skin::kLayers; ++i) {
      const double t = e.quantity(layers[i], Dim::Length);
      if (!(t > 0.0)) e.fail(layers[i], "thickness must be positive");
      s.thickness[static_cast<std::size_t>(i)] = t;
    }
    const double ee = e.quantity("modulus_epidermis", Dim::Pressure);
    const double ed = e.quantity("modulus_dermis", Dim::Pressure);
    const double eh = e.quantity("modulus_hypodermis", Dim::Pressure);
    s.youngs_modulus = {ee, ee, ed, ed, eh};
    s.tension = e.quantity("tension", Dim::Tension);
    s.plexus_depth = s.bottom_of(skin::Layer::PapillaryDermis);
    return s;
  }
  throw InputError({path.string(), 1, 1}, entry, "missing table", "a [" + entry + "] table");
}

}  // namespace mnsim::mechanics
