#include "thermal/rf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"

namespace mnsim::thermal {

namespace {

constexpr const char* kLayerTables[skin::kLayers] = {
    "stratum_corneum", "viable_epidermis", "papillary_dermis", "reticular_dermis", "hypodermis"};

constexpr double kEps0 = 8.8541878128e-12;  // vacuum permittivity, F/m

/// Gabriel's Cole-Cole parameters of one tissue ([dielectric.<name>] of data/rf.toml; the
/// relaxation times in the units of their Table 1: ps, ns, us, ms).
ColeCole load_cole_cole(const io::DataFile& f, const toml::table& d, const std::string& name) {
  const toml::table& t = f.table(d, "dielectric", name);
  const std::string where = "dielectric." + name;
  f.check_keys(t, where,
               {"eps_inf", "delta1", "tau1_ps", "alpha1", "delta2", "tau2_ns", "alpha2", "sigma",
                "delta3", "tau3_us", "alpha3", "delta4", "tau4_ms", "alpha4"});
  ColeCole c;
  c.eps_inf = f.value(t, where, "eps_inf", Dim::Number, 1.0, 100.0).si;
  constexpr const char* kTau[4] = {"tau1_ps", "tau2_ns", "tau3_us", "tau4_ms"};
  constexpr double kScale[4] = {1e-12, 1e-9, 1e-6, 1e-3};
  for (std::size_t n = 0; n < 4; ++n) {
    const std::string i = std::to_string(n + 1);
    c.delta[n] = f.value(t, where, "delta" + i, Dim::Number, 0.0, 1e8).si;
    c.tau[n] = f.value(t, where, kTau[n], Dim::Number, 1e-3, 1e4).si * kScale[n];
    c.alpha[n] = f.value(t, where, "alpha" + i, Dim::Number, 0.0, 0.99).si;
  }
  c.sigma_ionic = f.value(t, where, "sigma", Dim::ElectricalConductivity, 0.0, 10.0).si;
  return c;
}

std::complex<double> cole_cole(const ColeCole& c, double f) {
  const double w = 2.0 * kPi * f;
  std::complex<double> eps = c.eps_inf;
  for (std::size_t n = 0; n < 4; ++n) {
    if (!(c.delta[n] > 0.0)) continue;
    const std::complex<double> jwt(0.0, w * c.tau[n]);
    eps += c.delta[n] / (1.0 + std::pow(jwt, 1.0 - c.alpha[n]));
  }
  return eps + c.sigma_ionic / std::complex<double>(0.0, w * kEps0);
}

}  // namespace

double ColeCole::conductivity(double f) const {
  return -cole_cole(*this, f).imag() * 2.0 * kPi * f * kEps0;
}

double ColeCole::permittivity(double f) const {
  return cole_cole(*this, f).real();
}

RfTissue RfTissue::load(const std::filesystem::path& path) {
  const io::DataFile f(path.string());
  RfTissue t;
  for (int l = 0; l < skin::kLayers; ++l) {
    const std::string where = kLayerTables[l];
    const toml::table& tb = f.table(f.root(), "", where);
    f.check_keys(tb, where,
                 {"dielectric", "thermal_conductivity", "density", "specific_heat", "perfusion"});
    LayerProperties& p = t.layer[static_cast<std::size_t>(l)];
    // dielectric = { tissue = "<a [dielectric.*] table>", source = "..." }
    const toml::node* dn = tb.get("dielectric");
    const toml::table* dt = dn ? dn->as_table() : nullptr;
    const std::optional<std::string> tissue =
        dt ? (*dt)["value"].value<std::string>() : std::nullopt;
    if (!dt || !tissue || !(*dt)["source"].value<std::string>()) {
      f.fail(dn ? *dn : static_cast<const toml::node&>(tb), where + ".dielectric",
             "not a { value = \"<name>\", source = \"...\" } entry",
             "the name of a [dielectric.<name>] table with its source");
    }
    const toml::table& dielectric = f.table(f.root(), "", "dielectric");
    if (!dielectric.contains(*tissue)) {
      f.fail(*dn, where + ".dielectric", fmt::format("no [dielectric.{}] table", *tissue),
             "skin_dry, skin_wet or fat (a table of [dielectric])");
    }
    p.dielectric = load_cole_cole(f, dielectric, *tissue);
    p.sigma = p.dielectric.conductivity(1e6);
    p.k = f.value(tb, where, "thermal_conductivity", Dim::ThermalConductivity, 0.01, 5.0).si;
    p.rho = f.value(tb, where, "density", Dim::Concentration, 100.0, 5000.0).si;
    p.c = f.value(tb, where, "specific_heat", Dim::SpecificHeat, 100.0, 10000.0).si;
    p.perfusion = f.value(tb, where, "perfusion", Dim::Frequency, 0.0, 0.1).si;
  }
  const toml::table& b = f.table(f.root(), "", "tissue");
  f.check_keys(b, "tissue",
               {"sigma_temp_coeff", "blood_density", "blood_specific_heat", "body_temperature",
                "arrhenius_a", "arrhenius_ea", "collagen_a", "collagen_ea"});
  t.sigma_temp_coeff = f.value(b, "tissue", "sigma_temp_coeff", Dim::Number, 0.0, 0.1).si;
  t.blood_density = f.value(b, "tissue", "blood_density", Dim::Concentration, 500.0, 2000.0).si;
  t.blood_heat = f.value(b, "tissue", "blood_specific_heat", Dim::SpecificHeat, 1000.0, 10000.0).si;
  t.body_temperature = f.value(b, "tissue", "body_temperature", Dim::Temperature, 290.0, 320.0).si;
  t.arrhenius_a = f.value(b, "tissue", "arrhenius_a", Dim::Frequency, 1.0, 1e300).si;
  t.arrhenius_ea = f.value(b, "tissue", "arrhenius_ea", Dim::MolarEnergy, 1e4, 5e6).si;
  t.collagen_a = f.value(b, "tissue", "collagen_a", Dim::Frequency, 1.0, 1e300).si;
  t.collagen_ea = f.value(b, "tissue", "collagen_ea", Dim::MolarEnergy, 1e4, 5e6).si;
  const toml::table& n = f.table(f.root(), "", "numerics");
  f.check_keys(n, "numerics",
               {"cell", "domain_radius", "depth_below_tip", "steps_per_pulse", "cooling_time"});
  t.cell = f.value(n, "numerics", "cell", Dim::Length, 1e-6, 1e-4).si;
  t.domain_radius = f.value(n, "numerics", "domain_radius", Dim::Length, 1e-4, 0.02).si;
  t.depth_below_tip = f.value(n, "numerics", "depth_below_tip", Dim::Length, 1e-4, 0.02).si;
  t.steps_per_pulse =
      static_cast<int>(f.value(n, "numerics", "steps_per_pulse", Dim::Number, 4, 10000).si);
  t.cooling_time = f.value(n, "numerics", "cooling_time", Dim::Time, 0.0, 100.0).si;
  return t;
}

const RfTissue& RfTissue::defaults() {
  static const RfTissue t = load(data_file("rf.toml"));
  return t;
}

double arrhenius_rate(double temperature, double a, double ea) {
  // A exp(-Ea/RT) with A up to 1e98: in logarithms.
  return std::exp(std::log(a) - ea / (kGasConstant * temperature));
}

std::vector<LayerProperties> layer_cells(const AxiGrid& g, const skin::SkinProfile& skin,
                                         const RfTissue& t, double frequency) {
  std::array<LayerProperties, skin::kLayers> at = t.layer;
  for (LayerProperties& p : at) p.sigma = p.dielectric.conductivity(frequency);
  std::vector<LayerProperties> out(g.size());
  for (int j = 0; j < g.nz; ++j) {
    const skin::Layer l = skin.layer_at(g.zc(j));
    const int li = l == skin::Layer::Outside ? 0 : skin::layer_index(l);
    for (int i = 0; i < g.nr; ++i) out[g.at(i, j)] = at[static_cast<std::size_t>(li)];
  }
  return out;
}

namespace {

/// What the solve's result depends on, besides the shipped tissue (coagulation_zone).
struct ZoneKey {
  int nr = 0, nz = 0;
  std::vector<std::int8_t> rows;  // per grid row: its layer, then its needle and electrode cells
  double energy = 0.0, duration = 0.0, frequency = 0.0;
  bool operator<(const ZoneKey& o) const {
    return std::tie(nr, nz, energy, duration, frequency, rows) <
           std::tie(o.nr, o.nz, o.energy, o.duration, o.frequency, o.rows);
  }
};

/// Zones solved with the shipped tissue, by problem (at most kCapacity; a pure function of the
/// key, so hits and misses give the same zone and results do not depend on threads or order).
class ZoneMemo {
 public:
  static constexpr std::size_t kCapacity = 4096;
  std::optional<CoagulationZone> find(const ZoneKey& k) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (auto it = zones_.find(k); it != zones_.end()) return it->second;
    return std::nullopt;
  }
  void add(const ZoneKey& k, const CoagulationZone& z) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (zones_.size() < kCapacity) zones_.emplace(k, z);
  }

 private:
  std::mutex mu_;
  std::map<ZoneKey, CoagulationZone> zones_;
};

ZoneMemo& zone_memo() {
  static ZoneMemo m;
  return m;
}

/// Crossing of Omega = 1 between a cell centre at x0 (Omega a >= 1) and its neighbour at
/// x0 + h (Omega b < 1), linear in log Omega.
double crossing(double x0, double h, double a, double b) {
  if (b <= 0.0) return x0 + 0.5 * h;
  const double la = std::log(a), lb = std::log(b);
  return x0 + h * std::clamp(la / (la - lb), 0.0, 1.0);
}

CoagulationZone zone_of(const AxiGrid& g, const std::vector<double>& omega,
                        const std::vector<double>& omega_c,
                        const std::vector<std::uint8_t>& needle) {
  CoagulationZone z;
  double denatured = 0.0;
  double top = 1e300, bottom = -1e300;
  auto om = [&](int i, int j) {
    const std::size_t c = g.at(i, j);
    return needle[c] ? 0.0 : omega[c];
  };
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const double o = om(i, j);
      if (o < 1.0) continue;
      z.volume += g.volume(i);
      denatured += g.volume(i) * -std::expm1(-omega_c[g.at(i, j)]);
      const double r = i + 1 < g.nr ? crossing(g.rc(i), g.dr, o, om(i + 1, j)) : g.nr * g.dr;
      z.radius = std::max(z.radius, r);
      const double up = j > 0 ? crossing(g.zc(j), -g.dz, o, om(i, j - 1)) : 0.0;
      const double dn = j + 1 < g.nz ? crossing(g.zc(j), g.dz, o, om(i, j + 1)) : g.nz * g.dz;
      top = std::min(top, up);
      bottom = std::max(bottom, dn);
    }
  }
  if (z.volume > 0.0) {
    z.top = top;
    z.bottom = bottom;
    z.denatured = std::clamp(denatured / z.volume, 0.0, 1.0);
  } else {
    z.radius = 0.0;
  }
  return z;
}

}  // namespace

CoagulationZone coagulation_zone(const RfPulse& pulse, const skin::SkinProfile& skin,
                                 const RfTissue& t) {
  if (!(pulse.needle_radius > 0.0) || !(pulse.depth > 0.0) || !(pulse.energy > 0.0) ||
      !(pulse.duration > 0.0) || !(pulse.insulated_length >= 0.0)) {
    throw std::invalid_argument("coagulation_zone: radius, depth, energy and duration must be > 0");
  }
  if (pulse.insulated_length >= pulse.depth) {
    throw std::invalid_argument("coagulation_zone: the insulation covers the whole needle");
  }
  if (!(pulse.frequency >= kRfFrequencyMin * (1.0 - 1e-12)) ||
      !(pulse.frequency <= kRfFrequencyMax * (1.0 + 1e-12))) {
    throw std::invalid_argument("coagulation_zone: the frequency is outside 0.1-10 MHz");
  }
  AxiGrid g;
  g.dr = g.dz = t.cell;
  // Cell counts and the needle's cells do not depend on the last bit of a length: a boundary
  // that falls on a cell centre (within 1e-6 cells) counts as below it.
  const double eps = 1e-6 * t.cell;
  g.nr = std::max(4, static_cast<int>(std::ceil(t.domain_radius / t.cell - 1e-6)));
  g.nz =
      std::max(4, static_cast<int>(std::ceil((pulse.depth + t.depth_below_tip) / t.cell - 1e-6)));
  const std::size_t n = g.size();
  const std::vector<LayerProperties> props = layer_cells(g, skin, t, pulse.frequency);
  // The needle: cells whose centre lies inside its cylinder; the part below the insulation is
  // the electrode. A needle narrower than a cell still holds the column on the axis.
  std::vector<std::uint8_t> needle(n, 0), electrode(n, 0);
  for (int j = 0; j < g.nz; ++j) {
    const double z = g.zc(j);
    if (z >= pulse.depth - eps) break;
    for (int i = 0; i < g.nr; ++i) {
      if (i > 0 && g.rc(i) >= pulse.needle_radius - eps) break;
      needle[g.at(i, j)] = 1;
      if (z >= pulse.insulated_length - eps) electrode[g.at(i, j)] = 1;
    }
  }
  if (std::count(electrode.begin(), electrode.end(), std::uint8_t{1}) == 0) {
    throw std::invalid_argument("coagulation_zone: the exposed tip is shorter than one cell");
  }
  // The solve is a pure function of the discretised problem: with the shipped tissue, a problem
  // solved before (the same grid, layer of every row, needle and electrode cells, energy and
  // duration) is answered from the memo (patients and sessions of a cohort or plan share them).
  const bool memo = &t == &RfTissue::defaults();
  ZoneKey key;
  if (memo) {
    key.nr = g.nr;
    key.nz = g.nz;
    key.rows.reserve(static_cast<std::size_t>(g.nz) * 2);
    for (int j = 0; j < g.nz; ++j) {
      const skin::Layer l = skin.layer_at(g.zc(j));
      key.rows.push_back(
          static_cast<std::int8_t>(l == skin::Layer::Outside ? 0 : skin::layer_index(l)));
      int nn = 0, ne = 0;
      for (int i = 0; i < g.nr; ++i) {
        nn += needle[g.at(i, j)];
        ne += electrode[g.at(i, j)];
      }
      key.rows.push_back(static_cast<std::int8_t>(std::min(nn, 100) + (ne > 0 ? 101 : 0)));
    }
    key.energy = pulse.energy;
    key.duration = pulse.duration;
    key.frequency = pulse.frequency;
    if (std::optional<CoagulationZone> hit = zone_memo().find(key)) return *hit;
  }
  const double T0 = t.body_temperature;
  // Heat: tissue properties in every cell (the needle's own heat capacity and conduction are
  // not modelled), skin surface insulated, body temperature at the domain's edge and floor.
  AxiBoundaries tb;
  tb.bottom = {true, [T0](double, double) { return T0; }};
  tb.outer = tb.bottom;
  std::vector<double> kth(n), cap(n), perf(n);
  for (int j = 0; j < g.nz; ++j) {
    for (int i = 0; i < g.nr; ++i) {
      const std::size_t c = g.at(i, j);
      const LayerProperties& p = props[c];
      kth[c] = p.k;
      cap[c] = p.rho * p.c * g.volume(i);
      perf[c] = p.perfusion * t.blood_density * t.blood_heat * g.volume(i);
    }
  }
  const AxiOperator heat(g, kth, std::vector<std::uint8_t>(n, 0), tb);
  // Potential: electrode held at 1 V, the insulated shaft excluded, return at the edge.
  AxiBoundaries eb;
  eb.bottom = {true, [](double, double) { return 0.0; }};
  eb.outer = eb.bottom;
  std::vector<double> V(n, 0.0), T(n, T0), omega(n, 0.0), omega_c(n, 0.0), sigma(n, 0.0);
  for (std::size_t c = 0; c < n; ++c) V[c] = electrode[c] ? 1.0 : 0.0;
  const std::vector<double> zero(n, 0.0);
  const double power = pulse.energy / pulse.duration;
  CoagulationZone out;
  std::vector<double> rate_old(n, arrhenius_rate(T0, t.arrhenius_a, t.arrhenius_ea));
  std::vector<double> rate_c_old(n, arrhenius_rate(T0, t.collagen_a, t.collagen_ea));
  std::vector<double> diag(n), rhs(n);
  const double dt_pulse = pulse.duration / t.steps_per_pulse;
  double time = 0.0, dt = dt_pulse, peak = T0, delivered = 0.0;
  const double t_end = pulse.duration + t.cooling_time;
  int steps = 0;
  while (time < t_end - 1e-12) {
    const bool on = time < pulse.duration - 1e-12;
    if (on) {
      dt = std::min(dt_pulse, pulse.duration - time);
    } else {
      dt = std::min(dt * 1.3, t_end - time);
    }
    std::vector<double> Q(n, 0.0);
    if (on) {
      for (std::size_t c = 0; c < n; ++c) {
        const double f = std::max(0.1, 1.0 + t.sigma_temp_coeff * (T[c] - T0));
        sigma[c] = needle[c] && !electrode[c] ? 0.0 : props[c].sigma * f;
      }
      const AxiOperator el(g, sigma, needle, eb);
      el.solve(zero, zero, V, 1e-7);
      Q = el.dissipation(V);
      double p1 = 0.0;
      for (double q : Q) p1 += q;
      if (!(p1 > 0.0)) throw std::invalid_argument("coagulation_zone: no current flows");
      if (steps == 0) out.impedance = 1.0 / p1;
      const double s = power / p1;
      for (double& q : Q) q *= s;
      delivered += power * dt;
    }
    for (std::size_t c = 0; c < n; ++c) {
      diag[c] = cap[c] / dt + perf[c];
      rhs[c] = cap[c] / dt * T[c] + Q[c] + perf[c] * T0;
    }
    heat.solve(diag, rhs, T, 1e-9);
    double hottest = T0;
    for (std::size_t c = 0; c < n; ++c) {
      const double r = arrhenius_rate(T[c], t.arrhenius_a, t.arrhenius_ea);
      omega[c] += 0.5 * (rate_old[c] + r) * dt;  // trapezoid in time
      rate_old[c] = r;
      const double rc = arrhenius_rate(T[c], t.collagen_a, t.collagen_ea);
      omega_c[c] += 0.5 * (rate_c_old[c] + rc) * dt;
      rate_c_old[c] = rc;
      if (!needle[c]) hottest = std::max(hottest, T[c]);
    }
    peak = std::max(peak, hottest);
    time += dt;
    ++steps;
    // After the pulse, stop once the tissue is back within 5 K of body temperature: the
    // Arrhenius rate there is negligible (docs/rf.md).
    if (!on && hottest < T0 + 5.0) break;
  }
  CoagulationZone z = zone_of(g, omega, omega_c, needle);
  z.peak_temperature = peak;
  z.delivered_energy = delivered;
  z.impedance = out.impedance;
  z.steps = steps;
  if (memo) zone_memo().add(key, z);
  return z;
}

}  // namespace mnsim::thermal
