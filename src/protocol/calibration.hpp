// `mnsim calibrate FILE` (docs/calibration.md): a posterior sample of calibrated parameters of
// data/healing.toml and data/outcomes.toml given the calibration cases of data/validation.toml
// (never its checks), by the sequential Monte Carlo sampler of core/smc.hpp on the reduced model.
//
// The likelihood is the product over the cases of exp(-z^2 / 2), z the distance of the case's
// prediction from its published figure in units of the figure's scale (protocol/validate.hpp,
// CaseTarget). The prior of each parameter is its range as a sensitivity file states it
// (protocol/sensitivity.hpp): uniform on a stated or cited range, log-uniform on [v/F, vF] for a
// stated factor F.
//
// The parts are separate so that other drivers reuse them: the parameters' coordinates and the
// prior box, one evaluation (the cases' predictions and the log-likelihood), a batch of
// evaluations (OpenMP over the points, results in the points' order: a batch may as well be
// split over MPI ranks), and the summaries of a sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/progress.hpp"
#include "core/ranks.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "core/smc.hpp"
#include "core/stages.hpp"
#include "protocol/reduced.hpp"
#include "protocol/sensitivity.hpp"
#include "protocol/validate.hpp"

namespace mnsim::protocol {

/// The schema of a calibration file (docs/scenario.md and `mnsim catalog keys` list it).
const schema::Key& calibration_schema();

struct CalibrationSpec {
  std::string title;
  smc::Settings smc;                             // its seed is the file's
  std::vector<SensitivityParameter> parameters;  // each calibrated, with its prior range
  ValidationSet validation;                      // data/validation.toml
  std::vector<std::size_t> cases;  // the calibration cases of `validation` used, in file order
  Table resolved;                  // the file with every default filled in
};

/// Reads and checks a calibration file (InputError at file:line:col and key, nothing run): the
/// schema, the cases (calibration cases with a target; a check is refused), the parameters
/// (calibrated ones, with their prior ranges).
CalibrationSpec load_calibration(const std::string& path,
                                 const std::vector<Override>& overrides = {});

/// The most model evaluations the spec's run can take: N (1 + max_generations x moves).
std::size_t calibration_max_evaluations(const CalibrationSpec& s);

/// The sampled coordinate of a parameter value: its logarithm for a log-uniform prior, else the
/// value (data-file units); and back.
double to_coordinate(const SensitivityParameter& p, double value);
double from_coordinate(const SensitivityParameter& p, double x);
/// The prior box of the sampled coordinates.
smc::Box calibration_prior(const CalibrationSpec& s);

/// The simulated cohorts of the spec's pih_incidence_pct cases when every sampled parameter is
/// one that only outcomes::pih_risk reads (outcomes.pih.mu_threshold): the melanin peaks and the
/// event draws do not depend on it, so each case's cohort is simulated once, at the data files'
/// values, and every evaluation recomputes the incidence from it (pih_incidence_with: bit for
/// bit the full evaluation, docs/calibration.md, "The PIH threshold"). By s.cases; empty when
/// the spec samples anything else.
struct CaseCohorts {
  std::vector<std::optional<CohortResult>> by_case;
};
/// Simulates them (OpenMP over the patients; `threads` <= 0: the default).
CaseCohorts threshold_case_cohorts(const ReducedModel& m, const CalibrationSpec& s,
                                   int threads = 0);

/// The predictions of the spec's cases (metric units, in the order of s.cases) with the
/// parameters at `values` (data-file units); cohort cases run on one thread, or are read from
/// `cohorts` (threshold_case_cohorts) where it holds theirs.
std::vector<double> calibration_predictions(const ReducedModel& base, const CalibrationSpec& s,
                                            const std::vector<double>& values,
                                            const CaseCohorts* cohorts = nullptr);
/// The log-likelihood of the predictions: -sum z^2 / 2 over the cases.
double calibration_log_likelihood(const CalibrationSpec& s, const std::vector<double>& predictions);
/// The evaluations of a batch of points (sampled coordinates): log-likelihood, with the cases'
/// predictions as outputs; OpenMP over the points (`threads` <= 0: the default), results in the
/// points' order whatever the thread count. A failing evaluation is an error naming its
/// parameter values (the first failing point).
std::vector<smc::Evaluation> evaluate_calibration_batch(
    const ReducedModel& m, const CalibrationSpec& s, const std::vector<std::vector<double>>& points,
    int threads = 0, const CaseCohorts* cohorts = nullptr);
/// The same split over MPI ranks (core/ranks.hpp): point i on rank i mod N, OpenMP inside each,
/// every rank receiving every evaluation (each rank runs the same sampler on them), bit for bit
/// what evaluate_calibration_batch gives; a failing point is the same error on every rank.
std::vector<smc::Evaluation> evaluate_calibration_split(
    const ReducedModel& m, const CalibrationSpec& s, const std::vector<std::vector<double>>& points,
    const Ranks& ranks, int threads = 0, const CaseCohorts* cohorts = nullptr);

/// Summary of a sample of one quantity.
struct SampleSummary {
  double mean = 0, sd = 0;
  double q05 = 0, q10 = 0, q50 = 0, q90 = 0, q95 = 0;
};
SampleSummary summarise(const std::vector<double>& x);

struct CalibrationResult {
  smc::Result smc;
  std::vector<std::vector<double>> values;  // the sample, data-file units, particle by particle
  std::vector<SampleSummary> parameters;    // per parameter
  std::vector<std::vector<double>> correlation;  // of the sampled coordinates
  std::vector<double> shipped_predictions;       // the cases at the data files' values
  std::vector<SampleSummary> predictions;        // the cases over the sample
};
/// The whole run: the sampler with evaluate_calibration_batch (evaluate_calibration_split when
/// `ranks` has several; every rank then returns the same result), then the summaries.
/// With `stages` (core/stages.hpp: a state folder of a job array), each batch of evaluations is
/// a stage handed to it instead (it may end the call with StagePending).
CalibrationResult run_calibration(const ReducedModel& m, const CalibrationSpec& s, int threads = 0,
                                  Progress* progress = nullptr, const Ranks* ranks = nullptr,
                                  StageRunner* stages = nullptr);

/// How a run went, for the JSON.
struct CalibrationRunInfo {
  double wall_s = 0;
  int threads = 0;
  int ranks = 1;                          // MPI ranks (core/ranks.hpp)
  int state_stages = 0;                   // stages read from a state folder (0: none)
  double load_start = -1, load_end = -1;  // 1-minute load average (-1: unknown)
};
/// calibration.json: settings, cases with their targets, parameters with prior and posterior,
/// the correlation matrix, each generation's diagnostics, the run and the resolved file.
std::string calibration_json(const CalibrationSpec& s, const CalibrationResult& r,
                             const CalibrationRunInfo& info);
/// posterior.csv: one row per particle: its parameter values, log-likelihood and predictions.
std::string calibration_csv(const CalibrationSpec& s, const CalibrationResult& r);
/// The command's standard output: generations, posterior summary, correlations, predictions.
std::string calibration_table(const CalibrationSpec& s, const CalibrationResult& r);

}  // namespace mnsim::protocol
