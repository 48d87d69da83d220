#include "healing/column.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "healing/diffusion.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {
constexpr double kPi = 3.14159265358979323846;
std::size_t li(skin::Layer l) {
  return static_cast<std::size_t>(skin::layer_index(l));
}
/// Per field of specs: its layer baselines if it moves in capacity form (capacity_motility:
/// fibroblasts, vessels), else empty. Computed once per run.
using Capacities = std::vector<std::optional<std::array<double, skin::kLayers>>>;
Capacities capacity_form(const std::vector<FieldSpec>& specs, const Baselines& base) {
  Capacities c(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::array<double, skin::kLayers> cap{};
    if (capacity_motility(specs[i], base, cap) > 0.0) c[i] = cap;
  }
  return c;
}

/// Diffusive exchange between the layer compartments over dt (h): for every field that moves,
/// backward Euler on the 5 stacked compartments of thickness h (um) with the finite-volume face
/// conductance 1 / (h_a / 2 D_a + h_b / 2 D_b) (none where either layer holds the field still).
/// Conserves sum(h u) and keeps u >= 0.
/// Fields with capacity-form motility (`capacity`) exchange toward a uniform ratio to their layer
/// baselines c: the face flux is g c_f (u_a / c_a - u_b / c_b) with c_f = 2 c_a c_b / (c_a + c_b),
/// as in the 3D engine, so the baseline is at rest.
void exchange_layers(const std::vector<FieldSpec>& specs, const Capacities& capacity,
                     const std::array<double, skin::kLayers>& h,
                     std::array<State, skin::kLayers>& st, double dt) {
  constexpr int n = skin::kLayers;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const FieldSpec& sp = specs[i];
    if (capacity[i]) {
      const std::array<double, n>& cap = *capacity[i];
      const auto f = static_cast<std::size_t>(sp.id);
      std::array<double, n - 1> g{};
      for (int l = 0; l + 1 < n; ++l) {
        const auto a = static_cast<std::size_t>(l), b = a + 1;
        if (!(cap[a] > 0.0) || !(cap[b] > 0.0) || !(h[a] > 0.0) || !(h[b] > 0.0)) continue;
        const double cond = 1.0 / (0.5 * h[a] / sp.diffusivity[a] + 0.5 * h[b] / sp.diffusivity[b]);
        g[a] = cond * 2.0 * cap[a] * cap[b] / (cap[a] + cap[b]);
      }
      std::array<double, n> lo{}, di{}, up{}, rhs{};
      for (int l = 0; l < n; ++l) {
        const auto k = static_cast<std::size_t>(l);
        const double w = cap[k] > 0.0 ? h[k] * cap[k] : 1.0;  // capacity of the unknown u / c
        di[k] = w;
        rhs[k] = cap[k] > 0.0 ? h[k] * st[k][f] : 0.0;  // w * (u / c)
        if (l > 0) {
          di[k] += dt * g[k - 1];
          lo[k] = -dt * g[k - 1];
        }
        if (l + 1 < n) {
          di[k] += dt * g[k];
          up[k] = -dt * g[k];
        }
      }
      solve_tridiagonal(lo, di, up, rhs);
      for (int l = 0; l < n; ++l) {
        const auto k = static_cast<std::size_t>(l);
        if (cap[k] > 0.0) st[k][f] = std::max(0.0, rhs[k] * cap[k]);
      }
      continue;
    }
    std::array<double, n - 1> g{};  // face conductance (um/h)
    bool any = false;
    for (int l = 0; l + 1 < n; ++l) {
      const auto a = static_cast<std::size_t>(l), b = a + 1;
      const double da = sp.diffusivity[a], db = sp.diffusivity[b];
      if (!(da > 0.0) || !(db > 0.0) || !(h[a] > 0.0) || !(h[b] > 0.0)) continue;
      g[a] = 1.0 / (0.5 * h[a] / da + 0.5 * h[b] / db);
      any = true;
    }
    if (!any) continue;
    const auto f = static_cast<std::size_t>(sp.id);
    // Coupled to the decay that react() applies (FieldSpec::decay).
    const double dt_eff = coupled_diffusion_time(dt, sp.decay);
    std::array<double, n> lo{}, di{}, up{}, rhs{};
    for (int l = 0; l < n; ++l) {
      const auto k = static_cast<std::size_t>(l);
      const double hk = h[k] > 0.0 ? h[k] : 1.0;
      di[k] = hk;
      rhs[k] = hk * st[k][f];
      if (l > 0) {
        di[k] += dt_eff * g[k - 1];
        lo[k] = -dt_eff * g[k - 1];
      }
      if (l + 1 < n) {
        di[k] += dt_eff * g[k];
        up[k] = -dt_eff * g[k];
      }
    }
    solve_tridiagonal(lo, di, up, rhs);
    for (int l = 0; l < n; ++l) {
      const auto k = static_cast<std::size_t>(l);
      st[k][f] = std::max(0.0, rhs[k]);
    }
  }
}

}  // namespace

void session_fractions(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr,
                       std::array<double, skin::kLayers>& damage,
                       std::array<double, skin::kLayers>& lumen) {
  damage.fill(0.0);
  lumen.fill(0.0);
  const double rho = pr.density * 1e-8;  // per um^2
  const double dz = 0.5;                 // um
  for (int i = 0; i < skin::kLayers; ++i) {
    const skin::Layer l = skin::layer_from_index(i);
    const double top = prof.top_of(l) * 1e6, bot = prof.bottom_of(l) * 1e6;
    const double thick = bot - top;
    if (thick <= 0.0) continue;
    double dsum = 0.0, lsum = 0.0;
    for (double z = top + 0.5 * dz; z < std::min(bot, pr.depth); z += dz) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      dsum += damage_area(p, r) * dz;
      lsum += kPi * r * r * dz;
    }
    damage[static_cast<std::size_t>(i)] = rho * dsum / thick;
    lumen[static_cast<std::size_t>(i)] = rho * lsum / thick;
  }
}

double ColumnRun::value(skin::Layer l, Field f, double t) const {
  if (samples.empty()) return 0.0;
  const auto fi = static_cast<std::size_t>(f);
  if (t <= samples.front().t) return samples.front().s[li(l)][fi];
  if (t >= samples.back().t) return samples.back().s[li(l)][fi];
  auto it = std::upper_bound(samples.begin(), samples.end(), t,
                             [](double x, const ColumnSample& s) { return x < s.t; });
  const ColumnSample& b = *it;
  const ColumnSample& a = *(it - 1);
  const double w = b.t > a.t ? (t - a.t) / (b.t - a.t) : 1.0;
  return (1.0 - w) * a.s[li(l)][fi] + w * b.s[li(l)][fi];
}

double ColumnRun::collagen_change(skin::Layer l, double t) const {
  const Baseline& b = base[li(l)];
  const double c0 = b.collagen1 + b.collagen3;
  if (c0 <= 0.0) return 0.0;
  return (value(l, kCollagen1, t) + value(l, kCollagen3, t)) / c0 - 1.0;
}

double ColumnRun::epidermal_thickness_change(double t) const {
  return value(skin::Layer::ViableEpidermis, kEpidermalThickness, t) - 1.0;
}

double ColumnRun::peak_time(skin::Layer l, Field f, double t0, double t1) const {
  const State b0 = baseline_state(base[li(l)]);
  const auto fi = static_cast<std::size_t>(f);
  double best = -1e300, tb = -1.0;
  for (const auto& s : samples) {
    if (s.t < t0 || s.t > t1) continue;
    const double x = s.s[li(l)][fi] - b0[fi];
    if (x > best) {
      best = x;
      tb = s.t;
    }
  }
  return tb;
}

double epidermal_channel_radius(const Params& p, const skin::SkinProfile& prof,
                                const ColumnProtocol& pr) {
  using skin::Layer;
  const double ve_mid =
      0.5e6 * (prof.top_of(Layer::ViableEpidermis) + prof.bottom_of(Layer::ViableEpidermis));
  return std::max(1.0, channel_radius(p, pr.radius, ve_mid, pr.depth));
}

ColumnRun run_column(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr) {
  if (pr.session_times.empty() || !(pr.end_time > 0.0) || !(pr.density >= 0.0) ||
      !(pr.depth > 0.0) || !(pr.radius > 0.0) || !(pr.max_dt > 0.0)) {
    throw std::invalid_argument("run_column: need sessions, end_time, depth, radius > 0");
  }
  if (!std::is_sorted(pr.session_times.begin(), pr.session_times.end())) {
    throw std::invalid_argument("run_column: session times must be increasing");
  }
  using skin::Layer;
  ColumnRun run;
  run.base = baselines_from_profile(prof);
  {
    std::array<double, skin::kLayers> m_damage{}, m_lumen{};
    session_fractions(p, prof, pr, m_damage, m_lumen);
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      run.damage_fraction[k] = 1.0 - std::exp(-m_damage[k]);
      run.matrix_keep[k] = std::exp(-p.matrix_loss * m_lumen[k]);
      run.lumen_fraction[k] = m_lumen[k];
    }
  }
  // Epidermal channel radius: at the middle of the viable epidermis.
  const double heal_window = kChannelHealWindow;
  run.channel = pr.channel ? *pr.channel
                           : heal_channel(p, epidermal_channel_radius(p, prof, pr), heal_window);

  std::array<State, skin::kLayers> st;
  for (int i = 0; i < skin::kLayers; ++i) {
    st[static_cast<std::size_t>(i)] = baseline_state(run.base[static_cast<std::size_t>(i)]);
  }
  const std::size_t ve = li(Layer::ViableEpidermis), sc = li(Layer::StratumCorneum),
                    pd = li(Layer::PapillaryDermis);
  const double phi_ve = run.damage_fraction[ve];
  const std::vector<FieldSpec> specs = field_specs(p);
  const Capacities capacity = capacity_form(specs, run.base);
  std::array<double, skin::kLayers> thickness_um{};
  for (int i = 0; i < skin::kLayers; ++i) {
    thickness_um[static_cast<std::size_t>(i)] = prof.thickness[static_cast<std::size_t>(i)] * 1e6;
  }

  auto sample = [&](double t, double last_session) {
    ColumnSample s;
    s.t = t;
    s.s = st;
    s.erythema = erythema(p, run.base[pd], st[pd]);
    const double since = t - last_session;
    s.tewl_excess = since >= 0.0 && since <= heal_window
                        ? run.channel.open_at(since) * std::exp(-p.seal_rate * since)
                        : 0.0;
    run.samples.push_back(s);
  };

  double t = pr.session_times.front();
  double last = t;
  sample(t, last);
  std::size_t next = 0;
  double dt = 0.01;
  while (t < pr.end_time) {
    if (next < pr.session_times.size() && t >= pr.session_times[next] - 1e-9) {
      // Injury of one session, layer by layer (areal means).
      for (int i = 0; i < skin::kLayers; ++i) {
        const auto k = static_cast<std::size_t>(i);
        State& s = st[k];
        const double d = run.damage_fraction[k], lu = run.lumen_fraction[k];
        if (d <= 0.0) continue;
        s[kDamage] = 1.0 - (1.0 - s[kDamage]) * (1.0 - d);
        for (Field f : {kFibroblasts, kNeutrophils, kMacrophages, kVascular, kKeratinocytes}) {
          s[static_cast<std::size_t>(f)] *= 1.0 - d;
        }
        for (Field f : {kCollagen1, kCollagen3, kElastin}) {
          s[static_cast<std::size_t>(f)] *= run.matrix_keep[k];
        }
        if (pr.bled && i != static_cast<int>(sc)) {
          s[kPlatelets] = std::min(1.0, s[kPlatelets] + p.blood_fill * lu);
          s[kClot] = std::min(1.0, s[kClot] + p.blood_fill * lu);
        }
      }
      SessionSummary ss;
      ss.start = pr.session_times[next];
      run.sessions.push_back(ss);
      last = pr.session_times[next];
      ++next;
      dt = 0.01;
    }
    double step = std::min(dt, pr.end_time - t);
    if (next < pr.session_times.size()) step = std::min(step, pr.session_times[next] - t);
    if (step <= 0.0) step = 1e-9;
    // Viable epidermis: cell density from the per-channel model; KGF from the papillary dermis.
    const double since = t + step - last;
    const double open = since <= heal_window ? run.channel.open_at(since) : 0.0;
    for (int i = 0; i < skin::kLayers; ++i) {
      const auto k = static_cast<std::size_t>(i);
      react(p, run.base[k], st[k], step);
      if (k == ve) {
        st[k][kKeratinocytes] = 1.0 - phi_ve * open;
        st[k][kChemical] = 1.0;
        st[k][kDamage] = phi_ve * open;
      }
    }
    // Then vertical exchange between the layers (the 3D engine's diffusion, averaged over the
    // area): growth factors spread over about a millimetre before they decay, so the thin papillary
    // dermis shares its mediators with the epidermis and the reticular dermis.
    if (pr.exchange) exchange_layers(specs, capacity, thickness_um, st, step);
    t += step;
    sample(t, last);
    dt = std::min(pr.max_dt, dt * 1.1);
  }
  // Session summaries.
  for (std::size_t q = 0; q < run.sessions.size(); ++q) {
    SessionSummary& ss = run.sessions[q];
    const double t0 = ss.start;
    const double t1 = q + 1 < run.sessions.size() ? run.sessions[q + 1].start : pr.end_time;
    ss.barrier_time = run.channel.barrier_time;
    for (const auto& s : run.samples) {
      if (s.t < t0 || s.t > t1) continue;
      if (s.erythema >= p.erythema_visible) ss.erythema_time = s.t - t0;
    }
    ss.neutrophil_peak = run.peak_time(Layer::PapillaryDermis, kNeutrophils, t0, t1) - t0;
    ss.macrophage_peak = run.peak_time(Layer::PapillaryDermis, kMacrophages, t0, t1) - t0;
  }
  return run;
}

}  // namespace mnsim::healing
