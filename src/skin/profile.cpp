#include "skin/profile.hpp"

namespace mnsim::skin {

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
