#include "run/writers.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/fields_h5.hpp"
#include "io/files.hpp"
#include "run/run_state.hpp"

namespace mnsim {

namespace fs = std::filesystem;

void write_results(io::OutputFolder& folder, std::uint64_t key, const grid::Grid& g,
                   const OutputPlan& plan, const ResultFiles& files) {
  const fs::path out = folder.path();
  const fs::path stage = folder.staging();
  auto stage_result = [&](const auto& write) {
    try {
      write();
    } catch (const OutputError& e) {
      throw OutputError(fmt::format(
          "{}; the checkpoint and any earlier results in {} are intact: resume with --resume {} "
          "once the cause is fixed",
          e.what(), out.string(), out.string()));
    }
    io::output_test_pause();
  };
  stage_result([&] { report::write_report(files.report, stage); });
  stage_result([&] {
    io::FieldsWriter h5(stage / "fields.h5", g, plan.fields);
    h5.attribute("mnsim_scenario", files.resolved);
    for (std::size_t i = 0; i < files.rec.snapshots.size(); ++i) {
      const StoredSnapshot s = load_snapshot(out, i, key, files.rec.snapshots[i]);
      if (s.field_names != plan.fields || s.nx != g.nx || s.ny != g.ny || s.nz != g.nz) {
        checkpoint_mismatch(snapshot_path(out, i), "holds another grid or other fields");
      }
      h5.snapshot_values(s.t, s.label, s.values);
    }
    h5.attribute("mnsim_run", files.run_metadata);
    h5.close();
  });
  stage_result([&] { files.rec.ts.write_csv(stage / "timeseries.csv"); });
  stage_result([&] { io::write_file_atomic(stage / "punctures.csv", files.rec.punctures_csv); });
  stage_result([&] {
    io::write_file_atomic(stage / "scenario.resolved.toml",
                          files.resolved_header + "\n" + files.resolved);
  });
  stage_result(
      [&] { io::write_file_atomic(stage / "summary.json", files.summary.dump(2) + "\n"); });
  // Every result is staged: they replace the folder's earlier results in one commit (the summary
  // first, the report last), and the checkpoint has served.
  folder.commit({"summary.json", "scenario.resolved.toml", "timeseries.csv", "punctures.csv",
                 "fields.h5", "fields.xmf", "figures", "report.html"},
                key);
}

}  // namespace mnsim
