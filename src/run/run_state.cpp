#include "run/run_state.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim {

namespace fs = std::filesystem;

void checkpoint_mismatch(const fs::path& file, const std::string& what) {
  throw InputError({file.string(), 1, 1}, "(checkpoint)", what,
                   "a checkpoint of this scenario and seed written by this mnsim build; delete "
                   "the checkpoint folder to start over");
}

std::optional<RunState> open_checkpoint(bool resume, bool force, const io::OutputFolder& folder,
                                        std::uint64_t key, Progress& progress) {
  const fs::path file = run_checkpoint_path(folder.path());
  std::error_code ec;
  const bool exists = fs::exists(file, ec);
  std::optional<RunState> state;
  if (exists && resume) {
    const io::CheckpointFile c = io::read_checkpoint(file);
    if (c.key != key) {
      checkpoint_mismatch(file, "was written for another scenario, seed or mnsim build");
    }
    state = decode_run_state(c, file.string());
  } else if (exists && !force) {
    throw InputError(
        {"command line", 0, 0}, "--out",
        fmt::format("'{}' holds the checkpoint of an unfinished run", folder.path().string()),
        "--resume to continue it, or --force to start over");
  } else if (resume) {
    progress.note(fmt::format("no checkpoint in {}: starting from the beginning",
                              folder.checkpoints().string()));
  }
  if (!state) fs::remove_all(folder.checkpoints(), ec);
  fs::create_directories(folder.checkpoints(), ec);
  if (ec) {
    throw OutputError(
        fmt::format("cannot create {}: {}", folder.checkpoints().string(), ec.message()));
  }
  // Temporary files of writers that were killed, and snapshots taken after the checkpoint.
  io::remove_stale_temporaries(folder.checkpoints());
  const std::size_t kept = state ? state->snapshots.size() : 0;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(folder.checkpoints(), ec)) {
    const std::string n = e.path().filename().string();
    // snapshot-NNNNNN.ckpt beyond those the checkpoint lists were taken after it.
    if (n.size() == 20 && n.rfind("snapshot-", 0) == 0 && n.substr(15) == ".ckpt" &&
        std::all_of(n.begin() + 9, n.begin() + 15, [](char c) { return c >= '0' && c <= '9'; }) &&
        std::stoul(n.substr(9, 6)) >= kept) {
      stale.push_back(e.path());
    }
  }
  for (const auto& p : stale) fs::remove(p, ec);
  return state;
}

StoredSnapshot load_snapshot(const fs::path& out, std::size_t index, std::uint64_t key,
                             const RunState::Snapshot& expected) {
  const fs::path file = snapshot_path(out, index);
  const io::CheckpointFile c = io::read_checkpoint(file);
  if (c.key != key) checkpoint_mismatch(file, "was written for another scenario, seed or build");
  StoredSnapshot s = decode_snapshot(c, file.string());
  if (s.t != expected.t || s.label != expected.label) {
    checkpoint_mismatch(file, fmt::format("holds snapshot '{}', the run checkpoint lists '{}'",
                                          s.label, expected.label));
  }
  return s;
}

void save_run_state(const fs::path& out, std::uint64_t key, const healing::Engine& engine,
                    const RunRecord& rec, std::uint64_t events_done, const std::string& started,
                    double wall_s, io::BackgroundWrites& writes) {
  writes.wait();
  const healing::Stepper& stepper = engine.stepper();
  const grid::Grid& g = engine.grid();
  RunState s;
  s.t = stepper.time();
  s.dt = stepper.dt();
  s.stats = stepper.stats();
  s.steps_since_check = stepper.steps_since_check();
  s.checked_step = stepper.checked_step();
  s.events_done = events_done;
  s.finished = rec.finished;
  s.bleeding_sum = rec.bleeding_sum;
  s.puncture_total = rec.puncture_total;
  s.first_stats_json = rec.first_stats.dump();
  s.session_log_json = sessions_json(rec.sessions).dump();
  s.applications_json = rec.applications_state.dump();
  s.punctures_csv = rec.punctures_csv;
  s.timeseries = rec.ts.rows();
  s.scars = rec.scars;
  s.tethers = rec.tethers;
  s.snapshots = rec.snapshots;
  s.started_utc = started;
  s.wall_s = wall_s;
  s.nx = g.nx;
  s.ny = g.ny;
  s.nz = g.nz;
  s.padded = g.padded_size();
  std::vector<std::span<const float>> views;
  for (int f = 0; f < engine.fields().size(); ++f) {
    s.field_names.push_back(engine.fields().name(f));
    views.emplace_back(engine.fields().view(f).data, g.padded_size());
  }
  writes.start([file = run_checkpoint_path(out), c = encode_run_state(s, views, key), t = s.t] {
    const auto w0 = std::chrono::steady_clock::now();
    try {
      io::write_checkpoint(file, c);
    } catch (const OutputError& e) {
      throw OutputError(fmt::format("{}; the previous checkpoint is intact", e.what()));
    }
    spdlog::debug("checkpoint at simulated day {:.3f} written in {:.3f} s", t / kDay,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
  });
}

void restore_run_state(const fs::path& out, std::uint64_t key, const RunState& r,
                       const protocol::Course& course, healing::Engine& engine, RunRecord& rec) {
  const fs::path ck_file = run_checkpoint_path(out);
  const grid::Grid& g = engine.grid();
  healing::Stepper& stepper = engine.stepper();
  const grid::FieldSet& fset = engine.fields();
  bool same = r.nx == g.nx && r.ny == g.ny && r.nz == g.nz && r.padded == g.padded_size() &&
              r.field_names.size() == static_cast<std::size_t>(fset.size());
  for (std::size_t f = 0; same && f < r.field_names.size(); ++f) {
    same = r.field_names[f] == fset.name(static_cast<int>(f));
  }
  if (!same) checkpoint_mismatch(ck_file, "holds fields of another grid or model");
  if (!(r.t <= course.end_time) || r.events_done > stepper.pending_events() ||
      !(r.dt >= stepper.control().dt_min && r.dt <= stepper.control().dt_max)) {
    checkpoint_mismatch(ck_file, "holds a time, step or event count outside this run");
  }
  for (std::size_t i = 0; i < r.snapshots.size(); ++i) {
    (void)load_snapshot(out, i, key, r.snapshots[i]);
  }
  for (std::size_t f = 0; f < r.fields.size(); ++f) {
    std::memcpy(engine.fields().view(static_cast<int>(f)).data, r.fields[f].data(),
                r.fields[f].size() * sizeof(float));
  }
  stepper.restore(r.t, r.dt, r.stats);
  stepper.restore_check(r.steps_since_check, r.checked_step);
  stepper.discard_events(static_cast<std::size_t>(r.events_done));
  rec.finished = r.finished;
  rec.bleeding_sum = r.bleeding_sum;
  rec.puncture_total = static_cast<std::size_t>(r.puncture_total);
  try {
    rec.first_stats = nlohmann::json::parse(r.first_stats_json);
    rec.sessions.clear();
    for (const auto& j : nlohmann::json::parse(r.session_log_json)) {
      rec.sessions.push_back(session_from_json(j));
    }
    rec.applications_state = nlohmann::json::parse(r.applications_json);
  } catch (const nlohmann::json::exception&) {
    checkpoint_mismatch(ck_file, "holds an unreadable session log");
  }
  rec.punctures_csv = r.punctures_csv;
  rec.snapshots = r.snapshots;
  rec.scars = r.scars;
  rec.tethers = r.tethers;
  for (const auto& row : r.timeseries) rec.ts.add(row.t, row.quantity, row.layer, row.value);
}

}  // namespace mnsim
