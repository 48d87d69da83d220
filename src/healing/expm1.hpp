// expm1 for the reaction step's vector loops (docs/numerics.md, "Performance of the reaction
// step").
//
// The exact exponential update of a cell whose rate depends on its own state needs e^{-x} - 1
// per cell (healing/processes.cpp). std::expm1 is a scalar library call with branches on the
// argument's range, so a loop that calls it cannot be vectorised. expm1_nonpositive is
// branch-free and division-free, so that a loop that calls it vectorises into a few dozen
// multiplies and adds per cell:
//   x = k ln2 + r, k = round(x / ln2), |r| <= ln2/2 (ln2 split into a high part with 21 zero low
//   bits, so k ln2_hi is exact, and a low part: fdlibm's constants);
//   e^r - 1 = r + r^2 Q(r), Q the Taylor polynomial of (e^r - 1 - r)/r^2 to r^11 (the series'
//   remainder, about r^12/14!, is below 4e-17 for |r| <= ln2/2: 4e-18 in e^r - 1), evaluated
//   in Estrin's scheme;
//   e^x - 1 = 2^k (e^r - 1) + (2^k - 1): 2^k by its exponent bits, both products exact, one
//   rounding.
// Arguments below -60 are taken as -60 (e^-60 - 1 rounds to -1, as e^x - 1 for every x <= -38).
// Error: at most 1.21 ulp against the exact value on every argument the test checks
// (tests/healing_model/expm1_test.cpp: 4e6 arguments over [-1000, 0], every point where k changes
// and the clamp); the results are not glibc's bit for bit (1.8% differ from its expm1, by 1 ulp at
// most). The library is compiled without implicit multiply-add fusion (-ffp-contract=off), so
// every version of a multiversioned kernel (core/kernel.hpp) and every vector lane computes the
// same bits.
//
// The ln2 split is fdlibm's (s_expm1.c), whose notice is kept as it asks:
//   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunPro, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely granted, provided
//   that this notice is preserved.
#pragma once

#include <bit>
#include <cstdint>

namespace mnsim::healing {

/// e^x - 1 for x <= 0 (NaN gives NaN, -0 gives +0); unspecified (but no undefined behaviour) for
/// x > 0. Branch-free and division-free: inlined in a loop it vectorises.
inline double expm1_nonpositive(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42 fee00000
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 0x3dea39ef 35793c76
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer, held in the low bits
  // 1/n!, n = 2..13.
  constexpr double kC2 = 1.0 / 2.0, kC3 = 1.0 / 6.0, kC4 = 1.0 / 24.0, kC5 = 1.0 / 120.0,
                   kC6 = 1.0 / 720.0, kC7 = 1.0 / 5040.0, kC8 = 1.0 / 40320.0, kC9 = 1.0 / 362880.0,
                   kC10 = 1.0 / 3628800.0, kC11 = 1.0 / 39916800.0, kC12 = 1.0 / 479001600.0,
                   kC13 = 1.0 / 6227020800.0;
  x = x < -60.0 ? -60.0 : x;                         // NaN stays NaN
  const double k = (x * kInvLn2 + kShift) - kShift;  // round to nearest: 0 >= k >= -87
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double q0 = (kC2 + kC3 * r) + r2 * (kC4 + kC5 * r);
  const double q1 = (kC6 + kC7 * r) + r2 * (kC8 + kC9 * r);
  const double q2 = (kC10 + kC11 * r) + r2 * (kC12 + kC13 * r);
  const double p = r + r2 * ((q0 + r4 * q1) + r8 * q2);  // e^r - 1
  // 2^k: k + 1023 in the exponent field (k is held in the low bits of k + kShift; a negative k
  // wraps, and the shift drops the wrapped high bits).
  const std::uint64_t biased =
      std::bit_cast<std::uint64_t>(k + kShift) - std::bit_cast<std::uint64_t>(kShift) + 1023u;
  const double two_k = std::bit_cast<double>(biased << 52);
  return two_k * p + (two_k - 1.0);
}

}  // namespace mnsim::healing
