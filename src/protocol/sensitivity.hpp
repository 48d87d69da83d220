// `mnsim sensitivity FILE` (docs/sensitivity.md): Morris screening or Sobol' indices of clinical
// outputs of the reduced model (protocol/reduced.hpp) for one patient and protocol, over chosen
// parameters of data/healing.toml and data/outcomes.toml, each sampled over a range: the range
// the file states, [v/F, vF] for a stated factor F, the cited range of data/ranges.toml, or the
// file's default factor for an assumed value.
//
// The parts are separate so that other drivers reuse them: the parameters and their ranges
// (SensitivityParameter, at_point), one evaluation of the model at a point of the unit cube
// (evaluate), a set of indexed evaluations (evaluate_indices, OpenMP, independent of the thread
// count), and the designs and estimators of core/sensitivity.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "core/sensitivity.hpp"
#include "protocol/reduced.hpp"

namespace mnsim {
class Ranks;
}

namespace mnsim::protocol {

/// The schema of a sensitivity file (docs/scenario.md and `mnsim catalog keys` are generated
/// from it).
const schema::Key& sensitivity_schema();

/// A clinical output of the reduced model that a sensitivity file can name.
struct SensitivityOutputDef {
  std::string_view name;   // as in patients.csv of `mnsim cohort`, e.g. "erythema_days"
  std::string_view unit;   // "%", "points", "days", ...
  std::string_view words;  // plain words for figures, e.g. "visible redness per session"
  double (*get)(const PatientOutcome&);
};
/// Every output, in the order of docs/sensitivity.md.
const std::vector<SensitivityOutputDef>& sensitivity_outputs();
/// The output named `name` (std::out_of_range if none).
const SensitivityOutputDef& sensitivity_output(std::string_view name);

/// A model parameter that an analysis varies, with the range it is sampled over (in the unit its
/// data file writes it in).
struct SensitivityParameter {
  std::string key;     // data file, section and key: "healing.matrix.collagen_synthesis"
  std::string unit;    // the data file's unit ("1/h", "%", "1")
  double nominal = 0;  // the data file's value
  double low = 0, high = 0;
  bool log = false;          // log-uniform (a factor range), else uniform
  std::string basis;         // how the range was chosen: "range", "factor", "cited", "assumed"
  std::string range_source;  // the citation of a cited range; empty otherwise
  std::string value_source;  // the source of the data file's value
  double factor = 0;         // "factor" and "assumed": the factor F of [v/F, vF]
  SourceLoc loc;             // where the file names it
  double to_model = 1.0;     // the model's value per data-file unit
  bool healing = true;       // a healing::Params member, else an outcomes::OutcomeParams one
  std::size_t member = 0;    // index in healing::param_registry() or the outcome parameters
  double admissible_low = 0, admissible_high = 0;  // what the data file's reader accepts

  /// The value at u in [0, 1] of the range (uniform or log-uniform quantile).
  double at(double u) const;
};

/// Every parameter key an analysis can vary ("healing.<section>.<key>" for every parameter of
/// data/healing.toml, "outcomes.remodel.tether_share", ... for those of data/outcomes.toml that
/// enter the reduced model's outputs), with its nominal value, unit, source and admissible range
/// (basis, low and high unset).
const std::map<std::string, SensitivityParameter>& sensitivity_parameters();

/// A cited range of data/ranges.toml.
struct CitedRange {
  double low = 0, high = 0;  // in the parameter's data-file unit
  std::string source;
};
/// Reads a ranges file (data/ranges.toml): entries ["healing.<section>"] or
/// ["outcomes.<section>"], each key a parameter of sensitivity_parameters() with
/// value = ["<low> <unit>", "<high> <unit>"] in its data-file unit and a source. InputError at
/// file:line:col on an unknown parameter, a wrong unit, low >= high or a bound the parameter's
/// reader would refuse.
std::map<std::string, CitedRange> load_cited_ranges(const std::string& path);
/// The shipped ranges (data/ranges.toml), read once.
const std::map<std::string, CitedRange>& default_cited_ranges();

/// The `[[parameters]]` table array of a file that samples parameters (sensitivity and
/// calibration files): entries with `key` and either `factor` or `range`.
schema::Key sampled_parameters_key(std::string doc);
/// The parameters of the `[[parameters]]` entries of `root` with their ranges: the stated range,
/// [v/F, vF] for a stated factor F, the cited range of data/ranges.toml, or `default_factor` for
/// an assumed value (InputError at the entry: an unknown or repeated key, no range for a cited
/// or calibrated value, a range beyond what the data file's reader accepts, no entries).
std::vector<SensitivityParameter> read_sampled_parameters(const Table& root, double default_factor);

enum class SensitivityMethod { Morris, Sobol };

struct SensitivitySpec {
  std::string title;
  std::uint64_t seed = 1;
  PatientSpec patient;
  ReducedProtocol protocol;
  SensitivityMethod method = SensitivityMethod::Sobol;
  std::size_t samples = 256;      // Sobol': base samples N
  std::size_t trajectories = 20;  // Morris: r
  int levels = 4;                 // Morris: p
  sensitivity::Bootstrap bootstrap;
  double default_factor = 2.0;  // the factor of an assumed parameter that states no range
  std::vector<SensitivityParameter> parameters;
  std::vector<std::string> outputs;
  Table resolved;  // the file with every default filled in
};

/// Reads and checks a sensitivity file: the schema, the parameters and their ranges, the
/// method's settings (InputError at file:line:col and key, nothing run).
SensitivitySpec load_sensitivity(const std::string& path,
                                 const std::vector<Override>& overrides = {});

/// The number of model evaluations of the spec's design.
std::size_t sensitivity_evaluations(const SensitivitySpec& s);
/// The unit-cube point of evaluation e of the spec's design (core/sensitivity.hpp).
std::vector<double> sensitivity_point(const SensitivitySpec& s, std::size_t e);

/// The parameter values at a unit-cube point (one coordinate per parameter).
std::vector<double> at_point(const std::vector<SensitivityParameter>& ps,
                             const std::vector<double>& u);
/// `base` with the parameters set to `values` (data-file units). It shares base's channel cache
/// (keyed by the parameters the channel healing reads: ReducedModel::channels).
ReducedModel with_values(const ReducedModel& base, const std::vector<SensitivityParameter>& ps,
                         const std::vector<double>& values);
/// The spec's outputs for the patient and protocol with the parameters at unit-cube point `u`.
std::vector<double> evaluate(const ReducedModel& base, const SensitivitySpec& s,
                             const std::vector<double>& u);

/// The outputs of evaluations `first` to `first + count - 1` of the spec's design, row by row
/// (OpenMP over evaluations, `threads` <= 0: the default; the values do not depend on the
/// thread count). `progress` (may be null) hears the stage "model evaluations" and
/// advance(done, total) calls counting evaluations. An evaluation that fails is an error naming
/// it and its parameter values (the first failing index).
std::vector<std::vector<double>> evaluate_indices(const ReducedModel& m, const SensitivitySpec& s,
                                                  std::size_t first, std::size_t count,
                                                  int threads = 0, Progress* progress = nullptr);

/// The outputs of the evaluations `indices` (ascending or not; each < sensitivity_evaluations),
/// in the order given: evaluate_indices over any subset of the design (a shard's).
std::vector<std::vector<double>> evaluate_selected(const ReducedModel& m, const SensitivitySpec& s,
                                                   const std::vector<std::size_t>& indices,
                                                   int threads = 0, Progress* progress = nullptr);

/// One evaluation's outputs as bytes (the doubles bit for bit), as ranks and shards send them.
std::string outputs_bytes(const std::vector<double>& y);
/// The outputs back from outputs_bytes; InputError naming `from` and evaluation `e` (1-based in
/// the message) for the wrong size or a value that is not finite.
std::vector<double> outputs_from_bytes(std::string_view b, std::size_t outputs,
                                       const std::string& from, std::size_t e);

/// Every evaluation of the spec's design split over `ranks` (core/ranks.hpp: evaluation e on
/// rank e mod N, `threads` OpenMP threads in each): the outputs row by row on the root (the
/// same values as evaluate_indices), an empty vector on the other ranks. A failing evaluation is
/// the error evaluate_indices gives (the first failing index), on every rank (RankError).
/// `progress` hears this rank's evaluations.
std::vector<std::vector<double>> evaluate_split(const ReducedModel& m, const SensitivitySpec& s,
                                                const Ranks& ranks, int threads = 0,
                                                Progress* progress = nullptr);

/// The indices of one output.
struct OutputSensitivity {
  std::string output;
  double mean = 0, sd = 0;  // over every evaluation
  // The output changes over the sample (its SD above 1e-12 of max(1, |mean|): below, the
  // differences are rounding, and the indices mean nothing).
  bool varies = false;
  sensitivity::SobolIndices sobol;
  sensitivity::MorrisIndices morris;
};
struct SensitivityResult {
  std::size_t evaluations = 0;
  std::vector<OutputSensitivity> outputs;  // the spec's outputs, in order
};
/// The indices from the outputs of every evaluation (evaluate_indices over the whole design).
SensitivityResult sensitivity_indices(const SensitivitySpec& s,
                                      const std::vector<std::vector<double>>& values);
/// The whole analysis: every evaluation, then the indices.
SensitivityResult run_sensitivity(const ReducedModel& m, const SensitivitySpec& s, int threads = 0,
                                  Progress* progress = nullptr);

/// How a run went, for the JSON.
struct SensitivityRunInfo {
  double wall_s = 0;
  int threads = 0;                        // OpenMP threads of each rank
  int ranks = 1;                          // MPI ranks (core/ranks.hpp)
  int shards = 0;                         // > 0: joined from this many shards (mnsim merge)
  double load_start = -1, load_end = -1;  // 1-minute load average (-1: unknown)
};
/// sensitivity.json: the spec (parameters with their ranges, outputs, method and sample size),
/// the indices with their intervals, the run and the resolved file (docs/sensitivity.md).
std::string sensitivity_json(const SensitivitySpec& s, const SensitivityResult& r,
                             const SensitivityRunInfo& info);
/// sensitivity.csv: one row per method, output, parameter and index kind, with the interval.
std::string sensitivity_csv(const SensitivitySpec& s, const SensitivityResult& r);
/// A short text table of the indices (the command's standard output).
std::string sensitivity_table(const SensitivitySpec& s, const SensitivityResult& r);

}  // namespace mnsim::protocol
