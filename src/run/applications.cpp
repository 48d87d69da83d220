#include "run/applications.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/constants.hpp"
#include "healing/column.hpp"
#include "healing/kinetics.hpp"

namespace mnsim {

using healing::kFilmUpdates;
using healing::kPerCm2;
using healing::kRecordHours;

ApplicationDriver::ApplicationDriver(std::vector<healing::Application> apps,
                                     const healing::SubstanceData& data, const healing::Params& p,
                                     const skin::SkinProfile& profile)
    : apps_(std::move(apps)), data_(data), p_(p), profile_(profile) {}

healing::Model ApplicationDriver::model(double dx) const {
  healing::Model m = healing::healing_model();
  const double sc = (profile_.bottom_of(skin::Layer::StratumCorneum) -
                     profile_.top_of(skin::Layer::StratumCorneum)) *
                    1e6;
  healing::add_substances(m, data_, apps_, drive_, dx * 1e6, sc);
  return m;
}

void ApplicationDriver::attach(healing::Engine& engine) {
  engine_ = &engine;
  if (apps_.empty()) return;
  const healing::Model& m = engine.model();
  lumen_ = m.slot("channel_lumen");
  platelets_ = m.slot("platelets");
  prp_ = m.find("prp_growth_factor");
  for (const auto& a : apps_) {
    if (m.find(a.agent) < 0 || m.find(a.agent + "_permeated") < 0) continue;
    if (std::find(solutes_.begin(), solutes_.end(), a.agent) != solutes_.end()) continue;
    solutes_.push_back(a.agent);
    conc_.push_back(m.slot(a.agent));
    lumen_agent_.push_back(m.slot(a.agent + "_lumen"));
    liquid_.push_back(m.slot(a.agent + "_liquid"));
    kp_.push_back(data_.sc_permeability(data_.agents.at(a.agent)));
    entered_.push_back(m.slot(a.agent + "_permeated"));
    cleared_.push_back(m.slot(a.agent + "_cleared"));
  }
}

std::size_t ApplicationDriver::schedule(healing::Stepper& stepper, const protocol::Course& course) {
  std::size_t added = 0;
  std::vector<double> times;
  for (const auto& s : course.sessions) times.push_back(s.time);
  for (const healing::Film& f : healing::schedule_films(apps_, data_, times, course.end_time)) {
    Applied ap;
    static_cast<healing::Film&>(ap) = f;
    applied_.push_back(std::move(ap));
  }
  for (std::size_t i = 0; i < applied_.size(); ++i) {
    const Applied& ap = applied_[i];
    stepper.add_event(ap.t, [this, i](double t, grid::FieldSet& f) { apply(applied_[i], t, f); });
    ++added;
    if (!healing::is_solute(apps_[ap.app].agent)) continue;
    for (int u = 1; u <= kFilmUpdates; ++u) {
      const double t = ap.t + ap.wet * u / kFilmUpdates;
      if (t < course.end_time) {
        const bool last = u == kFilmUpdates;
        stepper.add_stop(t, [this, i, last](double te, grid::FieldSet&) {
          update(te);
          if (last) record(applied_[i], te, true);
        });
        ++added;
      }
    }
    for (const double h : kRecordHours) {
      const double t = ap.t + h * kHour;
      // The end of the wet period has its own record (with a depth profile).
      if (t >= course.end_time || std::fabs(t - (ap.t + ap.wet)) < 1.0) continue;
      stepper.add_stop(t, [this, i, h](double te, grid::FieldSet&) {
        update(te);
        record(applied_[i], te, h == 0.25 || h == 1.0 || h == 4.0);
      });
      ++added;
    }
  }
  return added;
}

std::array<double, skin::kLayers> ApplicationDriver::per_area(const grid::FieldSet& fields,
                                                              int f) const {
  const grid::Grid& g = fields.grid();
  const std::span<const std::uint8_t> layer_of = engine_->layer_of();
  const float* u = fields.view(f).data;
  std::array<double, skin::kLayers> s{};
  for (int k = 0; k < g.nz; ++k) {
    const double dv = g.dx * g.dx * g.dz(k);
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const std::ptrdiff_t c = g.at(i, j, k);
        const int l = layer_of[static_cast<std::size_t>(c)];
        if (l >= 1 && l <= skin::kLayers) s[static_cast<std::size_t>(l - 1)] += dv * u[c];
      }
  }
  const double area = g.dx * g.dx * g.nx * g.ny;
  for (double& x : s) x = x / area * kPerCm2;
  return s;
}

void ApplicationDriver::session(int index, double t, const devices::Punctures& punctures,
                                double density_per_cm2, double fraction_bleeding,
                                grid::FieldSet& fields) {
  if (apps_.empty()) return;
  const grid::Grid& g = fields.grid();
  const std::span<const std::uint8_t> layer_of = engine_->layer_of();
  float* lumen = fields.view(lumen_).data;
  // The earlier sessions' channels are closed (sessions are days to weeks apart, channels close
  // within hours to days): the lumen is this session's.
  for (std::size_t c = 0; c < g.padded_size(); ++c) lumen[c] = 0.0f;
  // The top skin cell of each column.
  std::vector<int> top(static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny), g.nz);
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i)
      for (int k = 0; k < g.nz; ++k)
        if (layer_of[static_cast<std::size_t>(g.at(i, j, k))] != 0) {
          top[static_cast<std::size_t>(i + j * g.nx)] = k;
          break;
        }
  constexpr int S = 4;  // sub-samples per axis of a column's area
  double radius_sum = 0.0, depth_sum = 0.0, lumen_volume = 0.0;
  const double ve_mid = 0.5e6 * (profile_.top_of(skin::Layer::ViableEpidermis) +
                                 profile_.bottom_of(skin::Layer::ViableEpidermis));
  for (const auto& pu : punctures) {
    const double r0 = p_.channel_recoil * pu.radius;  // m
    if (!(r0 > 0.0) || !(pu.depth > 0.0)) continue;
    radius_sum += std::max(1.0, healing::channel_radius(p_, r0 * 1e6, ve_mid, pu.depth * 1e6));
    depth_sum += pu.depth * 1e6;
    const int i_lo = std::max(0, static_cast<int>(std::floor((pu.x - r0) / g.dx)) - g.i0);
    const int i_hi = std::min(g.nx - 1, static_cast<int>(std::floor((pu.x + r0) / g.dx)) - g.i0);
    const int j_lo = std::max(0, static_cast<int>(std::floor((pu.y - r0) / g.dx)) - g.j0);
    const int j_hi = std::min(g.ny - 1, static_cast<int>(std::floor((pu.y + r0) / g.dx)) - g.j0);
    for (int j = j_lo; j <= j_hi; ++j)
      for (int i = i_lo; i <= i_hi; ++i) {
        int in = 0;
        for (int a = 0; a < S; ++a)
          for (int b = 0; b < S; ++b) {
            const double x = (g.i0 + i + (a + 0.5) / S) * g.dx - pu.x;
            const double y = (g.j0 + j + (b + 0.5) / S) * g.dx - pu.y;
            if (x * x + y * y <= r0 * r0) ++in;
          }
        if (in == 0) continue;
        const double f = static_cast<double>(in) / (S * S);
        const int k0 = top[static_cast<std::size_t>(i + j * g.nx)];
        if (k0 >= g.nz) continue;
        const double z0 = g.zf[static_cast<std::size_t>(k0)];
        for (int k = k0; k < g.nz; ++k) {
          const double z_top = g.zf[static_cast<std::size_t>(k)] - z0;
          if (z_top >= pu.depth) break;
          const double part = std::min(1.0, (pu.depth - z_top) / g.dz(k));
          const std::ptrdiff_t c = g.at(i, j, k);
          const double before = lumen[c];
          lumen[c] = static_cast<float>(std::min(1.0, before + f * part));
          lumen_volume += (lumen[c] - before) * g.dx * g.dx * g.dz(k);
        }
      }
  }
  const double n = static_cast<double>(std::max<std::size_t>(1, punctures.size()));
  healing::ChannelGeometry geo =
      healing::channel_geometry(profile_, radius_sum / n, depth_sum / n, density_per_cm2 * 1e-8);
  geo.bled = fraction_bleeding >= 0.5;
  channels_.add(index, t, geo, closure_of(geo),
                lumen_volume * 1e9 / (g.dx * g.dx * g.nx * g.ny) * 1e-4);
}

healing::ChannelHealing ApplicationDriver::closure_of(const healing::ChannelGeometry& geo) const {
  if (!(geo.radius_um > 0.0)) return {};
  return healing::close_channels(p_, healing::ClosureParams::defaults(), geo,
                                 healing::kChannelHealWindow);
}

double ApplicationDriver::open_lumen_volume(const grid::FieldSet& fields, double open,
                                            int first_layer) const {
  const grid::Grid& g = fields.grid();
  const std::span<const std::uint8_t> layer_of = engine_->layer_of();
  const float* lumen = fields.view(lumen_).data;
  double v = 0.0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const std::ptrdiff_t c = g.at(i, j, k);
        if (layer_of[static_cast<std::size_t>(c)] >= first_layer)
          v += lumen[c] * open * g.dx * g.dx * g.dz(k);
      }
  return v;
}

void ApplicationDriver::apply(Applied& a, double t, grid::FieldSet& fields) {
  const healing::Application& app = apps_[a.app];
  const grid::Grid& g = fields.grid();
  const double area = g.dx * g.dx * g.nx * g.ny;
  const double open = channels_.open_at(t);
  if (app.agent == "prp") {
    // The film fills the open lumen (as far as its volume goes); its platelets are the healing
    // engine's (growth factors released as from the blood's, blood_growth_factor per platelet
    // volume fraction of whole blood).
    const healing::Agent& prp = data_.agents.at("prp");
    const std::span<const std::uint8_t> layer_of = engine_->layer_of();
    const float* lumen = fields.view(lumen_).data;
    // Below the stratum corneum.
    healing::pour(a, app, data_, t, open_lumen_volume(fields, open, 2) / area);
    double before = 0.0;
    for (double x : per_area(fields, prp_)) before += x;
    float* P = fields.view(platelets_).data;
    float* gf = fields.view(prp_).data;
    const double per_blood = p_.blood_growth_factor > 0.0 ? 1.0 / p_.blood_growth_factor : 0.0;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const std::ptrdiff_t c = g.at(i, j, k);
          // Below the stratum corneum (layer 1): the wound bed.
          if (layer_of[static_cast<std::size_t>(c)] <= 1) continue;
          const double phi = lumen[c] * open * a.fill;
          if (!(phi > 0.0)) continue;
          gf[c] = static_cast<float>(gf[c] + phi * prp.growth_factor);
          P[c] = static_cast<float>(P[c] + phi * prp.growth_factor * per_blood);
        }
    Record r;
    r.hours = 0.0;
    const auto by = per_area(fields, prp_);
    r.by_layer = by;
    for (double x : by) r.entered += x;
    r.entered -= before;  // this application's (the field keeps every application's)
    r.tissue = r.entered;
    a.records.push_back(r);
    return;
  }
  if (app.agent == "saline") return;  // the vehicle alone
  const auto it = std::find(solutes_.begin(), solutes_.end(), app.agent);
  const std::size_t s = static_cast<std::size_t>(it - solutes_.begin());
  a.base = accounted(s);
  // The film drains into the open lumen as far as its volume goes; the rest stays on the skin.
  const std::span<const std::uint8_t> layer_of = engine_->layer_of();
  const float* lumen = fields.view(lumen_).data;
  healing::pour(a, app, data_, t, open_lumen_volume(fields, open, 1) / area);
  double lumen_before = 0.0;
  for (double x : per_area(fields, lumen_agent_[s])) lumen_before += x;
  float* liquid = fields.view(liquid_[s]).data;
  float* S = fields.view(lumen_agent_[s]).data;
  const double c0 = app.concentration * 1e3;  // mg/mL -> ug/mL
  for (std::size_t c = 0; c < g.padded_size(); ++c) {
    const double phi = lumen[c] * open * a.fill;
    liquid[c] = static_cast<float>(phi);
    if (phi > 0.0 && layer_of[c] != 0) S[c] = static_cast<float>(S[c] + phi * c0);
  }
  for (double x : per_area(fields, lumen_agent_[s])) a.drained += x;
  a.drained -= lumen_before;
  drive_->vehicle[s] = a.on_skin > 0.0 ? c0 : 0.0;
}

double ApplicationDriver::accounted(std::size_t s) const {
  const grid::FieldSet& f = engine_->fields();
  double x = 0.0;
  for (const int id : {conc_[s], lumen_agent_[s], cleared_[s]})
    for (double v : per_area(f, id)) x += v;
  return x;
}

void ApplicationDriver::update(double t) {
  for (std::size_t s = 0; s < solutes_.size(); ++s) {
    double c = 0.0;
    for (Applied& a : applied_) {
      const healing::Application& app = apps_[a.app];
      if (app.agent == solutes_[s]) healing::advance_film(a, app, kp_[s], drive_->vehicle[s], t, c);
    }
    drive_->vehicle[s] = c;
  }
}

void ApplicationDriver::record(Applied& a, double t, bool profile) {
  const healing::Application& app = apps_[a.app];
  const auto it = std::find(solutes_.begin(), solutes_.end(), app.agent);
  if (it == solutes_.end()) return;
  const std::size_t s = static_cast<std::size_t>(it - solutes_.begin());
  const grid::FieldSet& f = engine_->fields();
  Record r;
  r.hours = (t - a.t) / kHour;
  r.by_layer = per_area(f, conc_[s]);
  for (double x : r.by_layer) r.tissue += x;
  for (double x : per_area(f, lumen_agent_[s])) r.lumen += x;
  for (double x : per_area(f, cleared_[s])) r.cleared += x;
  // What entered the skin by this application: into the lumen and through the stratum corneum.
  r.skin_route = a.skin_route;
  r.entered = a.drained + a.skin_route;
  if (profile) {
    const grid::Grid& g = f.grid();
    const float* u = f.view(conc_[s]).data;
    const std::span<const std::uint8_t> layer_of = engine_->layer_of();
    r.profile.assign(static_cast<std::size_t>(g.nz), 0.0);
    for (int k = 0; k < g.nz; ++k) {
      double sum = 0.0;
      int n = 0;
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const std::ptrdiff_t c = g.at(i, j, k);
          if (layer_of[static_cast<std::size_t>(c)] == 0) continue;
          sum += u[c];
          ++n;
        }
      r.profile[static_cast<std::size_t>(k)] = n > 0 ? sum / n : 0.0;
    }
  }
  a.records.push_back(std::move(r));
}

nlohmann::json ApplicationDriver::state() const {
  nlohmann::json films = nlohmann::json::array();
  for (const auto& a : applied_) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& r : a.records) {
      records.push_back(
          {r.hours, r.entered, r.tissue, r.cleared, r.lumen, r.skin_route, r.by_layer, r.profile});
    }
    films.push_back(
        {{"film", {a.applied, a.base, a.fill, a.drained, a.on_skin, a.skin_route, a.last}},
         {"records", records}});
  }
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : channels_.entries()) {
    channels.push_back({c.session, c.t, c.geometry.radius_um, c.geometry.density, c.geometry.bled,
                        c.lumen_mm3_per_cm2, c.geometry.lumen_um});
  }
  std::vector<double> vehicle(std::begin(drive_->vehicle), std::end(drive_->vehicle));
  return {{"films", films}, {"channels", channels}, {"vehicle", vehicle}};
}

void ApplicationDriver::restore(const nlohmann::json& j) {
  const auto& films = j.at("films");
  if (films.size() != applied_.size()) throw std::runtime_error("another schedule");
  for (std::size_t i = 0; i < applied_.size(); ++i) {
    Applied& a = applied_[i];
    const auto& f = films[i].at("film");
    a.applied = f.at(0);
    a.base = f.at(1);
    a.fill = f.at(2);
    a.drained = f.at(3);
    a.on_skin = f.at(4);
    a.skin_route = f.at(5);
    a.last = f.at(6);
    a.records.clear();
    for (const auto& r : films[i].at("records")) {
      Record x;
      x.hours = r.at(0);
      x.entered = r.at(1);
      x.tissue = r.at(2);
      x.cleared = r.at(3);
      x.lumen = r.at(4);
      x.skin_route = r.at(5);
      x.by_layer = r.at(6).get<std::array<double, skin::kLayers>>();
      x.profile = r.at(7).get<std::vector<double>>();
      a.records.push_back(std::move(x));
    }
  }
  channels_ = {};
  for (const auto& c : j.at("channels")) {
    healing::ChannelGeometry geo;
    geo.radius_um = c.at(2);
    geo.density = c.at(3);
    geo.bled = c.at(4);
    geo.lumen_um = c.at(6);  // the lumen the closure waits to fill when the channel did not bleed
    channels_.add(c.at(0).get<int>(), c.at(1).get<double>(), geo, closure_of(geo),
                  c.at(5).get<double>());
  }
  const auto v = j.at("vehicle").get<std::vector<double>>();
  for (std::size_t s = 0; s < v.size() && s < healing::SubstanceDrive::kMaxAgents; ++s) {
    drive_->vehicle[s] = v[s];
  }
}

nlohmann::json ApplicationDriver::summary() const {
  nlohmann::json j;
  if (apps_.empty()) return j;
  const nlohmann::json channels = channels_.summary();
  const grid::Grid& g = engine_->grid();
  nlohmann::json depth = nlohmann::json::array();
  for (int k = 0; k < g.nz; ++k) depth.push_back(g.zc(k) * 1e6);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : applied_) {
    const healing::Application& app = apps_[a.app];
    const bool prp = app.agent == "prp";
    const std::string unit = prp ? "ng/cm^2" : "ug/cm^2";
    nlohmann::json records = nlohmann::json::array();
    for (const auto& r : a.records) {
      nlohmann::json layers;
      for (int l = 0; l < skin::kLayers; ++l) {
        layers[std::string(skin::layer_name(skin::layer_from_index(l)))] =
            r.by_layer[static_cast<std::size_t>(l)];
      }
      nlohmann::json e = {{"hours_after", r.hours},
                          {"entered", r.entered},
                          {"through_stratum_corneum", r.skin_route},
                          {"in_lumen", r.lumen},
                          {"in_tissue", r.tissue},
                          {"cleared", r.cleared},
                          {"in_tissue_by_layer", layers}};
      if (!r.profile.empty()) e["profile_ug_per_ml"] = r.profile;
      records.push_back(e);
    }
    nlohmann::json e = {{"agent", app.agent},
                        {"vehicle", app.vehicle},
                        {"application", app.index + 1},
                        {"session", a.session + 1},
                        {"day", a.t / kDay},
                        {"occluded", app.occluded},
                        {"wet_hours", a.wet / kHour},
                        {"unit", unit},
                        {"applied", prp || app.agent != "saline" ? a.applied : 0.0},
                        {"records", records}};
    e["lumen_filled_fraction"] = a.fill;
    if (!prp && app.agent != "saline") {
      e["into_channels"] = a.drained;
      e["left_on_skin"] = a.on_skin;
      if (!a.records.empty()) {
        e["delivered_fraction"] = a.applied > 0.0 ? a.records.back().entered / a.applied : 0.0;
      }
      e["accounted_before"] = a.base;
    }
    list.push_back(e);
  }
  j["channels"] = channels;
  j["depth_um"] = depth;
  j["applications"] = list;
  return j;
}

std::vector<report::OutcomeRow> ApplicationDriver::report_rows() const {
  std::vector<report::OutcomeRow> rows;
  for (const auto& c : channels_.entries()) {
    rows.push_back({fmt::format("Channels of session {} open at 24 h", c.session + 1), "",
                    fmt::format("{:.0f} %", 100.0 * c.closure.open_at(24.0)),
                    c.closure.closure_time >= 0.0
                        ? fmt::format("closed at {:.1f} h{}", c.closure.closure_time,
                                      c.geometry.bled ? "; clot in the mouth (they bled)" : "")
                        : std::string("not closed within 96 h")});
  }
  for (const auto& a : applied_) {
    const healing::Application& app = apps_[a.app];
    std::string agent = app.agent;
    std::replace(agent.begin(), agent.end(), '_', ' ');
    if (app.agent == "saline") {
      rows.push_back({fmt::format("Saline after session {}", a.session + 1), "", "vehicle only",
                      "control: no agent"});
      continue;
    }
    if (app.agent == "prp") {
      const double d = a.records.empty() ? 0.0 : a.records.front().entered;
      rows.push_back({fmt::format("PRP after session {}", a.session + 1),
                      fmt::format("{:.2f} ng/cm\u00b2", a.applied),
                      fmt::format("{:.2f} ng/cm\u00b2", d),
                      fmt::format("growth factors into the open channels ({:.0f} % of the lumen "
                                  "filled)",
                                  100.0 * a.fill)});
      continue;
    }
    const double delivered = a.records.empty() ? 0.0 : a.records.back().entered;
    std::string at1;
    for (const auto& r : a.records) {
      if (std::fabs(r.hours - 1.0) < 1e-6) {
        at1 = fmt::format("; {:.2g} \u00b5g/cm\u00b2 in the tissue 1 h after", r.tissue);
      }
    }
    rows.push_back(
        {fmt::format("{} after session {}", agent, a.session + 1),
         fmt::format("{:.3g} \u00b5g/cm\u00b2", a.applied),
         fmt::format("{:.3g} \u00b5g/cm\u00b2", delivered),
         fmt::format("applied, delivered: {:.3g} into the channels, {:.2g} through "
                     "the stratum corneum{}",
                     a.drained, a.records.empty() ? 0.0 : a.records.back().skin_route, at1)});
  }
  return rows;
}

}  // namespace mnsim
