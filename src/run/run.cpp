#include "run/run.hpp"

#include "core/constants.hpp"
#include "core/phase_clock.hpp"
#include "run/applications.hpp"
#include "run/assess.hpp"
#include "run/bands.hpp"
#include "run/checkpoint.hpp"
#include "run/course_runner.hpp"
#include "run/output.hpp"
#include "run/record.hpp"
#include "run/report_data.hpp"
#include "run/resources.hpp"
#include "run/run_state.hpp"
#include "run/specs.hpp"
#include "run/summary.hpp"
#include "run/writers.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

#include "core/rng.hpp"
#include "core/version.hpp"
#include "devices/device.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "healing/options.hpp"
#include "healing/substances.hpp"
#include "io/fields_h5.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/timeseries.hpp"
#include "lesions/factory.hpp"
#include "outcomes/goodman_baron.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/course.hpp"
#include "protocol/reduced.hpp"
#include "report/report.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

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
  const skin::PatchSpec patch_spec = read_patch_spec(scenario);
  const skin::SkinPatch patch = skin::make_patch(patch_spec);
  // Every lesion has an id of its own (InputError at a [[lesions]] id another lesion has).
  lesions::lesion_ids(patch_spec.lesions, patch.lesions());
  // The face inventory lists at least one scar.
  read_face_spec(scenario);
  // The topical applications (agents, sessions, concentrations; docs/substances.md).
  healing::read_applications(scenario, static_cast<int>(course.sessions.size()));
  // Resources, refused up front: the memory the 3D engine would need, against the limits that
  // apply to this process (docs/reliability.md, "Memory").
  const Table& t = scenario.table("tissue");
  const skin::GridDims d =
      skin::grid_dims(patch, t.quantity("resolution"), static_cast<int>(t.integer("z_min_cells")));
  const OutputPlan plan = make_output_plan(scenario.table("output"), course);
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

namespace fs = std::filesystem;

namespace {

// The time per phase of a run (--log-level debug; docs/numerics.md, "Where the default course's
// time goes"): wall and process CPU seconds (all threads). The course's engine steps are the
// course less what its events and observer did (sessions, samples, snapshots, checkpoints).
void log_phase_times(const healing::Stepper& stepper, const CourseTimes& ct,
                     const PhaseTime& course,
                     std::initializer_list<std::pair<const char*, PhaseTime>> after) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const healing::StepTimes& st = stepper.times();
  PhaseTime steps = course;
  for (const PhaseTime* p : {&ct.sessions, &ct.samples, &ct.snapshots, &ct.checkpoints}) {
    steps.wall -= p->wall;
    steps.cpu -= p->cpu;
  }
  PhaseTime other = steps;
  for (const PhaseTime* p : {&st.reaction, &st.transport, &st.checks, &st.copies}) {
    other.wall -= p->wall;
    other.cpu -= p->cpu;
  }
  std::string text = fmt::format(
      "time per phase (wall s, CPU s of all threads, calls); {} steps accepted, {} rejected, "
      "{} solves, {} measured by step doubling",
      stepper.stats().accepted, stepper.stats().rejected, st.solves, st.measured);
  auto line = [&](const char* name, const PhaseTime& p) {
    text += fmt::format("\n  {:<32} {:8.2f} {:8.2f} {:8}", name, p.wall, p.cpu, p.calls);
  };
  line("course", course);
  line("  engine steps", steps);
  line("    reactions", st.reaction);
  line("    transport", st.transport);
  line("    health checks, error", st.checks);
  line("    copies (backup, restore)", st.copies);
  line("    rest of the stepper", other);
  line("  sessions (punctures)", ct.sessions);
  line("  samples (layer means, scars)", ct.samples);
  line("  snapshots", ct.snapshots);
  line("  checkpoints", ct.checkpoints);
  for (const auto& [name, p] : after) line(name, p);
  spdlog::debug("{}", text);
}

}  // namespace

RunResult run_scenario(Table scenario, const RunOptions& opts) {
  NullProgress quiet;
  Progress& progress = opts.progress ? *opts.progress : quiet;
  const auto t0 = std::chrono::steady_clock::now();
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  const int threads = omp_get_max_threads();
  RunResult res;
  res.out_dir = opts.out_dir;

  // 1. Resolve: the seed in force, every cross-key check and the memory estimate, each
  //    section's typed spec; the output folder (locked) and the run's key.
  const std::uint64_t seed = apply_seed_override(scenario, opts.seed);
  validate_semantics(scenario);
  const ScenarioSpecs specs = read_specs(scenario);
  const protocol::Course& course = specs.course;
  io::OutputFolder folder =
      io::OutputFolder::open(opts.out_dir, opts.force, "mnsim run " + scenario.loc().file);
  const std::string resolved = scenario.to_toml();
  const std::uint64_t key = run_checkpoint_key(resolved);
  if (opts.resume && folder.complete_key() == key &&
      !fs::exists(run_checkpoint_path(folder.path()))) {
    // Killed after its results were complete (the installation was finished by open()).
    progress.note(fmt::format("{} holds the complete results of this run", opts.out_dir.string()));
    res.summary = nlohmann::json::parse(
        io::read_text_file(opts.out_dir / "summary.json", std::size_t{64} << 20, "summary.json"));
    res.summary_text = summary_text(res.summary, opts.out_dir);
    return res;
  }
  std::optional<RunState> restored =
      open_checkpoint(opts.resume, opts.force, folder, key, progress);
  const bool resumed = restored.has_value();
  const std::string started = restored ? restored->started_utc : utc_now_iso();
  const double wall_before = restored ? restored->wall_s : 0.0;
  auto wall_now = [&] {
    return wall_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  // 2. Tissue: the voxel skin with its lesions, the healing engine on it, the treatment area.
  progress.stage("tissue");
  const skin::Tissue tissue = skin::build_tissue(specs.patch);
  const healing::ParamSet params = healing::load_default_params();
  // Topical applications: their agents' fields and processes join the healing model.
  ApplicationDriver applications(
      healing::read_applications(scenario, static_cast<int>(course.sessions.size())),
      healing::SubstanceData::defaults(), params.p, tissue.patch.profile());
  const healing::Model model = applications.model(tissue.grid().dx);
  healing::Engine engine(tissue, params.p, specs.engine, model);
  applications.attach(engine);
  const devices::Rect area = devices::treatment_area(specs.patch.tissue);
  const grid::Grid& g = engine.grid();
  progress.note(fmt::format("grid {} x {} x {} cells ({:.1f} M), {} fields, {:.0f} MiB", g.nx, g.ny,
                            g.nz, static_cast<double>(g.cells()) * 1e-6, engine.fields().size(),
                            static_cast<double>(2 * engine.fields().bytes()) / (1 << 20)));
  const OutputPlan& plan = specs.output;
  const std::vector<std::string> ids =
      lesions::lesion_ids(specs.patch.lesions, tissue.patch.lesions());

  // 3. The course: each session's device stage and engine session, the engine advanced to the
  //    next event, checkpoints along the way (or continued from one).
  RunRecord rec;
  CourseRunner runner(
      engine,
      CourseInputs{course, plan, specs.device, specs.technique, tissue.patch.profile(), area, seed,
                   tissue.patch, params.p, &applications},
      CourseCheckpoints{opts.out_dir, key, started, wall_now, opts.checkpoint_every, opts.stop},
      rec, progress);
  if (restored) {
    runner.restore(*restored);
    restored.reset();  // the fields' copy is no longer needed
  }
  progress.stage("healing");
  PhaseTime course_time, assess_time, bands_time, report_time, write_time;
  {
    const PhaseClock clock(course_time);
    runner.run(resumed);
  }

  // 4. Assess: the outcome at the end of follow-up.
  std::optional<PhaseClock> assess_clock(std::in_place, assess_time);
  Outcome outcome =
      assess(engine, tissue.patch, rec, course, area, params.p, specs.patch, ids, specs.face);
  assess_clock.reset();
  if (plan.band_draws > 0) {
    // The predictive bands around the point prediction (reduced model, run/bands.hpp).
    const PhaseClock clock(bands_time);
    outcome.bands = run_bands(outcome, specs.patch, course, plan.band_draws, seed, threads);
    progress.note(fmt::format("predictive bands: {} reduced-model evaluations, {:.2f} s of CPU",
                              outcome.bands->evaluations, outcome.bands->cpu_seconds));
  }
  if (const std::string w = safety_warning(outcome, specs.patch.patient.site); !w.empty()) {
    spdlog::warn("warning: {}", w);
  }

  // 5. Report data: what a person looks at.
  progress.stage("report");
  std::optional<PhaseClock> report_clock(std::in_place, report_time);
  ReportText text;
  text.title = scenario.has("title") ? scenario.str("title") : std::string("mnsim run");
  if (scenario.has("notes")) text.notes = scenario.str("notes");
  text.patient = specs.patch.patient;
  text.scenario_toml = resolved;
  text.run_metadata = run_metadata(seed, threads, started, wall_now()).dump(2);
  report::ReportData rd = plan.report
                              ? make_report_data(text, tissue, engine, rec, outcome, course, area)
                              : report::ReportData{};
  if (plan.report) {
    for (auto& row : applications.report_rows()) rd.outcomes.push_back(std::move(row));
  }

  report_clock.reset();

  // 6. Writers: every result staged, then committed in one step.
  std::optional<PhaseClock> write_clock(std::in_place, write_time);
  const nlohmann::json meta = run_metadata(seed, threads, started, wall_now());
  res.summary = summary_json(meta, scenario.to_json(), rec, specs.engine, engine.stepper().stats(),
                             outcome, result_entries(plan));
  if (!applications.empty()) res.summary["substances"] = applications.summary();
  write_results(
      folder,
      RunResults{rd, res.summary, outcome, rec, g, tissue, plan, opts.out_dir, key, resolved,
                 fmt::format("# mnsim {} ({}) resolved scenario, seed {}, started {}", version(),
                             git_commit(), seed, started),
                 meta.dump()});
  write_clock.reset();
  log_phase_times(engine.stepper(), runner.times(), course_time,
                  {{"assessment", assess_time},
                   {"predictive bands", bands_time},
                   {"report data", report_time},
                   {"results written", write_time}});
  res.summary_text = summary_text(res.summary, opts.out_dir);
  return res;
}
}  // namespace mnsim
