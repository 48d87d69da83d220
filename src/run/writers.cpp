#include "run/writers.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <future>
#include <stdexcept>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/phase_clock.hpp"
#include "healing/model.hpp"
#include "io/fields_h5.hpp"
#include "io/files.hpp"
#include "run/run_state.hpp"
#include "skin/profile.hpp"

namespace mnsim {

namespace fs = std::filesystem;

namespace {

void write_report(const RunResults& r, const fs::path& stage) {
  report::write_report(r.report, stage);
}

/// The stored fields with their units (the healing model's working units).
std::vector<io::StoredField> stored_fields(const std::vector<std::string>& names) {
  const healing::Model& m = healing::healing_model();
  std::vector<io::StoredField> out;
  for (const auto& n : names) {
    const int f = m.find(n);
    if (f < 0) throw std::logic_error("internal: stored field '" + n + "' is not a healing field");
    out.push_back({n, m.fields()[static_cast<std::size_t>(f)].unit});
  }
  return out;
}

/// Every cell's tissue layer (skin::Layer; Outside = 0 is the air above a depressed surface), in
/// the order of io::gather_interior.
io::CellLayers cell_layers(const skin::Tissue& t) {
  const grid::Grid& g = t.grid();
  io::CellLayers c;
  c.value.reserve(g.cells());
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) c.value.push_back(static_cast<std::uint8_t>(t.layer(i, j, k)));
  for (int l = 0; l <= skin::kLayers; ++l) {
    c.names.emplace_back(skin::layer_name(static_cast<skin::Layer>(l)));
  }
  return c;
}

void write_fields(const RunResults& r, const fs::path& stage) {
  const grid::Grid& g = r.grid;
  io::FieldsWriter h5(stage / "fields.h5", g, stored_fields(r.plan.fields), cell_layers(r.tissue));
  h5.attribute("mnsim_scenario", r.resolved);
  for (std::size_t i = 0; i < r.rec.snapshots.size(); ++i) {
    const StoredSnapshot s = load_snapshot(r.out, i, r.key, r.rec.snapshots[i]);
    if (s.field_names != r.plan.fields || s.nx != g.nx || s.ny != g.ny || s.nz != g.nz) {
      checkpoint_mismatch(snapshot_path(r.out, i), "holds another grid or other fields");
    }
    h5.snapshot_values(s.t, s.label, s.values);
  }
  h5.attribute("mnsim_run", r.run_metadata);
  h5.close();
}

void write_timeseries(const RunResults& r, const fs::path& stage) {
  r.rec.ts.write_csv(stage / "timeseries.csv");
}

// scars.csv: one row per scar and sample time (docs/outputs.md).
void write_scars(const RunResults& r, const fs::path& stage) {
  std::string s = "time_s,time_days,scar,kind,depth_um,floor_rise_um,rim_rise_um,band_intact\n";
  s.reserve(r.rec.scars.size() * 80 + s.size());
  for (const auto& sc : r.rec.scars) {
    const ScarOutcome& o = r.outcome.scars.at(sc.scar);
    s += fmt::format("{:.9g},{:.6g},{},{},{:.9g},{:.9g},{:.9g},{:.9g}\n", sc.t, sc.t / kDay, o.id,
                     o.type, sc.depth * 1e6, sc.rise_under * 1e6, sc.rise_around * 1e6,
                     sc.band_intact);
  }
  io::write_file_atomic(stage / "scars.csv", s);
}

void write_punctures(const RunResults& r, const fs::path& stage) {
  io::write_file_atomic(stage / "punctures.csv", r.rec.punctures_csv);
}

void write_resolved(const RunResults& r, const fs::path& stage) {
  io::write_file_atomic(stage / "scenario.resolved.toml", r.resolved_header + "\n" + r.resolved);
}

void write_summary(const RunResults& r, const fs::path& stage) {
  io::write_file_atomic(stage / "summary.json", r.summary.dump(2) + "\n");
}

std::vector<ResultWriter>& registry() {
  using I = ResultWriter::Install;
  static std::vector<ResultWriter> w = {
      {"report",
       {"figures", "report.html"},
       I::Last,
       write_report,
       [](const OutputPlan& p) { return p.report; }},
      {"fields",
       {"fields.h5", "fields.xmf"},
       I::Between,
       write_fields,
       [](const OutputPlan& p) { return p.snapshots(); },
       true},
      {"time series",
       {"timeseries.csv"},
       I::Between,
       write_timeseries,
       [](const OutputPlan& p) { return p.timeseries; }},
      {"scars",
       {"scars.csv"},
       I::Between,
       write_scars,
       [](const OutputPlan& p) { return p.scars; }},
      {"punctures",
       {"punctures.csv"},
       I::Between,
       write_punctures,
       [](const OutputPlan& p) { return p.punctures; }},
      {"resolved scenario", {"scenario.resolved.toml"}, I::Between, write_resolved},
      {"summary", {"summary.json"}, I::First, write_summary}};
  return w;
}

bool wanted(const ResultWriter& w, const OutputPlan& plan) {
  return !w.wanted || w.wanted(plan);
}

}  // namespace

const std::vector<ResultWriter>& result_writers() {
  return registry();
}

void register_result_writer(ResultWriter w) {
  if (!w.write || w.entries.empty()) {
    throw std::invalid_argument("result writer '" + w.name + "': needs entries and a write");
  }
  for (const auto& other : registry()) {
    for (const auto& e : w.entries) {
      if (std::find(other.entries.begin(), other.entries.end(), e) != other.entries.end()) {
        throw std::invalid_argument(
            fmt::format("result writer '{}': '{}' is written by '{}'", w.name, e, other.name));
      }
    }
  }
  registry().push_back(std::move(w));
}

std::vector<std::string> result_entries(const OutputPlan& plan) {
  std::vector<std::string> entries;
  for (auto when : {ResultWriter::Install::First, ResultWriter::Install::Between,
                    ResultWriter::Install::Last}) {
    for (const auto& w : result_writers()) {
      if (w.install == when && wanted(w, plan)) {
        entries.insert(entries.end(), w.entries.begin(), w.entries.end());
      }
    }
  }
  return entries;
}

namespace {

/// Runs one writer into `stage`: its time logged (debug), its error kept with how to resume.
std::exception_ptr run_writer(const ResultWriter& w, const RunResults& r, const fs::path& stage) {
  PhaseTime took;
  try {
    {
      const PhaseClock clock(took);
      w.write(r, stage);
    }
    spdlog::debug("{} written: {:.2f} s wall, {:.2f} s CPU (the process's)", w.name, took.wall,
                  took.cpu);
    io::output_test_pause();
  } catch (const OutputError& e) {
    return std::make_exception_ptr(OutputError(fmt::format(
        "{}; the checkpoint and any earlier results in {} are intact: resume with --resume {} "
        "once the cause is fixed",
        e.what(), r.out.string(), r.out.string())));
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

}  // namespace

void write_results(io::OutputFolder& folder, const RunResults& r) {
  const fs::path stage = folder.staging();
  const std::vector<ResultWriter>& writers = result_writers();
  std::vector<std::exception_ptr> failed(writers.size());
  // The writers that are not parallel, in order on a thread of their own, beside the parallel
  // ones here; each writes its own entries, so they share nothing but the staging folder.
  std::future<void> beside = std::async(std::launch::async, [&] {
    for (std::size_t i = 0; i < writers.size(); ++i) {
      if (!writers[i].parallel && wanted(writers[i], r.plan)) {
        failed[i] = run_writer(writers[i], r, stage);
      }
    }
  });
  for (std::size_t i = 0; i < writers.size(); ++i) {
    if (writers[i].parallel && wanted(writers[i], r.plan)) {
      failed[i] = run_writer(writers[i], r, stage);
    }
  }
  beside.get();
  for (const std::exception_ptr& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  // Every result is staged: they replace the folder's earlier results in one commit (the summary
  // first, the report last), and the checkpoint has served.
  folder.commit(result_entries(r.plan), r.key);
}

}  // namespace mnsim
