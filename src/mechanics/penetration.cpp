#include "mechanics/penetration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/sourced.hpp"

namespace mnsim::mechanics {

std::filesystem::path default_mechanics_path() {
  return data_file("mechanics.toml");
}

namespace {

const io::SourcedEntry& find_entry(const std::vector<io::SourcedEntry>& entries,
                                   const std::filesystem::path& path, const std::string& id,
                                   const std::string& what) {
  for (const auto& x : entries) {
    if (x.id() == id) return x;
  }
  throw InputError({path.string(), 1, 1}, id, "missing [" + id + "] table", what);
}

double positive(const io::SourcedEntry& e, const std::string& key, double v) {
  if (!(v > 0.0) || !std::isfinite(v)) e.fail(key, "must be positive and finite");
  return v;
}

}  // namespace

PenetrationParams PenetrationParams::load(const std::filesystem::path& path) {
  const auto entries = io::read_sourced_file(path);
  const io::SourcedEntry& e =
      find_entry(entries, path, "penetration", "the penetration model parameters");
  PenetrationParams p;
  p.puncture_stress = positive(e, "puncture_stress", e.quantity("puncture_stress", Dim::Pressure));
  p.friction_stress = positive(e, "friction_stress", e.quantity("friction_stress", Dim::Pressure));
  p.poisson = e.number("poisson_ratio");
  if (!(p.poisson >= 0.0 && p.poisson < 0.5)) e.fail("poisson_ratio", "out of range", "0 to 0.5");
  p.modulus_factor = positive(e, "modulus_factor", e.number("modulus_factor"));
  p.stiffening = e.number("stiffening");
  if (!(p.stiffening >= 0.0) || !std::isfinite(p.stiffening)) {
    e.fail("stiffening", "out of range", "a finite number >= 0");
  }
  p.stiffness_depth = positive(e, "stiffness_depth", e.number("stiffness_depth"));
  return p;
}

const PenetrationParams& PenetrationParams::defaults() {
  static const PenetrationParams p = load(default_mechanics_path());
  return p;
}

double interfacial_area(const NeedleGeometry& g) {
  return kPi * g.tip_radius * g.tip_radius;
}

double puncture_force(const NeedleGeometry& g, const PenetrationParams& p) {
  return p.puncture_stress * interfacial_area(g);
}

double friction_per_depth(const NeedleGeometry& g, const PenetrationParams& p) {
  return p.friction_stress * kPi * g.diameter;
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

double hub_pressure(const NeedleGeometry& g, double force, double resistance) {
  if (!(g.spacing > 0.0)) return 0.0;
  return std::max(0.0, force - resistance) / (g.spacing * g.spacing);
}

double tangent_modulus(const NeedleGeometry& g, const skin::SkinProfile& s,
                       const PenetrationParams& p, double hub_pressure) {
  const double a = 0.5 * g.diameter;
  const double e0 = p.modulus_factor * mean_modulus(s, p.stiffness_depth * a);
  // In-plane pre-stress of the tensioned epidermis and dermis.
  const double h = s.bottom_of(skin::Layer::ReticularDermis);
  const double pre = h > 0.0 ? std::max(0.0, s.tension) / h : 0.0;
  return e0 + p.stiffening * (pre + std::max(0.0, hub_pressure));
}

double skin_stiffness(const NeedleGeometry& g, const skin::SkinProfile& s,
                      const PenetrationParams& p, double hub_pressure) {
  const double a = 0.5 * g.diameter;
  const double k_e =
      2.0 * a * tangent_modulus(g, s, p, hub_pressure) / (1.0 - p.poisson * p.poisson);
  if (!(g.spacing > 0.0)) return k_e;  // no hub: the membrane funnel is unbounded (k_t -> 0)
  const double b = std::max(0.5 * g.spacing, 2.0 * a);
  const double k_t = 2.0 * kPi * std::max(0.0, s.tension) / std::log(b / a);
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
  const double fp = r.puncture_force;
  const double f = friction_per_depth(g, p);
  // State of the skin around a needle whose tip is d below the undeformed surface.
  struct State {
    double resistance, pressure, modulus, stiffness, dimple;
  };
  auto state = [&](double d) {
    State st{};
    st.resistance = fp + f * d;
    st.pressure = hub_pressure(g, force, st.resistance);
    st.modulus = tangent_modulus(g, s, p, st.pressure);
    st.stiffness = skin_stiffness(g, s, p, st.pressure);
    st.dimple = st.resistance / st.stiffness;
    return st;
  };
  auto fill = [&](const State& st) {
    r.resistance = st.resistance;
    r.hub_pressure = st.pressure;
    r.modulus = st.modulus;
    r.stiffness = st.stiffness;
  };
  if (!(force >= fp) || !(g.length > 0.0)) {
    // The needle only dimples the skin, by at most its length; the hub carries nothing.
    r.resistance = fp;
    r.modulus = tangent_modulus(g, s, p, 0.0);
    r.stiffness = skin_stiffness(g, s, p, 0.0);
    r.dimple = std::min(force / r.stiffness, std::max(0.0, g.length));
    return r;
  }
  // Hub-limited depth: d + u(d) = L. u grows with d (R grows, the hub carries less), so the
  // left side is strictly increasing and the root, if any, is unique.
  const State at0 = state(0.0);
  if (!(at0.dimple < g.length)) {
    // The hub reaches the skin before the needle has pressed F_p into it: no puncture.
    fill(at0);
    r.dimple = g.length;
    return r;
  }
  double lo = 0.0, hi = g.length;
  for (int i = 0; i < 100 && hi - lo > 1e-13; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid + state(mid).dimple < g.length) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const double d_hub = lo;
  // Force-limited depth: the needle stops where its force is spent on the resistance.
  const double d_force = f > 0.0 ? (force - fp) / f : std::numeric_limits<double>::infinity();
  const double d = std::min(d_hub, d_force);
  if (!(d > 0.0)) {
    fill(at0);
    r.dimple = at0.dimple;
    return r;
  }
  const State st = state(d);
  fill(st);
  r.punctured = true;
  r.depth = d;
  r.dimple = st.dimple;
  r.channel_radius = channel_radius(g, d);
  return r;
}

}  // namespace mnsim::mechanics

namespace mnsim::mechanics {

skin::SkinProfile mechanics_profile(const std::filesystem::path& path, const std::string& entry) {
  const auto entries = io::read_sourced_file(path);
  const io::SourcedEntry& e = find_entry(entries, path, entry, "a tissue preparation");
  skin::SkinProfile s;
  s.site = entry;
  const char* layers[] = {"stratum_corneum", "viable_epidermis", "papillary_dermis",
                          "reticular_dermis", "hypodermis"};
  for (int i = 0; i < skin::kLayers; ++i) {
    s.thickness[static_cast<std::size_t>(i)] =
        positive(e, layers[i], e.quantity(layers[i], Dim::Length));
  }
  const double ee =
      positive(e, "modulus_epidermis", e.quantity("modulus_epidermis", Dim::Pressure));
  const double ed = positive(e, "modulus_dermis", e.quantity("modulus_dermis", Dim::Pressure));
  const double eh =
      positive(e, "modulus_hypodermis", e.quantity("modulus_hypodermis", Dim::Pressure));
  s.youngs_modulus = {ee, ee, ed, ed, eh};
  s.tension = e.quantity("tension", Dim::Tension);
  if (!(s.tension >= 0.0) || !std::isfinite(s.tension)) {
    e.fail("tension", "out of range", "a finite tension >= 0");
  }
  s.plexus_depth = s.bottom_of(skin::Layer::PapillaryDermis);
  return s;
}

PenetrationCase penetration_case(const std::filesystem::path& path, const std::string& entry) {
  const auto entries = io::read_sourced_file(path);
  const io::SourcedEntry& e = find_entry(entries, path, entry, "a penetration case");
  PenetrationCase c;
  c.id = entry;
  c.needle.length = positive(e, "needle_length", e.quantity("needle_length", Dim::Length));
  c.needle.diameter = positive(e, "needle_diameter", e.quantity("needle_diameter", Dim::Length));
  c.needle.tip_radius = positive(e, "tip_radius", e.quantity("tip_radius", Dim::Length));
  if (!(c.needle.tip_radius < 0.5 * c.needle.diameter)) {
    e.fail("tip_radius", "not below the needle radius");
  }
  c.needle.tip_angle = positive(e, "tip_angle", e.quantity("tip_angle", Dim::Angle));
  c.needle.spacing = e.quantity("spacing", Dim::Length);
  if (!(c.needle.spacing >= 0.0) || !std::isfinite(c.needle.spacing)) {
    e.fail("spacing", "out of range", "a length >= 0 (0: a single needle without a hub)");
  }
  c.force = positive(e, "force_per_needle", e.quantity("force_per_needle", Dim::Force));
  c.preparation = e.text("preparation");
  c.skin = mechanics_profile(path, c.preparation);
  return c;
}

}  // namespace mnsim::mechanics
