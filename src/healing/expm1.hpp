// expm1 for the reaction step's vector loops (docs/numerics.md, "Performance of the reaction
// step").
//
// The exact exponential update of a cell whose rate depends on its own state needs e^{-x} - 1
// per cell (healing/processes.cpp). std::expm1 is a scalar library call with branches on the
// argument's range, so a loop that calls it cannot be vectorised. expm1_nonpositive computes the
// same value with the same floating-point operations as glibc's expm1 (the fdlibm algorithm as
// glibc 2.36 has it: argument reduction by k ln2, the rational approximation of its Estrin-form
// polynomial, the fix-up for k), every branch of it evaluated and the result selected, so that
// the compiler vectorises a loop that calls it. For x <= 0 (and NaN) the result is bit for bit
// that of the glibc build it transcribes (tests/healing_model/expm1_test.cpp compares them on 4e6
// arguments and on every range boundary), so the error is glibc's: below 1 ulp. glibc has two
// builds of expm1 and picks one when a program starts: on a CPU with FMA and AVX2 its FMA build, in
// which the compiler fused some multiply-adds, on others its plain build.
// expm1_nonpositive_as<kFused> transcribes either (the fused multiply-adds explicit, std::fma); the
// library uses the plain one, expm1_nonpositive, on every CPU and in every version of a
// multiversioned kernel (core/kernel.hpp), so that results do not depend on the instruction set:
// bit for bit glibc's plain build, and within 1 ulp of its FMA build. The one other product that
// feeds only additions, k ln2_lo, gives the same results fused or not on every argument tested.
//
// The algorithm and its constants (ln2 split, Q1-Q5) are those of fdlibm's s_expm1.c, whose
// notice is kept as it asks:
//   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunPro, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely granted, provided
//   that this notice is preserved.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace mnsim::healing {

/// a b + c: fused (one rounding) as glibc's FMA build of expm1 computes it, or two roundings as
/// its plain build does (the library is compiled with -ffp-contract=off: no implicit fusion).
template <bool kFused>
inline double expm1_madd(double a, double b, double c) {
  if constexpr (kFused) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

/// e^x - 1 for x <= 0 (NaN gives NaN); unspecified (but no undefined behaviour) for x > 0, as
/// glibc's FMA build (kFused) or plain build computes it. Branch-free: inlined in a loop it
/// vectorises.
template <bool kFused>
inline double expm1_nonpositive_as(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42 fee00000
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 0x3dea39ef 35793c76
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kQ1 = -3.33333333333331316428e-02, kQ2 = 1.58730158725481460165e-03,
                   kQ3 = -7.93650757867487942473e-05, kQ4 = 4.00821782732936239552e-06,
                   kQ5 = -2.01099218183624371326e-07;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer, held in the low bits
  // The ranges, as fdlibm tests them on the high word of |x|.
  constexpr auto high = [](std::uint64_t w) { return std::bit_cast<double>(w << 32); };
  constexpr double kSaturate = high(0x4043687A);  // |x| >= 56 ln2: -1
  constexpr double kReduce = high(0x3fd62e43);    // |x| > 0.5 ln2: reduce by k ln2
  constexpr double kOneLn2 = high(0x3FF0A2B2);    // and |x| < 1.5 ln2: k = -1
  constexpr double kTiny = high(0x3c900000);      // |x| < 2^-54: x
  const double ax = std::fabs(x);
  // k as a double: 0, -1, or fdlibm's int conversion of x / ln2 - 1/2 (negative: truncation is
  // rounding up), rounded by the shift (exact for |kx| < 2^51; larger ones saturate below).
  const double kx = expm1_madd<kFused>(kInvLn2, x, -0.5);
  const double nearest = (kx + kShift) - kShift;
  const double k_far = nearest < kx ? nearest + 1.0 : nearest;
  const double k = ax >= kReduce ? (ax < kOneLn2 ? -1.0 : k_far) : 0.0;
  const double hi = expm1_madd<kFused>(-k, kLn2Hi, x);  // x when k = 0; x + ln2_hi when k = -1
  const double lo = k * kLn2Lo;
  const double r = hi - lo;
  const double c = (hi - r) - lo;
  const double hfx = 0.5 * r;
  const double hxs = r * hfx;
  const double h2 = hxs * hxs;
  const double r1 = expm1_madd<kFused>(
      h2 * h2, expm1_madd<kFused>(hxs, kQ5, kQ4),
      expm1_madd<kFused>(h2, expm1_madd<kFused>(hxs, kQ3, kQ2), expm1_madd<kFused>(hxs, kQ1, 1.0)));
  const double t = expm1_madd<kFused>(-r1, hfx, 3.0);
  const double e = hxs * ((r1 - t) / expm1_madd<kFused>(-r, t, 6.0));
  const double e_k = expm1_madd<kFused>(r, e - c, -c) - hxs;
  const double k0 = r - expm1_madd<kFused>(r, e, -hxs);
  const double k_minus1 = expm1_madd<kFused>(0.5, r - e_k, -0.5);
  // k <= -2: (1 - (e_k - r)) 2^k - 1, k added to the exponent as fdlibm does (the result is
  // normal for k >= -56), an integer addition: no multiply for a compiler to fuse.
  const auto k_bits =
      std::bit_cast<std::uint64_t>(k + kShift) - std::bit_cast<std::uint64_t>(kShift);
  const double scaled =
      std::bit_cast<double>(std::bit_cast<std::uint64_t>(1.0 - (e_k - r)) + (k_bits << 52));
  const double k_far_result = scaled - 1.0;
  double y = k == 0.0 ? k0 : (k == -1.0 ? k_minus1 : k_far_result);
  y = ax < kTiny ? x : y;
  return ax >= kSaturate ? -1.0 : y;
}

/// The library's expm1 for x <= 0: glibc's plain build, bit for bit, on every CPU.
inline double expm1_nonpositive(double x) {
  return expm1_nonpositive_as<false>(x);
}

}  // namespace mnsim::healing
