// Small statistics used by cohort summaries: quantiles and Student's t distribution (paired
// comparisons of cohort arms).
#pragma once

#include <vector>

namespace mnsim::stats {

/// Regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1 (continued fraction,
/// relative accuracy about 1e-12).
double incomplete_beta(double a, double b, double x);
/// Cumulative distribution of Student's t with `df` > 0 degrees of freedom.
double student_t_cdf(double t, double df);
/// Quantile of Student's t: the t with student_t_cdf(t, df) = p, 0 < p < 1.
double student_t_quantile(double p, double df);
/// Linear-interpolation quantile (type 7) of `x` at probability q in [0, 1]; 0 for no data.
double quantile(std::vector<double> x, double q);

/// Paired t test on differences d: mean, SD, the 95% confidence interval of the mean, t and
/// the two-sided p value (n < 2: no interval, p = 1).
struct PairedT {
  double mean = 0, sd = 0, ci_low = 0, ci_high = 0, t = 0, p = 1;
};
PairedT paired_t(const std::vector<double>& d);

}  // namespace mnsim::stats
