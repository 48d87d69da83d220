// The result files of `mnsim run` (docs/outputs.md), written into the output folder's staging
// area and committed together (io/output_folder.hpp): report.html and figures/, fields.h5 (from
// the snapshots stored in OUT/checkpoint), timeseries.csv, punctures.csv,
// scenario.resolved.toml, summary.json. A failed write leaves the checkpoint (taken at the end
// of follow-up) and any earlier results; the error says how to resume.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "grid/grid.hpp"
#include "io/output_folder.hpp"
#include "report/report.hpp"
#include "run/output.hpp"
#include "run/record.hpp"

namespace mnsim {

struct ResultFiles {
  const report::ReportData& report;
  const nlohmann::json& summary;
  const RunRecord& rec;
  std::string resolved;         // the resolved scenario (TOML)
  std::string resolved_header;  // its first comment line (version, seed, start)
  std::string run_metadata;     // JSON text stored in fields.h5
};

/// Writes every result into the folder's staging area, then commits them (summary first,
/// report last). Throws OutputError naming the file and how to resume.
void write_results(io::OutputFolder& folder, std::uint64_t key, const grid::Grid& g,
                   const OutputPlan& plan, const ResultFiles& files);

}  // namespace mnsim
