// A fixed cheek-like skin profile for device tests (no atlas lookup): layer thicknesses and
// moduli of the kind data/sites.toml gives the cheek.
#pragma once

#include "skin/profile.hpp"

namespace mnsim::test {

inline skin::SkinProfile cheek_profile() {
  skin::SkinProfile s;
  s.site = "test_cheek";
  s.thickness = {17e-6, 45e-6, 100e-6, 900e-6, 2e-3};
  s.youngs_modulus = {1.5e6, 1.5e6, 6.66e6, 6.66e6, 2.52e3};
  s.tension = 8.5;
  s.plexus_depth = 162e-6;
  return s;
}

}  // namespace mnsim::test
