// Student's t and quantiles (core/stats.hpp) against tabulated values.
#include <gtest/gtest.h>

#include <cmath>

#include "core/stats.hpp"

namespace mnsim::stats {
namespace {

TEST(Stats, StudentTQuantilesMatchTables) {
  // Two-sided 95% critical values (any statistics table).
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706204736, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228138852, 1e-8);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272456, 1e-8);
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.959966, 1e-5);  // the normal limit
  EXPECT_NEAR(student_t_quantile(0.5, 7), 0.0, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.025, 10), -2.228138852, 1e-8);
}

TEST(Stats, StudentTCdfMatchesClosedForms) {
  // df = 1 is the Cauchy distribution: 1/2 + atan(t)/pi; df = 2: 1/2 + t / (2 sqrt(2 + t^2)).
  for (double t : {-5.0, -1.0, -0.2, 0.0, 0.3, 2.0, 40.0}) {
    EXPECT_NEAR(student_t_cdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-12) << t;
    EXPECT_NEAR(student_t_cdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-12) << t;
  }
  EXPECT_NEAR(2 * student_t_cdf(-2.0, 10), 0.07338803477, 1e-9);
}

TEST(Stats, IncompleteBetaSymmetryAndUniform) {
  EXPECT_NEAR(incomplete_beta(1, 1, 0.3), 0.3, 1e-14);
  EXPECT_NEAR(incomplete_beta(2, 3, 0.4) + incomplete_beta(3, 2, 0.6), 1.0, 1e-13);
  EXPECT_EQ(incomplete_beta(2, 3, 0.0), 0.0);
  EXPECT_EQ(incomplete_beta(2, 3, 1.0), 1.0);
}

TEST(Stats, PairedTByHand) {
  // d = 1..5: mean 3, sd sqrt(2.5), se sqrt(0.5), t = 3 / sqrt(0.5) = 4.2426, df 4.
  const PairedT r = paired_t({1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(r.mean, 3.0);
  EXPECT_NEAR(r.sd, std::sqrt(2.5), 1e-14);
  EXPECT_NEAR(r.t, 3.0 / std::sqrt(0.5), 1e-12);
  const double half = 2.776445105 * std::sqrt(0.5);  // t(0.975, 4) x se
  EXPECT_NEAR(r.ci_low, 3.0 - half, 1e-8);
  EXPECT_NEAR(r.ci_high, 3.0 + half, 1e-8);
  EXPECT_NEAR(r.p, 0.013236, 1e-5);
  // No difference at all: p = 1; one patient: no interval.
  EXPECT_EQ(paired_t({0, 0, 0}).p, 1.0);
  EXPECT_EQ(paired_t({2.0}).ci_low, 2.0);
}

TEST(Stats, QuantileInterpolatesLinearly) {
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2, 4}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2, 4}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile({}, 0.5), 0.0);
}

}  // namespace
}  // namespace mnsim::stats
