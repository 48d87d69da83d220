#include "outcomes/scar_remodel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "io/data_file.hpp"
#include "lesions/registry.hpp"

namespace mnsim::outcomes {

OutcomeParams load_outcome_params(const std::string& path) {
  io::DataFile f(path);
  const auto& root = f.root();
  f.check_keys(root, "", {"remodel", "pih", "roller", "planner", "variability"});
  OutcomeParams p;
  p.file = path;
  const auto& r = f.table(root, "", "remodel");
  f.check_keys(r, "remodel", {"tether_share", "band_strength", "band_reform_half_time"});
  p.tether_share = f.value(r, "remodel", "tether_share", Dim::Fraction, 0.0, 1.0).si;
  p.band_strength = f.value(r, "remodel", "band_strength", Dim::Pressure, 1e5, 1e9).si;
  p.band_reform_half_time =
      f.value(r, "remodel", "band_reform_half_time", Dim::Time, kHour, 10 * 365 * kDay).si;
  const auto& h = f.table(root, "", "pih");
  f.check_keys(h, "pih", {"mu_threshold", "response_spread"});
  p.pih_mu_threshold = f.value(h, "pih", "mu_threshold", Dim::Number, 1e-6, 10.0).si;
  p.pih_spread = f.value(h, "pih", "response_spread", Dim::Number, 1e-3, 3.0).si;
  const auto& o = f.table(root, "", "roller");
  f.check_keys(o, "roller", {"channel_radius"});
  p.channel_radius = f.value(o, "roller", "channel_radius", Dim::Length, 1e-6, 1e-3).si;
  const auto& pl = f.table(root, "", "planner");
  f.check_keys(pl, "planner",
               {"pih_cap_type_1", "pih_cap_type_2", "pih_cap_type_3", "pih_cap_type_4",
                "pih_cap_type_5", "pih_cap_type_6", "erythema_cap", "home_use_max"});
  for (int i = 0; i < 6; ++i) {
    p.pih_cap[static_cast<std::size_t>(i)] =
        f.value(pl, "planner", "pih_cap_type_" + std::to_string(i + 1), Dim::Fraction, 0.0, 1.0).si;
  }
  p.erythema_cap = f.value(pl, "planner", "erythema_cap", Dim::Time, 0.0, 1e8).si;
  p.home_use_max = f.value(pl, "planner", "home_use_max", Dim::Length, 0.0, 1e-2).si;
  const auto& v = f.table(root, "", "variability");
  f.check_keys(
      v, "variability",
      {"collagen_synthesis", "growth_factor_supply", "fibroblast_proliferation", "melanin_rate"});
  p.var_collagen_synthesis =
      f.value(v, "variability", "collagen_synthesis", Dim::Number, 0.0, 2.0).si;
  p.var_growth_factor_supply =
      f.value(v, "variability", "growth_factor_supply", Dim::Number, 0.0, 2.0).si;
  p.var_fibroblast_proliferation =
      f.value(v, "variability", "fibroblast_proliferation", Dim::Number, 0.0, 2.0).si;
  p.var_melanin_rate = f.value(v, "variability", "melanin_rate", Dim::Number, 0.0, 2.0).si;
  return p;
}

std::string default_outcome_params_path() {
  return data_file("outcomes.toml").string();
}

const OutcomeParams& default_outcome_params() {
  static const OutcomeParams p = load_outcome_params(default_outcome_params_path());
  return p;
}

std::string catalog_text(const std::string& path) {
  load_outcome_params(path);  // validates first
  io::DataFile f(path);
  std::string out = "Clinical-outcome parameters (" + path +
                    "; docs/model.md \"Scar remodelling\", docs/cohort.md)\n";
  for (auto&& [sec, node] : f.root()) {
    const toml::table* t = node.as_table();
    if (!t) continue;
    out += "\n[" + std::string(sec.str()) + "]\n";
    for (auto&& [key, e] : *t) {
      const toml::table* et = e.as_table();
      if (!et) continue;
      const std::string v = et->get("value") ? et->get("value")->value_or(std::string()) : "";
      const std::string src = et->get("source") ? et->get("source")->value_or(std::string()) : "";
      out += "  " + std::string(key.str()) + " = " + v + "\n      " + src + "\n";
    }
  }
  return out;
}

ScarGeometry scar_outline(const lesions::Lesion& l) {
  ScarGeometry s;
  s.kind = std::string(l.kind());
  s.depth = l.max_depth();
  const auto b = l.bounds();
  const double bx = b.x1 - b.x0, by = b.y1 - b.y0;
  const lesions::LesionKind& kind = lesions::lesion_kind(s.kind);
  // Across a linear lesion: its own width (the footprint's smaller side is that only when the
  // axis lies along x or y).
  s.width = kind.width != lesions::WidthRule::Across ? std::max(bx, by)
            : l.width_across() > 0.0                 ? l.width_across()
                                                     : std::min(bx, by);
  // The lesion's own band (a scenario's `tether = false` has none), found at its centre.
  s.tethered = kind.can_tether && l.tethered(0.5 * (b.x0 + b.x1), 0.5 * (b.y0 + b.y1));
  if (s.tethered) {
    s.band_radius = l.effects().tether_radius;
    s.band_collagen = l.effects().tether_collagen_factor;
  }
  s.volume = l.volume();
  s.deficit = std::clamp(l.effects().collagen_deficit, 0.0, 1.0);
  return s;
}

ScarGeometry scar_geometry(const lesions::Lesion& l) {
  ScarGeometry s = scar_outline(l);
  const auto b = l.bounds();
  const double bx = b.x1 - b.x0, by = b.y1 - b.y0;
  // Footprint depths sampled on a 96 x 96 grid over the bounds (cell centres), as the 3D engine
  // sees them on its voxel columns.
  constexpr int kSamples = 96;
  std::vector<double> d;
  d.reserve(kSamples * kSamples);
  for (int j = 0; j < kSamples; ++j)
    for (int i = 0; i < kSamples; ++i) {
      const double x = b.x0 + (i + 0.5) * bx / kSamples, y = b.y0 + (j + 0.5) * by / kSamples;
      const double v = l.depression(x, y);
      if (v > 0.0) d.push_back(v);
    }
  // The quantiles' order statistics, ascending: each selected among the values above the last
  // (nth_element; the same values as a full sort at a fraction of its cost, ~20% of a cohort's
  // patient drawing).
  std::size_t above = 0;  // d[0, above) holds the `above` smallest values
  for (int q = 0; q < ScarGeometry::kFloorQuantiles; ++q) {
    if (d.empty()) {
      s.floor[static_cast<std::size_t>(q)] = s.depth;
      continue;
    }
    const auto at = std::min(static_cast<std::size_t>((q + 0.5) / ScarGeometry::kFloorQuantiles *
                                                      static_cast<double>(d.size())),
                             d.size() - 1);
    if (at >= above) {
      std::nth_element(d.begin() + static_cast<std::ptrdiff_t>(above),
                       d.begin() + static_cast<std::ptrdiff_t>(at), d.end());
      above = at + 1;
    }
    s.floor[static_cast<std::size_t>(q)] = d[at];
  }
  return s;
}

double new_matrix_thickness(const skin::SkinProfile& prof, const DermalGain& g,
                            double floor_depth) {
  const skin::SkinProfile below = skin::profile_below(prof, floor_depth);
  const auto h = [&](skin::Layer l) {
    return below.thickness[static_cast<std::size_t>(skin::layer_index(l))];
  };
  return g.papillary * h(skin::Layer::PapillaryDermis) +
         g.reticular * h(skin::Layer::ReticularDermis);
}

RemodelResult remodel_scar(const OutcomeParams& p, const ScarGeometry& s, const RemodelInput& in) {
  RemodelResult r;
  r.depth_before = s.depth;
  r.volume_before = s.volume;
  r.fill = in.rise_under - in.rise_around;
  r.band_failed = s.tethered && in.band_failed;
  r.release = r.band_failed ? p.tether_share * s.depth : 0.0;
  r.depth_after = std::max(0.0, s.depth - r.fill - r.release);
  r.volume_after = s.depth > 0 ? s.volume * r.depth_after / s.depth : 0.0;
  return r;
}

double band_cut_fraction(double density, double radius, int sessions, bool reach_band) {
  if (!reach_band || sessions <= 0) return 0.0;
  const double a = std::min(1.0, density * kPi * radius * radius);
  return 1.0 - std::pow(1.0 - a, sessions);
}

double BandMechanics::safety() const {
  return load > 0.0 ? capacity / load : std::numeric_limits<double>::infinity();
}

BandMechanics band_mechanics(const OutcomeParams& p, const skin::SkinProfile& prof,
                             double dermis_modulus, double poisson, const ScarGeometry& s) {
  BandMechanics m;
  const double b = s.band_radius, R = 0.5 * s.width;
  if (!s.tethered || !(b > 0.0) || !(R > b)) return m;
  // Dermis left under the floor: the tissue builder keeps the dermis bottom where it is.
  const double t = std::max(0.0, prof.top_of(skin::Layer::Hypodermis) - s.depth);
  const double D = dermis_modulus * t * t * t / (12.0 * (1.0 - poisson * poisson));
  m.stiffness = 2.0 * kPi * prof.tension / std::log(R / b) + 16.0 * kPi * D / (R * R);
  m.load = m.stiffness * p.tether_share * s.depth;
  m.capacity = p.band_strength * s.band_collagen * kPi * b * b;
  return m;
}

TetherState tether_at(const OutcomeParams& p, TetherState s, double t) {
  if (!(t > s.t)) return s;
  if (!s.failed) {
    const double full = 1.0 - s.uncut;  // the cut share heals back toward full strength
    s.reformed =
        full - (full - s.reformed) * std::exp(-std::log(2.0) * (t - s.t) / p.band_reform_half_time);
  }
  s.t = t;
  return s;
}

TetherState tether_session(const OutcomeParams& p, TetherState s, double t, double cut,
                           double matrix_left, const BandMechanics& m) {
  s = tether_at(p, s, t);
  if (s.failed) return s;
  const double keep = 1.0 - std::clamp(cut, 0.0, 1.0);
  s.uncut *= keep;
  s.reformed *= keep;
  s.failed = s.strength() * std::clamp(matrix_left, 0.0, 1.0) * m.capacity < m.load;
  return s;
}

double pih_risk(const OutcomeParams& p, double melanin_peak) {
  // P(m mu_peak > mu_threshold) for a lognormal response multiplier m (median 1, SD of ln m =
  // pih_spread): Phi(ln(mu_peak / mu_threshold) / spread).
  if (!(melanin_peak > 0.0)) return 0.0;
  const double z = std::log(melanin_peak / p.pih_mu_threshold) / p.pih_spread;
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace mnsim::outcomes
