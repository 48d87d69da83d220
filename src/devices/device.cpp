#include "devices/device.hpp"

#include "devices/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "core/rng.hpp"

namespace mnsim::devices {

double direction_angle(std::string_view name) {
  if (name == "horizontal") return 0.0;
  if (name == "vertical") return 0.5 * kPi;
  if (name == "diagonal") return 0.25 * kPi;
  if (name == "antidiagonal") return 0.75 * kPi;
  throw std::logic_error("internal: unknown stroke direction " + std::string(name));
}

Technique Technique::from_table(const Table& t) {
  Technique tq;
  tq.passes = static_cast<int>(t.integer("passes"));
  tq.directions.clear();
  for (const auto& d : t.list("directions")) tq.directions.push_back(direction_angle(d));
  tq.speed = t.quantity("speed");
  tq.overlap = t.quantity("overlap");
  tq.force = t.quantity("force");
  tq.reposition_time = t.quantity("reposition_time");
  tq.jitter_position = t.quantity("jitter_position");
  tq.jitter_angle = t.quantity("jitter_angle");
  tq.jitter_force = t.quantity("jitter_force");
  tq.jitter_speed = t.quantity("jitter_speed");
  tq.origin = Settings::from_table(t);
  return tq;
}

const Technique& Technique::defaults() {
  static const Technique tq = [] {
    const schema::Key root = schema::table("", "a technique", {technique_schema()});
    return from_table(
        parse_scenario_text("[technique]\n", "<technique defaults>", root).table("technique"));
  }();
  return tq;
}

namespace {
// Entity ids of the technique stream: pass in the high bits, stroke index + 1 in the low bits.
constexpr std::uint64_t stroke_entity(std::uint64_t pass, std::uint64_t stroke) {
  return (pass << 24) | (stroke + 1);
}
}  // namespace

std::vector<Stroke> plan_strokes(const Technique& tq, const Rect& area, double swath,
                                 std::uint64_t seed) {
  if (tq.directions.empty()) throw std::logic_error("internal: technique without directions");
  if (!(swath > 0.0) || !(area.area() > 0.0)) return {};
  std::vector<Stroke> out;
  const double spacing = swath * (1.0 - tq.overlap);
  for (int p = 0; p < tq.passes; ++p) {
    const auto pass = static_cast<std::uint64_t>(p);
    const double th = tq.directions[pass % tq.directions.size()];
    const double ux = std::cos(th), uy = std::sin(th);
    const double nx = -uy, ny = ux;
    double amin = 1e300, amax = -1e300, bmin = 1e300, bmax = -1e300;
    for (double cx : {area.x0, area.x1}) {
      for (double cy : {area.y0, area.y1}) {
        const double a = cx * ux + cy * uy, b = cx * nx + cy * ny;
        amin = std::min(amin, a);
        amax = std::max(amax, a);
        bmin = std::min(bmin, b);
        bmax = std::max(bmax, b);
      }
    }
    const double a0 = amin - swath, a1 = amax + swath;
    // Lanes are laid from the area's edge, as a practitioner does, so passes in the same
    // direction repeat them; the first lane (k = -1) lies just outside and overlaps the edge by
    // the usual overlap, so that the edge stays covered. The hand places the whole pass and
    // then each stroke with a random lateral error.
    Rng pass_rng(seed, kStreamTechnique, stroke_entity(pass, 0) - 1);
    const double pass_offset = tq.jitter_position * pass_rng.normal();
    std::uint32_t idx = 0;
    for (int k = -1;; ++k) {
      const double c = bmin + 0.5 * swath + k * spacing + pass_offset;
      if (c - 0.5 * swath >= bmax) break;
      Rng r(seed, kStreamTechnique, stroke_entity(pass, idx));
      Stroke s;
      s.pass = static_cast<std::uint32_t>(p);
      s.index = idx;
      const double lateral = c + tq.jitter_position * r.normal();
      const double dth = tq.jitter_angle * r.normal();
      s.force = tq.force * std::max(0.1, 1.0 + tq.jitter_force * r.normal());
      s.speed = tq.speed * std::max(0.2, 1.0 + tq.jitter_speed * r.normal());
      s.phase = r.uniform();
      const double sign = (idx % 2 == 0) ? 1.0 : -1.0;
      const double dux = std::cos(th + dth) * sign, duy = std::sin(th + dth) * sign;
      const double am = 0.5 * (a0 + a1);
      const double mx = am * ux + lateral * nx, my = am * uy + lateral * ny;
      s.length = a1 - a0;
      s.ux = dux;
      s.uy = duy;
      s.x0 = mx - 0.5 * s.length * dux;
      s.y0 = my - 0.5 * s.length * duy;
      out.push_back(s);
      ++idx;
    }
  }
  return out;
}

std::pair<double, double> clip_line(double x0, double y0, double ux, double uy, const Rect& r,
                                    double margin) {
  double lo = -1e300, hi = 1e300;
  auto slab = [&](double p0, double u, double a, double b) {
    if (std::abs(u) < 1e-15) {
      if (p0 < a || p0 > b) {
        lo = 1.0;
        hi = 0.0;
      }
      return;
    }
    double t0 = (a - p0) / u, t1 = (b - p0) / u;
    if (t0 > t1) std::swap(t0, t1);
    lo = std::max(lo, t0);
    hi = std::min(hi, t1);
  };
  slab(x0, ux, r.x0 - margin, r.x1 + margin);
  slab(y0, uy, r.y0 - margin, r.y1 + margin);
  return {lo, hi};
}

double Device::stroke_duration(const Stroke& s, const Technique&) const {
  return s.length / s.speed;
}

Punctures Device::generate(const Technique& tq, const Rect& area, const skin::SkinProfile& skin,
                           const mechanics::PenetrationParams& mech, std::uint64_t seed) const {
  std::vector<Stroke> strokes = plan_strokes(tq, area, swath(), seed);
  double t = 0.0;
  for (auto& s : strokes) {
    s.t0 = t;
    t += stroke_duration(s, tq) + tq.reposition_time;
  }
  const double loaded = needles_loaded(tq);
  std::vector<Punctures> per(strokes.size());
  const auto n = static_cast<long long>(strokes.size());
#pragma omp parallel
  {
    Punctures raw;  // reused by this thread's strokes
#pragma omp for schedule(dynamic, 4)
    for (long long i = 0; i < n; ++i) {
      const Stroke& s = strokes[static_cast<std::size_t>(i)];
      const mechanics::PenetrationResult pen =
          mechanics::penetrate(needle_, s.force / loaded, skin, mech);
      if (!pen.punctured) continue;
      raw.clear();
      stroke_punctures(s, tq, pen, area, raw);
      std::size_t inside = 0;
      for (const Puncture& p : raw) inside += area.contains(p.x, p.y) ? 1 : 0;
      Punctures& kept = per[static_cast<std::size_t>(i)];
      kept.reserve(inside);
      const skin::Layer layer = skin.layer_at(pen.depth);
      const bool bled = skin.plexus_depth > 0.0 && pen.depth >= skin.plexus_depth;
      for (Puncture& p : raw) {
        if (!area.contains(p.x, p.y)) continue;
        p.pass = s.pass;
        p.stroke = s.index;
        p.nominal_length = needle_.length;
        p.depth = pen.depth;
        p.force = pen.force;
        p.radius = pen.channel_radius;
        p.layer = layer;
        p.bled = bled;
        kept.push_back(p);
      }
      const auto by_time = [](const Puncture& a, const Puncture& b) {
        return a.t < b.t || (a.t == b.t && a.needle < b.needle);
      };
      if (!std::is_sorted(kept.begin(), kept.end(), by_time)) {
        std::sort(kept.begin(), kept.end(), by_time);
      }
    }
  }
  std::size_t total = 0;
  for (const auto& v : per) total += v.size();
  Punctures out;
  out.reserve(total);
  for (const auto& v : per) out.insert(out.end(), v.begin(), v.end());
  if (!out.empty())
    complete(out, skin, mechanics::penetrate(needle_, tq.force / loaded, skin, mech));
  return out;
}

}  // namespace mnsim::devices
