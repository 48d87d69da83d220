// A medial-cheek-like skin profile for the healing tests (assumed values; the site atlas of the
// skin module replaces it in the engine). The healing responses are relative to each layer's own
// baseline, so the calibration does not depend on these absolute numbers (tested).
#pragma once

#include "skin/profile.hpp"

namespace mnsim::healing::testing {

inline skin::SkinProfile cheek_profile(double collagen_scale = 1.0, double fibro_scale = 1.0) {
  skin::SkinProfile p;
  p.site = "test_cheek";
  p.thickness = {15e-6, 60e-6, 250e-6, 1300e-6, 2000e-6};
  auto comp = [&](double c1, double c3, double el, double fib, double vasc) {
    skin::Composition c;
    c.collagen1 = c1 * collagen_scale;
    c.collagen3 = c3 * collagen_scale;
    c.elastin = el;
    c.fibroblasts = fib * fibro_scale;
    c.vascular = vasc;
    return c;
  };
  p.composition = {comp(0, 0, 0, 0, 0), comp(0, 0, 0, 0, 0), comp(180, 45, 8, 2.0e13, 0.05),
                   comp(240, 35, 12, 1.0e13, 0.03), comp(20, 5, 1, 2.0e12, 0.02)};
  p.plexus_depth = 300e-6;
  p.melanocyte_density = 955e6;
  p.melanocyte_activity = 1.0;
  p.fitzpatrick = 3;
  return p;
}

}  // namespace mnsim::healing::testing
