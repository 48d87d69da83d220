// The reaction step's vectorisable expm1 (healing/expm1.hpp) against the C library's.
#include "healing/expm1.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace mnsim::healing {
namespace {

std::uint64_t bits(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

/// Arguments <= 0: 4e6 random ones over every range of the algorithm (|x| from 1e-330 to 1e3,
/// and uniform in [-45, 0]), each range boundary and its neighbours, and the special values.
std::vector<double> arguments() {
  std::vector<double> v;
  std::mt19937_64 rng(19);
  std::uniform_real_distribution<double> decade(-330.0, 3.0), linear(-45.0, 0.0);
  for (int i = 0; i < 4000000; ++i)
    v.push_back(i % 3 == 0 ? linear(rng) : -std::pow(10.0, decade(rng)));
  for (std::uint64_t high :
       {0x4043687Aull, 0x3fd62e42ull, 0x3fd62e43ull, 0x3FF0A2B2ull, 0x3c900000ull, 0x40862E42ull}) {
    const std::uint64_t b = high << 32;
    for (std::int64_t d = -3; d <= 3; ++d) {
      v.push_back(-std::bit_cast<double>(b + static_cast<std::uint64_t>(d)));
    }
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double x : {0.0, -0.0, -inf, -1e-320, -5e-324, -0.5, -1.0, -709.0, -745.0, -1e300}) {
    v.push_back(x);
  }
  return v;
}

struct Comparison {
  std::size_t differ = 0;  // results not bit for bit std::expm1's
  double worst_ulp = 0.0;  // against the long double expm1, in ulps of the result
};

/// One variant, evaluated in a vector loop, against the C library's expm1.
template <bool kFused>
Comparison compare(const std::vector<double>& x) {
  std::vector<double> y(x.size());
  const double* in = x.data();
  double* out = y.data();
  const auto n = static_cast<std::ptrdiff_t>(x.size());
#pragma omp simd
  for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = expm1_nonpositive_as<kFused>(in[i]);
  Comparison c;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ref = std::expm1(x[i]);
    if (bits(ref) != bits(y[i]) && c.differ++ < 5) {
      std::printf("  expm1(%a): %a, std::expm1 %a\n", x[i], y[i], ref);
    }
    const long double exact = std::expm1(static_cast<long double>(x[i]));
    const double ulp = std::nextafter(std::fabs(y[i]), 2.0) - std::fabs(y[i]);
    if (ulp > 0.0 && std::isfinite(y[i])) {
      c.worst_ulp = std::max(c.worst_ulp, static_cast<double>(std::fabs(y[i] - exact) / ulp));
    }
  }
  std::printf("  %s variant, %zu arguments: %zu differ from std::expm1; worst error %.3f ulp\n",
              kFused ? "fused" : "plain", x.size(), c.differ, c.worst_ulp);
  return c;
}

TEST(HealingExpm1, MatchesTheCLibraryAndVectorises) {
  const std::vector<double> x = arguments();
  const Comparison plain = compare<false>(x), fused = compare<true>(x);
  EXPECT_LT(plain.worst_ulp, 1.0);
  EXPECT_LT(fused.worst_ulp, 1.0);
#if defined(__GLIBC__) && defined(__x86_64__)
  // glibc 2.36 runs its FMA build of expm1 on a CPU with FMA and AVX2, its plain build otherwise
  // (sysdeps/x86_64/fpu/multiarch/ifunc-fma.h): the variant that transcribes the one this CPU
  // runs is bit for bit the same.
  const bool glibc_fma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  EXPECT_EQ(glibc_fma ? fused.differ : plain.differ, 0u);
#endif
  EXPECT_TRUE(std::isnan(expm1_nonpositive(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(expm1_nonpositive_as<true>(std::numeric_limits<double>::quiet_NaN())));
}

}  // namespace
}  // namespace mnsim::healing
