#include "healing/reepithelialization.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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

ChannelHealing heal_channel(const Params& p, double radius_um, double t_end_h, double dr_um,
                            double dt_h) {
  if (!(radius_um > 0.0) || !(dr_um > 0.0) || !(dt_h > 0.0) || !(t_end_h > 0.0)) {
    throw std::invalid_argument("heal_channel: radius, dr, dt and t_end must be positive");
  }
  const double R = std::max(4.0 * radius_um, radius_um + 300.0);
  const std::size_t nr = static_cast<std::size_t>(std::ceil(R / dr_um));
  std::vector<double> n(nr), c(nr);
  std::vector<double> w(nr);  // annulus weights inside the channel
  double w_total = 0.0;
  for (std::size_t i = 0; i < nr; ++i) {
    const double rc = (static_cast<double>(i) + 0.5) * dr_um;
    const bool inside = rc < radius_um;
    n[i] = inside ? 0.0 : 1.0;
    c[i] = inside ? 0.0 : 1.0;
    const double rl = static_cast<double>(i) * dr_um, rr = rl + dr_um;
    w[i] = inside ? 0.5 * (rr * rr - rl * rl) : 0.0;
    w_total += w[i];
  }
  ChannelHealing out;
  out.radius = radius_um;
  auto record = [&](double t) {
    double open = 0.0;
    for (std::size_t i = 0; i < nr; ++i) {
      if (w[i] > 0.0 && n[i] < 0.5) open += w[i];
    }
    open /= w_total;
    const double tewl = open * std::exp(-p.seal_rate * t);
    out.t.push_back(t);
    out.open_fraction.push_back(open);
    out.tewl_excess.push_back(tewl);
    if (out.closure_time < 0.0 && open <= 0.0) out.closure_time = t;
    if (out.barrier_time < 0.0 && tewl <= p.barrier_threshold) out.barrier_time = t;
  };
  record(0.0);
  const int steps = static_cast<int>(std::ceil(t_end_h / dt_h));
  const double dt = t_end_h / steps;
  for (int s = 1; s <= steps; ++s) {
    radial_diffusion_implicit(n, p.keratinocyte_motility, dt, dr_um);
    radial_diffusion_implicit(c, p.chemical_diffusivity, dt, dr_um);
    for (std::size_t i = 0; i < nr; ++i) react_epidermis(p, n[i], c[i], dt);
    record(s * dt);
  }
  return out;
}

}  // namespace mnsim::healing
