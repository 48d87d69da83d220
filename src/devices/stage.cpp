#include "devices/stage.hpp"

#include "devices/registry.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/constants.hpp"
#include "core/rng.hpp"
#include "core/version.hpp"
#include "io/files.hpp"

namespace mnsim::devices {

namespace fs = std::filesystem;

DensityMap density_map(const Punctures& p, const Rect& area, double cell) {
  DensityMap m;
  m.area = area;
  m.cell = cell;
  m.nx = std::max(0, static_cast<int>(std::floor(area.width() / cell + 1e-9)));
  m.ny = std::max(0, static_cast<int>(std::floor(area.height() / cell + 1e-9)));
  m.counts.assign(static_cast<std::size_t>(m.nx) * static_cast<std::size_t>(m.ny), 0);
  for (const Puncture& q : p) {
    const int ix = static_cast<int>(std::floor((q.x - area.x0) / cell));
    const int iy = static_cast<int>(std::floor((q.y - area.y0) / cell));
    if (ix < 0 || iy < 0 || ix >= m.nx || iy >= m.ny) continue;
    ++m.counts[static_cast<std::size_t>(iy * m.nx + ix)];
  }
  return m;
}

DensityStats density_stats(const DensityMap& m) {
  DensityStats s;
  if (m.counts.empty()) return s;
  double sum = 0.0, sum2 = 0.0;
  int lo = m.counts[0], hi = m.counts[0];
  for (int c : m.counts) {
    sum += c;
    sum2 += static_cast<double>(c) * c;
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  const double n = static_cast<double>(m.counts.size());
  const double mean = sum / n;
  const double var = std::max(0.0, sum2 / n - mean * mean);
  const double a = m.cell * m.cell;
  s.mean = mean / a;
  s.cv = mean > 0.0 ? std::sqrt(var) / mean : 0.0;
  s.min = lo / a;
  s.max = hi / a;
  return s;
}

double channel_area_fraction(const Punctures& p, const Rect& area) {
  double sum = 0.0;
  for (const Puncture& q : p) sum += kPi * q.radius * std::max(q.radius, 0.5 * q.surface_length);
  return area.area() > 0.0 ? sum / area.area() : 0.0;
}

nlohmann::json puncture_stats(const Punctures& p, const Rect& area, const Device& dev,
                              const Technique& tq, const skin::SkinProfile& skin, double cell) {
  using nlohmann::json;
  const DensityMap m = density_map(p, area, cell);
  const DensityStats ds = density_stats(m);
  const double n = static_cast<double>(p.size());
  json j;
  j["device"] = {{"kind", std::string(dev.kind())},
                 {"model", dev.model()},
                 {"description", dev.describe()},
                 {"needles", dev.needle_count()},
                 {"nominal_length_um", dev.needle().length * 1e6},
                 {"needles_sharing_force", dev.needles_loaded(tq)}};
  j["technique"] = {{"passes", tq.passes},
                    {"speed_cm_s", tq.speed * 100},
                    {"overlap", tq.overlap},
                    {"force_N", tq.force}};
  j["area_cm2"] = area.area() * 1e4;
  j["punctures"] = p.size();
  double t_end = 0.0;
  for (const auto& q : p) t_end = std::max(t_end, q.t);
  j["last_puncture_s"] = t_end;
  j["density_per_cm2"] = {{"cell_mm", cell * 1e3},
                          {"cells", m.counts.size()},
                          {"mean", ds.mean * 1e-4},
                          {"cv", ds.cv},
                          {"min", ds.min * 1e-4},
                          {"max", ds.max * 1e-4},
                          {"expected_mean", dev.density_per_pass(tq) * tq.passes * 1e-4}};
  j["channel_area_fraction"] = channel_area_fraction(p, area);
  double round = 0.0;
  for (const auto& q : p) round += kPi * q.radius * q.radius;
  j["channel_area_fraction_round"] = area.area() > 0.0 ? round / area.area() : 0.0;
  // Depth reached.
  double dsum = 0.0, dmin = 1e300, dmax = 0.0, fsum = 0.0, fmin = 1e300, fmax = 0.0;
  std::size_t bled = 0;
  std::array<std::size_t, skin::kLayers + 1> layers{};
  for (const auto& q : p) {
    dsum += q.depth;
    dmin = std::min(dmin, q.depth);
    dmax = std::max(dmax, q.depth);
    fsum += q.force;
    fmin = std::min(fmin, q.force);
    fmax = std::max(fmax, q.force);
    bled += q.bled ? 1 : 0;
    ++layers[static_cast<std::size_t>(q.layer)];
  }
  const double bin = 50e-6;
  const int nbins = std::max(1, static_cast<int>(std::ceil(dev.needle().length / bin)));
  std::vector<std::size_t> hist(static_cast<std::size_t>(nbins), 0);
  for (const auto& q : p) {
    const int b = std::clamp(static_cast<int>(q.depth / bin), 0, nbins - 1);
    ++hist[static_cast<std::size_t>(b)];
  }
  std::vector<double> edges;
  for (int b = 0; b <= nbins; ++b) edges.push_back(b * bin * 1e6);
  j["depth_um"] = {{"mean", n > 0 ? dsum / n * 1e6 : 0.0},
                   {"min", n > 0 ? dmin * 1e6 : 0.0},
                   {"max", dmax * 1e6},
                   {"histogram_edges", edges},
                   {"histogram_counts", hist}};
  json lf = json::object();
  // "Reaching" a layer: the channel's deepest point is in that layer or below it.
  for (int i = 0; i < skin::kLayers; ++i) {
    std::size_t reach = 0;
    for (int k = i + 1; k <= skin::kLayers; ++k) reach += layers[static_cast<std::size_t>(k)];
    lf[std::string(skin::layer_name(skin::layer_from_index(i)))] = n > 0 ? reach / n : 0.0;
  }
  j["fraction_reaching_layer"] = lf;
  json deepest = json::object();
  for (int i = 0; i < skin::kLayers; ++i) {
    deepest[std::string(skin::layer_name(skin::layer_from_index(i)))] =
        n > 0 ? layers[static_cast<std::size_t>(i + 1)] / n : 0.0;
  }
  j["fraction_deepest_layer"] = deepest;
  j["fraction_bleeding"] = n > 0 ? bled / n : 0.0;
  j["plexus_depth_um"] = skin.plexus_depth * 1e6;
  j["force_per_needle_N"] = {
      {"mean", n > 0 ? fsum / n : 0.0}, {"min", n > 0 ? fmin : 0.0}, {"max", fmax}};
  // RF needles: the thermal coagulation zone per needle (thermal/rf.hpp; docs/rf.md).
  std::size_t coag = 0;
  double cr = 0.0, ct = 0.0, cb = 0.0, cd = 0.0;
  for (const auto& q : p) {
    if (!q.coagulated()) continue;
    ++coag;
    cd += q.coag_denatured;
    cr += q.coag_radius;
    ct += q.coag_top;
    cb += q.coag_bottom;
  }
  if (coag > 0) {
    const double c = static_cast<double>(coag);
    j["coagulation_zone_um"] = {{"punctures", coag},
                                {"radius_mean", cr / c * 1e6},
                                {"top_mean", ct / c * 1e6},
                                {"bottom_mean", cb / c * 1e6},
                                {"width_mean", 2.0 * cr / c * 1e6},
                                {"height_mean", (cb - ct) / c * 1e6},
                                {"collagen_denatured_mean", cd / c}};
  }
  return j;
}

StageResult run_device_stage(const DeviceSpec& device, const Technique& tq,
                             const skin::SkinProfile& skin, const Rect& area, std::uint64_t seed,
                             const DeviceCatalog& catalog,
                             const mechanics::PenetrationParams& mech) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto dev = make_device(device, catalog);
  const double expected = dev->density_per_pass(tq) * tq.passes * area.area();
  if (expected > kMaxPunctures) {
    tq.origin.fail("passes",
                   fmt::format("this treatment would make about {:.3g} punctures", expected),
                   fmt::format("at most {:.0e}: fewer passes, a faster glide or a smaller area",
                               kMaxPunctures));
  }
  StageResult r;
  r.punctures = dev->generate(tq, area, skin, mech, seed);
  r.stats = puncture_stats(r.punctures, area, *dev, tq, skin, 1e-3);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.stats["generation_wall_s"] = r.wall_s;
  return r;
}

std::string punctures_csv(const Punctures& p) {
  std::string out =
      "x_mm,y_mm,t_s,tilt_deg,azimuth_deg,nominal_length_um,depth_um,radius_um,"
      "surface_length_um,force_N,layer,bled,pass,stroke,needle\n";
  out.reserve(out.size() + p.size() * 110);
  constexpr double deg = 180.0 / kPi;
  for (const auto& q : p) {
    fmt::format_to(std::back_inserter(out),
                   "{:.4f},{:.4f},{:.4f},{:.2f},{:.2f},{:.1f},{:.1f},{:.2f},{:.1f},{:.5f},{},{},{},"
                   "{},{}\n",
                   q.x * 1e3, q.y * 1e3, q.t, q.tilt * deg, q.azimuth * deg, q.nominal_length * 1e6,
                   q.depth * 1e6, q.radius * 1e6, q.surface_length * 1e6, q.force,
                   skin::layer_name(q.layer), q.bled ? 1 : 0, q.pass, q.stroke, q.needle);
  }
  return out;
}

std::string density_csv(const DensityMap& m) {
  std::string out = "# punctures per cm^2 in square cells of " + fmt::format("{:g}", m.cell * 1e3) +
                    " mm; first column: cell centre y (mm), header: cell centre x (mm)\ny_mm";
  for (int ix = 0; ix < m.nx; ++ix) {
    fmt::format_to(std::back_inserter(out), ",{:.3f}", (m.area.x0 + (ix + 0.5) * m.cell) * 1e3);
  }
  out += "\n";
  for (int iy = 0; iy < m.ny; ++iy) {
    fmt::format_to(std::back_inserter(out), "{:.3f}", (m.area.y0 + (iy + 0.5) * m.cell) * 1e3);
    for (int ix = 0; ix < m.nx; ++ix) {
      fmt::format_to(std::back_inserter(out), ",{:g}", m.density(ix, iy) * 1e-4);
    }
    out += "\n";
  }
  return out;
}

Rect treatment_area(const skin::TissueSpec& tissue) {
  return {0.0, 0.0, tissue.width, tissue.length};
}

}  // namespace mnsim::devices
