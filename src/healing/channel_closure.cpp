#include "healing/channel_closure.hpp"

#include <algorithm>
#include <cmath>

#include "core/data_dir.hpp"
#include "io/data_file.hpp"

namespace mnsim::healing {

ClosureParams ClosureParams::load(const std::filesystem::path& path) {
  const io::DataFile f(path.string());
  const toml::table& t = f.table(f.root(), "", "channels");
  f.check_keys(t, "channels", {"clot_motility", "fill_speed_um_h"});
  ClosureParams c;
  c.clot_motility = f.value(t, "channels", "clot_motility", Dim::Number, 0.01, 1.0).si;
  c.fill_speed = f.value(t, "channels", "fill_speed_um_h", Dim::Number, 0.01, 1e4).si;
  return c;
}

const ClosureParams& ClosureParams::defaults() {
  static const ClosureParams c = load(data_file("substances.toml"));
  return c;
}

Params closure_params(const Params& p, const ClosureParams& c, const ChannelGeometry& g) {
  Params q = p;
  if (g.bled) q.keratinocyte_motility *= c.clot_motility;
  return q;
}

double closure_cell_radius(const ChannelGeometry& g) {
  return unit_cell_radius(g.density);
}

ChannelGeometry channel_geometry(const skin::SkinProfile& prof, double radius_um, double depth_um,
                                 double density) {
  ChannelGeometry g;
  g.radius_um = radius_um;
  g.density = density;
  g.bled = depth_um * 1e-6 > prof.plexus_depth;
  g.lumen_um = std::max(0.0, depth_um - 1e6 * prof.bottom_of(skin::Layer::ViableEpidermis));
  return g;
}

double fill_time(const ClosureParams& c, const ChannelGeometry& g) {
  return g.bled ? 0.0 : g.lumen_um / c.fill_speed;
}

ChannelHealing delayed(const ChannelHealing& h, double delay) {
  if (!(delay > 0.0) || h.t.empty()) return h;
  ChannelHealing d;
  d.radius = h.radius;
  d.cell_radius = h.cell_radius;
  d.closure_time = h.closure_time < 0.0 ? -1.0 : h.closure_time + delay;
  // The wait sampled at the healing's own step (the barrier reads the water loss at the samples).
  const double step = h.t.size() > 1 ? h.t[1] - h.t[0] : delay;
  const auto waits = static_cast<std::size_t>(std::ceil(delay / step - 1e-9));
  d.t.reserve(waits + h.t.size());
  d.open_fraction.reserve(waits + h.t.size());
  d.damage.reserve(waits + h.t.size());
  for (std::size_t i = 0; i < waits; ++i) {
    d.t.push_back(delay * static_cast<double>(i) / static_cast<double>(waits));
    d.open_fraction.push_back(1.0);
    d.damage.push_back(1.0);
  }
  for (std::size_t i = 0; i < h.t.size(); ++i) {
    d.t.push_back(h.t[i] + delay);
    d.open_fraction.push_back(h.open_fraction[i]);
    d.damage.push_back(i < h.damage.size() ? h.damage[i] : h.damage.back());
  }
  return d;
}

ChannelHealing close_channels(const Params& p, const ClosureParams& c, const ChannelGeometry& g,
                              double t_end_h) {
  return delayed(heal_channel(closure_params(p, c, g), g.radius_um, t_end_h, 1.0, 0.01,
                              closure_cell_radius(g)),
                 fill_time(c, g));
}

}  // namespace mnsim::healing
