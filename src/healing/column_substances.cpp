#include "healing/column_substances.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "core/constants.hpp"
#include "healing/tridiagonal.hpp"

namespace mnsim::healing {

namespace {

// Solute cells: each layer cut into cells no thicker than this (um; the hypodermis, reached by
// little, kCoarseCell).
constexpr double kCell = 5.0;
constexpr double kCoarseCell = 20.0;
// Time steps (h): from kFirstStep after each application growing x kGrowth, at most the time
// since the last application over kStepsPerAge, and at most kLongestStep.
constexpr double kFirstStep = 1e-3, kGrowth = 1.2, kStepsPerAge = 20.0, kLongestStep = 2.0;

// The session whose channels are open at t (s): the last at or before t.
std::size_t session_at(const std::vector<AppliedSession>& ss, double t) {
  std::size_t j = 0;
  for (std::size_t i = 0; i < ss.size(); ++i) {
    if (ss[i].t <= t) j = i;
  }
  return j;
}

}  // namespace

ColumnApplications column_applications(const Params& p, const SubstanceData& d,
                                       const skin::SkinProfile& prof,
                                       const std::vector<Application>& apps,
                                       const std::vector<AppliedSession>& sessions, double end_s) {
  ColumnApplications ca;
  ca.apps = apps;
  ca.sessions = sessions;
  ca.end_s = end_s;
  if (apps.empty() || sessions.empty()) return ca;
  std::vector<double> times;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const AppliedSession& s = sessions[i];
    times.push_back(s.t);
    double lumen = 0.0;
    for (double v : lumen_by_layer(prof, s.density, s.radius, s.depth)) lumen += v;
    ca.channels.add(static_cast<int>(i), s.t, s.geometry, s.closure,
                    lumen * 1e5);  // m -> mm^3/cm^2
  }
  for (const Film& f : schedule_films(apps, d, times, end_s)) {
    AppliedDose ad;
    ad.film = f;
    const Application& app = apps[f.app];
    const AppliedSession& s = sessions[session_at(sessions, f.t)];
    const double open = ca.channels.open_at(f.t);
    const auto lum = lumen_by_layer(prof, s.density, s.radius, s.depth);
    if (app.agent == "prp") {
      double below = 0.0;  // below the stratum corneum: the wound bed
      for (int l = 1; l < skin::kLayers; ++l) below += lum[static_cast<std::size_t>(l)];
      pour(ad.film, app, d, f.t, open * below);
      const double gf = d.agents.at("prp").growth_factor;
      const double per_blood = p.blood_growth_factor > 0.0 ? 1.0 / p.blood_growth_factor : 0.0;
      DoseRecord r;
      ColumnAddition add;
      add.t = f.t / kHour;
      for (int l = 1; l < skin::kLayers; ++l) {
        const auto k = static_cast<std::size_t>(l);
        const double phi = open * ad.film.fill * lum[k];  // m^3 per m^2 of skin
        r.by_layer[k] = phi * gf * kPerCm2;
        r.entered += r.by_layer[k];
        const double h =
            prof.bottom_of(skin::layer_from_index(l)) - prof.top_of(skin::layer_from_index(l));
        if (h > 0.0) add.platelets[k] = phi / h * gf * per_blood;
      }
      r.tissue = r.entered;
      ad.records.push_back(r);
      ca.additions.push_back(add);
    }
    ca.doses.push_back(std::move(ad));
  }
  std::stable_sort(ca.additions.begin(), ca.additions.end(),
                   [](const ColumnAddition& a, const ColumnAddition& b) { return a.t < b.t; });
  return ca;
}

void column_solutes(ColumnApplications& ca, const Params& p, const SubstanceData& d,
                    const skin::SkinProfile& prof, const VascularTrace& vascular) {
  (void)p;
  // The cells in depth (um): each layer cut into equal cells.
  std::vector<double> h, mid;
  std::vector<std::size_t> layer;
  double z = 0.0;
  for (int l = 0; l < skin::kLayers; ++l) {
    const skin::Layer L = skin::layer_from_index(l);
    const double t = (prof.bottom_of(L) - prof.top_of(L)) * 1e6;
    if (!(t > 0.0)) continue;
    const double cell = L == skin::Layer::Hypodermis ? kCoarseCell : kCell;
    const int n = std::max(1, static_cast<int>(std::ceil(t / cell)));
    for (int i = 0; i < n; ++i) {
      h.push_back(t / n);
      mid.push_back(z + (i + 0.5) * t / n);
      layer.push_back(static_cast<std::size_t>(l));
    }
    z += t;
  }
  ca.depth_um = mid;
  const std::size_t n = h.size();
  const double sc_thickness = std::max(
      (prof.bottom_of(skin::Layer::StratumCorneum) - prof.top_of(skin::Layer::StratumCorneum)) *
          1e6,
      1e-3);
  const auto sc = static_cast<std::size_t>(skin::layer_index(skin::Layer::StratumCorneum));
  const double per_um = 1e-4;  // ug/mL x um -> ug/cm^2

  std::vector<std::string> solutes;
  for (const auto& a : ca.apps) {
    if (is_solute(a.agent) && std::find(solutes.begin(), solutes.end(), a.agent) == solutes.end())
      solutes.push_back(a.agent);
  }
  for (const std::string& agent : solutes) {
    const Agent& g = d.agents.at(agent);
    const double D = d.tissue_diffusivity(g);  // um^2/h
    const double kp = d.sc_permeability(g);    // um/h
    const double k_clear0 = d.clearance_rate();
    std::vector<double> C(n, 0.0), S(n, 0.0), phi(n, 0.0), in(n, 0.0), out(n, 0.0);
    double k_wall = 0.0, vehicle = 0.0, poured = 0.0;
    // The stops: (time s, kind, dose index, record hours), in time order; at equal times pours
    // first, then film updates, then records.
    struct Stop {
      double t;
      int kind;  // 0 pour, 1 film update, 2 record
      std::size_t dose;
      double hours;
      bool last_update;
    };
    std::vector<Stop> stops;
    for (std::size_t i = 0; i < ca.doses.size(); ++i) {
      const Film& f = ca.doses[i].film;
      if (ca.apps[f.app].agent != agent) continue;
      stops.push_back({f.t, 0, i, 0.0, false});
      for (int u = 1; u <= kFilmUpdates; ++u) {
        stops.push_back({f.t + f.wet * u / kFilmUpdates, 1, i, 0.0, u == kFilmUpdates});
      }
      for (const double hr : kRecordHours) {
        if (std::fabs(hr * kHour - f.wet) < 1.0) continue;  // the wet end's record
        stops.push_back({f.t + hr * kHour, 2, i, hr, false});
      }
    }
    // As the 3D driver: nothing after the end of the course.
    std::erase_if(stops, [&](const Stop& x) { return x.t >= ca.end_s; });
    std::stable_sort(stops.begin(), stops.end(), [](const Stop& a, const Stop& b) {
      return a.t < b.t || (a.t == b.t && a.kind < b.kind);
    });
    double t = stops.empty() ? 0.0 : stops.front().t;  // s
    double dt = kFirstStep;                            // h
    auto total = [&](const std::vector<double>& x) {
      double s = 0.0;
      for (std::size_t i = 0; i < n; ++i) s += x[i] * h[i];
      return s;
    };
    std::vector<double> lo(n), di(n), up(n), rhs(n);
    double poured_at = t;           // s, the last application
    std::function<void()> on_step;  // after each step (the epidermis trace, below)
    auto step_to = [&](double t1) {
      while (t < t1) {
        const double age = (t - poured_at) / kHour;
        const double max_step = std::clamp(age / kStepsPerAge, kFirstStep, kLongestStep);
        const double step = std::min({dt, max_step, (t1 - t) / kHour});
        const double th = (t / kHour) + step;
        for (std::size_t i = 0; i < n; ++i) {
          const double sc_add =
              layer[i] == sc && vehicle > 0.0 ? kp * vehicle * step / sc_thickness : 0.0;
          double kc = 0.0;
          if (clears_solutes(skin::layer_from_index(static_cast<int>(layer[i])))) {
            kc = k_clear0 * (vascular ? vascular(layer[i], th) : 1.0);
          }
          solute_step(k_wall, phi[i], sc_add, kc, step, C[i], S[i], in[i], out[i]);
        }
        // Implicit diffusion in depth (no flux through the surface and the bottom).
        for (std::size_t i = 0; i < n; ++i) {
          const double gl = i > 0 ? D / (0.5 * (h[i] + h[i - 1])) : 0.0;
          const double gu = i + 1 < n ? D / (0.5 * (h[i] + h[i + 1])) : 0.0;
          lo[i] = -step * gl;
          up[i] = -step * gu;
          di[i] = h[i] + step * (gl + gu);
          rhs[i] = h[i] * C[i];
        }
        solve_tridiagonal(lo, di, up, rhs);
        for (std::size_t i = 0; i < n; ++i) C[i] = std::max(rhs[i], 0.0);
        t = (t1 - th * kHour < 1e-6) ? t1 : th * kHour;
        dt = std::min(dt * kGrowth, max_step);
        if (on_step) on_step();
      }
    };
    // The viable epidermis's mean concentration after every step (melanin_with_block).
    const auto ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
    ColumnApplications::EpidermisTrace& trace = ca.epidermis.emplace_back();
    trace.agent = agent;
    auto trace_now = [&]() {
      double amount = 0.0, thick = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        if (layer[i] != ve) continue;
        amount += C[i] * h[i];
        thick += h[i];
      }
      const double th = t / kHour;
      if (!trace.t_h.empty() && th <= trace.t_h.back()) return;
      trace.t_h.push_back(th);
      trace.ug_ml.push_back(thick > 0.0 ? amount / thick : 0.0);
    };
    std::vector<Film*> films;
    for (auto& ad : ca.doses) {
      if (ca.apps[ad.film.app].agent == agent) films.push_back(&ad.film);
    }
    trace_now();
    on_step = trace_now;
    auto record = [&](AppliedDose& ad, double hours) {
      DoseRecord r;
      r.hours = hours;
      for (std::size_t i = 0; i < n; ++i) r.by_layer[layer[i]] += C[i] * h[i] * per_um;
      for (double x : r.by_layer) r.tissue += x;
      r.lumen = total(S) * per_um;
      r.cleared = total(out) * per_um;
      r.skin_route = ad.film.skin_route;
      r.entered = ad.film.drained + ad.film.skin_route;
      ad.records.push_back(r);
      const double put = poured + total(in);
      const double have = total(C) + total(S) + total(out);
      if (put > 0.0) ca.balance_error = std::max(ca.balance_error, std::fabs(put - have) / put);
    };
    for (const Stop& st : stops) {
      step_to(st.t);
      AppliedDose& ad = ca.doses[st.dose];
      Film& f = ad.film;
      const Application& app = ca.apps[f.app];
      if (st.kind == 0) {
        // The film drains into the open lumen of the last session's channels (a cylinder of
        // their radius down to the depth reached, density x pi r^2 of the area at each depth):
        // the lumen's liquid is the formulation's, the rest stays on the skin.
        const AppliedSession& se = ca.sessions[session_at(ca.sessions, f.t)];
        const double open = ca.channels.open_at(f.t);
        const double r_um = se.radius * 1e6, depth_um = se.depth * 1e6;
        const double area = se.density * kPi * se.radius * se.radius;
        std::vector<double> frac(n, 0.0);
        double open_volume = 0.0;  // m^3 per m^2
        for (std::size_t i = 0; i < n; ++i) {
          const double top = mid[i] - 0.5 * h[i];
          frac[i] = area * std::clamp((depth_um - top) / h[i], 0.0, 1.0);
          open_volume += frac[i] * open * h[i] * 1e-6;
        }
        pour(f, app, d, f.t, open_volume);
        const double c0 = app.concentration * 1e3;  // mg/mL -> ug/mL
        double drained = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
          phi[i] = frac[i] * open * f.fill;
          S[i] += phi[i] * c0;
          drained += phi[i] * c0 * h[i];
        }
        poured += drained;
        f.drained = drained * per_um;
        k_wall = r_um > 0.0 ? 8.0 * D / (4.0 * r_um * r_um) : 0.0;
        vehicle = f.on_skin > 0.0 ? c0 : 0.0;
        dt = kFirstStep;
        poured_at = t;
        continue;
      }
      double c = 0.0;
      for (Film* x : films) advance_film(*x, ca.apps[x->app], kp, vehicle, st.t, c);
      vehicle = c;
      if (st.kind == 2 || st.last_update) record(ad, (st.t - f.t) / kHour);
    }
  }
}

std::vector<double> melanin_with_block(const ColumnApplications& ca, const SubstanceData& d,
                                       double epidermal_turnover_h, const std::vector<double>& t_h,
                                       const std::vector<double>& melanin) {
  std::vector<double> out = melanin;
  if (t_h.size() != melanin.size() || t_h.size() < 2 || !(epidermal_turnover_h > 0.0)) return out;
  // Each blocking agent's share x occupancy at time t (its trace, linear between the steps; 0
  // outside it: before the first application and after the last record nothing is left).
  struct Block {
    const ColumnApplications::EpidermisTrace* trace;
    double share, half;  // half: ug/mL
  };
  std::vector<Block> blocks;
  for (const auto& tr : ca.epidermis) {
    const auto it = d.agents.find(tr.agent);
    if (it == d.agents.end() || !(it->second.plasmin_share > 0.0) || tr.t_h.size() < 2) continue;
    const Agent& g = it->second;
    blocks.push_back({&tr, g.plasmin_share, g.half_inhibition_um * g.molecular_weight * 1e-3});
  }
  if (blocks.empty()) return out;
  auto block_at = [&](double t) {
    double b = 0.0;
    for (const Block& k : blocks) {
      const auto& T = k.trace->t_h;
      if (t < T.front() || t > T.back()) continue;
      const auto hi = static_cast<std::size_t>(std::upper_bound(T.begin(), T.end(), t) - T.begin());
      const std::size_t j = std::min(hi, T.size() - 1), i0 = j > 0 ? j - 1 : 0;
      const double w = T[j] > T[i0] ? (t - T[i0]) / (T[j] - T[i0]) : 0.0;
      const double x = std::max(0.0, (1.0 - w) * k.trace->ug_ml[i0] + w * k.trace->ug_ml[j]);
      b += k.share * x / (x + k.half);
    }
    return std::min(b, 1.0);
  };
  double removed = 0.0;  // melanin excess removed so far (decaying as the excess does)
  for (std::size_t n = 0; n + 1 < t_h.size(); ++n) {
    const double decay = std::exp(-(t_h[n + 1] - t_h[n]) / epidermal_turnover_h);
    const double produced = melanin[n + 1] - melanin[n] * decay;
    removed *= decay;
    if (produced > 0.0) removed += block_at(t_h[n]) * produced;
    out[n + 1] = melanin[n + 1] - removed;
  }
  return out;
}

double delivered_dose(const ColumnApplications& ca, std::size_t k) {
  double s = 0.0;
  for (const auto& ad : ca.doses) {
    if (ad.film.app == k && !ad.records.empty()) s += ad.records.back().entered;
  }
  return s;
}

}  // namespace mnsim::healing
