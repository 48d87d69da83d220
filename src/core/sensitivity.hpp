// Global sensitivity analysis of a model of k inputs on the unit cube, whatever the model
// (docs/sensitivity.md): the sample designs of Morris screening (Morris 1991; mu* of Campolongo,
// Cariboni & Saltelli 2007) and of Saltelli's scheme for Sobol' indices (first order: Saltelli et
// al. 2010; total order: Jansen 1999), their estimators and percentile-bootstrap confidence
// intervals.
//
// An evaluation is named by its index: the point of evaluation e is a pure function of the design
// (seed, sizes) and e, so a caller may evaluate any subset of the indices anywhere (threads, MPI
// ranks, job-array shards) and hand the values back in index order; the indices do not depend on
// who evaluated what. Inputs are mapped from the unit cube to their ranges by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace mnsim::sensitivity {

/// An estimate with its bootstrap confidence interval (NaN where undefined: an output that does
/// not vary over the sample has no Sobol' indices; no interval without bootstrap resamples).
struct Estimate {
  double value = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

/// How the confidence intervals are drawn: `resamples` bootstrap resamples (0: none), the
/// two-sided `confidence` level of the percentile interval, and the seed of the resampling.
struct Bootstrap {
  int resamples = 0;
  double confidence = 0.95;
  std::uint64_t seed = 1;
};

/// Saltelli's design for `base` rows and `dims` inputs: two independent Monte Carlo matrices A and
/// B (base x dims, uniform on [0, 1)), and for every input i the matrix AB_i, A with column i taken
/// from B: base (dims + 2) evaluations. Row j of A and B are the 2 dims uniforms of
/// Rng(seed, kStreamSaltelli, j), so rows are independent (the bootstrap resamples them).
class SaltelliDesign {
 public:
  /// base >= 2, dims >= 1 (std::invalid_argument otherwise).
  SaltelliDesign(std::uint64_t seed, std::size_t base, std::size_t dims);
  std::size_t base() const { return base_; }
  std::size_t dims() const { return dims_; }
  std::size_t evaluations() const { return base_ * (dims_ + 2); }
  /// The point of evaluation e (0 <= e < evaluations()): e = block * base + j with row j of A
  /// (block 0), of B (block 1) or of AB_i (block 2 + i).
  std::vector<double> point(std::size_t e) const;

 private:
  std::uint64_t seed_;
  std::size_t base_, dims_;
};

/// Sobol' indices of one output.
struct SobolIndices {
  double mean = 0.0, variance = 0.0;  // of the output over the rows of A and B
  std::vector<Estimate> first;        // S_i, Saltelli et al. 2010 (Table 2 (b))
  std::vector<Estimate> total;        // S_Ti, Jansen 1999 (Saltelli et al. 2010 Table 2 (f))
};

/// The indices from `y`, the output at every evaluation of `d` in index order (size
/// d.evaluations(); std::invalid_argument otherwise). With m and V the mean and variance of f
/// over A and B:
///   S_i  = (1/N) sum_j (f(B)_j - m) (f(AB_i)_j - f(A)_j) / V
///   S_Ti = (1/2N) sum_j (f(A)_j - f(AB_i)_j)^2 / V
/// Intervals: percentiles of the same estimators over bootstrap resamples of the N rows.
/// A non-finite value, or an output that does not vary (V = 0), gives NaN indices.
SobolIndices sobol_indices(const SaltelliDesign& d, const std::vector<double>& y,
                           const Bootstrap& b = {});

/// Morris's one-at-a-time design: `trajectories` random trajectories of dims + 1 points on a grid
/// of `levels` levels per input (even, >= 2), each input moved once by delta = levels / (2
/// (levels - 1)) (Morris 1991). Trajectory t draws its base levels, directions and order of the
/// inputs from Rng(seed, kStreamMorris, t).
class MorrisDesign {
 public:
  /// trajectories >= 2, dims >= 1, levels even and >= 2 (std::invalid_argument otherwise).
  MorrisDesign(std::uint64_t seed, std::size_t trajectories, std::size_t dims, int levels);
  std::size_t trajectories() const { return trajectories_; }
  std::size_t dims() const { return dims_; }
  int levels() const { return levels_; }
  double delta() const;
  std::size_t evaluations() const { return trajectories_ * (dims_ + 1); }
  /// The point of evaluation e = t (dims + 1) + s: step s of trajectory t (grid levels in [0, 1]).
  std::vector<double> point(std::size_t e) const;
  /// The move from step s - 1 to step s (1 <= s <= dims) of trajectory t: the input moved and
  /// its change (+delta or -delta).
  struct Move {
    std::size_t input = 0;
    double change = 0.0;
  };
  Move move(std::size_t t, std::size_t s) const;

 private:
  struct Trajectory {
    std::vector<double> start;       // the point of step 0
    std::vector<std::size_t> order;  // the input moved at step s is order[s - 1]
    std::vector<double> change;      // by input: +delta or -delta
  };
  Trajectory trajectory(std::size_t t) const;
  std::uint64_t seed_;
  std::size_t trajectories_, dims_;
  int levels_;
};

/// Morris measures of one output, per input: the elementary effects
/// EE = (f(x + change e_i) - f(x)) / change (per unit of the unit cube), their mean mu, the mean
/// of their absolute values mu* (Campolongo et al. 2007) and their standard deviation sigma.
struct MorrisIndices {
  std::vector<Estimate> mu_star;  // interval: bootstrap resamples of the trajectories
  std::vector<double> mu, sigma;
};

/// The measures from `y`, the output at every evaluation of `d` in index order (size
/// d.evaluations(); std::invalid_argument otherwise). Non-finite values give NaN measures.
MorrisIndices morris_indices(const MorrisDesign& d, const std::vector<double>& y,
                             const Bootstrap& b = {});

}  // namespace mnsim::sensitivity
