#include "healing/film.hpp"

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"

namespace mnsim::healing {

bool is_solute(const std::string& agent) {
  return agent == "tranexamic_acid" || agent == "minoxidil";
}

std::vector<Film> schedule_films(const std::vector<Application>& apps, const SubstanceData& d,
                                 std::span<const double> session_times_s, double end_s) {
  std::vector<Film> out;
  for (std::size_t k = 0; k < apps.size(); ++k) {
    const Application& a = apps[k];
    for (std::size_t i = 0; i < session_times_s.size(); ++i) {
      if (a.session != 0 && a.session != static_cast<int>(i) + 1) continue;
      const double t = session_times_s[i] + a.delay;
      if (t >= end_s) continue;
      Film f;
      f.app = k;
      f.session = static_cast<int>(i);
      f.t = t;
      f.wet = wet_time(d, a);
      out.push_back(f);
    }
  }
  return out;
}

double pour(Film& f, const Application& a, const SubstanceData& d, double t, double open_volume) {
  f.fill = open_volume > 0.0 ? std::min(1.0, a.film / open_volume) : 0.0;
  const double drained = a.film > 0.0 ? f.fill * open_volume / a.film : 0.0;
  if (a.agent == "prp") {
    f.applied = d.agents.at("prp").growth_factor * a.film * kPerCm2;
  } else if (is_solute(a.agent)) {
    f.applied = a.concentration * a.film * 1e5;  // kg/m^3 x m -> ug/cm^2
    f.on_skin = f.applied * (1.0 - drained);
    f.last = t;
  }
  return drained;
}

void advance_film(Film& f, const Application& app, double kp, double c_film, double t, double& c) {
  if (t < f.t || f.last >= f.t + f.wet) return;
  // The stratum-corneum route over the last interval took kp C_film per area (ug/mL x um =
  // 1e-4 ug/cm^2); the film on the skin loses it (its volume held while wet).
  const double until = std::min(t, f.t + f.wet);
  f.skin_route += kp * c_film * (until - f.last) / kHour * 1e-4;
  f.last = until;
  const double left = f.on_skin > 0.0 ? std::max(0.0, 1.0 - f.skin_route / f.on_skin) : 0.0;
  if (until < f.t + f.wet) c = app.concentration * 1e3 * left;
}

void ChannelBook::add(int session, double t, const ChannelGeometry& g, ChannelHealing closure,
                      double lumen_mm3_per_cm2) {
  entries_.push_back({session, t, g, std::move(closure), lumen_mm3_per_cm2});
}

double ChannelBook::open_at(double t) const {
  const Entry* last = nullptr;
  for (const auto& c : entries_) {
    if (c.t <= t) last = &c;
  }
  return last ? last->closure.open_at((t - last->t) / kHour) : 0.0;
}

nlohmann::json ChannelBook::summary() const {
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : entries_) {
    nlohmann::json course = nlohmann::json::array();
    for (const double h : {0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 36.0, 48.0, 72.0, 96.0}) {
      course.push_back({{"hours", h}, {"open_fraction", c.closure.open_at(h)}});
    }
    channels.push_back(
        {{"session", c.session + 1},
         {"mouth_radius_um", c.geometry.radius_um},
         {"density_per_cm2", c.geometry.density * 1e8},
         {"clot_plugged", c.geometry.bled},
         {"lumen_mm3_per_cm2", c.lumen_mm3_per_cm2},
         {"closure_hours",
          c.closure.closure_time >= 0.0 ? nlohmann::json(c.closure.closure_time) : nullptr},
         {"course", course}});
  }
  return channels;
}

std::array<double, skin::kLayers> lumen_by_layer(const skin::SkinProfile& prof, double density,
                                                 double r, double depth) {
  std::array<double, skin::kLayers> v{};
  const double per_depth = density * kPi * r * r;  // m^3 per m^2 of skin per m of depth
  for (int l = 0; l < skin::kLayers; ++l) {
    const skin::Layer layer = skin::layer_from_index(l);
    const double a = prof.top_of(layer), b = std::min(prof.bottom_of(layer), depth);
    if (b > a) v[static_cast<std::size_t>(l)] = per_depth * (b - a);
  }
  return v;
}

}  // namespace mnsim::healing
