// `mnsim sweep`: one scenario run over a grid or a list of values of any of its keys, each point
// a full `mnsim run`, gathered into one tidy CSV (docs/sweep.md). The CLI is a thin shell over
// this.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace mnsim {

/// One axis: a scenario key and the values it takes (each as TOML text, with its place in the
/// sweep file).
struct SweepAxis {
  std::string key;
  SourceLoc key_loc;
  std::vector<std::string> values;
  std::vector<SourceLoc> value_locs;
};

struct SweepSpec {
  std::string file;  // the sweep file
  std::string title;
  std::string scenario;  // the base scenario (absolute path)
  bool grid = true;      // mode: "grid" (every combination) or "zip" (i-th values together)
  bool keep_runs = false;
  std::vector<SweepAxis> axes;
  /// Per point, the index of its value on every axis (grid: the last axis varies fastest).
  std::vector<std::vector<std::size_t>> points;
  std::string resolved;  // the sweep file, resolved (TOML)

  /// The --set overrides of point i.
  std::vector<Override> overrides(std::size_t i) const;
};

/// The overrides point i runs with: its axes' values and, when the run folders are not kept,
/// `output.report`, `timeseries`, `scars` and `punctures` off (those an axis does not set).
std::vector<Override> run_overrides(const SweepSpec& spec, std::size_t i);

/// The sweep file's schema (docs/sweep.md; `mnsim catalog keys`).
const schema::Key& sweep_schema();

/// Reads a sweep file and checks the scenario of every point (schema and the cross-key checks of
/// `mnsim check`) before anything runs: a bad value is an InputError at its place in the sweep
/// file, with the scenario's own message.
SweepSpec load_sweep(const std::string& path);
/// The same for a sweep already parsed against sweep_schema(); `path` names it (SweepSpec::file)
/// and its folder is where a relative `scenario` is found ("" or a name without a folder: the
/// current directory).
SweepSpec read_sweep(const Table& root, const std::string& path);

struct SweepOptions {
  std::filesystem::path out_dir;
  int jobs = 1;     // points run at once
  int threads = 0;  // threads in all (0: every core), shared by the jobs
  bool force = false;
  bool resume = false;  // skip the points already recorded in OUT/checkpoint
  const StopToken* stop = nullptr;
  /// Called (from the thread that ran it) after each point with the points done so far.
  std::function<void(std::size_t done, std::size_t total)> on_point;
};

struct SweepResult {
  std::size_t points = 0;
  std::size_t resumed = 0;          // points taken from the checkpoint
  std::vector<std::string> failed;  // "point N: message" of the points whose run failed
  std::filesystem::path csv;
};

/// Runs every point (a run folder each, in OUT/runs/NNNN when keep_runs) and writes
/// OUT/sweep.csv and OUT/sweep.resolved.toml. A point whose run fails (a numerical failure) is
/// recorded with its message and the others go on. Throws Interrupted on a stop request after
/// the points in progress have checkpointed (resume with SweepOptions::resume).
SweepResult run_sweep(const SweepSpec& spec, const SweepOptions& opts);

/// One point's CSV columns from its summary.json: every scalar of "outcome" and "sessions"
/// (dotted paths, array items as [i]) and run.wall_time_s.
nlohmann::ordered_json sweep_row(const nlohmann::json& summary);

/// The tidy CSV of a sweep: point, status, one column per axis (the value as written), then the
/// union of the rows' columns in the order first seen (empty where a point has none).
std::string sweep_csv(const SweepSpec& spec, const std::vector<nlohmann::ordered_json>& records);

}  // namespace mnsim
