// Predictive bands (docs/outputs.md, "Predictive bands"): the 10th, 50th and 90th percentiles of
// a reduced-model prediction (protocol/reduced.hpp) from two sources, kept apart:
//
//  - parameter uncertainty: the calibrated parameters drawn from the posterior sample of
//    `mnsim calibrate` that the data folder ships (data/posterior_sample.toml), the patient at
//    their nominal rates (RateFactors all 1);
//  - patient variability: the patient's rate multipliers drawn as a cohort draws them
//    (draw_rates, stream kStreamVariability, the SDs of data/outcomes.toml), the parameters at
//    their shipped values.
//
// A BandDesign lists the evaluations of both bands for one patient (evaluation k < the
// posterior draws: posterior draw k; the others: variability draw k - posterior draws); every
// draw is a pure function of the seed and k, so the bands do not depend on the thread or rank
// count. Drivers evaluate the design with their own model call (a course, a scenario's patch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocol/cohort.hpp"
#include "protocol/reduced.hpp"
#include "protocol/sensitivity.hpp"

namespace mnsim::protocol {

/// A weighted sample of the posterior of calibrated parameters (a data file: load_posterior).
struct PosteriorSample {
  std::string path;       // the file it was read from
  std::string command;    // how it was made (the file's `command`)
  std::string made_with;  // the mnsim version and commit that made it (the file's `made_with`)
  std::vector<SensitivityParameter> parameters;  // sensitivity_parameters() entries
  std::vector<std::vector<double>> particles;    // one row per particle, data-file units
  std::vector<double> weights;                   // one per particle, summing to 1
};

/// Reads a posterior sample file: `[sample]` with `command`, `made_with`, `parameters` (keys of
/// sensitivity_parameters(), calibrated ones, each once), `units` (each the parameter's data-file
/// unit) and `particles` (rows [weight, value of each parameter]; weights >= 0, not all 0; values
/// inside what the parameter's data file accepts). InputError at file:line:col otherwise.
PosteriorSample load_posterior_sample(const std::string& path);
/// The shipped sample (data/posterior_sample.toml in the data folder), read once.
const PosteriorSample& default_posterior_sample();

/// The between-patient SDs of the shipped data (data/outcomes.toml [variability]).
Variability default_variability();

/// How many evaluations each band takes and what it draws.
struct BandSettings {
  int posterior_draws = 16;    // 0: no parameter-uncertainty band
  int variability_draws = 16;  // 0: no patient-variability band
  std::uint64_t seed = 1;
  Variability variability = default_variability();
};
/// Most draws per band a file may ask for.
inline constexpr int kMaxBandDraws = 1000;

// Band (one band of one output) is in protocol/cohort.hpp, which cohort results use.

/// `n` indices of a weighted sample by systematic resampling with the uniform u in [0, 1)
/// (as core/smc.hpp): index i appears about n w_i times (the floor or the ceiling).
std::vector<std::size_t> resample_indices(const std::vector<double>& weights, std::size_t n,
                                          double u);
/// The 10th, 50th and 90th percentiles (type 7, core/stats.hpp) of equally weighted values.
Band band_of(const std::vector<double>& values);

/// The evaluations of both bands for one patient.
class BandDesign {
 public:
  /// The posterior draws are resample_indices(post.weights, posterior_draws, u) with u from
  /// Rng(seed, kStreamPosterior); the variability draws draw_rates(variability, seed, i).
  BandDesign(const ReducedModel& base, const PosteriorSample& post, const BandSettings& s);
  std::size_t size() const { return posterior_ + variability_; }
  std::size_t posterior_draws() const { return posterior_; }
  std::size_t variability_draws() const { return variability_; }
  bool is_posterior(std::size_t k) const { return k < posterior_; }
  /// The model of evaluation k: a posterior draw's parameters, or the shipped ones.
  const ReducedModel& model(std::size_t k) const;
  /// The patient's rate multipliers of evaluation k: 1 for a posterior draw, else drawn.
  RateFactors rates(std::size_t k) const;
  /// The particle of the posterior sample evaluation k < posterior_draws() uses.
  std::size_t particle(std::size_t k) const { return particles_.at(k); }
  /// The parameter-uncertainty and patient-variability bands of one output from its value at
  /// every evaluation (size() values in evaluation order).
  Band parameter_band(const std::vector<double>& values) const;
  Band variability_band(const std::vector<double>& values) const;

 private:
  const ReducedModel* base_;
  std::size_t posterior_ = 0, variability_ = 0;
  std::vector<std::size_t> particles_;
  std::vector<ReducedModel> drawn_;
  std::vector<RateFactors> rates_;
};

/// Both bands of several outputs, with what they cost.
struct PredictiveBands {
  std::vector<std::string> outputs;          // the names the caller gave
  std::vector<Band> parameter, variability;  // one per output
  std::size_t evaluations = 0;
  double cpu_seconds = 0;  // process CPU time of the evaluations (every thread)
  double wall_seconds = 0;
};
/// Evaluates `f` (the outputs, in the order of `names`, of the model and rates given) at every
/// evaluation of `d` (OpenMP over evaluations, `threads` <= 0: the default; the values do not
/// depend on the thread count) and returns both bands of each output.
using BandFunction = std::function<std::vector<double>(const ReducedModel&, const RateFactors&)>;
PredictiveBands predictive_bands(const BandDesign& d, const std::vector<std::string>& names,
                                 const BandFunction& f, int threads = 0);

/// CPU time of this process so far (s, every thread): what a band costs.
double process_cpu_seconds();

/// The two bands as JSON-ready words: what each band is, for every output file.
inline constexpr const char* kParameterBandWords =
    "parameter uncertainty: 10-90% over draws of the calibrated parameters from the posterior "
    "sample of mnsim calibrate (data/posterior_sample.toml), the patient at nominal rates";
inline constexpr const char* kVariabilityBandWords =
    "patient variability: 10-90% over draws of the patient's healing-rate multipliers "
    "(data/outcomes.toml [variability]), the parameters at their shipped values";

}  // namespace mnsim::protocol
