#include "run/run.hpp"

#include "core/constants.hpp"
#include "run/checkpoint.hpp"
#include "run/output.hpp"
#include "run/resources.hpp"
#include "run/specs.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>

#include "core/rng.hpp"
#include "core/version.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "healing/options.hpp"
#include "io/fields_h5.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/timeseries.hpp"
#include "outcomes/goodman_baron.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/course.hpp"
#include "protocol/reduced.hpp"
#include "report/report.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

namespace {}  // namespace

std::uint64_t apply_seed_override(Table& scenario, std::optional<std::uint64_t> seed) {
  if (seed) {
    Value v = scenario.value("seed");
    v.num = static_cast<double>(*seed);
    v.text = fmt::format("{}", *seed);
    v.defaulted = false;
    v.loc = SourceLoc{"command line", 0, 0};
    scenario.set("seed", v);
    return *seed;
  }
  return static_cast<std::uint64_t>(scenario.integer("seed"));
}

MemoryEstimate validate_semantics(const Table& scenario) {
  const protocol::Course course = protocol::make_course(scenario.table("course"));
  // The patch with its lesions: lesions outside the patch or deeper than the skin, unreadable
  // height maps (InputError at the key).
  const skin::SkinPatch patch = skin::make_patch(read_patch_spec(scenario));
  // Resources, refused up front: the memory the 3D engine would need, against the limits that
  // apply to this process (docs/reliability.md, "Memory").
  const Table& t = scenario.table("tissue");
  const skin::GridDims d =
      skin::grid_dims(patch, t.quantity("resolution"), static_cast<int>(t.integer("z_min_cells")));
  const OutputPlan plan = make_output_plan(scenario.table("output"));
  const int sessions = static_cast<int>(course.sessions.size());
  int snapshots = sessions * ((plan.before_sessions ? 1 : 0) + (plan.after_sessions ? 1 : 0)) +
                  (plan.end ? 1 : 0);
  if (plan.every > 0)
    snapshots += static_cast<int>(std::floor((course.end_time - 1e-6) / plan.every));
  const MemoryEstimate need =
      estimate_run_memory(d.cells(), snapshots, static_cast<int>(plan.fields.size()));
  const MemoryLimit lim = memory_limit(need, omp_get_max_threads());
  if (!lim.source.empty() && need.resident() > lim.bytes) {
    t.fail("resolution",
           fmt::format("the grid of {:.3g} cells ({:.0f} x {:.0f} x {:.0f}) would need about "
                       "{:.2f} GiB of memory; {}",
                       d.cells(), d.nx, d.ny, d.nz, need.resident() / (1 << 30), lim.source),
           "a coarser resolution or a smaller patch");
  }
  // The device resolves against the catalog (model, offered lengths, depth range).
  devices::make_device(devices::device_spec(scenario.table("device")),
                       devices::DeviceCatalog::defaults());
  // The healing parameters (data/healing.toml) load, so a damaged file is refused before a run
  // writes anything.
  healing::load_default_params();
  return need;
}

namespace {

namespace fs = std::filesystem;

[[noreturn]] void checkpoint_mismatch(const fs::path& file, const std::string& what) {
  throw InputError({file.string(), 1, 1}, "(checkpoint)", what,
                   "a checkpoint of this scenario and seed written by this mnsim build; delete "
                   "the checkpoint folder to start over");
}

/// Reads OUT/checkpoint/run.ckpt when resuming; refuses a forgotten checkpoint otherwise.
std::optional<RunState> open_checkpoint(const RunOptions& opts, const io::OutputFolder& folder,
                                        std::uint64_t key, Progress& progress) {
  const fs::path file = run_checkpoint_path(folder.path());
  std::error_code ec;
  const bool exists = fs::exists(file, ec);
  std::optional<RunState> state;
  if (exists && opts.resume) {
    const io::CheckpointFile c = io::read_checkpoint(file);
    if (c.key != key) {
      checkpoint_mismatch(file, "was written for another scenario, seed or mnsim build");
    }
    state = decode_run_state(c, file.string());
  } else if (exists && !opts.force) {
    throw InputError(
        {"command line", 0, 0}, "--out",
        fmt::format("'{}' holds the checkpoint of an unfinished run", folder.path().string()),
        "--resume to continue it, or --force to start over");
  } else if (opts.resume) {
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

/// A few lines for the terminal, from what summary.json holds.
std::string summary_text(const nlohmann::json& summary, const fs::path& out) {
  const nlohmann::json& outcome = summary["outcome"];
  const auto& gbo = outcome["goodman_baron"];
  std::string scar_line;
  for (const auto& sc : outcome["scars"]) {
    scar_line += fmt::format("{}{} {:.0f} -> {:.0f} um", scar_line.empty() ? "" : ", ",
                             sc["type"].get<std::string>(), sc["depth_um_before"].get<double>(),
                             sc["depth_um_after"].get<double>());
  }
  const nlohmann::json& sc = summary["scenario"];
  return fmt::format(
      "{}\n"
      "Goodman & Baron: quantitative {} -> {}, qualitative grade {} -> {}\n"
      "scar depth: {}\n"
      "collagen: papillary {:+.1f} %, reticular {:+.1f} %; epidermis {:+.1f} %\n"
      "downtime: barrier {:.1f} h, erythema {:.1f} days; PIH risk {:.1f} %; {:.0f} % of punctures "
      "bled\n"
      "results: {} (report.html, summary.json, timeseries.csv, fields.h5)",
      sc.contains("title") ? sc["title"].get<std::string>() : std::string("mnsim run"),
      gbo["quantitative_before"].get<int>(), gbo["quantitative_after"].get<int>(),
      gbo["qualitative_before"].get<int>(), gbo["qualitative_after"].get<int>(),
      scar_line.empty() ? std::string("no scars in the scenario") : scar_line,
      outcome["collagen_change_pct"]["papillary"].get<double>(),
      outcome["collagen_change_pct"]["reticular"].get<double>(),
      outcome["epidermal_thickness_change_pct"].get<double>(),
      outcome["barrier_recovery_hours"].get<double>(), outcome["erythema_days"].get<double>(),
      100.0 * outcome["pih_risk"].get<double>(), 100.0 * outcome["bleeding_fraction"].get<double>(),
      out.string());
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

}  // namespace

RunResult run_scenario(Table scenario, const RunOptions& opts) {
  NullProgress quiet;
  Progress& progress = opts.progress ? *opts.progress : quiet;
  const auto t0 = std::chrono::steady_clock::now();
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  const int threads = omp_get_max_threads();
  const std::uint64_t seed = apply_seed_override(scenario, opts.seed);

  validate_semantics(scenario);
  const protocol::Course course = protocol::make_course(scenario.table("course"));
  io::OutputFolder folder =
      io::OutputFolder::open(opts.out_dir, opts.force, "mnsim run " + scenario.loc().file);
  const std::string resolved = scenario.to_toml();
  const std::uint64_t key = run_checkpoint_key(resolved);
  if (opts.resume && folder.complete_key() == key &&
      !fs::exists(run_checkpoint_path(folder.path()))) {
    // Killed after its results were complete (the installation was finished by open()).
    progress.note(fmt::format("{} holds the complete results of this run", opts.out_dir.string()));
    RunResult done;
    done.out_dir = opts.out_dir;
    done.summary = nlohmann::json::parse(
        io::read_text_file(opts.out_dir / "summary.json", std::size_t{64} << 20, "summary.json"));
    done.summary_text = summary_text(done.summary, opts.out_dir);
    return done;
  }
  std::optional<RunState> restored = open_checkpoint(opts, folder, key, progress);
  const bool resumed = restored.has_value();
  const std::string started = restored ? restored->started_utc : utc_now_iso();
  const double wall_before = restored ? restored->wall_s : 0.0;
  auto wall_now = [&] {
    return wall_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  progress.stage("tissue");
  const skin::Tissue tissue = skin::build_tissue(read_patch_spec(scenario));
  const skin::SkinPatch& patch = tissue.patch;
  const healing::ParamSet params = healing::load_default_params();
  const double tail =
      course.sessions.empty() ? course.end_time : course.end_time - course.sessions.back().time;
  const healing::EngineOptions engine_opt =
      healing::engine_options(scenario.table("numerics"), tail);
  healing::Engine engine(tissue, params.p, engine_opt);
  const devices::Rect area = devices::treatment_area(skin::read_tissue(scenario.table("tissue")));
  const devices::DeviceSpec device = devices::device_spec(scenario.table("device"));
  const devices::Technique technique = devices::Technique::from_table(scenario.table("technique"));
  const grid::Grid& g = engine.grid();
  progress.note(fmt::format("grid {} x {} x {} cells ({:.1f} M), {} fields, {:.0f} MiB", g.nx, g.ny,
                            g.nz, static_cast<double>(g.cells()) * 1e-6, engine.fields().size(),
                            static_cast<double>(2 * engine.fields().bytes()) / (1 << 20)));

  const OutputPlan plan = make_output_plan(scenario.table("output"));
  std::string punctures_csv;
  // Snapshots go to OUT/checkpoint as they are taken; fields.h5 is assembled from them at the
  // end, so a killed and resumed run neither loses nor repeats one.
  std::vector<RunState::Snapshot> snapshots;
  if (restored) snapshots = restored->snapshots;
  auto snapshot = [&](double t, const std::string& label, const grid::FieldSet& fields) {
    StoredSnapshot s;
    s.t = t;
    s.label = label;
    s.nx = g.nx;
    s.ny = g.ny;
    s.nz = g.nz;
    s.field_names = plan.fields;
    s.values = io::gather_interior(fields, plan.fields);
    io::write_checkpoint(snapshot_path(opts.out_dir, snapshots.size()), encode_snapshot(s, key));
    snapshots.push_back({t, label});
  };

  io::TimeSeries ts;
  const std::vector<healing::FieldSpec>& specs = engine.specs();
  // Largest new-dermis thickness of every column so far: matrix deposited under a scar floor stays
  // (outcomes::RemodelInput::matrix_under, docs/model.md "Scar remodelling").
  std::vector<double> col_max = engine.column_new_matrix();
  bool finished = false;  // the end of follow-up is reached: only outcomes and results remain
  auto sample = [&](double t) {
    const std::vector<double> cm = engine.column_new_matrix();
    for (std::size_t c = 0; c < cm.size(); ++c) col_max[c] = std::max(col_max[c], cm[c]);
    const healing::LayerMeans m = engine.layer_means();
    for (int l = 0; l < skin::kLayers; ++l) {
      const std::string layer(skin::layer_name(skin::layer_from_index(l)));
      for (const auto& s : specs) {
        ts.add(t, s.name, layer, m[static_cast<std::size_t>(l)][static_cast<std::size_t>(s.slot)]);
      }
    }
  };

  // Sessions: punctures from the device model, deposited into the tissue.
  nlohmann::json session_log = nlohmann::json::array();
  nlohmann::json first_stats;
  devices::Punctures first_punctures;
  double bleeding_sum = 0.0;
  std::size_t puncture_total = 0;
  double last_session = 0.0;
  bool session_ran = false;        // a session since the last checkpoint
  std::uint64_t events_total = 0;  // events scheduled (checkpoints count those that ran)
  for (const auto& s : course.sessions) {
    ++events_total;
    engine.stepper().add_event(s.time, [&, s](double t, grid::FieldSet& fields) {
      sample(t);
      session_ran = true;
      if (plan.before_sessions) {
        snapshot(t, fmt::format("before session {}", s.index + 1), fields);
      }
      const devices::StageResult st =
          devices::run_device_stage(device, technique, patch.profile(), area,
                                    session_seed(seed, static_cast<std::uint64_t>(s.index)));
      const healing::InjuryTally tally = engine.apply_session(st.punctures);
      if (s.index == 0) {
        first_stats = st.stats;
        first_punctures = st.punctures;
      }
      bleeding_sum +=
          st.stats["fraction_bleeding"].get<double>() * static_cast<double>(st.punctures.size());
      puncture_total += st.punctures.size();
      last_session = t;
      session_log.push_back({{"session", s.index + 1},
                             {"day", t / kDay},
                             {"date", s.date},
                             {"punctures", st.punctures.size()},
                             {"density_per_cm2", st.stats["density_per_cm2"]["mean"]},
                             {"depth_um_mean", st.stats["depth_um"]["mean"]},
                             {"fraction_bleeding", st.stats["fraction_bleeding"]},
                             {"lumen_volume_mm3", tally.lumen_volume * 1e9},
                             {"blood_volume_mm3", tally.blood_volume * 1e9}});
      progress.note(fmt::format("session {} of {} (day {:.0f}): {} punctures, {:.0f} um deep",
                                s.index + 1, course.sessions.size(), t / kDay, st.punctures.size(),
                                st.stats["depth_um"]["mean"].get<double>()));
      if (plan.after_sessions) {
        snapshot(t, fmt::format("after session {}", s.index + 1), fields);
      }
      // All sessions' punctures in one CSV, with the session number in front.
      const std::string csv = devices::punctures_csv(st.punctures);
      std::size_t pos = csv.find('\n');
      if (punctures_csv.empty()) punctures_csv = "session," + csv.substr(0, pos + 1);
      while (pos != std::string::npos && pos + 1 < csv.size()) {
        const std::size_t next = csv.find('\n', pos + 1);
        punctures_csv += fmt::format("{},", s.index + 1);
        punctures_csv +=
            csv.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos);
        pos = next;
      }
      sample(t);
    });
  }

  if (plan.every > 0.0) {
    for (double t = plan.every; t < course.end_time - 1e-6; t += plan.every) {
      ++events_total;
      engine.stepper().add_event(t, [&](double te, grid::FieldSet& fields) {
        snapshot(te, fmt::format("day {:.1f}", te / kDay), fields);
      });
    }
  }
  double next_sample = 0.0;
  healing::Stepper& stepper = engine.stepper();

  // Checkpoints: at the first accepted step after each session, every checkpoint_every of wall
  // time, and on a stop request; always between accepted steps, before due events run.
  const fs::path ck_file = run_checkpoint_path(opts.out_dir);
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto save_checkpoint = [&] {
    RunState s;
    s.t = stepper.time();
    s.dt = stepper.dt();
    s.stats = stepper.stats();
    s.events_done = events_total - stepper.pending_events();
    s.next_sample = next_sample;
    s.last_session = last_session;
    s.finished = finished;
    s.column_max = col_max;
    s.bleeding_sum = bleeding_sum;
    s.puncture_total = puncture_total;
    s.first_stats_json = first_stats.dump();
    s.session_log_json = session_log.dump();
    s.punctures_csv = punctures_csv;
    s.timeseries = ts.rows();
    s.snapshots = snapshots;
    s.started_utc = started;
    s.wall_s = wall_now();
    s.nx = g.nx;
    s.ny = g.ny;
    s.nz = g.nz;
    s.padded = g.padded_size();
    std::vector<std::span<const float>> views;
    for (int f = 0; f < engine.fields().size(); ++f) {
      s.field_names.push_back(engine.fields().name(f));
      views.emplace_back(engine.fields().view(f).data, g.padded_size());
    }
    const auto w0 = std::chrono::steady_clock::now();
    try {
      io::write_checkpoint(ck_file, encode_run_state(s, views, key));
    } catch (const OutputError& e) {
      throw OutputError(fmt::format("{}; the previous checkpoint is intact", e.what()));
    }
    last_checkpoint = std::chrono::steady_clock::now();
    spdlog::debug("checkpoint at simulated day {:.3f} written in {:.3f} s", s.t / kDay,
                  std::chrono::duration<double>(last_checkpoint - w0).count());
  };

  if (restored) {
    const RunState& r = *restored;
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
      (void)load_snapshot(opts.out_dir, i, key, r.snapshots[i]);
    }
    for (std::size_t f = 0; f < r.fields.size(); ++f) {
      std::memcpy(engine.fields().view(static_cast<int>(f)).data, r.fields[f].data(),
                  r.fields[f].size() * sizeof(float));
    }
    stepper.restore(r.t, r.dt, r.stats);
    stepper.discard_events(static_cast<std::size_t>(r.events_done));
    next_sample = r.next_sample;
    last_session = r.last_session;
    finished = r.finished;
    if (r.column_max.size() != col_max.size()) {
      checkpoint_mismatch(ck_file, "holds new-matrix maxima of another grid");
    }
    col_max = r.column_max;
    bleeding_sum = r.bleeding_sum;
    puncture_total = static_cast<std::size_t>(r.puncture_total);
    try {
      first_stats = nlohmann::json::parse(r.first_stats_json);
      session_log = nlohmann::json::parse(r.session_log_json);
    } catch (const nlohmann::json::exception&) {
      checkpoint_mismatch(ck_file, "holds an unreadable session log");
    }
    punctures_csv = r.punctures_csv;
    for (const auto& row : r.timeseries) ts.add(row.t, row.quantity, row.layer, row.value);
    // The first session's punctures feed the report's density map: drawn again (same seed).
    if (!first_stats.is_null() && !course.sessions.empty()) {
      first_punctures =
          devices::run_device_stage(
              device, technique, patch.profile(), area,
              session_seed(seed, static_cast<std::uint64_t>(course.sessions[0].index)))
              .punctures;
    }
    progress.note(fmt::format("resuming from the checkpoint at simulated day {:.2f} of {:.0f}",
                              r.t / kDay, course.end_time / kDay));
    restored.reset();  // the fields' copy is no longer needed
  }

  progress.stage("healing");
  stepper.set_observer([&](double t, double dt) {
    progress.advance(t, course.end_time);
    spdlog::debug("t = {:.4g} h, dt = {:.3g} s, steps {} accepted, {} rejected", t / kHour, dt,
                  stepper.stats().accepted, stepper.stats().rejected);
    if (t + 1e-9 >= next_sample) {
      sample(t);
      const double since = t - last_session;
      next_sample = t + (since < kDay ? kHour : (since < 7 * kDay ? 6 * kHour : kDay));
    }
    const int sig = opts.stop ? opts.stop->requested() : 0;
    const bool due =
        opts.checkpoint_every > 0.0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint).count() >=
            opts.checkpoint_every;
    if (sig != 0 || session_ran || due) {
      save_checkpoint();
      session_ran = false;
    }
    if (sig != 0) {
      throw Interrupted(sig, fmt::format("stopped at simulated day {:.2f} of {:.0f}; checkpoint "
                                         "saved in {}",
                                         t / kDay, course.end_time / kDay,
                                         checkpoint_dir(opts.out_dir).string()));
    }
  });
  if (!resumed) sample(0.0);
  if (!finished) {
    stepper.advance_to(course.end_time);
    sample(course.end_time);
    if (plan.end) snapshot(course.end_time, "end of follow-up", engine.fields());
    // What remains is quick to redo: a run killed while it writes its results, or stopped by
    // a full disk there, resumes from here.
    finished = true;
    save_checkpoint();
  }
  progress.advance(course.end_time, course.end_time);
  // Results are written into the folder's staging area and committed together at the end; a
  // failed write leaves the checkpoint (taken at the end of follow-up) and earlier results.
  const fs::path stage = folder.staging();
  auto stage_result = [&](const auto& write) {
    try {
      write();
    } catch (const OutputError& e) {
      throw OutputError(fmt::format(
          "{}; the checkpoint and any earlier results in {} are intact: resume with --resume {} "
          "once the cause is fixed",
          e.what(), opts.out_dir.string(), opts.out_dir.string()));
    }
    io::output_test_pause();
  };

  // Outcomes.
  const healing::LayerMeans end = engine.layer_means();
  const auto& base = engine.baselines();
  auto pct = [](double now, double before) {
    return before > 0 ? 100.0 * (now / before - 1.0) : 0.0;
  };
  const std::size_t pap = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const std::size_t ret = static_cast<std::size_t>(skin::layer_index(skin::Layer::ReticularDermis));
  const std::size_t ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
  const healing::Model& model = engine.model();
  const auto c1 = static_cast<std::size_t>(model.slot("collagen1"));
  const auto c3 = static_cast<std::size_t>(model.slot("collagen3"));
  const auto el = static_cast<std::size_t>(model.slot("elastin"));
  const auto eh = static_cast<std::size_t>(model.slot("epidermal_thickness"));
  auto collagen = [&](std::size_t l) { return end[l][c1] + end[l][c3]; };
  nlohmann::json outcome;
  outcome["collagen_change_pct"] = {
      {"papillary", pct(collagen(pap), base[pap].collagen1 + base[pap].collagen3)},
      {"reticular", pct(collagen(ret), base[ret].collagen1 + base[ret].collagen3)}};
  outcome["elastin_change_pct"] =
      pct(0.5 * (end[pap][el] + end[ret][el]), 0.5 * (base[pap].elastin + base[ret].elastin));
  outcome["epidermal_thickness_change_pct"] = 100.0 * (end[ve][eh] - 1.0);
  outcome["bleeding_fraction"] =
      puncture_total > 0 ? bleeding_sum / static_cast<double>(puncture_total) : 0.0;

  // Scars: new matrix under each scar (3D columns) raises its floor (outcomes/scar_remodel).
  const outcomes::OutcomeParams& op = outcomes::default_outcome_params();
  const outcomes::GradingRules grading =
      outcomes::load_grading_rules(protocol::default_grading_path());
  const std::vector<double> col = engine.column_new_matrix();
  const double density_mean = course.sessions.empty()
                                  ? 0.0
                                  : static_cast<double>(puncture_total) /
                                        static_cast<double>(course.sessions.size()) / area.area();
  const double depth_mean =
      first_stats.is_null() ? 0.0 : first_stats["depth_um"]["mean"].get<double>() * 1e-6;
  const double epi = patch.profile().top_of(skin::Layer::PapillaryDermis);
  // The wound of one needle: its track after elastic recoil (healing::apply_puncture).
  double wound_radius = op.channel_radius;
  if (!first_punctures.empty()) {
    double sum = 0.0;
    for (const auto& pu : first_punctures) sum += pu.radius;
    wound_radius = params.p.channel_recoil * sum / static_cast<double>(first_punctures.size());
  }
  nlohmann::json scars = nlohmann::json::array();
  std::vector<outcomes::ScarState> gb_before, gb_after;
  std::vector<report::ScarProfile> profiles;
  int scar_index = 0;
  for (const auto& l : patch.lesions()) {
    const outcomes::ScarGeometry geo = outcomes::scar_geometry(*l);
    const lesions::Box b = l->bounds();
    const double grow = 0.5 * std::max(b.x1 - b.x0, b.y1 - b.y0);
    double under = 0, around = 0;
    int n_under = 0, n_around = 0;
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const double x = g.xc(i), y = g.yc(j);
        const std::size_t c = static_cast<std::size_t>(i + j * g.nx);
        const double gain = col[c];
        if (l->depression(x, y) > 0.0) {
          under += std::max(col_max[c], col[c]);
          ++n_under;
        } else if (x > b.x0 - grow && x < b.x1 + grow && y > b.y0 - grow && y < b.y1 + grow &&
                   patch.surface_depth(x, y) <= 0.0) {
          around += gain;
          ++n_around;
        }
      }
    outcomes::RemodelInput in;
    in.matrix_under = n_under > 0 ? under / n_under : 0.0;
    in.matrix_around = n_around > 0 ? around / n_around : 0.0;
    in.tether_release = outcomes::tether_release_fraction(
        density_mean, wound_radius, static_cast<int>(course.sessions.size()), depth_mean > epi);
    const outcomes::RemodelResult r = outcomes::remodel_scar(op, geo, in);
    const std::string& kind = geo.kind;  // graded as its kind says (lesions/registry.hpp)
    gb_before.push_back({kind, r.depth_before, geo.width});
    gb_after.push_back({kind, r.depth_after, geo.width});
    scars.push_back({{"type", geo.kind},
                     {"description", l->describe()},
                     {"depth_um_before", r.depth_before * 1e6},
                     {"depth_um_after", r.depth_after * 1e6},
                     {"volume_mm3_before", r.volume_before * 1e9},
                     {"volume_mm3_after", r.volume_after * 1e9},
                     {"new_matrix_under_um", in.matrix_under * 1e6},
                     {"new_matrix_around_um", in.matrix_around * 1e6},
                     {"tether_release_fraction", in.tether_release}});
    // Profile across the centre, before and after (same shape scaled by the depth ratio, as the
    // remodelling link assumes).
    report::ScarProfile pr;
    pr.kind = geo.kind;
    pr.label = fmt::format("{} #{}", geo.kind, ++scar_index);
    const double yc = 0.5 * (b.y0 + b.y1);
    const double ratio = r.depth_before > 0 ? r.depth_after / r.depth_before : 0.0;
    for (int q = 0; q <= 80; ++q) {
      const double x = b.x0 - grow + (b.x1 - b.x0 + 2 * grow) * q / 80.0;
      const double d = l->depression(x, yc);
      pr.x_mm.push_back(x * 1e3);
      pr.before_um.push_back(d * 1e6);
      pr.after_um.push_back(d * ratio * 1e6);
    }
    profiles.push_back(std::move(pr));
  }
  outcome["scars"] = scars;
  outcome["goodman_baron"] = {
      {"qualitative_before", outcomes::qualitative_grade(gb_before, grading)},
      {"qualitative_after", outcomes::qualitative_grade(gb_after, grading)},
      {"quantitative_before", outcomes::quantitative_score(gb_before, grading)},
      {"quantitative_after", outcomes::quantitative_score(gb_after, grading)}};

  // Barrier, erythema and pigmentation are properties of single channels (sub-voxel): they come
  // from the per-channel and column models of the same equations (protocol/reduced.hpp), fed
  // with what the device delivered in this run.
  const protocol::ScenarioPrediction side = protocol::predict_scenario(
      read_patch_spec(scenario), course, depth_mean, density_mean, wound_radius);
  outcome["barrier_recovery_hours"] = side.outcome.barrier_hours;
  outcome["erythema_days"] = side.outcome.erythema_days;
  outcome["pih_risk"] = side.outcome.pih_risk;
  outcome["reduced_model"] = {{"collagen_change_pct_papillary", side.collagen_change_pct},
                              {"scar_depth_reduction_pct", side.scar_depth_reduction_pct}};
  for (const auto& sc : scars) {
    ts.add(0.0, "scar_depth_um", sc["type"].get<std::string>(),
           sc["depth_um_before"].get<double>());
    ts.add(course.end_time, "scar_depth_um", sc["type"].get<std::string>(),
           sc["depth_um_after"].get<double>());
  }

  // The report: what a person looks at.
  {
    progress.stage("report");
    report::ReportData rd;
    rd.title = scenario.has("title") ? scenario.str("title") : std::string("mnsim run");
    const skin::PatientSpec pt = skin::read_patient(scenario.table("patient"));
    rd.scenario_in_words.push_back(fmt::format(
        "Patient: {}, {:.0f} years, Fitzpatrick type {}; treated site: {}.",
        pt.sex == skin::Sex::Female ? "woman" : "man", pt.age_years, pt.fitzpatrick, pt.site));
    rd.scenario_in_words.push_back(fmt::format(
        "Simulated patch {:.1f} mm x {:.1f} mm down to {:.2f} mm, {} voxels; {} lesion(s).",
        g.width() * 1e3, g.length() * 1e3, g.depth() * 1e3, g.cells(), patch.lesions().size()));
    if (!first_stats.is_null()) {
      rd.scenario_in_words.push_back(fmt::format(
          "Device: {}. Per session {:.0f} punctures/cm^2, depth reached {:.0f} um on average, "
          "{:.0f} % of punctures bleeding.",
          first_stats["device"]["description"].get<std::string>(), density_mean * 1e-4,
          depth_mean * 1e6, 100.0 * outcome["bleeding_fraction"].get<double>()));
    }
    rd.scenario_in_words.push_back(fmt::format(
        "Course: {} session(s), {:.0f} days apart; followed to day {:.0f}.", course.sessions.size(),
        course.sessions.size() > 1 ? (course.sessions[1].time - course.sessions[0].time) / kDay
                                   : 0.0,
        course.end_time / kDay));
    if (scenario.has("notes")) rd.scenario_in_words.push_back(scenario.str("notes"));
    rd.scenario_toml = resolved;
    rd.run_metadata = run_metadata(seed, threads, started, wall_now()).dump(2);
    if (!first_punctures.empty()) {
      const devices::DensityMap dm = devices::density_map(first_punctures, area, 1e-3);
      rd.puncture_density.nx = dm.nx;
      rd.puncture_density.ny = dm.ny;
      rd.puncture_density.x0 = area.x0 * 1e3;
      rd.puncture_density.y0 = area.y0 * 1e3;
      rd.puncture_density.dx = rd.puncture_density.dy = 1.0;
      rd.puncture_density.x_label = "x (mm)";
      rd.puncture_density.y_label = "y (mm)";
      rd.puncture_density.value_label = "punctures per cm^2 (session 1)";
      for (int iy = 0; iy < dm.ny; ++iy)
        for (int ix = 0; ix < dm.nx; ++ix)
          rd.puncture_density.v.push_back(static_cast<float>(dm.density(ix, iy) * 1e-4));
      for (const auto& e : first_stats["depth_um"]["histogram_edges"])
        rd.depth_edges_um.push_back(e.get<double>());
      for (const auto& c : first_stats["depth_um"]["histogram_counts"])
        rd.depth_counts.push_back(c.get<double>());
    }
    const std::vector<std::pair<std::string, std::string>> shown = {{"inflammatory_signal", "1"},
                                                                    {"macrophages", "1"},
                                                                    {"fibroblasts", "cells/mm^3"},
                                                                    {"collagen3", "mg/mL"},
                                                                    {"collagen1", "mg/mL"},
                                                                    {"elastin", "mg/mL"},
                                                                    {"vascular", "1"}};
    for (const auto& [q, unit] : shown) {
      for (const char* layer : {"papillary_dermis", "reticular_dermis"}) {
        report::Series se;
        se.quantity = q;
        se.layer = layer;
        se.unit = unit;
        for (const auto& [t, v] : ts.series(q, layer)) {
          se.t_days.push_back(t / kDay);
          se.value.push_back(v);
        }
        rd.series.push_back(std::move(se));
      }
    }
    for (const auto& s : course.sessions) rd.session_days.push_back(s.time / kDay);
    // Cross-section through the middle of the patch: collagen I + III, tissue composition
    // before; the same plus the healing response after.
    const int jm = g.ny / 2;
    auto section = [&](bool after) {
      report::Map2D m;
      m.nx = g.nx;
      m.ny = g.nz;
      m.x0 = 0.0;
      m.dx = g.dx * 1e3;
      m.x_label = "x (mm)";
      m.y_label = "depth (um)";
      m.value_label = "collagen I + III (mg/mL)";
      m.y_down = true;
      // Non-uniform z: resample on a uniform depth grid of the finest spacing used for display.
      const int rows = 120;
      m.ny = rows;
      m.y0 = 0.0;
      m.dy = g.depth() * 1e6 / rows;
      const grid::ConstFieldView c1 = tissue.fields.view(skin::field::kCollagen1);
      const grid::ConstFieldView c3 = tissue.fields.view(skin::field::kCollagen3);
      const grid::ConstFieldView h1 = engine.fields().view("collagen1");
      const grid::ConstFieldView h3 = engine.fields().view("collagen3");
      for (int r = 0; r < rows; ++r) {
        const int k = g.k_of_depth((r + 0.5) * g.depth() / rows);
        for (int i = 0; i < g.nx; ++i) {
          const int l = engine.layer_of()[static_cast<std::size_t>(g.at(i, jm, k))];
          double v = l == 0 ? 0.0 : static_cast<double>(c1(i, jm, k)) + c3(i, jm, k);
          if (after && l > 0) {
            // The healing response relative to the layer's baseline, applied to the local
            // (possibly scarred) composition.
            const auto& b = base[static_cast<std::size_t>(l - 1)];
            const double b13 = b.collagen1 + b.collagen3;
            if (b13 > 0) v *= (static_cast<double>(h1(i, jm, k)) + h3(i, jm, k)) / b13;
          }
          m.v.push_back(l == 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(v));
        }
      }
      return m;
    };
    rd.cross_section_before = section(false);
    rd.cross_section_after = section(true);
    rd.scars = profiles;
    const auto& gb = outcome["goodman_baron"];
    auto num = [](double v, int digits) { return fmt::format("{:.{}f}", v, digits); };
    rd.outcomes = {
        {"Goodman & Baron quantitative score",
         fmt::format("{}", gb["quantitative_before"].get<int>()),
         fmt::format("{}", gb["quantitative_after"].get<int>()), "lower is better"},
        {"Goodman & Baron qualitative grade",
         fmt::format("{}", gb["qualitative_before"].get<int>()),
         fmt::format("{}", gb["qualitative_after"].get<int>()), "1 macular .. 4 severe"},
        {"Papillary-dermis collagen change", "",
         num(outcome["collagen_change_pct"]["papillary"].get<double>(), 1) + " %", "3D engine"},
        {"Reticular-dermis collagen change", "",
         num(outcome["collagen_change_pct"]["reticular"].get<double>(), 1) + " %", "3D engine"},
        {"Elastin change", "", num(outcome["elastin_change_pct"].get<double>(), 1) + " %", ""},
        {"Epidermal thickness change", "",
         num(outcome["epidermal_thickness_change_pct"].get<double>(), 1) + " %", ""},
        {"Barrier recovery", "", num(outcome["barrier_recovery_hours"].get<double>(), 1) + " h",
         "per session"},
        {"Erythema (downtime)", "", num(outcome["erythema_days"].get<double>(), 1) + " days",
         "per session"},
        {"Post-inflammatory hyperpigmentation risk", "",
         num(100.0 * outcome["pih_risk"].get<double>(), 1) + " %", ""},
        {"Punctures that bled", "",
         num(100.0 * outcome["bleeding_fraction"].get<double>(), 0) + " %",
         "pinpoint bleeding endpoint"}};
    for (const auto& sc : scars) {
      rd.outcomes.push_back({fmt::format("Scar depth: {}", sc["type"].get<std::string>()),
                             num(sc["depth_um_before"].get<double>(), 0) + " um",
                             num(sc["depth_um_after"].get<double>(), 0) + " um", ""});
    }
    if (!course.start_date.empty()) {
      for (const auto& s : course.sessions) {
        rd.calendar.push_back(
            {s.index + 1, s.date, s.time / kDay, fmt::format("session {}", s.index + 1)});
      }
      rd.calendar.push_back(
          {0, protocol::add_days(course.start_date, std::lround(course.end_time / kDay)),
           course.end_time / kDay, "end of follow-up: outcome assessed"});
    }
    stage_result([&] { report::write_report(rd, stage); });
  }

  const double wall = wall_now();
  stage_result([&] {
    io::FieldsWriter h5(stage / "fields.h5", g, plan.fields);
    h5.attribute("mnsim_scenario", resolved);
    for (std::size_t i = 0; i < snapshots.size(); ++i) {
      const StoredSnapshot s = load_snapshot(opts.out_dir, i, key, snapshots[i]);
      if (s.field_names != plan.fields || s.nx != g.nx || s.ny != g.ny || s.nz != g.nz) {
        checkpoint_mismatch(snapshot_path(opts.out_dir, i), "holds another grid or other fields");
      }
      h5.snapshot_values(s.t, s.label, s.values);
    }
    h5.attribute("mnsim_run", run_metadata(seed, threads, started, wall).dump());
    h5.close();
  });
  stage_result([&] { ts.write_csv(stage / "timeseries.csv"); });
  stage_result([&] { io::write_file_atomic(stage / "punctures.csv", punctures_csv); });

  RunResult res;
  res.out_dir = opts.out_dir;
  res.summary = {{"schema_version", 1},
                 {"run", run_metadata(seed, threads, started, wall)},
                 {"scenario", scenario.to_json()},
                 {"sessions", session_log},
                 {"punctures_first_session", first_stats},
                 {"numerics",
                  {{"max_step_s", engine_opt.dt_max},
                   {"steps_accepted", engine.stepper().stats().accepted},
                   {"steps_rejected", engine.stepper().stats().rejected},
                   {"dt_smallest_s", engine.stepper().stats().dt_smallest},
                   {"dt_largest_s", engine.stepper().stats().dt_largest}}},
                 {"outcome", outcome}};
  stage_result([&] {
    io::write_file_atomic(stage / "scenario.resolved.toml",
                          fmt::format("# mnsim {} ({}) resolved scenario, seed {}, started {}\n{}",
                                      version(), git_commit(), seed, started, resolved));
  });
  stage_result([&] { io::write_file_atomic(stage / "summary.json", res.summary.dump(2) + "\n"); });
  // Every result is staged: they replace the folder's earlier results in one commit (the
  // summary first, the report last), and the checkpoint has served.
  folder.commit({"summary.json", "scenario.resolved.toml", "timeseries.csv", "punctures.csv",
                 "fields.h5", "fields.xmf", "figures", "report.html"},
                key);
  res.summary_text = summary_text(res.summary, opts.out_dir);
  return res;
}
}  // namespace mnsim
