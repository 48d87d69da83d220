#include "healing/reepithelialization.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <span>
#include <stdexcept>

#include "core/constants.hpp"
#include "healing/kinetics.hpp"
#include "healing/radial.hpp"

namespace mnsim::healing {

double ChannelHealing::open_at(double time) const {
  if (t.empty() || time <= t.front()) return open_fraction.empty() ? 0.0 : open_fraction.front();
  if (time >= t.back()) return open_fraction.back();
  auto it = std::upper_bound(t.begin(), t.end(), time);
  const std::size_t i = static_cast<std::size_t>(it - t.begin());
  const double w = (time - t[i - 1]) / (t[i] - t[i - 1]);
  return (1.0 - w) * open_fraction[i - 1] + w * open_fraction[i];
}

double ChannelHealing::damage_at(double time) const {
  if (t.empty() || damage.empty()) return 0.0;
  if (time <= t.front()) return damage.front();
  if (time >= t.back()) return damage.back();
  auto it = std::upper_bound(t.begin(), t.end(), time);
  const std::size_t i = static_cast<std::size_t>(it - t.begin());
  const double w = (time - t[i - 1]) / (t[i] - t[i - 1]);
  return (1.0 - w) * damage[i - 1] + w * damage[i];
}

double unit_cell_radius(double density) {
  return density > 0.0 ? 1.0 / std::sqrt(kPi * density) : 0.0;
}

double tewl_excess_ratio(const Params& p, double density, double radius_um, double open, double t) {
  if (!(density > 0.0) || !(open > 0.0) || !(radius_um > 0.0)) return 0.0;
  const double a_eff = radius_um * std::sqrt(open) * std::exp(-p.seal_rate * std::max(t, 0.0));
  if (!(a_eff > 0.0)) return 0.0;
  // Conductances per area (um/h): the channels in parallel, in series with the boundary layer.
  const double channels = 4.0 * p.vapour_diffusivity * a_eff * density;
  const double g = 1.0 / (p.boundary_layer / p.vapour_diffusivity + 1.0 / channels);
  const double excess = p.vapour_deficit * g * 1e-6;  // g/m^3 x um/h -> g/m^2/h
  return excess / p.tewl_baseline;
}

double barrier_recovery_time(const Params& p, const ChannelHealing& ch, double density) {
  if (!(density > 0.0)) return 0.0;
  for (std::size_t i = 0; i < ch.t.size(); ++i) {
    if (tewl_excess_ratio(p, density, ch.radius, ch.open_fraction[i], ch.t[i]) <=
        p.barrier_threshold) {
      return ch.t[i];
    }
  }
  return -1.0;
}

ChannelKey channel_key(const Params& p, double radius_um, double t_end_h, double dr_um, double dt_h,
                       double cell_radius_um) {
  // Everything heal_channel, damage_at and react_epidermis read (tests/healing_model/
  // reepithelialization_test.cpp changes every parameter in turn to check that no other one
  // changes the result).
  const std::array<double, 14> v{radius_um,
                                 t_end_h,
                                 dr_um,
                                 dt_h,
                                 cell_radius_um,
                                 p.keratinocyte_motility,
                                 p.chemical_diffusivity,
                                 p.keratinocyte_mitosis,
                                 p.mitosis_max,
                                 p.mitosis_half,
                                 p.chemical_alpha,
                                 p.chemical_decay,
                                 p.halo_width,
                                 p.halo_damage};
  ChannelKey k;
  for (std::size_t i = 0; i < v.size(); ++i) k.bits[i] = std::bit_cast<std::uint64_t>(v[i]);
  return k;
}

ChannelHealing heal_channel(const Params& p, double radius_um, double t_end_h, double dr_um,
                            double dt_h, double cell_radius_um) {
  if (!(radius_um > 0.0) || !(dr_um > 0.0) || !(dt_h > 0.0) || !(t_end_h > 0.0)) {
    throw std::invalid_argument("heal_channel: radius, dr, dt and t_end must be positive");
  }
  double R = std::max(4.0 * radius_um, radius_um + 300.0);
  // Dense lattices: the unit cell (at least a few cells of rim so the channel can close).
  if (cell_radius_um > 0.0) R = std::min(R, std::max(cell_radius_um, radius_um + 4.0 * dr_um));
  const std::size_t nr = static_cast<std::size_t>(std::ceil(R / dr_um));
  std::vector<double> n(nr), c(nr);
  std::vector<double> w(nr);   // annulus weights inside the channel
  std::vector<double> wa(nr);  // annulus weights
  double w_total = 0.0;
  for (std::size_t i = 0; i < nr; ++i) {
    const double rc = (static_cast<double>(i) + 0.5) * dr_um;
    const bool inside = rc < radius_um;
    // The puncture's injury as the 3D engine deposits it (healing::apply_puncture): the lumen
    // emptied, the crushed halo around it partly; the cells' mitogen goes with them.
    const double keep = 1.0 - damage_at(p, radius_um, rc);
    n[i] = keep;
    c[i] = keep;
    const double rl = static_cast<double>(i) * dr_um, rr = rl + dr_um;
    wa[i] = 0.5 * (rr * rr - rl * rl);
    w[i] = inside ? wa[i] : 0.0;
    w_total += w[i];
  }
  ChannelHealing out;
  out.radius = radius_um;
  out.cell_radius = R;
  double deficit0 = 1.0;
  auto record = [&](double t) {
    double open = 0.0, deficit = 0.0;
    for (std::size_t i = 0; i < nr; ++i) {
      if (w[i] > 0.0 && n[i] < 0.5) open += w[i];
      deficit += wa[i] * std::clamp(1.0 - n[i], 0.0, 1.0);
    }
    open /= w_total;
    if (out.damage.empty()) deficit0 = deficit > 0.0 ? deficit : 1.0;
    out.damage.push_back(deficit / deficit0);
    out.t.push_back(t);
    out.open_fraction.push_back(open);
    if (out.closure_time < 0.0 && open <= 0.0) out.closure_time = t;
  };
  record(0.0);
  const int steps = static_cast<int>(std::ceil(t_end_h / dt_h));
  const double dt = t_end_h / steps;
  out.t.reserve(static_cast<std::size_t>(steps) + 1);
  out.open_fraction.reserve(static_cast<std::size_t>(steps) + 1);
  out.damage.reserve(static_cast<std::size_t>(steps) + 1);
  // Both diffusion matrices are the same at every step: factorised once
  // (radial_diffusion_implicit's arithmetic, so the same results).
  const RadialDiffusionFactor diffuse_n(nr, p.keratinocyte_motility, dt, dr_um);
  const RadialDiffusionFactor diffuse_c(nr, p.chemical_diffusivity, dt, dr_um);
  for (int s = 1; s <= steps; ++s) {
    diffuse_n.apply_pair(n, diffuse_c, c);  // diffuse_n.apply(n), diffuse_c.apply(c)
    react_epidermis(p, std::span<double>(n), std::span<double>(c), dt);
    record(s * dt);
  }
  return out;
}

}  // namespace mnsim::healing
