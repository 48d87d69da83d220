#include "healing/unit_cell.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "healing/diffusion.hpp"
#include "healing/radial.hpp"

namespace mnsim::healing {

double UnitCellRun::collagen_at(double time) const {
  if (t.empty()) return 0.0;
  if (time <= t.front()) return collagen_change.front();
  if (time >= t.back()) return collagen_change.back();
  const auto it = std::upper_bound(t.begin(), t.end(), time);
  const std::size_t i = static_cast<std::size_t>(it - t.begin());
  const double w = (time - t[i - 1]) / (t[i] - t[i - 1]);
  return (1.0 - w) * collagen_change[i - 1] + w * collagen_change[i];
}

double UnitCellRun::erythema_until(double threshold, double t0, double t1) const {
  double last = -1.0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] >= t0 && t[i] <= t1 && erythema[i] >= threshold) last = t[i];
  }
  return last;
}

UnitCellRun run_unit_cell(const Params& p, const Baseline& b, const ColumnProtocol& pr, double dr) {
  if (!(pr.density > 0.0) || !(pr.radius > 0.0) || !(dr > 0.0) || pr.session_times.empty() ||
      !(pr.end_time > 0.0)) {
    throw std::invalid_argument("run_unit_cell: need density, radius, dr, sessions, end_time > 0");
  }
  if (!(b.fibroblasts > 0.0) || !(b.collagen1 + b.collagen3 > 0.0)) {
    throw std::invalid_argument("run_unit_cell: the layer must be dermal (fibroblasts, collagen)");
  }
  constexpr double kPi = 3.14159265358979323846;
  UnitCellRun out;
  out.cell_radius = 1.0 / std::sqrt(kPi * pr.density * 1e-8);
  const std::size_t n = static_cast<std::size_t>(std::ceil(out.cell_radius / dr));
  const std::size_t layer = static_cast<std::size_t>(skin::layer_index(b.layer));
  const auto specs = field_specs(p);
  const State s0 = baseline_state(b);
  std::vector<std::vector<double>> f(kFields, std::vector<double>(n));
  for (int k = 0; k < kFields; ++k) {
    std::fill(f[static_cast<std::size_t>(k)].begin(), f[static_cast<std::size_t>(k)].end(),
              s0[static_cast<std::size_t>(k)]);
  }
  std::vector<double> w(n);
  double wt = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double rl = static_cast<double>(i) * dr, rr = rl + dr;
    w[i] = 0.5 * (rr * rr - rl * rl);
    wt += w[i];
    out.r.push_back(rl + 0.5 * dr);
  }
  const double c0 = b.collagen1 + b.collagen3;
  auto record = [&](double t) {
    double c = 0.0, e = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      c += w[i] * (f[kCollagen1][i] + f[kCollagen3][i]);
      State s{};
      s[kSignal] = f[kSignal][i];
      e += w[i] * erythema(p, b, s);
    }
    out.t.push_back(t);
    out.collagen_change.push_back(c / (wt * c0) - 1.0);
    out.erythema.push_back(e / wt);
  };
  double t = pr.session_times.front();
  record(t);
  std::size_t next = 0;
  double dt = 0.01;
  while (t < pr.end_time) {
    if (next < pr.session_times.size() && t >= pr.session_times[next] - 1e-9) {
      for (std::size_t i = 0; i < n; ++i) {
        const double rc = out.r[i];
        const double d = damage_at(p, pr.radius, rc);
        const double l = rc < pr.radius ? 1.0 : 0.0;
        f[kDamage][i] = 1.0 - (1.0 - f[kDamage][i]) * (1.0 - d);
        for (Field k : {kFibroblasts, kNeutrophils, kMacrophages, kVascular}) f[k][i] *= 1.0 - d;
        for (Field k : {kCollagen1, kCollagen3, kElastin}) f[k][i] *= 1.0 - p.matrix_loss * l;
        if (pr.bled) {
          f[kPlatelets][i] = std::min(1.0, f[kPlatelets][i] + p.blood_fill * l);
          f[kClot][i] = std::min(1.0, f[kClot][i] + p.blood_fill * l);
        }
      }
      ++next;
      dt = 0.01;
    }
    double step = std::min(dt, pr.end_time - t);
    if (next < pr.session_times.size()) step = std::min(step, pr.session_times[next] - t);
    if (step <= 0.0) step = 1e-9;
    for (std::size_t i = 0; i < n; ++i) {
      State s;
      for (int k = 0; k < kFields; ++k)
        s[static_cast<std::size_t>(k)] = f[static_cast<std::size_t>(k)][i];
      react(p, b, s, step);
      for (int k = 0; k < kFields; ++k)
        f[static_cast<std::size_t>(k)][i] = s[static_cast<std::size_t>(k)];
    }
    for (const auto& sp : specs) {
      auto& u = f[static_cast<std::size_t>(sp.id)];
      // Coupled to the decay react() applies (FieldSpec::decay), as in the engine.
      radial_diffusion_implicit(u, sp.diffusivity[layer], coupled_diffusion_time(step, sp.decay),
                                dr);
      if (sp.chemoattractant >= 0 && sp.diffusivity[layer] > 0.0) {
        radial_chemotaxis(u, f[static_cast<std::size_t>(sp.chemoattractant)], sp.chemotaxis, step,
                          dr);
      }
    }
    t += step;
    record(t);
    dt = std::min(pr.max_dt, dt * 1.1);
  }
  for (std::size_t i = 0; i < n; ++i) {
    out.final_collagen.push_back((f[kCollagen1][i] + f[kCollagen3][i]) / c0 - 1.0);
    out.final_fibroblasts.push_back(f[kFibroblasts][i] / b.fibroblasts);
  }
  return out;
}

}  // namespace mnsim::healing
