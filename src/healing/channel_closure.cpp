#include "healing/channel_closure.hpp"

#include "core/data_dir.hpp"
#include "io/data_file.hpp"

namespace mnsim::healing {

ClosureParams ClosureParams::load(const std::filesystem::path& path) {
  const io::DataFile f(path.string());
  const toml::table& t = f.table(f.root(), "", "channels");
  f.check_keys(t, "channels", {"clot_motility"});
  ClosureParams c;
  c.clot_motility = f.value(t, "channels", "clot_motility", Dim::Number, 0.01, 1.0).si;
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

ChannelHealing close_channels(const Params& p, const ClosureParams& c, const ChannelGeometry& g,
                              double t_end_h) {
  return heal_channel(closure_params(p, c, g), g.radius_um, t_end_h, 1.0, 0.01,
                      closure_cell_radius(g));
}

}  // namespace mnsim::healing
