#include "healing/unit_cell.hpp"
#include "core/constants.hpp"

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
  UnitCellRun out;
  out.cell_radius = 1.0 / std::sqrt(kPi * pr.density * 1e-8);
  const std::size_t n = static_cast<std::size_t>(std::ceil(out.cell_radius / dr));
  const std::size_t layer = static_cast<std::size_t>(skin::layer_index(b.layer));
  const Model& model = healing_model();
  const std::size_t nf = model.size();
  auto slot = [&](const char* name) { return static_cast<std::size_t>(model.slot(name)); };
  const std::size_t s_damage = slot("damage"), s_platelets = slot("platelets"),
                    s_clot = slot("clot"), s_signal = slot("inflammatory_signal"),
                    s_collagen1 = slot("collagen1"), s_collagen3 = slot("collagen3"),
                    s_fibroblasts = slot("fibroblasts");
  const std::array<std::size_t, 4> cell_fields = {s_fibroblasts, slot("neutrophils"),
                                                  slot("macrophages"), slot("vascular")};
  const std::array<std::size_t, 4> matrix_fields = {s_collagen1, s_collagen3, slot("elastin"),
                                                    slot("scar_matrix")};
  const auto specs = field_specs(model, p);
  Reactor reactor(model, p);
  Baselines base{};
  base[layer] = b;
  const std::vector<std::size_t> state_layer(n, layer);
  std::vector<State> states(n);
  const State s0 = baseline_state(b, model);
  std::vector<std::vector<double>> f(nf, std::vector<double>(n));
  for (std::size_t k = 0; k < nf; ++k) std::fill(f[k].begin(), f[k].end(), s0[k]);
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
      c += w[i] * (f[s_collagen1][i] + f[s_collagen3][i]);
      State s{};
      s[s_signal] = f[s_signal][i];
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
        f[s_damage][i] = 1.0 - (1.0 - f[s_damage][i]) * (1.0 - d);
        for (std::size_t k : cell_fields) f[k][i] *= 1.0 - d;
        for (std::size_t k : matrix_fields) f[k][i] *= 1.0 - p.matrix_loss * l;
        if (pr.bled) {
          f[s_platelets][i] = std::min(1.0, f[s_platelets][i] + p.blood_fill * l);
          f[s_clot][i] = std::min(1.0, f[s_clot][i] + p.blood_fill * l);
        }
      }
      ++next;
      dt = 0.01;
    }
    double step = std::min(dt, pr.end_time - t);
    if (next < pr.session_times.size()) step = std::min(step, pr.session_times[next] - t);
    if (step <= 0.0) step = 1e-9;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < nf; ++k) states[i][k] = f[k][i];
    }
    reactor.react_states(base, state_layer, states, step);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < nf; ++k) f[k][i] = states[i][k];
    }
    for (const auto& sp : specs) {
      auto& u = f[static_cast<std::size_t>(sp.slot)];
      // Coupled to the decay the processes apply (FieldDef::decay), as in the engine.
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
    out.final_collagen.push_back((f[s_collagen1][i] + f[s_collagen3][i]) / c0 - 1.0);
    out.final_fibroblasts.push_back(f[s_fibroblasts][i] / b.fibroblasts);
  }
  return out;
}

}  // namespace mnsim::healing
