#include "skin/profile.hpp"

#include <algorithm>
#include <array>

namespace mnsim::skin {

SkinProfile profile_below(const SkinProfile& p, double floor_depth) {
  const auto& t = p.thickness;
  const double s = std::max(0.0, floor_depth);
  const double dermis_bottom = t[0] + t[1] + t[2] + t[3];
  const double bottom = dermis_bottom + t[4];
  std::array<double, kLayers + 1> z{};
  z[0] = s;
  z[1] = s + t[0];
  z[2] = z[1] + t[1];
  z[3] = std::max(z[2], std::min(z[2] + t[2], dermis_bottom));
  z[4] = std::max(z[3], dermis_bottom);
  z[5] = std::max(z[4], bottom);
  for (auto& v : z) v = std::min(v, bottom);
  SkinProfile out = p;
  for (int i = 0; i < kLayers; ++i) {
    out.thickness[static_cast<std::size_t>(i)] =
        z[static_cast<std::size_t>(i) + 1] - z[static_cast<std::size_t>(i)];
  }
  out.plexus_depth = z[3] - z[0];
  out.melanocyte_depth = z[2] - z[0];
  return out;
}

std::string_view layer_name(Layer l) {
  switch (l) {
    case Layer::Outside:
      return "outside";
    case Layer::StratumCorneum:
      return "stratum_corneum";
    case Layer::ViableEpidermis:
      return "viable_epidermis";
    case Layer::PapillaryDermis:
      return "papillary_dermis";
    case Layer::ReticularDermis:
      return "reticular_dermis";
    case Layer::Hypodermis:
      return "hypodermis";
  }
  return "?";
}

}  // namespace mnsim::skin
