#include "protocol/reduced.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "devices/catalog.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "healing/column.hpp"
#include "healing/column_substances.hpp"
#include "healing/options.hpp"
#include "io/checkpoint.hpp"
#include "lesions/registry.hpp"
#include "mechanics/penetration.hpp"
#include "protocol/course.hpp"
#include "skin/tissue.hpp"

namespace mnsim::protocol {

namespace {

bool graded(const std::string& kind) {
  return lesions::grading_kind(kind).grading != lesions::GradingClass::NotGraded;
}

double matrix_gain(const healing::ColumnRun& run, skin::Layer l, double t) {
  const auto& b = run.base[static_cast<std::size_t>(skin::layer_index(l))];
  const double m0 = b.collagen1 + b.collagen3 + b.elastin;
  if (m0 <= 0.0) return 0.0;
  static const int c1 = healing::healing_model().slot("collagen1");
  static const int c3 = healing::healing_model().slot("collagen3");
  static const int el = healing::healing_model().slot("elastin");
  return (run.value(l, c1, t) + run.value(l, c3, t) + run.value(l, el, t)) / m0 - 1.0;
}

// The healing model's scar_matrix slot.
int scar_slot() {
  static const int s = healing::healing_model().slot("scar_matrix");
  return s;
}

// Matrix volume of a layer at time t (h), relative to its reference volume (the growth law
// healing::matrix_volume on the layer means).
double layer_volume(const healing::ColumnRun& run, const healing::Params& p, skin::Layer l,
                    double t) {
  const auto& b = run.base[static_cast<std::size_t>(skin::layer_index(l))];
  const double m0 = b.collagen1 + b.collagen3 + b.elastin;
  if (!(m0 > 0.0)) return 1.0;
  return healing::matrix_volume(1.0 + matrix_gain(run, l, t), 1.0 - run.value(l, scar_slot(), t),
                                p.packing_density / m0);
}

// Rise of a column's surface at time t (h) from the matrix deposited since the start, by the
// growth law: the layers' matrix volume at t less that of the first sample, times their
// thickness (docs/model.md, "Scar remodelling").
double column_rise(const healing::ColumnRun& run, const healing::Params& p,
                   const skin::SkinProfile& prof, double t) {
  using skin::Layer;
  const double t0 = run.samples.empty() ? 0.0 : run.samples.front().t;
  auto grow = [&](Layer l) { return layer_volume(run, p, l, t) - layer_volume(run, p, l, t0); };
  const outcomes::DermalGain g{grow(Layer::PapillaryDermis), grow(Layer::ReticularDermis)};
  return outcomes::new_matrix_thickness(prof, g, 0.0);
}

// One session's needles as the reduced model sees them (SI).
struct Dose {
  double depth = 0.0, density = 0.0, radius = 0.0;
  devices::ThermalZone zone{};  // each needle's coagulation zone (RF), m
};

// Thickness-weighted relative change of a field summed over the papillary and reticular dermis.
double dermal_change(const healing::ColumnRun& run, const skin::SkinProfile& prof,
                     std::initializer_list<int> slots, double t) {
  using skin::Layer;
  double now = 0.0, base = 0.0;
  for (Layer l : {Layer::PapillaryDermis, Layer::ReticularDermis}) {
    const double h = prof.bottom_of(l) - prof.top_of(l);
    const auto& b = run.base[static_cast<std::size_t>(skin::layer_index(l))];
    const healing::State b0 = healing::baseline_state(b);
    for (int s : slots) {
      now += h * run.value(l, s, t);
      base += h * b0[static_cast<std::size_t>(s)];
    }
  }
  return base > 0.0 ? now / base - 1.0 : 0.0;
}

// The reduced model over sessions at `times_s` (s since the first), session i delivering
// doses[i], with outcomes at `outcome_s` (s since the first session, ascending; the last is the
// end of the run); `headline` indexes the outcome copied into PatientOutcome's own fields.
PatientOutcome simulate_times(const ReducedModel& m, const skin::SkinProfile& prof,
                              const std::vector<outcomes::ScarGeometry>& scars,
                              const std::vector<double>& times_s, const std::vector<Dose>& doses,
                              const std::vector<double>& outcome_s, std::size_t headline,
                              double time_step, const RateFactors& rf,
                              const std::vector<healing::Application>& apps = {}) {
  using skin::Layer;
  healing::Params p = m.params;
  p.collagen_synthesis *= rf.collagen_synthesis;
  p.elastin_synthesis *= rf.collagen_synthesis;
  p.gf_macrophage *= rf.growth_factor_supply;
  p.fibroblast_proliferation *= rf.fibroblast_proliferation;
  p.melanin_rate *= rf.melanin_rate;

  healing::ColumnProtocol cp;
  for (double t : times_s) cp.session_times.push_back(t / kHour);
  cp.end_time = outcome_s.back() / kHour;
  // The epidermal channel healing depends on keratinocyte parameters (not varied by RateFactors)
  // and the radius: cached per radius for the model's parameter set.
  std::vector<std::shared_ptr<const healing::ChannelHealing>> held;
  auto cached_channel = [&](const healing::ColumnProtocol& c) -> const healing::ChannelHealing* {
    held.push_back(m.channels->get(p, healing::epidermal_channel_radius(p, prof, c)));
    return held.back().get();
  };
  // The channels' closure (healing/channel_closure.hpp): the mouth on the session's lattice,
  // clot-plugged when it bled, after its lumen fills; the healing from the cache, its delay
  // applied here. What the sessions' barrier and closure and the outcome's channel course use.
  auto cached_closure = [&](const healing::ColumnProtocol& c) -> const healing::ChannelHealing* {
    const healing::ChannelGeometry geo = healing::session_geometry(p, prof, c);
    const auto path = m.channels->get(healing::closure_params(p, m.closure, geo), geo.radius_um,
                                      healing::closure_cell_radius(geo));
    held.push_back(std::make_shared<const healing::ChannelHealing>(
        healing::delayed(*path, healing::fill_time(m.closure, geo))));
    return held.back().get();
  };
  double depth_sum = 0.0, density_sum = 0.0, deepest = 0.0;
  for (std::size_t i = 0; i < times_s.size(); ++i) {
    Dose d = doses[std::min(i, doses.size() - 1)];
    // Needles that do not puncture leave the skin untouched (no punctures, any depth).
    if (!(d.depth > 0.0)) d.density = 0.0;
    healing::SessionDose sd;
    sd.density = d.density * 1e-4;
    sd.depth = std::max(d.depth * 1e6, 1e-3);  // um
    sd.radius = d.radius * 1e6;
    sd.bled = d.depth > prof.plexus_depth;
    if (d.zone.coagulated() && d.density > 0.0) {
      sd.coag_radius = d.zone.radius * 1e6;
      sd.coag_top = d.zone.top * 1e6;
      sd.coag_bottom = d.zone.bottom * 1e6;
      sd.coag_denatured = d.zone.denatured;
    }
    healing::ColumnProtocol one;
    one.depth = sd.depth;
    one.radius = sd.radius;
    one.density = sd.density;
    one.bled = sd.bled;
    sd.channel = cached_channel(one);
    sd.closure = cached_closure(one);
    cp.doses.push_back(sd);
    depth_sum += d.depth;
    density_sum += d.density;
    deepest = std::max(deepest, d.depth);
  }
  // The same largest step however long the follow-up: the state at a given day does not depend
  // on when the run ends (docs/numerics.md, "Time step and follow-up").
  cp.max_dt = time_step / kHour;
  // Each wound resolved on the unit cell around its channel (healing::ColumnProtocol::annuli).
  cp.annuli = kReducedAnnuli;
  // Topical applications (healing/column_substances.hpp): each session's channels as paths,
  // PRP's platelets into the column, the solutes' transport after the run.
  healing::ColumnApplications applied;
  if (!apps.empty()) {
    std::vector<healing::AppliedSession> ss;
    for (std::size_t i = 0; i < cp.doses.size(); ++i) {
      const healing::SessionDose& d = cp.doses[i];
      healing::AppliedSession a;
      a.t = times_s[i];
      healing::ColumnProtocol one;
      one.depth = d.depth;
      one.radius = d.radius;
      a.geometry.radius_um = healing::epidermal_channel_radius(p, prof, one);
      a.geometry.density = d.density * 1e-8;  // per cm^2 -> per um^2
      a.geometry.bled = d.bled && d.density > 0.0;
      if (d.density > 0.0) {
        a.closure =
            *m.channels->get(healing::closure_params(p, m.closure, a.geometry),
                             a.geometry.radius_um, healing::closure_cell_radius(a.geometry));
      }
      a.density = d.density * 1e4;  // per m^2
      a.radius = d.radius * 1e-6;
      a.depth = d.density > 0.0 ? d.depth * 1e-6 : 0.0;
      ss.push_back(std::move(a));
    }
    applied = healing::column_applications(p, healing::SubstanceData::defaults(), prof, apps, ss,
                                           outcome_s.back());
    cp.additions = applied.additions;
  }

  // The columns under the scar floors (below) that the scars need, known before the run so that
  // they run together with the treated skin's column (healing::run_columns: the same course, so
  // one batch; each column's results are those of its own run_column).
  constexpr int kFloorNodes = 8;
  const double bottom = prof.top_of(Layer::Hypodermis);
  // The column of node k (floor depth k / kFloorNodes of the dermis) and deficit.
  auto floor_column = [&](int k, double deficit, skin::SkinProfile& below,
                          healing::ColumnProtocol& cs) {
    below =
        k == 0 ? prof : skin::profile_below(prof, bottom * static_cast<double>(k) / kFloorNodes);
    cs = cp;
    for (auto& d : cs.doses) d.bled = d.depth * 1e-6 > below.plexus_depth;
    // Read only at the outcome times (floors_of): the samples around them.
    for (double t : outcome_s) cs.sample_at.push_back(t / kHour);
    cs.scar_deficit[static_cast<std::size_t>(skin::layer_index(Layer::PapillaryDermis))] = deficit;
    cs.scar_deficit[static_cast<std::size_t>(skin::layer_index(Layer::ReticularDermis))] = deficit;
  };
  std::vector<std::pair<int, double>> keys;  // (node, deficit) of the columns run with `run`
  std::vector<skin::SkinProfile> profs{prof};
  std::vector<healing::ColumnProtocol> protos{cp};
  auto need = [&](int k, double deficit) {
    if (k == kFloorNodes || (k == 0 && !(deficit > 0.0))) return;
    const auto key = std::make_pair(k, deficit);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return;
    keys.push_back(key);
    floor_column(k, deficit, profs.emplace_back(), protos.emplace_back());
  };
  for (const auto& s : scars) {
    for (double f : s.floor) {  // as under_floor below
      if (!(bottom > 0.0) || f >= bottom) continue;
      const double u = std::max(0.0, f) / bottom * kFloorNodes;
      const int k = std::min(static_cast<int>(u), kFloorNodes - 1);
      need(k, s.deficit);
      if (u - static_cast<double>(k) > 0.0) need(k + 1, s.deficit);
    }
  }
  std::vector<healing::ColumnRun> runs = healing::run_columns(p, profs, protos);
  const healing::ColumnRun run = std::move(runs.front());
  if (!apps.empty()) {
    static const int vasc = healing::healing_model().slot("vascular");
    healing::column_solutes(
        applied, p, healing::SubstanceData::defaults(), prof, [&](std::size_t l, double t_h) {
          const double v0 = run.base[l].vascular;
          return v0 > 0.0 ? std::max(run.value(skin::layer_from_index(static_cast<int>(l)), vasc,
                                               std::min(t_h, cp.end_time)),
                                     0.0) /
                                v0
                          : 1.0;
        });
  }

  PatientOutcome o;
  const auto n_sessions = static_cast<double>(times_s.size());
  o.sessions = static_cast<int>(times_s.size());
  o.depth_reached = depth_sum / n_sessions;
  o.density = density_sum / n_sessions;
  o.deepest = deepest;
  o.bled = false;
  for (const auto& d : cp.doses) o.bled = o.bled || (d.bled && d.density > 0.0);
  for (std::size_t k = 0; k < apps.size(); ++k) {
    PatientOutcome::AppliedDose a;
    a.delivered = healing::delivered_dose(applied, k);
    bool first = true;
    for (const auto& ad : applied.doses) {
      if (ad.film.app != k) continue;
      a.applied += ad.film.applied;
      if (!first) continue;
      first = false;
      for (const auto& r : ad.records) {
        if (r.hours == 0.0 || std::fabs(r.hours - 1.0) < 1e-9) a.by_layer = r.by_layer;
      }
    }
    o.applications.push_back(a);
  }
  {
    static const int s1 = healing::healing_model().slot("collagen1");
    static const int s3 = healing::healing_model().slot("collagen3");
    static const auto smu =
        static_cast<std::size_t>(healing::healing_model().slot("melanin_excess"));
    const double t = cp.end_time;
    std::vector<double> mel_t, mel;
    for (const auto& s : run.samples) {
      mel_t.push_back(s.t);
      mel.push_back(s.s[1][smu]);
    }
    // Tranexamic acid's melanogenic block (healing::melanin_with_block: the 3D process's).
    if (!apps.empty()) {
      mel = healing::melanin_with_block(applied, healing::SubstanceData::defaults(),
                                        p.epidermal_turnover, mel_t, mel);
    }
    for (double x : mel) o.melanin_peak = std::max(o.melanin_peak, x);
    o.collagen3_peak_h = run.peak_time(Layer::PapillaryDermis, s3, 0.0, t);
    o.collagen1_peak_h = run.peak_time(Layer::PapillaryDermis, s1, 0.0, t);
  }
  o.pih_risk = outcomes::pih_risk(m.outcome, o.melanin_peak);
  double ery = 0.0, bar = 0.0;
  for (const auto& s : run.sessions) {
    ery += std::max(0.0, s.erythema_time) / kHoursPerDay;
    bar += std::max(0.0, s.barrier_time);
  }
  if (!run.sessions.empty()) {
    o.erythema_days = ery / static_cast<double>(run.sessions.size());
    o.barrier_hours = bar / static_cast<double>(run.sessions.size());
    o.neutrophil_peak_h = run.sessions[0].neutrophil_peak;
    o.macrophage_peak_h = run.sessions[0].macrophage_peak;
  }

  // The channels as a path (healing/channel_closure.hpp): the first session's closure, the one
  // its barrier time came from. The closure time and the open fraction over time are its.
  {
    const healing::SessionDose& d0 = cp.doses[0];
    const healing::ChannelHealing& path = *d0.closure;
    const double rho = d0.density * 1e-8;  // per cm^2 -> per um^2
    o.channel_closure_hours = d0.density > 0.0 ? path.closure_time : -1.0;
    for (double h : kChannelCourseHours) {
      const double open = d0.density > 0.0 ? path.open_at(h) : 0.0;
      o.channel_course.push_back(
          {h, open, healing::tewl_excess_ratio(p, rho, path.radius, open, h)});
    }
  }

  // Rise of a scar floor at depth f: the column under the floor, laid out as the tissue builder
  // lays it (skin::profile_below), starting with the scar kind's dermal deficit held by scar
  // matrix, with the needles entering at the floor as in the 3D engine. Columns on a grid of
  // floor depths and per deficit, interpolated in depth (docs/model.md, "Scar remodelling"); a
  // node's column is run only when a floor needs it. Each node holds its values at every outcome
  // time.
  const std::size_t nt = outcome_s.size();
  // The times the floors are read at: the outcome times, then the session times (the tethering
  // bands' matrix when each session's needles reach them).
  std::vector<double> read_s = outcome_s;
  read_s.insert(read_s.end(), times_s.begin(), times_s.end());
  const std::size_t nr = read_s.size();
  // Per (node, deficit) and outcome time: the rise and the share of the scar matrix left in the
  // reticular dermis (what is left of a tethering band's matrix).
  struct Floor {
    double rise = 0.0, left = 1.0;
  };
  using Floors = std::vector<Floor>;
  std::map<std::pair<int, double>, Floors> floors;
  auto floors_of = [&](const healing::ColumnRun& sr, const skin::SkinProfile& below,
                       double deficit) {
    Floors fl(nr);
    for (std::size_t j = 0; j < nr; ++j) {
      const double t = read_s[j] / kHour;
      fl[j].rise = column_rise(sr, p, below, t);
      if (deficit > 0.0) fl[j].left = sr.value(Layer::ReticularDermis, scar_slot(), t) / deficit;
    }
    return fl;
  };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    floors.emplace(keys[i], floors_of(runs[i + 1], profs[i + 1], keys[i].second));
  }
  runs.clear();
  auto node = [&](int k, double deficit) -> Floors {
    if (k == kFloorNodes) return Floors(nr);  // no dermis left under the floor
    const auto key = std::make_pair(k, deficit);
    if (auto it = floors.find(key); it != floors.end()) return it->second;
    Floors fl(nr);
    if (k == 0 && !(deficit > 0.0)) {
      for (std::size_t j = 0; j < nr; ++j) {
        fl[j].rise = column_rise(run, p, prof, read_s[j] / kHour);
      }
    } else {  // a column not foreseen above (none, as the floors are enumerated): run alone
      skin::SkinProfile below;
      healing::ColumnProtocol cs;
      floor_column(k, deficit, below, cs);
      fl = floors_of(healing::run_column(p, below, cs), below, deficit);
    }
    floors.emplace(key, fl);
    return fl;
  };
  auto under_floor = [&](double f, double deficit, std::size_t j) {
    if (!(bottom > 0.0) || f >= bottom) return Floor{};
    const double u = std::max(0.0, f) / bottom * kFloorNodes;
    const int k = std::min(static_cast<int>(u), kFloorNodes - 1);
    const double w = u - static_cast<double>(k);
    if (!(w > 0.0)) return node(k, deficit)[j];
    const Floor a = node(k, deficit)[j], b = node(k + 1, deficit)[j];
    return Floor{(1.0 - w) * a.rise + w * b.rise, (1.0 - w) * a.left + w * b.left};
  };

  const double epi = prof.top_of(Layer::PapillaryDermis);
  // Share of a scar's scar matrix left (mean over its floor depths) at read time j.
  auto matrix_left = [&](const outcomes::ScarGeometry& s, std::size_t j) {
    double left = 0.0;
    for (double f : s.floor) left += under_floor(f, s.deficit, j).left;
    return std::clamp(left / static_cast<double>(s.floor.size()), 0.0, 1.0);
  };
  // Each tethered scar's band through the sessions (outcomes::TetherState): cut by the needles
  // that reach it below the floor's epidermis, re-formed between sessions, failed when what is
  // left cannot carry its load.
  std::vector<std::vector<outcomes::TetherState>> bands(scars.size());
  for (std::size_t k = 0; k < scars.size(); ++k) {
    const outcomes::ScarGeometry& s = scars[k];
    if (!s.tethered) continue;
    const outcomes::BandMechanics bm = band_mechanics(m.outcome, prof, s);
    outcomes::TetherState st;
    for (std::size_t i = 0; i < times_s.size(); ++i) {
      const healing::SessionDose& d = cp.doses[i];  // per cm^2, um
      const double cut = outcomes::band_cut_fraction(d.density * 1e4, d.radius * 1e-6, 1,
                                                     d.depth * 1e-6 > epi && d.density > 0.0);
      st = outcomes::tether_session(m.outcome, st, times_s[i], cut, matrix_left(s, nt + i), bm);
      bands[k].push_back(st);
    }
  }
  std::vector<outcomes::ScarState> before;
  for (const auto& s : scars) before.push_back({s.kind, s.depth, s.width});
  o.gb_quant_before = outcomes::quantitative_score(before, m.grading);
  o.gb_qual_before = outcomes::qualitative_grade(before, m.grading);
  for (std::size_t j = 0; j < nt; ++j) {
    const double t = outcome_s[j] / kHour;
    TimedOutcome to;
    to.follow_up = outcome_s[j] - times_s.back();
    to.gain.papillary = matrix_gain(run, Layer::PapillaryDermis, t);
    to.gain.reticular = matrix_gain(run, Layer::ReticularDermis, t);
    to.papillary_collagen_change = run.collagen_change(Layer::PapillaryDermis, t);
    to.reticular_collagen_change = run.collagen_change(Layer::ReticularDermis, t);
    static const int c1 = healing::healing_model().slot("collagen1");
    static const int c3 = healing::healing_model().slot("collagen3");
    static const int el = healing::healing_model().slot("elastin");
    to.dermal_collagen_change = dermal_change(run, prof, {c1, c3}, t);
    {
      auto elastin_change = [&](Layer l) {
        const auto& b = run.base[static_cast<std::size_t>(skin::layer_index(l))];
        return b.elastin > 0.0 ? run.value(l, el, t) / b.elastin - 1.0 : 0.0;
      };
      to.papillary_elastin_change = elastin_change(Layer::PapillaryDermis);
      to.reticular_elastin_change = elastin_change(Layer::ReticularDermis);
    }
    to.epidermal_thickness_change = run.epidermal_thickness_change(t);
    // Scar remodelling, scar by scar: the floor's rise against the rim's.
    const double around = node(0, 0.0)[j].rise;
    to.dermal_thickness_change = around;
    // The sessions given by then (the bands' state after the last of them).
    std::size_t given = 0;
    while (given < times_s.size() && times_s[given] <= outcome_s[j]) ++given;
    std::vector<outcomes::ScarState> after;
    double red = 0.0;
    int n_graded = 0;
    for (std::size_t k = 0; k < scars.size(); ++k) {
      const outcomes::ScarGeometry& s = scars[k];
      outcomes::RemodelInput in;
      in.rise_around = around;
      // Averaged over the footprint's floor depths, as the 3D engine averages its columns.
      double under = 0.0;
      for (double f : s.floor) under += under_floor(f, s.deficit, j).rise;
      in.rise_under = under / static_cast<double>(s.floor.size());
      const outcomes::TetherState band =
          s.tethered && given > 0
              ? outcomes::tether_at(m.outcome, bands[k][given - 1], outcome_s[j])
              : outcomes::TetherState{};
      in.band_intact = band.strength() * matrix_left(s, j);
      in.band_failed = band.failed;
      const outcomes::RemodelResult r = outcomes::remodel_scar(m.outcome, s, in);
      to.scars.push_back(r);
      after.push_back({s.kind, r.depth_after, s.width});
      if (graded(s.kind)) {
        red += r.reduction();
        ++n_graded;
      }
    }
    to.depth_reduction_pct = n_graded > 0 ? 100.0 * red / n_graded : 0.0;
    to.gb_quant_after = outcomes::quantitative_score(after, m.grading);
    to.gb_qual_after = outcomes::qualitative_grade(after, m.grading);
    o.at.push_back(std::move(to));
  }
  // The headline outcome time in PatientOutcome's own fields.
  o.use_headline(headline);
  {
    static const int s1 = healing::healing_model().slot("collagen1");
    static const int s3 = healing::healing_model().slot("collagen3");
    const double t = outcome_s[headline] / kHour;
    const double c1v = run.value(Layer::PapillaryDermis, s1, t);
    const double c3v = run.value(Layer::PapillaryDermis, s3, t);
    o.collagen1_share = c1v + c3v > 0 ? c1v / (c1v + c3v) : 0.0;
  }
  return o;
}

}  // namespace

namespace {
// The device is built through the scenario's own [device] path, so the reduced model and
// `mnsim run` use one catalog, one set of overrides and one penetration model.
/// The catalog roller `model` fitted with needles of `needle_length`, as the scenario's [device]
/// would ask for it: one device constructor for `mnsim run` and the reduced model.
devices::DeviceSpec reduced_device(const std::string& model, double needle_length) {
  const SourceLoc here{"<reduced model device>", 1, 1};
  devices::DeviceSpec spec;
  spec.kind = "roller";
  spec.model = model;
  spec.settings = Settings("device", here);
  spec.settings.set_quantity("needle_length", needle_length, Dim::Length,
                             fmt::format("{:.6g} mm", needle_length * 1e3), here);
  return spec;
}

std::unique_ptr<devices::Device> reduced_roller(const std::string& model, double needle_length) {
  auto dev = devices::make_device(reduced_device(model, needle_length),
                                  devices::DeviceCatalog::defaults());
  if (dev->kind() != "roller") {
    throw std::invalid_argument(
        fmt::format("reduced model: device '{}' is a {}, not a roller", model, dev->kind()));
  }
  return dev;
}
}  // namespace

void keep_memory_for_patients() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void check_roller_length(const std::string& model, double needle_length) {
  (void)reduced_roller(model, needle_length);
}

RollerReach roller_reach(const std::string& model, double needle_length,
                         const skin::SkinProfile& prof) {
  const auto dev = reduced_roller(model, needle_length);
  // Pressed by hand as a scenario's [technique] defaults press it.
  const devices::Technique& tq = devices::Technique::defaults();
  const mechanics::PenetrationResult pen =
      mechanics::penetrate(dev->needle(), tq.force / dev->needles_loaded(tq), prof,
                           mechanics::PenetrationParams::defaults());
  RollerReach r;
  r.punctured = pen.punctured;
  r.depth = pen.punctured ? pen.depth : 0.0;
  r.channel_radius = pen.channel_radius;
  r.density_per_pass = dev->density_per_pass(tq);
  return r;
}

std::string default_grading_path() {
  return data_file("grading.toml").string();
}

ReducedModel ReducedModel::load_default() {
  ReducedModel m;
  m.params = healing::load_default_params().p;
  m.outcome = outcomes::default_outcome_params();
  m.grading = outcomes::load_grading_rules(default_grading_path());
  m.atlas = &skin::default_atlas();
  return m;
}

SessionDevice roller_session(const std::string& model, double needle_length, int passes) {
  SessionDevice d;
  d.device = reduced_device(model, needle_length);
  d.technique = devices::Technique::defaults();
  d.technique.passes = passes;
  return d;
}

std::shared_ptr<const healing::ChannelHealing> ChannelCache::get(const healing::Params& p,
                                                                 double radius_um,
                                                                 double cell_radius_um) {
  const healing::ChannelKey key =
      healing::channel_key(p, radius_um, healing::kChannelHealWindow, 1.0, 0.01, cell_radius_um);
  {
    const std::lock_guard<std::mutex> lock(mu);
    if (auto it = by_key.find(key); it != by_key.end()) return it->second;
  }
  auto h = std::make_shared<const healing::ChannelHealing>(
      healing::heal_channel(p, radius_um, healing::kChannelHealWindow, 1.0, 0.01, cell_radius_um));
  const std::lock_guard<std::mutex> lock(mu);
  const auto [it, added] = by_key.emplace(key, std::move(h));  // another thread's, if first
  if (added) {
    order.push_back(key);
    while (order.size() > kCapacity) {
      by_key.erase(order.front());
      order.pop_front();
    }
  }
  return it->second;
}

void PatientOutcome::use_headline(std::size_t j) {
  headline = j;
  const TimedOutcome& h = at[j];
  gain = h.gain;
  papillary_collagen_change = h.papillary_collagen_change;
  reticular_collagen_change = h.reticular_collagen_change;
  dermal_collagen_change = h.dermal_collagen_change;
  papillary_elastin_change = h.papillary_elastin_change;
  reticular_elastin_change = h.reticular_elastin_change;
  epidermal_thickness_change = h.epidermal_thickness_change;
  dermal_thickness_change = h.dermal_thickness_change;
  scars = h.scars;
  depth_reduction_pct = h.depth_reduction_pct;
  gb_quant_after = h.gb_quant_after;
  gb_qual_after = h.gb_qual_after;
}

SessionDevice ReducedProtocol::session_device(int i) const {
  if (i >= 0 && static_cast<std::size_t>(i) < listed.size()) {
    return listed[static_cast<std::size_t>(i)];
  }
  if (device) return *device;
  return roller_session(device_model, needle_length, passes);
}

std::vector<double> ReducedProtocol::outcome_times() const {
  std::vector<double> t = also_at;
  t.push_back(follow_up);
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

namespace {
std::string describe_session(const SessionDevice& d) {
  const auto dev = devices::make_device(d.device, devices::DeviceCatalog::defaults());
  return fmt::format("{} {} {:.3g} mm x {} pass{}", dev->kind(), dev->model(),
                     dev->needle().length * 1e3, d.technique.passes,
                     d.technique.passes == 1 ? "" : "es");
}
}  // namespace

std::string ReducedProtocol::describe() const {
  // Runs of sessions with the same device and technique.
  std::vector<std::pair<int, std::string>> runs;  // (first session, description)
  // Up to the most sessions a patient can have.
  int most = std::max(sessions, 1);
  for (const auto& [n, w] : session_counts) most = std::max(most, n);
  for (int i = 0; i < most; ++i) {
    std::string d = describe_session(session_device(i));
    if (runs.empty() || runs.back().second != d) runs.emplace_back(i, std::move(d));
  }
  if (runs.size() == 1) return runs[0].second;
  std::string out;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const int from = runs[k].first + 1;
    const int to = k + 1 < runs.size() ? runs[k + 1].first : most;
    if (!out.empty()) out += "; ";
    out += from == to ? fmt::format("session {}: {}", from, runs[k].second)
                      : fmt::format("sessions {}-{}: {}", from, to, runs[k].second);
  }
  return out;
}

SessionReach session_reach(const SessionDevice& d, const skin::SkinProfile& prof,
                           const healing::Params& p) {
  const auto dev = devices::make_device(d.device, devices::DeviceCatalog::defaults());
  const devices::Technique& tq = d.technique;
  const mechanics::PenetrationResult pen =
      mechanics::penetrate(dev->needle(), tq.force / dev->needles_loaded(tq), prof,
                           mechanics::PenetrationParams::defaults());
  SessionReach r;
  r.punctured = pen.punctured;
  if (!pen.punctured) return r;
  r.depth = pen.depth;
  // The wound after elastic recoil, as the 3D engine sizes it (run/assess.cpp).
  r.radius = p.channel_recoil * pen.channel_radius;
  r.density = tq.passes * dev->density_per_pass(tq);
  r.zone = dev->thermal_zone(prof, pen);
  return r;
}

outcomes::BandMechanics band_mechanics(const outcomes::OutcomeParams& p,
                                       const skin::SkinProfile& prof,
                                       const outcomes::ScarGeometry& s) {
  const mechanics::PenetrationParams& pen = mechanics::PenetrationParams::defaults();
  const double e = prof.youngs_modulus[static_cast<std::size_t>(
                       skin::layer_index(skin::Layer::ReticularDermis))] *
                   pen.modulus_factor;
  return outcomes::band_mechanics(p, prof, e, pen.poisson, s);
}

PatientOutcome ReducedModel::simulate(const skin::SkinProfile& prof,
                                      const std::vector<outcomes::ScarGeometry>& scars,
                                      const ReducedProtocol& pr, const RateFactors& rf) const {
  if (pr.sessions < 1 || !(pr.interval > 0) || !(pr.follow_up >= 0)) {
    throw std::invalid_argument("reduced protocol: sessions >= 1, interval > 0, follow-up >= 0");
  }
  std::vector<double> times;
  std::vector<Dose> doses;
  for (int i = 0; i < pr.sessions; ++i) {
    times.push_back(i * pr.interval);
    Dose d{pr.depth_reached, pr.density, outcome.channel_radius};
    if (!(d.depth > 0) || !(d.density > 0)) {
      const SessionReach reach = session_reach(pr.session_device(i), prof, params);
      if (!(d.depth > 0)) d.depth = reach.depth;
      if (!(d.density > 0)) d.density = reach.punctured ? reach.density : 0.0;
      if (reach.punctured) d.radius = reach.radius;
      // The zone as the device makes it at the depth its needles reach on this skin.
      if (reach.punctured && reach.zone.coagulated()) {
        d.zone = reach.zone;
        const double shift = d.depth - reach.depth;
        d.zone.top = std::max(0.0, d.zone.top + shift);
        d.zone.bottom = std::max(d.zone.top, d.zone.bottom + shift);
      }
    }
    if (pr.zone_reached) d.zone = *pr.zone_reached;
    doses.push_back(d);
  }
  std::vector<double> at;
  std::size_t headline = 0;
  for (double f : pr.outcome_times()) {
    if (f == pr.follow_up) headline = at.size();
    at.push_back(times.back() + std::max(f, kHour));
  }
  return simulate_times(*this, prof, scars, times, doses, at, headline, pr.time_step, rf,
                        pr.applications);
}

skin::SkinProfile patient_profile(const skin::Atlas& atlas, const PatientSpec& pt) {
  return atlas.make_profile(pt.site, pt.age_years, pt.sex, pt.fitzpatrick, 0.5e-3, pt.glogau);
}

PatientOutcome ReducedModel::simulate(const PatientSpec& pt, const ReducedProtocol& pr,
                                      const RateFactors& rf) const {
  return simulate(patient_profile(*atlas, pt), pt.scars, pr, rf);
}

ScenarioPrediction predict_scenario(const ReducedModel& m, const skin::SkinProfile& prof,
                                    const std::vector<outcomes::ScarGeometry>& scars,
                                    const Course& course, double depth_reached, double density,
                                    double wound_radius, double time_step, const RateFactors& rf,
                                    const devices::ThermalZone& zone) {
  std::vector<double> times;
  for (const auto& s : course.sessions) times.push_back(s.time);
  ScenarioPrediction out;
  const Dose dose{depth_reached, density,
                  wound_radius > 0.0 ? wound_radius : m.outcome.channel_radius, zone};
  out.outcome = simulate_times(m, prof, scars, times, {dose}, {course.end_time}, 0, time_step, rf);
  out.scar_depth_reduction_pct = out.outcome.depth_reduction_pct;
  out.collagen_change_pct = 100.0 * out.outcome.papillary_collagen_change;
  out.reticular_collagen_change_pct = 100.0 * out.outcome.reticular_collagen_change;
  return out;
}

std::vector<outcomes::ScarGeometry> patch_scars(const skin::SkinPatch& patch) {
  std::vector<outcomes::ScarGeometry> scars;
  for (const auto& l : patch.lesions()) scars.push_back(outcomes::scar_geometry(*l));
  return scars;
}

ScenarioPrediction predict_scenario(const skin::PatchSpec& spec, const Course& course,
                                    double depth_reached, double density, double wound_radius,
                                    double time_step, const devices::ThermalZone& zone) {
  const ReducedModel m = ReducedModel::load_default();
  const skin::SkinPatch patch = skin::make_patch(spec);
  return predict_scenario(m, patch.profile(), patch_scars(patch), course, depth_reached, density,
                          wound_radius, time_step, RateFactors{}, zone);
}

namespace {

void encode_scar_results(io::ByteWriter& w, const std::vector<outcomes::RemodelResult>& scars) {
  w.u64(scars.size());
  for (const auto& sc : scars) {
    for (const double v : {sc.depth_before, sc.depth_after, sc.volume_before, sc.volume_after,
                           sc.fill, sc.release}) {
      w.f64(v);
    }
    w.u8(sc.band_failed ? 1 : 0);
  }
}

std::vector<outcomes::RemodelResult> decode_scar_results(io::ByteReader& r) {
  std::vector<outcomes::RemodelResult> out(r.count(r.left() / 49, "scar count"));
  for (auto& sc : out) {
    for (double* v : {&sc.depth_before, &sc.depth_after, &sc.volume_before, &sc.volume_after,
                      &sc.fill, &sc.release}) {
      *v = r.f64();
    }
    sc.band_failed = r.u8() != 0;
  }
  return out;
}

// The doubles of an outcome time, in codec order.
template <class T>
auto timed_fields(T& t) {
  return std::array{&t.follow_up,
                    &t.gain.papillary,
                    &t.gain.reticular,
                    &t.papillary_collagen_change,
                    &t.reticular_collagen_change,
                    &t.dermal_collagen_change,
                    &t.papillary_elastin_change,
                    &t.reticular_elastin_change,
                    &t.epidermal_thickness_change,
                    &t.dermal_thickness_change,
                    &t.depth_reduction_pct};
}

// The doubles of a whole outcome, in codec order.
template <class T>
auto outcome_fields(T& o) {
  return std::array{&o.depth_reached,
                    &o.deepest,
                    &o.density,
                    &o.gain.papillary,
                    &o.gain.reticular,
                    &o.papillary_collagen_change,
                    &o.reticular_collagen_change,
                    &o.epidermal_thickness_change,
                    &o.collagen1_share,
                    &o.melanin_peak,
                    &o.pih_risk,
                    &o.erythema_days,
                    &o.barrier_hours,
                    &o.channel_closure_hours,
                    &o.neutrophil_peak_h,
                    &o.macrophage_peak_h,
                    &o.collagen3_peak_h,
                    &o.collagen1_peak_h,
                    &o.depth_reduction_pct,
                    &o.dermal_collagen_change,
                    &o.papillary_elastin_change,
                    &o.reticular_elastin_change,
                    &o.dermal_thickness_change};
}

}  // namespace

void encode_outcome(io::ByteWriter& w, const PatientOutcome& o) {
  w.i64(o.sessions);
  w.u8(o.bled ? 1 : 0);
  for (const double* v : outcome_fields(o)) w.f64(*v);
  w.u64(o.channel_course.size());
  for (const auto& c : o.channel_course) {
    for (const double v : c) w.f64(v);
  }
  encode_scar_results(w, o.scars);
  for (const int v : {o.gb_quant_before, o.gb_quant_after, o.gb_qual_before, o.gb_qual_after}) {
    w.i64(v);
  }
  w.u64(o.at.size());
  for (const TimedOutcome& t : o.at) {
    for (const double* v : timed_fields(t)) w.f64(*v);
    encode_scar_results(w, t.scars);
    w.i64(t.gb_quant_after);
    w.i64(t.gb_qual_after);
  }
  w.u64(o.headline);
  w.u64(o.applications.size());
  for (const auto& a : o.applications) {
    w.f64(a.applied);
    w.f64(a.delivered);
    for (const double v : a.by_layer) w.f64(v);
  }
}

PatientOutcome decode_outcome(io::ByteReader& r) {
  PatientOutcome o;
  o.sessions = static_cast<int>(r.i64());
  o.bled = r.u8() != 0;
  for (double* v : outcome_fields(o)) *v = r.f64();
  o.channel_course.resize(r.count(r.left() / 24, "channel course"));
  for (auto& c : o.channel_course) {
    for (double& v : c) v = r.f64();
  }
  o.scars = decode_scar_results(r);
  for (int* v : {&o.gb_quant_before, &o.gb_quant_after, &o.gb_qual_before, &o.gb_qual_after}) {
    *v = static_cast<int>(r.i64());
  }
  o.at.resize(r.count(r.left() / 100, "outcome times"));
  for (TimedOutcome& t : o.at) {
    for (double* v : timed_fields(t)) *v = r.f64();
    t.scars = decode_scar_results(r);
    t.gb_quant_after = static_cast<int>(r.i64());
    t.gb_qual_after = static_cast<int>(r.i64());
  }
  o.headline = r.u64();
  o.applications.resize(r.count(r.left() / 56, "applications"));
  for (auto& a : o.applications) {
    a.applied = r.f64();
    a.delivered = r.f64();
    for (double& v : a.by_layer) v = r.f64();
  }
  return o;
}

}  // namespace mnsim::protocol
