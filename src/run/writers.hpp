// The result files of `mnsim run` (docs/outputs.md) as a registry of writers (docs/extending.md,
// "An output writer"): report.html and figures/, fields.h5 (from the snapshots stored in
// OUT/checkpoint), timeseries.csv, scars.csv, punctures.csv, scenario.resolved.toml, summary.json,
// and any writer a module registers; the scenario's [output] section turns some of them off. Each
// writes into the output folder's staging area; they are committed together (io/output_folder.hpp).
// A failed write leaves the checkpoint (taken at the end of follow-up) and any earlier results; the
// error says how to resume.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "grid/grid.hpp"
#include "io/output_folder.hpp"
#include "report/report.hpp"
#include "run/assess.hpp"
#include "run/output.hpp"
#include "run/record.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// Everything a result writer may read.
struct RunResults {
  const report::ReportData& report;
  const nlohmann::json& summary;  // summary.json
  const Outcome& outcome;
  const RunRecord& rec;
  const grid::Grid& grid;
  const skin::Tissue& tissue;  // the voxel tissue (fields.h5's layer mask)
  const OutputPlan& plan;
  std::filesystem::path out;    // the results folder (stored snapshots in OUT/checkpoint)
  std::uint64_t key = 0;        // the run's checkpoint key
  std::string resolved;         // the resolved scenario (TOML)
  std::string resolved_header;  // its first comment line (version, seed, start)
  std::string run_metadata;     // JSON text (core/version.hpp run_metadata)
};

struct ResultWriter {
  /// When the folder's earlier results are replaced by this writer's: summary.json first, the
  /// report last, everything else in between (io::OutputFolder::commit).
  enum class Install { First, Between, Last };
  std::string name;                  // for messages and docs
  std::vector<std::string> entries;  // the files or folders it writes in the staging folder
  Install install = Install::Between;
  /// Writes its entries into `stage`; throws OutputError (file named) on failure.
  void (*write)(const RunResults& r, const std::filesystem::path& stage) = nullptr;
  /// Whether the scenario's [output] asks for its entries; null: always.
  bool (*wanted)(const OutputPlan& plan) = nullptr;
  /// It works on the run's OpenMP threads (fields.h5's compression): written on the calling
  /// thread, while the others are written one after another on a thread beside it.
  bool parallel = false;
};

/// The registered writers, in the order they run (the built-in ones first).
const std::vector<ResultWriter>& result_writers();
/// Registers a writer (a module's own result file); before the first run. Entries must be plain
/// names not written by another writer.
void register_result_writer(ResultWriter w);

/// The entries a run with this plan writes, in the order they are installed (summary.json
/// first, the report last): summary.json `outputs`.
std::vector<std::string> result_entries(const OutputPlan& plan);

/// Runs every writer the plan wants into the folder's staging area, then commits all their
/// entries (the folder's earlier results, those of skipped writers included, are replaced).
/// The parallel writers run on the calling thread and the others beside them on a second thread
/// (the report's figures and their fsync waits beside fields.h5's compression); once all have
/// finished, the first to fail in the registry's order is thrown and nothing is committed.
void write_results(io::OutputFolder& folder, const RunResults& r);

}  // namespace mnsim
