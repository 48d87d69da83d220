#include "healing/column.hpp"
#include "core/constants.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "healing/diffusion.hpp"
#include "healing/radial.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {
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

/// One vertical compartment of the driver: a depth band [top, bot) (um) of one layer.
struct Band {
  std::size_t layer = 0;  // skin::layer_index
  double top = 0.0, bot = 0.0;
  double h() const { return bot - top; }
};

/// The bands: every layer of non-zero thickness, cut where the channel ends and where its tip
/// starts to taper (so a layer the needle reaches only partly is not injured as a whole), then
/// split into equal bands no thicker than max_band (um; <= 0: no further split).
std::vector<Band> make_bands(const Params& p, const skin::SkinProfile& prof, double depth,
                             double max_band) {
  std::vector<Band> out;
  for (int i = 0; i < skin::kLayers; ++i) {
    const skin::Layer l = skin::layer_from_index(i);
    const double top = prof.top_of(l) * 1e6, bot = prof.bottom_of(l) * 1e6;
    if (!(bot > top)) continue;
    std::vector<double> cuts = {top, bot};
    if (max_band > 0.0) {
      for (double c : {depth, depth - std::min(p.tip_length, depth)}) {
        if (c > top + 1e-6 && c < bot - 1e-6) cuts.push_back(c);
      }
    }
    std::sort(cuts.begin(), cuts.end());
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      const double a = cuts[c], b = cuts[c + 1];
      const int n =
          max_band > 0.0 ? std::max(1, static_cast<int>(std::ceil((b - a) / max_band - 1e-9))) : 1;
      for (int k = 0; k < n; ++k) {
        out.push_back({static_cast<std::size_t>(i), a + (b - a) * k / n,
                       k + 1 == n ? b : a + (b - a) * (k + 1) / n});
      }
    }
  }
  return out;
}

/// Scratch of the vertical exchange (one per run), with each field's factorised matrix and the
/// step it was built for (kept while the step is unchanged: most steps run at max_dt).
struct ExchangeScratch {
  std::vector<double> g, lo, di, up, rhs, many;
  std::vector<TridiagonalFactor> factor;
  std::vector<double> factor_dt;  // NaN: not built
  std::vector<char> moves;        // the field exchanges between some pair of bands
  void resize(std::size_t n, std::size_t fields) {
    g.assign(n, 0.0);
    lo.assign(n, 0.0);
    di.assign(n, 0.0);
    up.assign(n, 0.0);
    rhs.assign(n, 0.0);
    factor.assign(fields, TridiagonalFactor{});
    factor_dt.assign(fields, std::numeric_limits<double>::quiet_NaN());
    moves.assign(fields, 0);
  }
};

/// Diffusive exchange between the stacked band compartments of one column over dt (h): for every
/// field that moves, backward Euler on the bands of thickness h (um) with the finite-volume face
/// conductance 1 / (h_a / 2 D_a + h_b / 2 D_b) (none where either band's layer holds the field
/// still). Conserves sum(h u) and keeps u >= 0.
/// Fields with capacity-form motility (`capacity`) exchange toward a uniform ratio to their layer
/// baselines c: the face flux is g c_f (u_a / c_a - u_b / c_b) with c_f = 2 c_a c_b / (c_a + c_b),
/// as in the 3D engine, so the baseline is at rest.
void exchange_bands(const std::vector<FieldSpec>& specs, const Capacities& capacity,
                    const std::vector<Band>& bands, std::vector<State>& cells, std::size_t na,
                    double dt, ExchangeScratch& w) {
  const std::size_t n = bands.size();
  if (n < 2) return;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const FieldSpec& sp = specs[i];
    const auto f = static_cast<std::size_t>(sp.slot);
    const std::array<double, skin::kLayers>* cap = capacity[i] ? &*capacity[i] : nullptr;
    // Backward Euler with the factorised matrix, annulus by annulus.
    // (All annuli at once: band b of annulus a at many[b * na + a].)
    auto solve_annuli = [&](const TridiagonalFactor& factor) {
      if (w.many.size() < n * na) w.many.assign(n * na, 0.0);
      double* many = w.many.data();
      for (std::size_t b = 0; b < n; ++b) {
        const double hb = bands[b].h();
        double* row = many + b * na;
        if (cap != nullptr) {
          const double c = (*cap)[bands[b].layer];
          for (std::size_t a = 0; a < na; ++a) row[a] = c > 0.0 ? hb * cells[a * n + b][f] : 0.0;
        } else {
          const double hw = hb > 0.0 ? hb : 1.0;
          for (std::size_t a = 0; a < na; ++a) row[a] = hw * cells[a * n + b][f];
        }
      }
      factor.solve_many(many, na);
      for (std::size_t b = 0; b < n; ++b) {
        const double* row = many + b * na;
        if (cap != nullptr) {
          const double c = (*cap)[bands[b].layer];
          if (c > 0.0) {
            for (std::size_t a = 0; a < na; ++a) cells[a * n + b][f] = std::max(0.0, row[a] * c);
          }
        } else {
          for (std::size_t a = 0; a < na; ++a) cells[a * n + b][f] = std::max(0.0, row[a]);
        }
      }
    };
    TridiagonalFactor& factor = w.factor[i];
    if (w.factor_dt[i] == dt) {
      if (w.moves[i] != 0) solve_annuli(factor);
      continue;
    }
    w.factor_dt[i] = dt;
    bool any = false;
    for (std::size_t b = 0; b + 1 < n; ++b) {
      const Band &x = bands[b], &y = bands[b + 1];
      const double da = sp.diffusivity[x.layer], db = sp.diffusivity[y.layer];
      w.g[b] = 0.0;
      if (!(da > 0.0) || !(db > 0.0) || !(x.h() > 0.0) || !(y.h() > 0.0)) continue;
      const double cond = 1.0 / (0.5 * x.h() / da + 0.5 * y.h() / db);
      if (cap != nullptr) {
        const double ca = (*cap)[x.layer], cb = (*cap)[y.layer];
        if (!(ca > 0.0) || !(cb > 0.0)) continue;
        w.g[b] = cond * 2.0 * ca * cb / (ca + cb);
      } else {
        w.g[b] = cond;
      }
      any = true;
    }
    w.moves[i] = any ? 1 : 0;
    if (!any) continue;
    // Coupled to the decay that react() applies (FieldSpec::decay); cells: the plain step.
    const double dt_eff = cap != nullptr ? dt : coupled_diffusion_time(dt, sp.decay);
    // Unknowns: u / c with capacity h c (capacity form), else u with capacity h.
    for (std::size_t b = 0; b < n; ++b) {
      const double hb = bands[b].h();
      if (cap != nullptr) {
        const double c = (*cap)[bands[b].layer];
        w.di[b] = c > 0.0 ? hb * c : 1.0;
      } else {
        w.di[b] = hb > 0.0 ? hb : 1.0;
      }
      w.lo[b] = w.up[b] = 0.0;
      if (b > 0) {
        w.di[b] += dt_eff * w.g[b - 1];
        w.lo[b] = -dt_eff * w.g[b - 1];
      }
      if (b + 1 < n) {
        w.di[b] += dt_eff * w.g[b];
        w.up[b] = -dt_eff * w.g[b];
      }
    }
    factor.factor(std::span<const double>(w.lo.data(), n), std::span<const double>(w.di.data(), n),
                  std::span<const double>(w.up.data(), n));
    solve_annuli(factor);
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

namespace {
/// Slot of one of the healing model's fields (resolved once per name by the callers' statics).
std::size_t slot_of(std::string_view name) {
  return static_cast<std::size_t>(healing_model().slot(name));
}
}  // namespace

SessionDose session_dose(const ColumnProtocol& pr, std::size_t i) {
  if (i < pr.doses.size()) return pr.doses[i];
  return SessionDose{pr.density, pr.depth, pr.radius, pr.bled, pr.channel};
}

double age_limited_step(double max_dt, double age) {
  return std::min(max_dt, std::max(kAgeStepFloor, age / kStepsPerAgeEfold));
}

double ColumnRun::value(skin::Layer l, std::string_view field, double t) const {
  return value(l, static_cast<int>(slot_of(field)), t);
}

double ColumnRun::value(skin::Layer l, int slot, double t) const {
  if (samples.empty()) return 0.0;
  const auto fi = static_cast<std::size_t>(slot);
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
  static const int kC1 = static_cast<int>(slot_of("collagen1"));
  static const int kC3 = static_cast<int>(slot_of("collagen3"));
  return (value(l, kC1, t) + value(l, kC3, t)) / c0 - 1.0;
}

double ColumnRun::epidermal_thickness_change(double t) const {
  static const int kH = static_cast<int>(slot_of("epidermal_thickness"));
  return value(skin::Layer::ViableEpidermis, kH, t) - 1.0;
}

double ColumnRun::peak_time(skin::Layer l, std::string_view field, double t0, double t1) const {
  return peak_time(l, static_cast<int>(slot_of(field)), t0, t1);
}

double ColumnRun::peak_time(skin::Layer l, int slot, double t0, double t1) const {
  const State b0 = baseline_state(base[li(l)]);
  const auto fi = static_cast<std::size_t>(slot);
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

namespace {

/// Per annulus and band, what one session deposits ([annulus * bands + band]).
struct CellInjury {
  std::vector<double> damage, keep, blood;
};

/// Annulus integral (um^2) of damage_at(p, r, .) over [a, b]: the lumen disc plus the halo's
/// exponential tail, exactly.
double annulus_damage(const Params& p, double r, double a, double b) {
  if (!(r > 0.0)) return 0.0;
  const double lin = std::min(b, r), lout = std::min(a, r);
  double s = kPi * (lin * lin - lout * lout);
  const double w = p.halo_width;
  if (w > 0.0 && b > r) {
    const double lo = std::max(a, r);
    auto F = [&](double x) {
      return -2.0 * kPi * p.halo_damage * w * (x + w) * std::exp(-(x - r) / w);
    };
    s += F(b) - F(lo);
  }
  return s;
}

/// The injury of one session in every compartment. Per band, the mean number of channels
/// covering a point, m (damage-weighted) and m_l (lumen), as session_fractions; the areal means
/// are those of punctures at random positions: damage 1 - e^{-m}, matrix kept
/// e^{-matrix_loss m_l}, blood m_l. Resolved (mesh given): the cell's own channel, annulus-averaged
/// (exactly in r) and averaged over the band's depth, scaled to those means.
CellInjury make_injury(const Params& p, const ColumnProtocol& pr, const std::vector<Band>& bands,
                       const RadialMesh* mesh) {
  const std::size_t nb = bands.size(), na = mesh ? mesh->size() : 1;
  CellInjury c;
  c.damage.assign(na * nb, 0.0);
  c.keep.assign(na * nb, 1.0);
  c.blood.assign(na * nb, 0.0);
  const double rho = pr.density * 1e-8;  // per um^2
  std::vector<double> d_own(na), l_own(na), d_r(na), l_r(na), d_r0(na), l_r0(na);
  auto fill = [&](double r, std::vector<double>& d, std::vector<double>& l) {
    for (std::size_t i = 0; i < na; ++i) {
      const double a = mesh->edge[i], b = mesh->edge[i + 1];
      d[i] = annulus_damage(p, r, a, b) / mesh->area[i];
      const double ri = std::min(b, r), ro = std::min(a, r);
      l[i] = r > 0.0 ? kPi * (ri * ri - ro * ro) / mesh->area[i] : 0.0;
    }
  };
  if (mesh) fill(pr.radius, d_r0, l_r0);
  for (std::size_t b = 0; b < nb; ++b) {
    const Band& band = bands[b];
    const double h = band.h();
    const double end = std::min(band.bot, pr.depth);
    if (!(h > 0.0) || !(end > band.top) || !(rho > 0.0)) continue;
    // Mean channel counts (as session_fractions, 0.5 um steps).
    double dsum = 0.0, lsum = 0.0;
    for (double z = band.top + 0.25; z < end; z += 0.5) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      dsum += damage_area(p, r) * 0.5;
      lsum += kPi * r * r * 0.5;
    }
    const double m = rho * dsum / h, ml = rho * lsum / h;
    const double dmean = 1.0 - std::exp(-m), keep_mean = std::exp(-p.matrix_loss * ml);
    if (!mesh) {
      c.damage[b] = dmean;
      c.keep[b] = keep_mean;
      c.blood[b] = ml;
      continue;
    }
    std::fill(d_own.begin(), d_own.end(), 0.0);
    std::fill(l_own.begin(), l_own.end(), 0.0);
    const double dz = std::min(1.0, 0.25 * (end - band.top));
    for (double z = band.top + 0.5 * dz; z < end; z += dz) {
      const double r = channel_radius(p, pr.radius, z, pr.depth);
      const bool same = r == pr.radius;
      if (!same) fill(r, d_r, l_r);
      const auto& dd = same ? d_r0 : d_r;
      const auto& ll = same ? l_r0 : l_r;
      for (std::size_t i = 0; i < na; ++i) {
        d_own[i] += dd[i] * dz / h;
        l_own[i] += ll[i] * dz / h;
      }
    }
    const double md = mesh->mean(d_own.data()), mlum = mesh->mean(l_own.data());
    const double sd = md > 0.0 ? dmean / md : 0.0;
    const double sm = mlum > 0.0 ? (1.0 - keep_mean) / (p.matrix_loss * mlum) : 0.0;
    const double sb = mlum > 0.0 ? ml / mlum : 0.0;
    for (std::size_t i = 0; i < na; ++i) {
      c.damage[i * nb + b] = std::min(1.0, d_own[i] * sd);
      c.keep[i * nb + b] = std::max(0.0, 1.0 - p.matrix_loss * l_own[i] * sm);
      c.blood[i * nb + b] = l_own[i] * sb;
    }
  }
  return c;
}

}  // namespace

ColumnRun run_column(const Params& p, const skin::SkinProfile& prof, const ColumnProtocol& pr) {
  const bool doses_ok = pr.doses.empty() || pr.doses.size() == pr.session_times.size();
  bool dose_values_ok = true, one_depth = true, any_density = false;
  for (std::size_t i = 0; i < pr.session_times.size(); ++i) {
    const SessionDose d = session_dose(pr, i);
    dose_values_ok = dose_values_ok && d.density >= 0.0 && d.depth > 0.0 && d.radius > 0.0;
    one_depth = one_depth && d.depth == session_dose(pr, 0).depth;
    any_density = any_density || d.density > 0.0;
  }
  if (pr.session_times.empty() || !(pr.end_time > 0.0) || !doses_ok || !dose_values_ok ||
      !(pr.max_dt > 0.0) || pr.annuli < 0 || pr.annuli > 256 || !(pr.band >= 0.0) ||
      (pr.band > 0.0 && !one_depth)) {
    throw std::invalid_argument(
        "run_column: need sessions, end_time, a dose per session (depth, radius > 0), "
        "0 <= annuli <= 256, band >= 0 (one depth for every session when band > 0)");
  }
  if (!std::is_sorted(pr.session_times.begin(), pr.session_times.end())) {
    throw std::invalid_argument("run_column: session times must be increasing");
  }
  using skin::Layer;
  ColumnRun run;
  run.base = baselines_from_profile(prof);
  // The session being run: the protocol with that session's dose (the first session's until the
  // first session starts).
  ColumnProtocol cur = pr;
  auto take_dose = [&](const SessionDose& d) {
    cur.density = d.density;
    cur.depth = d.depth;
    cur.radius = d.radius;
    cur.bled = d.bled;
    cur.channel = d.channel;
  };
  take_dose(session_dose(pr, 0));
  // Per layer, the current session's areal injury (ColumnRun keeps the first session's).
  std::array<double, skin::kLayers> damage_fraction{};
  auto set_fractions = [&]() {
    std::array<double, skin::kLayers> m_damage{}, m_lumen{};
    session_fractions(p, prof, cur, m_damage, m_lumen);
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      damage_fraction[k] = 1.0 - std::exp(-m_damage[k]);
    }
    return std::make_pair(m_damage, m_lumen);
  };
  {
    const auto [m_damage, m_lumen] = set_fractions();
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      run.damage_fraction[k] = damage_fraction[k];
      run.matrix_keep[k] = std::exp(-p.matrix_loss * m_lumen[k]);
      run.lumen_fraction[k] = m_lumen[k];
    }
  }
  // Epidermal channel radius: at the middle of the viable epidermis.
  const double heal_window = kChannelHealWindow;
  // Channels per um^2. Each heals as an isolated channel: bounding its domain by the session's
  // unit cell (heal_channel's cell_radius) closes dense lattices sooner, which moved the reduced
  // model 11% from the 3D engine on example 04 (docs/model.md section 6), so it is not used.
  // Healing of each distinct epidermal channel radius the course makes (given, or computed once).
  std::map<double, ChannelHealing> healed;
  auto channel_of = [&](const ColumnProtocol& c) -> const ChannelHealing* {
    if (c.channel) return c.channel;
    const double r = epidermal_channel_radius(p, prof, c);
    auto it = healed.find(r);
    if (it == healed.end()) it = healed.emplace(r, heal_channel(p, r, heal_window)).first;
    return &it->second;
  };
  double channels_um2 = cur.density * 1e-8;
  const ChannelHealing* channel = channel_of(cur);
  run.channel = *channel;
  // Per session: its channel healing and channel density (session summaries).
  std::vector<const ChannelHealing*> session_channel;
  std::vector<double> session_rho;

  // Compartments: depth bands (one per layer, or resolved in depth) x annuli of the unit cell
  // (one, well mixed, or the mesh around one channel of the session's lattice, cell radius
  // 1 / sqrt(pi rho)).
  const std::vector<Band> bands = make_bands(p, prof, cur.depth, pr.band);
  const std::size_t nb = bands.size();
  const bool resolved = pr.annuli > 1 && any_density;
  RadialMesh mesh;
  // The unit cell of the lattice of the first session that punctures.
  auto make_mesh = [&](const ColumnProtocol& c) {
    return radial_mesh(c.radius, 1.0 / std::sqrt(kPi * c.density * 1e-8), pr.annuli);
  };
  if (resolved) {
    for (std::size_t i = 0; i < pr.session_times.size(); ++i) {
      const SessionDose d = session_dose(pr, i);
      if (!(d.density > 0.0)) continue;
      ColumnProtocol c = pr;
      c.density = d.density;
      c.radius = d.radius;
      mesh = make_mesh(c);
      break;
    }
  }
  CellInjury injury = make_injury(p, cur, bands, resolved ? &mesh : nullptr);
  const std::size_t na = resolved ? mesh.size() : 1;
  run.annulus_area = resolved ? mesh.area : std::vector<double>{1.0};
  run.annulus_mid = resolved ? mesh.mid : std::vector<double>{0.0};
  for (const Band& b : bands) {
    run.band_layer.push_back(b.layer);
    run.band_top.push_back(b.top);
    run.band_bottom.push_back(b.bot);
  }

  std::vector<State> cells(na * nb);  // [annulus * nb + band]
  std::vector<std::size_t> state_layer(na * nb);
  for (std::size_t a = 0; a < na; ++a) {
    for (std::size_t b = 0; b < nb; ++b) state_layer[a * nb + b] = bands[b].layer;
  }
  for (std::size_t a = 0; a < na; ++a) {
    for (std::size_t b = 0; b < nb; ++b)
      cells[a * nb + b] = baseline_state(run.base[bands[b].layer]);
  }
  const std::size_t ve = li(Layer::ViableEpidermis), sc = li(Layer::StratumCorneum),
                    pd = li(Layer::PapillaryDermis);
  // The healing model's fields, by slot (resolved here once).
  const Model& model = healing_model();
  const std::size_t nf = model.size();
  auto slot = [&](const char* name) { return static_cast<std::size_t>(model.slot(name)); };
  const std::size_t s_damage = slot("damage"), s_platelets = slot("platelets"),
                    s_clot = slot("clot"), s_keratinocytes = slot("keratinocytes"),
                    s_chemical = slot("mitosis_chemical");
  const std::array<std::size_t, 5> cell_fields = {slot("fibroblasts"), slot("neutrophils"),
                                                  slot("macrophages"), slot("vascular"),
                                                  s_keratinocytes};
  const std::array<std::size_t, 4> matrix_fields = {slot("collagen1"), slot("collagen3"),
                                                    slot("elastin"), slot("scar_matrix")};
  // An atrophic scar's deficit, held by its scar matrix and maintained by its fibroblasts of the
  // scar phenotype (as Engine::seed_lesions).
  const std::size_t s_phenotype = slot("scar_fibroblasts");
  for (std::size_t at = 0; at < cells.size(); ++at) {
    const double d = std::clamp(pr.scar_deficit[state_layer[at]], 0.0, 1.0);
    if (!(d > 0.0)) continue;
    for (std::size_t f : matrix_fields) cells[at][f] *= 1.0 - d;
    cells[at][matrix_fields[3]] = d;
    cells[at][s_phenotype] = p.scar_phenotype_share;
  }
  Reactor reactor(model, p);
  const std::vector<FieldSpec> specs = field_specs(model, p);
  const Capacities capacity = capacity_form(specs, run.base);
  std::array<double, skin::kLayers> layer_h{};
  for (const Band& b : bands) layer_h[b.layer] += b.h();
  double total_area = resolved ? mesh.total_area() : 1.0;
  std::vector<double> buf(na), attr(na), many(na * nb);
  std::vector<std::size_t> group;  // bands diffusing together
  std::vector<char> done(nb);
  // Per field and layer: the factorised radial diffusion step and the time it was built for.
  std::vector<std::array<std::optional<std::pair<double, RadialDiffusionStep>>, skin::kLayers>>
      plain_steps(nf);
  ExchangeScratch scratch;
  scratch.resize(nb, specs.size());

  // Areal mean of every field of every band, then the thickness-weighted mean of each layer
  // (layers without bands: their baseline).
  std::vector<State> band_mean(nb);
  auto band_means = [&]() {
    for (std::size_t b = 0; b < nb; ++b) {
      if (na == 1) {
        band_mean[b] = cells[b];
      } else {
        State& s = band_mean[b];
        s.fill(0.0);
        for (std::size_t a = 0; a < na; ++a) {
          for (std::size_t f = 0; f < nf; ++f) s[f] += mesh.area[a] * cells[a * nb + b][f];
        }
        for (double& x : s) x /= total_area;
      }
    }
  };
  // Into m: written in place (a sample's 1.3 kB are not copied through temporaries).
  auto means_into = [&](std::array<State, skin::kLayers>& m) {
    band_means();
    for (State& x : m) x.fill(0.0);
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      if (!(layer_h[k] > 0.0)) m[k] = baseline_state(run.base[k]);
    }
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t k = bands[b].layer;
      const double w = bands[b].h() / layer_h[k];
      for (std::size_t f = 0; f < nf; ++f) {
        m[k][f] += (w == 1.0 ? band_mean[b][f] : w * band_mean[b][f]);
      }
    }
  };

  auto sample = [&](double t, double last_session) {
    ColumnSample& s = run.samples.emplace_back();
    s.t = t;
    means_into(s.s);
    s.erythema = erythema(p, run.base[pd], s.s[pd]);
    const double since = t - last_session;
    s.tewl_excess =
        since >= 0.0 && since <= heal_window
            ? tewl_excess_ratio(p, channels_um2, channel->radius, channel->open_at(since), since)
            : 0.0;
  };

  // One sample per step: steps restart at 0.01 h after each session and grow by 1.1 up to
  // max_dt (an upper bound, so the samples are not moved as they grow).
  {
    const double ramp = std::ceil(std::log(std::max(pr.max_dt / 0.01, 1.0)) / std::log(1.1)) + 2.0;
    const double n = static_cast<double>(pr.session_times.size()) * (ramp + 1.0) +
                     (pr.end_time - pr.session_times.front()) / pr.max_dt + 2.0;
    run.samples.reserve(static_cast<std::size_t>(std::clamp(n, 0.0, 1e6)));
  }
  double t = pr.session_times.front();
  double last = t;
  sample(t, last);
  std::size_t next = 0;
  double dt = 0.01;
  while (t < pr.end_time) {
    if (next < pr.session_times.size() && t >= pr.session_times[next] - 1e-9) {
      // A new session's channels land at positions unrelated to the last session's: the cell
      // starts from the bands' areal means (nothing to do when well mixed), on the unit cell of
      // this session's lattice when its needles differ from the last session's.
      if (na > 1 && next > 0) band_means();
      const SessionDose dose = session_dose(pr, next);
      if (next > 0 && !dose.same_wound(session_dose(pr, next - 1))) {
        take_dose(dose);
        set_fractions();
        channel = channel_of(cur);
        channels_um2 = cur.density * 1e-8;
        if (resolved && cur.density > 0.0) {
          mesh = make_mesh(cur);
          total_area = mesh.total_area();
          for (auto& f : plain_steps) f = {};  // built for the old mesh
        }
        injury = make_injury(p, cur, bands, resolved ? &mesh : nullptr);
      }
      if (na > 1 && next > 0) {
        for (std::size_t a = 0; a < na; ++a) {
          for (std::size_t b = 0; b < nb; ++b) cells[a * nb + b] = band_mean[b];
        }
      }
      session_channel.push_back(channel);
      session_rho.push_back(channels_um2);
      // Injury of one session, compartment by compartment.
      for (std::size_t a = 0; a < na; ++a) {
        for (std::size_t b = 0; b < nb; ++b) {
          const std::size_t k = bands[b].layer, at = a * nb + b;
          State& s = cells[at];
          const double d = injury.damage[at], lu = injury.blood[at];
          if (!(damage_fraction[k] > 0.0) || !(cur.density > 0.0)) continue;
          s[s_damage] = 1.0 - (1.0 - s[s_damage]) * (1.0 - d);
          for (std::size_t f : cell_fields) s[f] *= 1.0 - d;
          for (std::size_t f : matrix_fields) s[f] *= injury.keep[at];
          if (cur.bled && k != sc) {
            s[s_platelets] = std::min(1.0, s[s_platelets] + p.blood_fill * lu);
            s[s_clot] = std::min(1.0, s[s_clot] + p.blood_fill * lu);
          }
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
    const double open = since <= heal_window ? channel->damage_at(since) : 0.0;
    const double phi_ve = damage_fraction[ve];
    reactor.react_states(run.base, state_layer, cells, step);
    for (std::size_t a = 0; a < na; ++a) {
      for (std::size_t b = 0; b < nb; ++b) {
        if (bands[b].layer != ve) continue;
        State& st = cells[a * nb + b];
        st[s_keratinocytes] = 1.0 - phi_ve * open;
        st[s_chemical] = 1.0;
        st[s_damage] = phi_ve * open;
      }
    }
    // Lateral transport in the unit cell, band by band: the mediators' diffusion first, then the
    // cells' motility and chemotaxis up the transported attractants (as the 3D engine; cells in
    // capacity form move by plain diffusion inside a layer).
    if (na > 1) {
      for (int pass = 0; pass < 2; ++pass) {
        for (const FieldSpec& sp : specs) {
          const bool taxis = sp.chemoattractant >= 0 && sp.chemotaxis != 0.0;
          const bool cell = taxis || capacity[static_cast<std::size_t>(sp.slot)].has_value();
          if ((pass == 0) == cell) continue;
          const auto f = static_cast<std::size_t>(sp.slot);
          // Plain diffusion: one factorised matrix per layer for all its bands, kept while the
          // step is unchanged (most steps run at max_dt).
          auto& plain = plain_steps[f];
          auto moves = [&](std::size_t b) {
            const std::size_t k = bands[b].layer;
            return sp.diffusivity[k] > 0.0 &&
                   !(k == ve && (f == s_keratinocytes || f == s_chemical));
          };
          if (taxis) {
            for (std::size_t b = 0; b < nb; ++b) {
              if (!moves(b)) continue;
              const double D = sp.diffusivity[bands[b].layer];
              for (std::size_t a = 0; a < na; ++a) buf[a] = cells[a * nb + b][f];
              const auto c = static_cast<std::size_t>(sp.chemoattractant);
              for (std::size_t a = 0; a < na; ++a) attr[a] = cells[a * nb + b][c];
              radial_transport_implicit(mesh, buf.data(), D, step, attr.data(), sp.chemotaxis);
              for (std::size_t a = 0; a < na; ++a) cells[a * nb + b][f] = buf[a];
            }
            continue;
          }
          // The bands of one diffusivity (every layer's, as a rule) share their matrix: solved
          // together (annulus a of the j-th band at many[a * m + j]).
          const double tau = cell ? step : coupled_diffusion_time(step, sp.decay);
          std::fill(done.begin(), done.end(), 0);
          for (std::size_t b0 = 0; b0 < nb; ++b0) {
            if (done[b0] != 0 || !moves(b0)) continue;
            const std::size_t k = bands[b0].layer;
            const double D = sp.diffusivity[k];
            group.clear();
            for (std::size_t b = b0; b < nb; ++b) {
              if (done[b] == 0 && moves(b) && sp.diffusivity[bands[b].layer] == D) {
                group.push_back(b);
                done[b] = 1;
              }
            }
            if (!plain[k]) {
              plain[k].emplace(tau, RadialDiffusionStep(mesh, D, tau));
            } else if (plain[k]->first != tau) {
              plain[k]->first = tau;
              plain[k]->second.reset(mesh, D, tau);  // the storage reused
            }
            const std::size_t m = group.size();
            for (std::size_t a = 0; a < na; ++a) {
              for (std::size_t j = 0; j < m; ++j) many[a * m + j] = cells[a * nb + group[j]][f];
            }
            plain[k]->second.apply_many(many.data(), m);
            for (std::size_t a = 0; a < na; ++a) {
              for (std::size_t j = 0; j < m; ++j) cells[a * nb + group[j]][f] = many[a * m + j];
            }
          }
        }
      }
    }
    // Then vertical exchange between the bands, annulus by annulus (the 3D engine's diffusion,
    // averaged over the area): growth factors spread over about a millimetre before they decay,
    // so the thin papillary dermis shares its mediators with the epidermis and the reticular
    // dermis.
    if (pr.exchange) exchange_bands(specs, capacity, bands, cells, na, step, scratch);
    t += step;
    sample(t, last);
    dt = std::min(age_limited_step(pr.max_dt, t - last), dt * 1.1);
  }
  run.final_cell.assign(na, {});
  for (std::size_t a = 0; a < na; ++a) {
    for (std::size_t k = 0; k < skin::kLayers; ++k) {
      if (!(layer_h[k] > 0.0)) run.final_cell[a][k] = baseline_state(run.base[k]);
    }
    for (std::size_t b = 0; b < nb; ++b) {
      const double w = bands[b].h() / layer_h[bands[b].layer];
      for (std::size_t f = 0; f < nf; ++f) {
        run.final_cell[a][bands[b].layer][f] += w * cells[a * nb + b][f];
      }
    }
  }
  // Session summaries.
  for (std::size_t q = 0; q < run.sessions.size(); ++q) {
    SessionSummary& ss = run.sessions[q];
    const double t0 = ss.start;
    const double t1 = q + 1 < run.sessions.size() ? run.sessions[q + 1].start : pr.end_time;
    ss.barrier_time = barrier_recovery_time(p, *session_channel[q], session_rho[q]);
    ss.closure_time = session_channel[q]->closure_time;
    for (const auto& s : run.samples) {
      if (s.t < t0 || s.t > t1) continue;
      if (s.erythema >= p.erythema_visible) ss.erythema_time = s.t - t0;
    }
    ss.neutrophil_peak = run.peak_time(Layer::PapillaryDermis, "neutrophils", t0, t1) - t0;
    ss.macrophage_peak = run.peak_time(Layer::PapillaryDermis, "macrophages", t0, t1) - t0;
  }
  return run;
}

}  // namespace mnsim::healing
