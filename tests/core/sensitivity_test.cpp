// The designs and estimators of global sensitivity analysis (core/sensitivity.hpp) on functions
// whose indices are known: Sobol' indices of the Ishigami function against their analytic values,
// Morris measures of linear and product functions.
#include "core/sensitivity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <set>
#include <vector>

namespace {

using mnsim::sensitivity::Bootstrap;
using mnsim::sensitivity::MorrisDesign;
using mnsim::sensitivity::SaltelliDesign;

constexpr double kPi = std::numbers::pi;

// Ishigami & Homma (1990) with a = 7, b = 0.1 on [-pi, pi]^3.
double ishigami(const std::vector<double>& u) {
  const double x1 = -kPi + 2 * kPi * u[0], x2 = -kPi + 2 * kPi * u[1], x3 = -kPi + 2 * kPi * u[2];
  return std::sin(x1) + 7.0 * std::sin(x2) * std::sin(x2) + 0.1 * std::pow(x3, 4) * std::sin(x1);
}

// The analytic indices (Saltelli et al. 2010, Comput Phys Commun 181:259, section 4; from
// V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50), V = V1 + V2 + V13).
struct Analytic {
  double s1[3], st[3];
};
Analytic ishigami_indices() {
  const double a = 7.0, b = 0.1, p4 = std::pow(kPi, 4), p8 = std::pow(kPi, 8);
  const double v1 = 0.5 * (1 + b * p4 / 5) * (1 + b * p4 / 5);
  const double v2 = a * a / 8;
  const double v13 = b * b * p8 * (1.0 / 18 - 1.0 / 50);
  const double v = v1 + v2 + v13;
  return {{v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

std::vector<double> evaluate(const SaltelliDesign& d, double (*f)(const std::vector<double>&)) {
  std::vector<double> y(d.evaluations());
  for (std::size_t e = 0; e < y.size(); ++e) y[e] = f(d.point(e));
  return y;
}

TEST(Sensitivity, IshigamiAnalyticIndicesAreTheLiteratureValues) {
  const Analytic a = ishigami_indices();
  EXPECT_NEAR(a.s1[0], 0.3139, 1e-4);
  EXPECT_NEAR(a.s1[1], 0.4424, 1e-4);
  EXPECT_NEAR(a.st[0], 0.5576, 1e-4);
  EXPECT_NEAR(a.st[2], 0.2437, 1e-4);
}

TEST(Sensitivity, SaltelliDesignHasTheABiStructure) {
  const SaltelliDesign d(5, 16, 3);
  ASSERT_EQ(d.evaluations(), 16u * 5);
  for (std::size_t j = 0; j < 16; ++j) {
    const auto a = d.point(j), b = d.point(16 + j);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_NE(a[i], b[i]);
      EXPECT_GE(a[i], 0.0);
      EXPECT_LT(a[i], 1.0);
      // AB_i: A with column i from B.
      const auto ab = d.point((2 + i) * 16 + j);
      for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(ab[c], c == i ? b[c] : a[c]);
    }
  }
  // Another seed, another sample; the same seed, the same sample.
  EXPECT_NE(SaltelliDesign(6, 16, 3).point(0), d.point(0));
  EXPECT_EQ(SaltelliDesign(5, 16, 3).point(40), d.point(40));
  EXPECT_THROW(d.point(d.evaluations()), std::out_of_range);
}

TEST(Sensitivity, SobolIndicesOfIshigamiMatchTheAnalyticValues) {
  const SaltelliDesign d(1, 8192, 3);
  const auto r =
      mnsim::sensitivity::sobol_indices(d, evaluate(d, ishigami), Bootstrap{300, 0.95, 1});
  const Analytic a = ishigami_indices();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.first[i].value, a.s1[i], 0.03) << "S1 of x" << i + 1;
    EXPECT_NEAR(r.total[i].value, a.st[i], 0.03) << "ST of x" << i + 1;
    // The 95% bootstrap intervals cover the analytic values and are narrow at this N.
    EXPECT_LE(r.first[i].low, a.s1[i]) << i;
    EXPECT_GE(r.first[i].high, a.s1[i]) << i;
    EXPECT_LE(r.total[i].low, a.st[i]) << i;
    EXPECT_GE(r.total[i].high, a.st[i]) << i;
    EXPECT_LT(r.first[i].high - r.first[i].low, 0.1) << i;
    EXPECT_LT(r.total[i].high - r.total[i].low, 0.1) << i;
  }
  // The variance of the function: V = 13.845 for a = 7, b = 0.1.
  EXPECT_NEAR(r.variance, 13.845, 0.5);
}

TEST(Sensitivity, BootstrapIntervalsCoverTheAnalyticIndicesAtAboutTheirLevel) {
  // Over 20 independent samples of modest size, each 90% interval covers its analytic index in
  // most of them (an interval that is too narrow, or centred wrongly, covers rarely).
  const Analytic a = ishigami_indices();
  int covered = 0, total = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const SaltelliDesign d(seed, 1024, 3);
    const auto r =
        mnsim::sensitivity::sobol_indices(d, evaluate(d, ishigami), Bootstrap{200, 0.90, seed});
    for (std::size_t i = 0; i < 3; ++i) {
      covered += r.first[i].low <= a.s1[i] && a.s1[i] <= r.first[i].high;
      covered += r.total[i].low <= a.st[i] && a.st[i] <= r.total[i].high;
      total += 2;
    }
  }
  EXPECT_GE(covered, static_cast<int>(0.8 * total)) << covered << " of " << total;
}

TEST(Sensitivity, SobolIndicesOfAConstantAreUndefined) {
  const SaltelliDesign d(1, 64, 2);
  const auto r = mnsim::sensitivity::sobol_indices(d, std::vector<double>(d.evaluations(), 3.0),
                                                   Bootstrap{20, 0.95, 1});
  EXPECT_EQ(r.variance, 0.0);
  EXPECT_TRUE(std::isnan(r.first[0].value));
  EXPECT_TRUE(std::isnan(r.total[1].high));
  EXPECT_THROW(mnsim::sensitivity::sobol_indices(d, std::vector<double>(3, 1.0)),
               std::invalid_argument);
}

TEST(Sensitivity, SobolIndicesOfAnAdditiveFunction) {
  // f = 4 x1 + 2 x2 + 0 x3 on the unit cube: S_i = ST_i = c_i^2 / sum c^2 (16/20, 4/20, 0).
  const SaltelliDesign d(3, 4096, 3);
  const auto r = mnsim::sensitivity::sobol_indices(
      d, evaluate(d, [](const std::vector<double>& u) { return 4 * u[0] + 2 * u[1]; }));
  EXPECT_NEAR(r.first[0].value, 0.8, 0.03);
  EXPECT_NEAR(r.total[0].value, 0.8, 0.03);
  EXPECT_NEAR(r.first[1].value, 0.2, 0.03);
  EXPECT_NEAR(r.total[1].value, 0.2, 0.01);
  EXPECT_EQ(r.total[2].value, 0.0);         // x3 never changes the output: (f(A) - f(AB_3)) = 0
  EXPECT_TRUE(std::isnan(r.first[0].low));  // no resamples, no interval
}

TEST(Sensitivity, MorrisTrajectoriesMoveOneInputAtATimeOnTheGrid) {
  const MorrisDesign d(4, 10, 5, 4);
  EXPECT_DOUBLE_EQ(d.delta(), 4.0 / 6.0);
  ASSERT_EQ(d.evaluations(), 10u * 6);
  for (std::size_t t = 0; t < 10; ++t) {
    std::set<std::size_t> moved;
    for (std::size_t s = 1; s <= 5; ++s) {
      const auto prev = d.point(t * 6 + s - 1), cur = d.point(t * 6 + s);
      const auto m = d.move(t, s);
      moved.insert(m.input);
      for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_NEAR(cur[i] - prev[i], i == m.input ? m.change : 0.0, 1e-12);
        // On the grid of 4 levels, inside [0, 1].
        EXPECT_NEAR(cur[i] * 3, std::round(cur[i] * 3), 1e-12);
        EXPECT_GE(cur[i], 0.0);
        EXPECT_LE(cur[i], 1.0);
      }
    }
    EXPECT_EQ(moved.size(), 5u) << "every input moves once in trajectory " << t;
  }
  EXPECT_THROW(MorrisDesign(1, 10, 3, 5), std::invalid_argument);  // odd levels
}

TEST(Sensitivity, MorrisMuStarRanksALinearFunction) {
  // f = 10 x1 - 5 x2 + 1 x3 + 0 x4: every elementary effect of x_i is c_i exactly.
  const MorrisDesign d(2, 12, 4, 6);
  std::vector<double> y(d.evaluations());
  for (std::size_t e = 0; e < y.size(); ++e) {
    const auto u = d.point(e);
    y[e] = 10 * u[0] - 5 * u[1] + u[2];
  }
  const auto m = mnsim::sensitivity::morris_indices(d, y, Bootstrap{100, 0.95, 2});
  const double c[4] = {10, -5, 1, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(m.mu_star[i].value, std::abs(c[i]), 1e-9) << i;
    EXPECT_NEAR(m.mu[i], c[i], 1e-9) << i;
    EXPECT_NEAR(m.sigma[i], 0.0, 1e-9) << i;
    EXPECT_NEAR(m.mu_star[i].low, std::abs(c[i]), 1e-9) << i;
    EXPECT_NEAR(m.mu_star[i].high, std::abs(c[i]), 1e-9) << i;
  }
  EXPECT_GT(m.mu_star[0].value, m.mu_star[1].value);
  EXPECT_GT(m.mu_star[1].value, m.mu_star[2].value);
  EXPECT_GT(m.mu_star[2].value, m.mu_star[3].value);
}

TEST(Sensitivity, MorrisSigmaShowsAnInteraction) {
  // f = x1 x2 + x3: the effect of x1 depends on x2 (sigma > 0), that of x3 does not.
  const MorrisDesign d(7, 40, 3, 4);
  std::vector<double> y(d.evaluations());
  for (std::size_t e = 0; e < y.size(); ++e) {
    const auto u = d.point(e);
    y[e] = u[0] * u[1] + u[2];
  }
  const auto m = mnsim::sensitivity::morris_indices(d, y);
  EXPECT_GT(m.sigma[0], 0.1);
  EXPECT_GT(m.sigma[1], 0.1);
  EXPECT_NEAR(m.sigma[2], 0.0, 1e-9);
  EXPECT_NEAR(m.mu_star[2].value, 1.0, 1e-9);
  EXPECT_GT(m.mu_star[0].value, 0.1);
  EXPECT_LT(m.mu_star[0].value, 1.0);
}

}  // namespace
