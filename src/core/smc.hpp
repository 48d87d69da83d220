// A sequential Monte Carlo sampler of a posterior, whatever the model (docs/calibration.md): N
// particles move from the prior to the posterior through a sequence of tempered targets
// prior(x) L(x)^phi, 0 = phi_0 < phi_1 < ... < phi_T = 1 (Del Moral, Doucet & Jasra 2006, J R Stat
// Soc B 68:411). Each step chooses the next temperature so that the effective sample size of the
// reweighted particles is a set fraction of N (the adaptive schedule of Jasra et al. 2011, Scand J
// Stat 38:1), resamples them (systematic resampling) and moves each by random-walk Metropolis
// steps whose Gaussian proposal has the particles' weighted covariance, scaled by 2.38^2 / d
// (Haario, Saksman & Tamminen 2001, Bernoulli 7:223; Roberts, Gelman & Gilks 1997) times a factor
// adapted towards an acceptance rate of 0.234 from one generation to the next.
//
// The prior is uniform on a box of the sampled coordinates (a log-uniform parameter is sampled in
// its logarithm). The model is seen only through a batch function: a list of points in, their
// log-likelihoods out, in the same order. Every random number is a pure function of the seed, the
// generation, the move and the particle (core/rng.hpp), so the result depends on neither the
// thread count nor on who evaluated which point of a batch (threads, MPI ranks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/progress.hpp"

namespace mnsim::smc {

/// The sampler's settings.
struct Settings {
  std::size_t particles = 200;
  /// Each tempering step keeps this fraction of N as the effective sample size of the weights.
  double ess_fraction = 0.5;
  /// Metropolis moves of every particle after each resampling.
  int moves = 3;
  /// At most this many tempering steps; a run that has not reached phi = 1 then stops incomplete.
  int max_generations = 40;
  std::uint64_t seed = 1;
};

/// The prior: independent uniform on [low_i, high_i] in the sampled coordinates.
struct Box {
  std::vector<double> low, high;
  bool contains(const std::vector<double>& x) const;
};

/// The random stream of the sampler's draws (after the streams of core/rng.hpp): entity = a
/// function of the generation, the move and the particle.
inline constexpr std::uint64_t kStreamSmc = 12;

/// What the model gives for one point: its log-likelihood (finite, or -infinity: impossible) and
/// any outputs the caller wants kept with the particle (predictions), carried along unread.
struct Evaluation {
  double log_likelihood = 0.0;
  std::vector<double> outputs;
};

/// Evaluations of a batch of independent points, in the order of the points (the caller may
/// spread them over threads or ranks). It may throw (the run ends with that error).
using BatchEvaluate =
    std::function<std::vector<Evaluation>(const std::vector<std::vector<double>>& points)>;

/// One tempering step (generation 0: the prior sample).
struct Generation {
  int index = 0;
  double temperature = 0;  // phi after this step
  double ess = 0;          // effective sample size of the reweighted particles, before resampling
  std::size_t proposed = 0, accepted = 0;  // Metropolis moves of this step
  std::size_t outside = 0;                 // proposals outside the prior box (rejected unevaluated)
  double acceptance = 0;                   // accepted / proposed (0 for generation 0)
  double scale = 0;                        // proposal scale factor used (x 2.38^2 / d)
  std::size_t evaluations = 0;             // model evaluations of this step
  std::size_t unique = 0;                  // distinct particles after the moves
};

struct Result {
  std::vector<std::vector<double>> particles;  // the final sample (equal weights)
  std::vector<Evaluation> evaluated;           // of each final particle
  std::vector<Generation> generations;
  std::size_t evaluations = 0;
  bool complete = false;      // reached phi = 1
  double log_evidence = 0.0;  // log marginal likelihood estimate (sum of the steps' log mean
                              // incremental weights)
};

/// Runs the sampler. `progress` (may be null) hears a stage per generation and advance(done,
/// total) counting the evaluations of the generation's batches.
Result run(const Box& prior, const BatchEvaluate& evaluate, const Settings& s,
           Progress* progress = nullptr);

// The pieces, exposed for tests and for other samplers.

/// Effective sample size (sum w)^2 / sum w^2 of weights given by their logarithms.
double effective_sample_size(const std::vector<double>& log_w);
/// The largest temperature step delta in (0, 1 - phi] whose incremental weights exp(delta l_i)
/// (equal prior weights) keep an effective sample size of at least `target` (bisection); 1 - phi
/// when the whole step does.
double next_step(const std::vector<double>& loglik, double phi, double target);
/// Systematic resampling: N indices drawn with probabilities proportional to the weights, from
/// the one uniform u in [0, 1) (Kitagawa 1996).
std::vector<std::size_t> systematic_resample(const std::vector<double>& weights, double u);
/// Weighted mean and covariance, sum_i w_i (x_i - m)(x_i - m)^T / sum_i w_i (no small-sample
/// correction).
void weighted_moments(const std::vector<std::vector<double>>& x, const std::vector<double>& w,
                      std::vector<double>& mean, std::vector<std::vector<double>>& cov);
/// The lower Cholesky factor of a symmetric positive semi-definite matrix; a pivot below
/// 1e-12 of the diagonal's largest entry is replaced by that floor (a degenerate direction).
std::vector<std::vector<double>> cholesky(const std::vector<std::vector<double>>& a);

}  // namespace mnsim::smc
