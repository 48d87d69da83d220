#include "protocol/reduced.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "core/constants.hpp"
#include "core/data_dir.hpp"
#include "devices/catalog.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "healing/column.hpp"
#include "healing/options.hpp"
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

PatientOutcome simulate_times(const ReducedModel& m, const skin::SkinProfile& prof,
                              const std::vector<outcomes::ScarGeometry>& scars,
                              const std::vector<double>& times_s, double end_s, double depth,
                              double density, double time_step, const RateFactors& rf,
                              double radius) {
  using skin::Layer;
  healing::Params p = m.params;
  p.collagen_synthesis *= rf.collagen_synthesis;
  p.elastin_synthesis *= rf.collagen_synthesis;
  p.gf_macrophage *= rf.growth_factor_supply;
  p.fibroblast_proliferation *= rf.fibroblast_proliferation;
  p.melanin_rate *= rf.melanin_rate;

  healing::ColumnProtocol cp;
  for (double t : times_s) cp.session_times.push_back(t / kHour);
  cp.end_time = end_s / kHour;
  // Needles that do not puncture leave the skin untouched (no punctures, any depth).
  if (!(depth > 0.0)) density = 0.0;
  cp.density = density * 1e-4;
  cp.depth = std::max(depth * 1e6, 1e-3);  // um
  cp.radius = radius * 1e6;
  cp.bled = depth > prof.plexus_depth;
  // The same largest step however long the follow-up: the state at a given day does not depend
  // on when the run ends (docs/numerics.md, "Time step and follow-up").
  cp.max_dt = time_step / kHour;
  // The epidermal channel healing depends on keratinocyte parameters (not varied by RateFactors)
  // and the radius: cached per radius for the model's parameter set.
  std::shared_ptr<const healing::ChannelHealing> ch;
  {
    const double r = healing::epidermal_channel_radius(p, prof, cp);
    std::lock_guard<std::mutex> lock(m.channels->mu);
    ChannelCache& c = *m.channels;
    if (!c.has_params) {
      c.params = m.params;
      c.has_params = true;
    }
    if (std::memcmp(&c.params, &m.params, sizeof(healing::Params)) == 0) {
      auto& slot = c.by_radius[r];
      if (!slot) {
        slot = std::make_shared<const healing::ChannelHealing>(
            healing::heal_channel(p, r, healing::kChannelHealWindow));
      }
      ch = slot;
    }
  }
  cp.channel = ch.get();  // nullptr: run_column computes it
  // Each wound resolved on the unit cell around its channel (healing::ColumnProtocol::annuli).
  cp.annuli = kReducedAnnuli;
  const healing::ColumnRun run = healing::run_column(p, prof, cp);

  PatientOutcome o;
  o.depth_reached = depth;
  o.density = density;
  o.bled = cp.bled;
  const double t = cp.end_time;
  o.gain.papillary = matrix_gain(run, Layer::PapillaryDermis, t);
  o.gain.reticular = matrix_gain(run, Layer::ReticularDermis, t);
  o.papillary_collagen_change = run.collagen_change(Layer::PapillaryDermis, t);
  o.reticular_collagen_change = run.collagen_change(Layer::ReticularDermis, t);
  o.epidermal_thickness_change = run.epidermal_thickness_change(t);
  {
    static const int s1 = healing::healing_model().slot("collagen1");
    static const int s3 = healing::healing_model().slot("collagen3");
    static const auto smu =
        static_cast<std::size_t>(healing::healing_model().slot("melanin_excess"));
    const double c1 = run.value(Layer::PapillaryDermis, s1, t);
    const double c3 = run.value(Layer::PapillaryDermis, s3, t);
    o.collagen1_share = c1 + c3 > 0 ? c1 / (c1 + c3) : 0.0;
    for (const auto& s : run.samples) {
      o.melanin_peak = std::max(o.melanin_peak, s.s[1][smu]);
    }
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
    o.channel_closure_hours = run.sessions[0].closure_time;
    o.macrophage_peak_h = run.sessions[0].macrophage_peak;
  }

  for (double h : kChannelCourseHours) {
    const double open = run.channel.open_at(h);
    o.channel_course.push_back(
        {h, open, healing::tewl_excess_ratio(p, cp.density * 1e-8, run.channel.radius, open, h)});
  }

  // Rise of a scar floor at depth f: the column under the floor, laid out as the tissue builder
  // lays it (skin::profile_below), starting with the scar kind's dermal deficit held by scar
  // matrix, with the needles entering at the floor as in the 3D engine. Columns on a grid of
  // floor depths and per deficit, interpolated in depth (docs/model.md, "Scar remodelling"); a
  // node's column is run only when a floor needs it.
  constexpr int kFloorNodes = 8;
  const double bottom = prof.top_of(Layer::Hypodermis);
  // Per (node, deficit): the rise at t and the share of the scar matrix left in the reticular
  // dermis (what is left of a tethering band's matrix).
  struct Floor {
    double rise = 0.0, left = 1.0;
  };
  std::map<std::pair<int, double>, Floor> floors;
  auto node = [&](int k, double deficit) {
    if (k == kFloorNodes) return Floor{};  // no dermis left under the floor
    const auto key = std::make_pair(k, deficit);
    if (auto it = floors.find(key); it != floors.end()) return it->second;
    Floor fl;
    if (k == 0 && !(deficit > 0.0)) {
      fl.rise = column_rise(run, p, prof, t);
    } else {
      const skin::SkinProfile below =
          k == 0 ? prof : skin::profile_below(prof, bottom * static_cast<double>(k) / kFloorNodes);
      healing::ColumnProtocol cs = cp;
      cs.bled = depth > below.plexus_depth;
      cs.scar_deficit[static_cast<std::size_t>(skin::layer_index(Layer::PapillaryDermis))] =
          deficit;
      cs.scar_deficit[static_cast<std::size_t>(skin::layer_index(Layer::ReticularDermis))] =
          deficit;
      const healing::ColumnRun sr = healing::run_column(p, below, cs);
      fl.rise = column_rise(sr, p, below, t);
      if (deficit > 0.0) fl.left = sr.value(Layer::ReticularDermis, scar_slot(), t) / deficit;
    }
    floors.emplace(key, fl);
    return fl;
  };
  auto under_floor = [&](double f, double deficit) {
    if (!(bottom > 0.0) || f >= bottom) return Floor{};
    const double u = std::max(0.0, f) / bottom * kFloorNodes;
    const int k = std::min(static_cast<int>(u), kFloorNodes - 1);
    const double w = u - static_cast<double>(k);
    if (!(w > 0.0)) return node(k, deficit);
    const Floor a = node(k, deficit), b = node(k + 1, deficit);
    return Floor{(1.0 - w) * a.rise + w * b.rise, (1.0 - w) * a.left + w * b.left};
  };

  // Scar remodelling, scar by scar: the floor's rise against the rim's.
  const double around = node(0, 0.0).rise;
  const double epi = prof.top_of(Layer::PapillaryDermis);
  std::vector<outcomes::ScarState> before, after;
  double red = 0.0;
  int n_graded = 0;
  for (const auto& s : scars) {
    outcomes::RemodelInput in;
    in.rise_around = around;
    // Averaged over the footprint's floor depths, as the 3D engine averages its columns.
    double under = 0.0, left = 0.0;
    for (double f : s.floor) {
      const Floor fl = under_floor(f, s.deficit);
      under += fl.rise;
      left += fl.left;
    }
    const double nf = static_cast<double>(s.floor.size());
    in.rise_under = under / nf;
    // Needles enter at the scar floor: they reach the band below the floor's epidermis.
    in.band_intact = (1.0 - outcomes::band_cut_fraction(
                                density, radius, static_cast<int>(times_s.size()), depth > epi)) *
                     std::clamp(left / nf, 0.0, 1.0);
    const outcomes::RemodelResult r = outcomes::remodel_scar(m.outcome, s, in);
    o.scars.push_back(r);
    before.push_back({s.kind, s.depth, s.width});
    after.push_back({s.kind, r.depth_after, s.width});
    if (graded(s.kind)) {
      red += r.reduction();
      ++n_graded;
    }
  }
  o.depth_reduction_pct = n_graded > 0 ? 100.0 * red / n_graded : 0.0;
  o.gb_quant_before = outcomes::quantitative_score(before, m.grading);
  o.gb_quant_after = outcomes::quantitative_score(after, m.grading);
  o.gb_qual_before = outcomes::qualitative_grade(before, m.grading);
  o.gb_qual_after = outcomes::qualitative_grade(after, m.grading);
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

PatientOutcome ReducedModel::simulate(const skin::SkinProfile& prof,
                                      const std::vector<outcomes::ScarGeometry>& scars,
                                      const ReducedProtocol& pr, const RateFactors& rf) const {
  if (pr.sessions < 1 || !(pr.interval > 0) || !(pr.follow_up >= 0) || !(pr.needle_length > 0)) {
    throw std::invalid_argument("reduced protocol: sessions >= 1, interval > 0, length > 0");
  }
  std::vector<double> times;
  for (int i = 0; i < pr.sessions; ++i) times.push_back(i * pr.interval);
  const double end = times.back() + std::max(pr.follow_up, kHour);
  double depth = pr.depth_reached, density = pr.density;
  if (!(depth > 0) || !(density > 0)) {
    const RollerReach reach = roller_reach(pr.device_model, pr.needle_length, prof);
    if (!(depth > 0)) depth = reach.depth;
    if (!(density > 0)) density = reach.punctured ? pr.passes * reach.density_per_pass : 0.0;
  }
  return simulate_times(*this, prof, scars, times, end, depth, density, pr.time_step, rf,
                        outcome.channel_radius);
}

PatientOutcome ReducedModel::simulate(const PatientSpec& pt, const ReducedProtocol& pr,
                                      const RateFactors& rf) const {
  const skin::SkinProfile prof = atlas->make_profile(pt.site, pt.age_years, pt.sex, pt.fitzpatrick);
  return simulate(prof, pt.scars, pr, rf);
}

ScenarioPrediction predict_scenario(const skin::PatchSpec& spec, const Course& course,
                                    double depth_reached, double density, double wound_radius,
                                    double time_step) {
  const ReducedModel m = ReducedModel::load_default();
  const skin::SkinPatch patch = skin::make_patch(spec);
  std::vector<double> times;
  for (const auto& s : course.sessions) times.push_back(s.time);
  std::vector<outcomes::ScarGeometry> scars;
  for (const auto& l : patch.lesions()) scars.push_back(outcomes::scar_geometry(*l));
  ScenarioPrediction out;
  out.outcome = simulate_times(m, patch.profile(), scars, times, course.end_time, depth_reached,
                               density, time_step, RateFactors{},
                               wound_radius > 0.0 ? wound_radius : m.outcome.channel_radius);
  out.scar_depth_reduction_pct = out.outcome.depth_reduction_pct;
  out.collagen_change_pct = 100.0 * out.outcome.papillary_collagen_change;
  out.reticular_collagen_change_pct = 100.0 * out.outcome.reticular_collagen_change;
  return out;
}

}  // namespace mnsim::protocol
