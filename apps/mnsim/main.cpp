// mnsim command-line driver: parses flags, calls libmnsim, maps errors to exit codes.
// Exit codes: 0 success, 1 internal/numerical/output failure, 2 bad input (one-line error).
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <new>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include "catalog/catalog.hpp"
#include "catalog/references.hpp"
#include "core/command_line.hpp"
#include "core/error.hpp"
#include "core/openmp_wait.hpp"
#include "core/progress.hpp"
#include "core/ranks.hpp"
#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "core/stages.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/files.hpp"
#include "io/shards.hpp"
#include "io/state.hpp"
#include "io/toml_file.hpp"
#include "protocol/calibration.hpp"
#include "protocol/cohort.hpp"
#include "protocol/dose_response.hpp"
#include "protocol/plan.hpp"
#include "protocol/sensitivity.hpp"
#include "protocol/validate.hpp"
#include "report/plan_page.hpp"
#include "run/calibration.hpp"
#include "run/punctures.hpp"
#include "run/run.hpp"
#include "run/scenario_schema.hpp"
#include "run/sensitivity.hpp"
#include "run/sweep.hpp"
#include "serve/server.hpp"
#include "skin/tissue.hpp"

namespace {

// The only process-wide state: set by the signal handlers, read by the run loop.
mnsim::StopToken g_stop;

extern "C" void on_stop_signal(int sig) {
  g_stop.request(sig);
}

using Clock = std::chrono::steady_clock;

std::string fmt_duration(double s) {
  if (s < 0) s = 0;
  const long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

std::string fmt_sim_time(double s) {
  if (s >= 86400.0) return fmt::format("{:.1f} d", s / 86400.0);
  if (s >= 3600.0) return fmt::format("{:.1f} h", s / 3600.0);
  return fmt::format("{:.0f} s", s);
}

/// A progress bar with simulated time and ETA, redrawn in place on a terminal.
class TerminalProgress final : public mnsim::Progress {
 public:
  void stage(std::string_view name) override {
    finish_line();
    stage_ = std::string(name);
    start_ = Clock::now();
  }
  void advance(double t, double total) override {
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(100) && t < total) return;
    last_ = now;
    const double frac = total > 0 ? std::min(1.0, t / total) : 1.0;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = frac > 1e-6 ? elapsed * (1.0 - frac) / frac : 0.0;
    const int width = 30;
    const int fill = static_cast<int>(frac * width);
    std::fprintf(stdout, "\r%-9s [%s%s] %3d%%  t = %s / %s  ETA %s   ", stage_.c_str(),
                 std::string(static_cast<std::size_t>(fill), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - fill), '.').c_str(),
                 static_cast<int>(frac * 100), fmt_sim_time(t).c_str(), fmt_sim_time(total).c_str(),
                 fmt_duration(eta).c_str());
    std::fflush(stdout);
    drawn_ = true;
  }
  void note(std::string_view text) override {
    finish_line();
    std::fprintf(stdout, "%.*s\n", static_cast<int>(text.size()), text.data());
  }
  ~TerminalProgress() override { finish_line(); }

 private:
  void finish_line() {
    if (drawn_) std::fputc('\n', stdout);
    drawn_ = false;
  }
  std::string stage_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
  bool drawn_ = false;
};

/// Plain log lines (not a terminal): one per stage, note, and each 10% of simulated time.
class LogProgress final : public mnsim::Progress {
 public:
  void stage(std::string_view name) override {
    stage_ = std::string(name);
    next_ = 0.1;
    spdlog::info("stage: {}", name);
  }
  void advance(double t, double total) override {
    const double frac = total > 0 ? t / total : 1.0;
    if (frac + 1e-12 < next_) return;
    while (next_ <= frac + 1e-12) next_ += 0.1;
    spdlog::info("{}: {:3.0f}%  t = {} / {}", stage_, std::min(1.0, frac) * 100, fmt_sim_time(t),
                 fmt_sim_time(total));
  }
  void note(std::string_view text) override { spdlog::info("{}", text); }

 private:
  std::string stage_;
  double next_ = 0.1;
};

int fail_input(const mnsim::InputError& e) {
  std::fprintf(stderr, "error: %s\n", e.line().c_str());
  return 2;
}

/// One error line on standard error, made printable (no raw bytes of a hostile input).
void print_error(const std::string& text) {
  std::fprintf(stderr, "error: %s\n", mnsim::printable(text).c_str());
}

struct Flags {
  std::string scenario;
  std::string out;
  int threads = 0;                    // --threads, once parsed (0: the default)
  std::string threads_text;           // --threads as given
  std::optional<std::uint64_t> seed;  // --seed, once parsed (parse_seed_option)
  std::string seed_text;              // --seed as given
  bool quiet = false;
  bool force = false;
  std::string log_level = "info";
  std::string topic;
  bool bibtex = false;  // catalog: the bibliography of the data files as BibTeX
  std::string file;
  std::string resume;                      // run: the folder of the run to continue
  std::string checkpoint_every = "5 min";  // run: wall time between checkpoints
  std::string csv;         // dose-response, plan: the CSV of every grid point / protocol
  std::string json;        // plan: every protocol as JSON
  std::string html;        // plan: the printable page
  std::string start_date;  // plan: --start-date as given
  bool progress = false;   // plan: progress lines on stderr even when it is not a terminal
  int export_rank = 0;     // plan: print ranked protocol N as a scenario (0: the table)
  std::string shard_text;  // cohort: --shard i/N as given
  int shard = 0, shards = 0;
  std::vector<std::string> shard_dirs;     // merge: the shards' folders
  std::string state;                       // plan, calibrate, merge: --state DIR
  std::string jobs_text;                   // sweep: --jobs as given
  int jobs = 1;                            // sweep: points run at once
  std::vector<std::string> set_text;       // --set KEY=VALUE as given
  std::vector<mnsim::Override> overrides;  // --set, once parsed
  bool no_bands = false;                   // run, cohort, merge, plan: --no-bands
  std::string host = "127.0.0.1";          // serve: address to listen on
  std::string port_text = "8080";          // serve: --port as given
  std::string time_limit_text = "120";     // serve: --time-limit as given (s)
};

/// --checkpoint-every: a time with its unit ("5 min", "30 s"); "0 s" turns interval checkpoints
/// off. Throws InputError at the flag.
double parse_checkpoint_every(const std::string& text) {
  const mnsim::ParsedQuantity q = mnsim::parse_quantity(text, mnsim::Dim::Time);
  if (!q.ok()) {
    throw mnsim::InputError({"command line", 0, 0}, "--checkpoint-every", q.error,
                            "a wall time with its unit, such as \"5 min\"");
  }
  if (!(q.si >= 0.0)) {
    throw mnsim::InputError({"command line", 0, 0}, "--checkpoint-every",
                            fmt::format("'{}' is negative", text), "a wall time of 0 s or more");
  }
  return q.si;
}

/// The output folder of `run` or `cohort`: --out, or results/<input stem>; --resume DIR continues
/// DIR and may not name another folder with --out. `what` names the output in the message.
std::filesystem::path output_folder(const Flags& f, const std::string& input, const char* what,
                                    bool& resume) {
  resume = !f.resume.empty();
  if (!resume) {
    return f.out.empty() ? std::filesystem::path("results") / std::filesystem::path(input).stem()
                         : std::filesystem::path(f.out);
  }
  if (!f.out.empty() && std::filesystem::path(f.out) != std::filesystem::path(f.resume)) {
    throw mnsim::InputError(
        {"command line", 0, 0}, "--resume",
        fmt::format("continues '{}' but --out names '{}'", f.resume, f.out),
        fmt::format("--resume DIR alone (DIR is the output folder of the {})", what));
  }
  return f.resume;
}

int cmd_run(const Flags& f) {
  const double checkpoint_every = parse_checkpoint_every(f.checkpoint_every);
  mnsim::Table sc = mnsim::load_scenario(f.scenario, f.overrides);
  std::unique_ptr<mnsim::Progress> progress;
  if (f.quiet) {
    progress = std::make_unique<mnsim::NullProgress>();
  } else if (isatty(fileno(stdout))) {
    progress = std::make_unique<TerminalProgress>();
  } else {
    progress = std::make_unique<LogProgress>();
  }
  mnsim::RunOptions opt;
  opt.out_dir = output_folder(f, f.scenario, "run", opt.resume);
  opt.checkpoint_every = checkpoint_every;
  opt.threads = f.threads;
  opt.seed = f.seed;
  opt.force = f.force;
  opt.progress = progress.get();
  opt.stop = &g_stop;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  try {
    const mnsim::RunResult r = mnsim::run_scenario(std::move(sc), opt);
    progress.reset();
    std::fprintf(stdout, "%s\n", r.summary_text.c_str());
  } catch (const mnsim::Interrupted& e) {
    progress.reset();
    std::string again = "mnsim run " + f.scenario + " --resume " + opt.out_dir.string();
    if (f.seed) again += fmt::format(" --seed {}", *f.seed);
    for (const auto& o : f.set_text) again += " --set '" + o + "'";
    print_error(fmt::format("interrupted by {}: {}; resume with: {}",
                            e.signal() == SIGTERM ? "SIGTERM" : "SIGINT", e.what(), again));
    return e.signal() == SIGTERM ? 143 : 130;
  }
  return 0;
}

int cmd_check(const Flags& f) {
  // Cohort, planner and validation files are checked by their own readers (schema and the
  // cross-key checks their commands make), without running anything.
  switch (mnsim::io::detect_input_kind(f.scenario)) {
    case mnsim::io::InputKind::Cohort: {
      const auto c = mnsim::protocol::load_cohort(f.scenario, f.overrides);
      std::fprintf(stdout,
                   "# %s: a valid cohort file (%lld patients); run it with `mnsim cohort`.\n",
                   f.scenario.c_str(), c.population.size);
      return 0;
    }
    case mnsim::io::InputKind::Plan:
      (void)mnsim::protocol::load_plan_patient(f.scenario, f.overrides);
      std::fprintf(stdout, "# %s: a valid planner patient file; run it with `mnsim plan`.\n",
                   f.scenario.c_str());
      return 0;
    case mnsim::io::InputKind::Validation: {
      const auto v = mnsim::protocol::load_validation(f.scenario);
      std::fprintf(stdout,
                   "# %s: a valid validation file (%zu cases); run it with `mnsim validate`.\n",
                   f.scenario.c_str(), v.cases.size());
      return 0;
    }
    case mnsim::io::InputKind::DoseResponse: {
      const auto d = mnsim::protocol::load_dose_response(f.scenario);
      std::fprintf(
          stdout,
          "# %s: a valid dose-response file (%zu grid points); run it with `mnsim "
          "dose-response`.\n",
          f.scenario.c_str(),
          d.depths.size() * d.densities.size() * d.intervals.size() * d.fitzpatrick.size());
      return 0;
    }
    case mnsim::io::InputKind::Sensitivity: {
      const auto s = mnsim::protocol::load_sensitivity(f.scenario, f.overrides);
      std::fprintf(stdout,
                   "# %s: a valid sensitivity file (%zu parameters, %zu model evaluations); run "
                   "it with `mnsim sensitivity`.\n",
                   f.scenario.c_str(), s.parameters.size(),
                   mnsim::protocol::sensitivity_evaluations(s));
      return 0;
    }
    case mnsim::io::InputKind::Calibration: {
      const auto s = mnsim::protocol::load_calibration(f.scenario, f.overrides);
      std::fprintf(stdout,
                   "# %s: a valid calibration file (%zu parameters, %zu calibration cases, at "
                   "most %zu model evaluations); run it with `mnsim calibrate`.\n",
                   f.scenario.c_str(), s.parameters.size(), s.cases.size(),
                   mnsim::protocol::calibration_max_evaluations(s));
      return 0;
    }
    case mnsim::io::InputKind::Sweep: {
      const auto s = mnsim::load_sweep(f.scenario);
      std::fprintf(stdout,
                   "# %s: a valid sweep file (%zu points, every point's scenario checked); run "
                   "it with `mnsim sweep`.\n",
                   f.scenario.c_str(), s.points.size());
      return 0;
    }
    case mnsim::io::InputKind::Scenario:
      break;
  }
  mnsim::Table sc = mnsim::load_scenario(f.scenario, f.overrides);
  mnsim::apply_seed_override(sc, f.seed);
  const mnsim::MemoryEstimate mem = mnsim::validate_semantics(sc);
  std::fprintf(stdout,
               "# %s: valid; `mnsim run` needs about %.0f MiB of memory at its peak.\n"
               "# Fully resolved scenario (defaults marked):\n%s",
               f.scenario.c_str(), mem.resident() / (1 << 20), sc.to_toml().c_str());
  return 0;
}

int cmd_punctures(const Flags& f) {
  mnsim::Table sc = mnsim::load_scenario(f.scenario, f.overrides);
  mnsim::PuncturesOptions opt;
  opt.out_dir = f.out.empty()
                    ? std::filesystem::path("results") /
                          (std::filesystem::path(f.scenario).stem().string() + "_punctures")
                    : std::filesystem::path(f.out);
  opt.seed = f.seed;
  opt.force = f.force;
  const nlohmann::json st = mnsim::run_punctures(std::move(sc), opt);
  const auto& d = st["density_per_cm2"];
  std::fprintf(stdout,
               "%s\n%zu punctures over %.2f cm^2 in %.3f s: %.1f /cm^2 (CV %.2f over 1 mm cells), "
               "depth reached %.0f um, %.0f%% bleeding\nresults: %s\n",
               st["device"]["description"].get<std::string>().c_str(),
               st["punctures"].get<std::size_t>(), st["area_cm2"].get<double>(),
               st["generation_wall_s"].get<double>(), d["mean"].get<double>(),
               d["cv"].get<double>(), st["depth_um"]["mean"].get<double>(),
               100.0 * st["fraction_bleeding"].get<double>(), opt.out_dir.string().c_str());
  return 0;
}

int cmd_cohort(const Flags& f) {
  mnsim::protocol::keep_memory_for_patients();  // many reduced-model patients
  // Under mpirun every rank reads and checks the input (core/ranks.hpp: an error is every
  // rank's, printed once by the root).
  const mnsim::Ranks& ranks = mnsim::Ranks::world();
  mnsim::protocol::CohortSpec spec;
  std::optional<mnsim::protocol::ReducedModel> model;
  mnsim::protocol::CohortRunOptions opt;
  mnsim::agree(ranks, [&] {
    spec = mnsim::protocol::load_cohort(f.file, f.overrides);
    model.emplace(mnsim::protocol::ReducedModel::load_default());
    opt.out_dir = output_folder(f, f.file, "cohort", opt.resume);
    if (ranks.several()) {
      // The ranks split one cohort and keep no checkpoint (docs/scaling.md).
      const auto refuse = [&](const char* flag, const char* what) {
        throw mnsim::InputError(
            {"command line", 0, 0}, flag,
            fmt::format("{} does not combine with {} MPI ranks", what, ranks.size()),
            fmt::format("{} without mpirun, or mpirun without {}", flag, flag));
      };
      if (opt.resume) refuse("--resume", "resuming a checkpoint");
      if (f.shards > 0) refuse("--shard", "a shard of a job array");
    }
  });
  opt.threads = f.threads;
  opt.force = f.force;
  opt.shard = f.shard;
  opt.shards = f.shards;
  opt.ranks = &ranks;
  const std::filesystem::path out = opt.out_dir;
  const auto t0 = Clock::now();
  const auto run = mnsim::protocol::run_cohort(*model, spec, opt);
  if (!ranks.root()) return 0;
  if (opt.shards > 0) {
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stdout,
                 "shard %d/%d: %zu of %lld patients in %.1f s; wrote %s/shard.json and "
                 "shard.rec; join the shards with `mnsim merge %s SHARD_DIR... --out DIR`\n",
                 opt.shard, opt.shards, run.shard_patients, spec.population.size, secs,
                 out.string().c_str(), f.file.c_str());
    return 0;
  }
  const auto& r = run.result;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stdout, "%s", mnsim::protocol::cohort_json(r).c_str());
  const std::vector<std::string> csv = mnsim::protocol::patients_files(spec);
  for (std::size_t k = 0; k < r.arms.size(); ++k) {
    const auto& a = r.arms[k];
    if (a.past_dermis_patients == 0) continue;
    std::fprintf(stderr,
                 "warning: %s%s%sin %zu of %zu patients (%.1f %%) the needles reach past the "
                 "dermis into the fat (%s, column past_dermis; docs/devices.md, \"Safety\")\n",
                 r.arms.size() > 1 ? "arm " : "", r.arms.size() > 1 ? a.name.c_str() : "",
                 r.arms.size() > 1 ? ": " : "", a.past_dermis_patients, a.rows.size(),
                 100.0 * a.past_dermis_fraction, csv[k].c_str());
  }
  const std::size_t patients = r.arms.empty() ? 0 : r.arms.front().rows.size();
  if (opt.resume) {
    std::fprintf(stdout, "resumed: %zu of %zu patient records taken from the checkpoint\n",
                 run.resumed_patients, patients * r.arms.size());
  }
  std::string files;
  for (const auto& c : csv) files += (files.empty() ? "" : ", ") + c;
  std::fprintf(stdout, "%zu patients%s in %.1f s; wrote %s/cohort.json and %s\n", patients,
               r.arms.size() > 1 ? fmt::format(" x {} arms", r.arms.size()).c_str() : "", secs,
               out.string().c_str(), files.c_str());
  if (r.posterior_draws > 0) {
    std::fprintf(stdout,
                 "parameter-uncertainty band: %d posterior draws x %zu patients, %.1f s of CPU\n",
                 r.posterior_draws, patients, r.band_cpu_seconds);
  }
  return 0;
}

int cmd_validate(const Flags& f) {
  mnsim::protocol::keep_memory_for_patients();  // many reduced-model patients
  const auto model = mnsim::protocol::ReducedModel::load_default();
  const auto cases = mnsim::protocol::load_validation(
      f.file.empty() ? mnsim::protocol::default_validation_path() : f.file);
  const auto rows = mnsim::protocol::run_validation(model, cases, f.threads);
  std::fputs(mnsim::protocol::validation_table(rows).c_str(), stdout);
  for (const auto& r : rows) {
    if (!r.pass) return 1;
  }
  return 0;
}

/// An output file named by a flag: refused before anything runs if it is a folder, or exists and
/// --force is not given (nothing a user has is replaced silently).
void check_output_file(const std::string& path, const char* flag, bool force) {
  if (path.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw mnsim::InputError({"command line", 0, 0}, flag, "'" + path + "' is a folder",
                            "a file name");
  }
  if (std::filesystem::exists(path, ec) && !force) {
    throw mnsim::InputError({"command line", 0, 0}, flag,
                            "'" + path + "' exists and would be replaced",
                            "another file name, or --force to replace it");
  }
}

/// Progress of `mnsim plan` and `mnsim sensitivity` on stderr ("plan: 120/441 protocols
/// evaluated"), at most twice a second and at the end of each stage: redrawn in place on a
/// terminal, one line per report otherwise. Never on stdout, which holds the table or the
/// exported scenario.
class CountProgress final : public mnsim::Progress {
 public:
  CountProgress(std::string command, bool terminal)
      : command_(std::move(command)), terminal_(terminal) {}
  void stage(std::string_view name) override {
    finish_line();
    stage_ = std::string(name);
    last_ = {};
  }
  void advance(double done, double total) override {
    const auto now = Clock::now();
    const bool end = done >= total;
    if (!end && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    std::fprintf(stderr, "%s%s: %.0f/%.0f %s%s", terminal_ ? "\r" : "", command_.c_str(), done,
                 total, stage_.c_str(), terminal_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
    drawn_ = terminal_;
  }
  void note(std::string_view text) override {
    finish_line();
    std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
  }
  ~CountProgress() override { finish_line(); }

 private:
  void finish_line() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }
  std::string command_;
  bool terminal_;
  std::string stage_;
  Clock::time_point last_{};
  bool drawn_ = false;
};

/// The output files of `mnsim plan`, each checked (check_output_file) and none the same as
/// another, before anything runs.
void check_plan_outputs(const Flags& f) {
  const std::pair<const char*, std::string> outs[] = {
      {"--json", f.json}, {"--csv", f.csv}, {"--html", f.html}};
  for (const auto& [flag, path] : outs) check_output_file(path, flag, f.force);
  auto same = [](const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    // Absolute first: weakly_canonical leaves a relative name with no existing part relative.
    std::error_code ea, eb;
    const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ea), ea);
    const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, eb), eb);
    return a == b || (!ea && !eb && ca == cb);
  };
  for (std::size_t i = 0; i < std::size(outs); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (same(outs[i].second, outs[j].second)) {
        throw mnsim::InputError({"command line", 0, 0}, outs[i].first,
                                fmt::format("is the same file as {}", outs[j].first),
                                "different file names");
      }
    }
  }
}

/// --shard and --state of `plan` and `calibrate` (docs/scaling.md, "State folders"): --shard
/// needs --state (the stages depend on each other), neither runs under mpirun, and a shard
/// writes none of the command's outputs (`outputs`: flag and value). InputError at the flag.
void check_state_flags(const Flags& f, const mnsim::Ranks& ranks, const char* command,
                       std::initializer_list<std::pair<const char*, bool>> outputs) {
  const mnsim::SourceLoc cli{"command line", 0, 0};
  if (f.shards > 0 && f.state.empty()) {
    throw mnsim::InputError(
        cli, "--shard",
        fmt::format("mnsim {} runs as shards only with a state folder: each stage's items "
                    "follow from the stages before it (docs/scaling.md, \"State folders\")",
                    command),
        fmt::format("mnsim {} FILE --state DIR --shard i/N, or mpirun -n N mnsim {}", command,
                    command));
  }
  if (!f.state.empty() && ranks.several()) {
    throw mnsim::InputError(
        cli, "--state",
        fmt::format("a state folder of a job array does not combine with {} MPI ranks",
                    ranks.size()),
        "--state without mpirun, or mpirun without --state");
  }
  if (f.shards > 0) {
    for (const auto& [flag, given] : outputs) {
      if (given) {
        throw mnsim::InputError(
            cli, flag, "a shard writes only into its state folder",
            fmt::format("{} on `mnsim {} FILE --state DIR` once every stage is closed", flag,
                        command));
      }
    }
  }
}

/// The key of a state folder's input (io::state_input_key): the file, the --set overrides (and
/// those --no-bands adds) and the data and build.
std::uint64_t state_key(const char* command, const std::string& file,
                        const std::vector<mnsim::Override>& overrides) {
  std::string extra;
  for (const auto& o : overrides) extra += o.key + "=" + o.value + "\n";
  return mnsim::io::state_input_key(command, file, extra);
}

/// A shard or a merge of a state folder: runs `command_run` (the command's stages through
/// `state`) and prints where it stopped: the shard written, the stage closed, or that every
/// stage is closed.
int run_state_step(mnsim::io::StateFolder& state, const std::function<void()>& command_run) {
  try {
    command_run();
    std::fprintf(stdout, "%s\n", state.finish().c_str());
  } catch (const mnsim::StagePending& p) {
    std::fprintf(stdout, "%s\n", p.what());
  }
  return 0;
}

int cmd_plan(const Flags& f) {
  mnsim::protocol::keep_memory_for_patients();  // many reduced-model patients
  const mnsim::Ranks& ranks = mnsim::Ranks::world();
  std::string start;
  std::optional<mnsim::protocol::ReducedModel> model;
  std::optional<mnsim::protocol::PlanPatient> patient;
  std::optional<mnsim::io::StateFolder> state;
  mnsim::agree(ranks, [&] {
    check_state_flags(f, ranks, "plan",
                      {{"--json", !f.json.empty()},
                       {"--csv", !f.csv.empty()},
                       {"--html", !f.html.empty()},
                       {"--export", f.export_rank > 0}});
    // Command-line values first: a bad --start-date is refused before anything is read or run.
    start = f.start_date.empty() ? "" : mnsim::parse_date_option(f.start_date, "--start-date");
    model.emplace(mnsim::protocol::ReducedModel::load_default());
    patient.emplace(mnsim::protocol::load_plan_patient(f.file, f.overrides));
    if (!f.state.empty()) {
      using Mode = mnsim::io::StateFolder::Mode;
      state.emplace(f.state, "plan", f.file, state_key("plan", f.file, f.overrides),
                    f.shards > 0 ? Mode::Shard : Mode::Replay, f.shard, f.shards);
      if (f.shards == 0) state->require_finished();
    }
    if (ranks.root() && f.shards == 0) check_plan_outputs(f);  // the root writes them
  });
  if (f.shards > 0) {
    return run_state_step(*state, [&] {
      (void)mnsim::protocol::make_plan(*model, *patient, f.threads, nullptr, nullptr, &ranks,
                                       &*state);
    });
  }
  std::unique_ptr<CountProgress> progress;
  if (ranks.root() && (f.progress || isatty(fileno(stderr)))) {
    progress = std::make_unique<CountProgress>("plan", isatty(fileno(stderr)) != 0);
  }
  const auto plan = mnsim::protocol::make_plan(*model, *patient, f.threads, progress.get(), nullptr,
                                               &ranks, state ? &*state : nullptr);
  progress.reset();
  // --export N: the scenario alone on stdout (redirect it to a file), checked before any file
  // is written (on every rank: each holds the plan, and a rank N that does not exist is every
  // rank's error).
  std::string scenario;
  mnsim::agree(ranks, [&] {
    if (f.export_rank > 0) {
      scenario = mnsim::protocol::plan_scenario(*patient, plan, f.export_rank, start);
    }
  });
  if (!ranks.root()) return 0;
  if (!f.json.empty()) {
    mnsim::io::write_file_atomic(f.json, mnsim::protocol::plan_json(*patient, plan, start));
  }
  if (!f.csv.empty()) mnsim::io::write_file_atomic(f.csv, mnsim::protocol::plan_csv(plan));
  if (!f.html.empty()) {
    mnsim::io::write_file_atomic(f.html, mnsim::report::plan_html(*patient, plan, start));
  }
  std::fputs(f.export_rank > 0 ? scenario.c_str()
                               : mnsim::protocol::plan_table(*patient, plan, start).c_str(),
             stdout);
  for (const auto& [flag, path] : {std::pair{"--json", f.json}, std::pair{"--csv", f.csv}}) {
    if (!path.empty()) {
      std::fprintf(stderr, "wrote %zu protocols to %s (%s)\n", plan.evaluated.size(), path.c_str(),
                   flag);
    }
  }
  if (!f.html.empty()) {
    std::fprintf(stderr, "wrote the plan page (%zu ranked protocols) to %s (--html)\n",
                 plan.ranked.size(), f.html.c_str());
  }
  return 0;
}

/// `mnsim serve`: the consultation web app until SIGINT or SIGTERM (docs/serve.md).
int cmd_serve(const Flags& f) {
  mnsim::serve::ServerOptions o;
  o.host = f.host;
  o.port = static_cast<int>(mnsim::parse_whole_option(f.port_text, "--port", 0, 65535));
  o.threads = f.threads;
  o.job_time_limit =
      static_cast<double>(mnsim::parse_whole_option(f.time_limit_text, "--time-limit", 1, 3600));
  mnsim::serve::Server server(o);
  const int port = server.bind();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  // The handler only sets the flag; this thread turns it into a stop of the server (again
  // until run() returns, should the signal come before the server listens).
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done.load()) {
      if (g_stop.requested() != 0) server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const std::string shown = f.host.find(':') != std::string::npos ? "[" + f.host + "]" : f.host;
  std::fprintf(stdout, "mnsim serve: http://%s:%d/ (Ctrl-C stops)\n", shown.c_str(), port);
  if (f.host != "127.0.0.1" && f.host != "localhost" && f.host != "::1") {
    std::fprintf(stdout, "mnsim serve: listening on %s: other machines may reach it\n",
                 f.host.c_str());
  }
  std::fflush(stdout);
  const bool ok = server.run();
  done = true;
  watch.join();
  if (g_stop.requested() != 0) return 0;
  if (!ok) {
    print_error(
        fmt::format("mnsim serve: the server stopped unexpectedly on {} port {}", f.host, port));
    return 1;
  }
  return 0;
}

int cmd_dose_response(const Flags& f) {
  const auto spec = mnsim::protocol::load_dose_response(f.file);
  check_output_file(f.csv, "--csv", f.force);
  const auto model = mnsim::protocol::ReducedModel::load_default();
  const auto r = mnsim::protocol::run_dose_response(model, spec, f.threads);
  if (!f.csv.empty()) {
    mnsim::io::write_file_atomic(f.csv, mnsim::protocol::dose_response_csv(r));
  }
  std::fputs(mnsim::protocol::dose_response_markdown(spec, r).c_str(), stdout);
  if (!f.csv.empty()) {
    std::fprintf(stderr, "wrote %zu grid points to %s\n", r.points.size(), f.csv.c_str());
  }
  return 0;
}

/// --shard i/N: 1 <= i <= N <= 100000, whole numbers in decimal digits. InputError at the flag.
std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const std::string hint = "i/N with 1 <= i <= N <= 100000, e.g. --shard 3/8";
  if (slash == std::string::npos) {
    throw mnsim::InputError({"command line", 0, 0}, "--shard",
                            fmt::format("'{}' is not i/N", mnsim::printable(text)), hint);
  }
  const auto n = mnsim::parse_whole_option(text.substr(slash + 1), "--shard", 1, 100000);
  const auto i = mnsim::parse_whole_option(text.substr(0, slash), "--shard", 1, n);
  return {static_cast<int>(i), static_cast<int>(n)};
}

int cmd_merge_sensitivity(const Flags& f);

/// `mnsim merge FILE --state DIR`: closes the open stage of a plan's or a calibration's state
/// folder from its shards (docs/scaling.md, "State folders").
int cmd_merge_state(const Flags& f) {
  const mnsim::SourceLoc cli{"command line", 0, 0};
  if (!f.shard_dirs.empty()) {
    throw mnsim::InputError(cli, f.shard_dirs.front(),
                            "a merge of a state folder takes no shard folders",
                            "mnsim merge FILE --state DIR (the shards are in DIR)");
  }
  if (!f.out.empty()) {
    throw mnsim::InputError(cli, "--out", "a merge of a state folder writes no results",
                            "--out on the command with --state DIR once every stage is closed");
  }
  const auto kind = mnsim::io::detect_input_kind(f.file);
  using Mode = mnsim::io::StateFolder::Mode;
  // --no-bands: the keys the command itself sets for it (a calibration has no bands).
  std::vector<mnsim::Override> overrides;
  for (const auto& o : f.overrides) {
    if (!(f.no_bands && o.key == "bands.posterior_draws")) overrides.push_back(o);
  }
  const auto model = mnsim::protocol::ReducedModel::load_default();
  if (kind == mnsim::io::InputKind::Plan) {
    if (f.no_bands) {
      overrides.push_back({"search.posterior_draws", "0"});
      overrides.push_back({"search.replicates", "0"});
    }
    const auto patient = mnsim::protocol::load_plan_patient(f.file, overrides);
    mnsim::io::StateFolder state(f.state, "plan", f.file, state_key("plan", f.file, overrides),
                                 Mode::Close);
    return run_state_step(state, [&] {
      (void)mnsim::protocol::make_plan(model, patient, f.threads, nullptr, nullptr, nullptr,
                                       &state);
    });
  }
  if (kind == mnsim::io::InputKind::Calibration) {
    const auto spec = mnsim::protocol::load_calibration(f.file, overrides);
    mnsim::io::StateFolder state(f.state, "calibrate", f.file,
                                 state_key("calibrate", f.file, overrides), Mode::Close);
    return run_state_step(state, [&] {
      (void)mnsim::protocol::run_calibration(model, spec, f.threads, nullptr, nullptr, &state);
    });
  }
  throw mnsim::InputError(cli, "--state",
                          "joins the stages of a planner patient or calibration file",
                          fmt::format("{} is not one: merge its shards' folders with --out DIR",
                                      mnsim::printable(f.file)));
}

int cmd_merge(const Flags& f) {
  if (!f.state.empty()) return cmd_merge_state(f);
  const mnsim::SourceLoc cli{"command line", 0, 0};
  if (f.shard_dirs.empty()) {
    throw mnsim::InputError(cli, "shards", "missing",
                            "each shard's output folder, or --state DIR for a plan or "
                            "calibration");
  }
  if (f.out.empty()) {
    throw mnsim::InputError(cli, "--out", "missing",
                            "the folder for the joined results: --out DIR");
  }
  // The file says what the shards ran: a sensitivity analysis, else a cohort.
  if (mnsim::io::detect_input_kind(f.file) == mnsim::io::InputKind::Sensitivity) {
    return cmd_merge_sensitivity(f);
  }
  const mnsim::protocol::CohortSpec spec = mnsim::protocol::load_cohort(f.file, f.overrides);
  const auto model = mnsim::protocol::ReducedModel::load_default();
  if (f.out.empty()) {
    throw mnsim::InputError({"command line", 0, 0}, "--out", "missing",
                            "the folder for the joined cohort's results: --out DIR");
  }
  mnsim::protocol::CohortRunOptions opt;
  opt.out_dir = f.out;
  opt.threads = f.threads;
  opt.force = f.force;
  std::vector<std::filesystem::path> dirs(f.shard_dirs.begin(), f.shard_dirs.end());
  const auto run = mnsim::protocol::merge_cohort(model, spec, dirs, opt);
  std::fprintf(stdout, "%s", mnsim::protocol::cohort_json(run.result).c_str());
  std::fprintf(stdout, "joined %zu shards (%lld patients); wrote %s/cohort.json\n", dirs.size(),
               spec.population.size, f.out.c_str());
  return 0;
}

int cmd_merge_sensitivity(const Flags& f) {
  // --no-bands means nothing to a sensitivity analysis (it has no bands): its cohort key goes.
  std::vector<mnsim::Override> overrides;
  for (const auto& o : f.overrides) {
    if (!(f.no_bands && o.key == "bands.posterior_draws")) overrides.push_back(o);
  }
  const auto spec = mnsim::protocol::load_sensitivity(f.file, overrides);
  const auto model = mnsim::protocol::ReducedModel::load_default();
  mnsim::SensitivityOptions opt;
  opt.out_dir = f.out;
  opt.threads = f.threads;
  opt.force = f.force;
  std::vector<std::filesystem::path> dirs(f.shard_dirs.begin(), f.shard_dirs.end());
  const mnsim::SensitivityRun run = mnsim::merge_sensitivity_into(model, spec, dirs, opt);
  std::fputs(mnsim::protocol::sensitivity_table(spec, run.result).c_str(), stdout);
  std::fprintf(stdout, "\njoined %zu shards (%zu model evaluations); wrote %s to %s\n", dirs.size(),
               run.result.evaluations, "sensitivity.json, sensitivity.csv, sensitivity.png",
               f.out.c_str());
  return 0;
}

int cmd_sensitivity(const Flags& f) {
  mnsim::protocol::keep_memory_for_patients();  // many reduced-model patients
  // Everything the file names is checked before the output folder is opened: bad input writes
  // nothing.
  const mnsim::Ranks& ranks = mnsim::Ranks::world();
  std::optional<mnsim::protocol::SensitivitySpec> spec_read;
  std::optional<mnsim::protocol::ReducedModel> model;
  mnsim::SensitivityOptions opt;
  mnsim::agree(ranks, [&] {
    spec_read.emplace(mnsim::protocol::load_sensitivity(f.file, f.overrides));
    model.emplace(mnsim::protocol::ReducedModel::load_default());
    bool resume = false;
    opt.out_dir = output_folder(f, f.file, "sensitivity analysis", resume);
    if (ranks.several() && f.shards > 0) {
      throw mnsim::InputError(
          {"command line", 0, 0}, "--shard",
          fmt::format("a shard of a job array does not combine with {} MPI ranks", ranks.size()),
          "--shard without mpirun, or mpirun without --shard");
    }
  });
  const mnsim::protocol::SensitivitySpec& spec = *spec_read;
  opt.threads = f.threads;
  opt.force = f.force;
  opt.ranks = &ranks;
  std::unique_ptr<CountProgress> progress;
  if (ranks.root() && !f.quiet && (f.progress || isatty(fileno(stderr)))) {
    progress = std::make_unique<CountProgress>("sensitivity", isatty(fileno(stderr)) != 0);
  }
  opt.progress = progress.get();
  opt.shard = f.shard;
  opt.shards = f.shards;
  const mnsim::SensitivityRun run = mnsim::run_sensitivity_into(*model, spec, opt);
  progress.reset();
  if (!ranks.root()) return 0;
  if (opt.shards > 0) {
    std::fprintf(stdout,
                 "shard %d/%d: %zu of %zu model evaluations in %.1f s; wrote %s/shard.json and "
                 "shard.rec; join the shards with `mnsim merge %s SHARD_DIR... --out DIR`\n",
                 opt.shard, opt.shards, run.shard_evaluations,
                 mnsim::protocol::sensitivity_evaluations(spec), run.info.wall_s,
                 opt.out_dir.string().c_str(), f.file.c_str());
    return 0;
  }
  std::fputs(mnsim::protocol::sensitivity_table(spec, run.result).c_str(), stdout);
  std::string files;
  for (const auto& n : run.files) files += (files.empty() ? "" : ", ") + n;
  std::fprintf(stdout, "\n%zu model evaluations in %.1f s on %d thread%s%s; wrote %s to %s\n",
               run.result.evaluations, run.info.wall_s, run.info.threads,
               run.info.threads == 1 ? "" : "s",
               run.info.ranks > 1 ? fmt::format(" x {} ranks", run.info.ranks).c_str() : "",
               files.c_str(), opt.out_dir.string().c_str());
  return 0;
}

int cmd_calibrate(const Flags& f) {
  mnsim::protocol::keep_memory_for_patients();  // many reduced-model patients
  // Everything the file names is checked before the output folder is opened: bad input writes
  // nothing.
  const mnsim::Ranks& ranks = mnsim::Ranks::world();
  std::optional<mnsim::protocol::CalibrationSpec> spec_read;
  std::optional<mnsim::protocol::ReducedModel> model;
  mnsim::CalibrationOptions opt;
  std::optional<mnsim::io::StateFolder> state;
  mnsim::agree(ranks, [&] {
    check_state_flags(f, ranks, "calibrate", {{"--out", !f.out.empty()}});
    spec_read.emplace(mnsim::protocol::load_calibration(f.file, f.overrides));
    model.emplace(mnsim::protocol::ReducedModel::load_default());
    if (!f.state.empty()) {
      using Mode = mnsim::io::StateFolder::Mode;
      state.emplace(f.state, "calibrate", f.file, state_key("calibrate", f.file, f.overrides),
                    f.shards > 0 ? Mode::Shard : Mode::Replay, f.shard, f.shards);
    }
    if (f.shards == 0) {
      bool resume = false;
      opt.out_dir = output_folder(f, f.file, "calibration", resume);
    }
  });
  const mnsim::protocol::CalibrationSpec& spec = *spec_read;
  if (f.shards > 0) {
    return run_state_step(*state, [&] {
      (void)mnsim::protocol::run_calibration(*model, spec, f.threads, nullptr, &ranks, &*state);
    });
  }
  opt.state = state ? &*state : nullptr;
  opt.threads = f.threads;
  opt.force = f.force;
  opt.ranks = &ranks;
  std::unique_ptr<CountProgress> progress;
  if (ranks.root() && !f.quiet && (f.progress || isatty(fileno(stderr)))) {
    progress = std::make_unique<CountProgress>("calibrate", isatty(fileno(stderr)) != 0);
  }
  opt.progress = progress.get();
  const mnsim::CalibrationRun run = mnsim::run_calibration_into(*model, spec, opt);
  progress.reset();
  if (!ranks.root()) return 0;
  std::fputs(mnsim::protocol::calibration_table(spec, run.result).c_str(), stdout);
  std::string files;
  for (const auto& n : run.files) files += (files.empty() ? "" : ", ") + n;
  std::fprintf(stdout, "\n%zu model evaluations in %.1f s on %d thread%s%s; wrote %s to %s\n",
               run.result.smc.evaluations, run.info.wall_s, run.info.threads,
               run.info.threads == 1 ? "" : "s",
               run.info.ranks > 1 ? fmt::format(" x {} ranks", run.info.ranks).c_str() : "",
               files.c_str(), opt.out_dir.string().c_str());
  return 0;
}

int cmd_sweep(const Flags& f) {
  const mnsim::SweepSpec spec = mnsim::load_sweep(f.file);
  mnsim::SweepOptions opt;
  bool resume = false;
  opt.out_dir = output_folder(f, f.file, "sweep", resume);
  opt.resume = resume;
  opt.jobs = f.jobs;
  opt.threads = f.threads;
  opt.force = f.force;
  opt.stop = &g_stop;
  const bool quiet = f.quiet;
  opt.on_point = [quiet](std::size_t done, std::size_t total) {
    if (!quiet) std::fprintf(stderr, "sweep: %zu of %zu points done\n", done, total);
  };
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const auto t0 = Clock::now();
  try {
    const mnsim::SweepResult r = mnsim::run_sweep(spec, opt);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (opt.resume) {
      std::fprintf(stdout, "resumed: %zu of %zu points taken from the checkpoint\n", r.resumed,
                   r.points);
    }
    std::fprintf(stdout, "%zu points in %.1f s; wrote %s\n", r.points, secs,
                 r.csv.string().c_str());
    for (const auto& m : r.failed) print_error(m);
    if (!r.failed.empty()) {
      print_error(fmt::format("{} of {} points failed (status column of {})", r.failed.size(),
                              r.points, r.csv.string()));
      return 1;
    }
  } catch (const mnsim::Interrupted& e) {
    print_error(fmt::format("interrupted by {}: {}; resume with: mnsim sweep {} --resume {}",
                            e.signal() == SIGTERM ? "SIGTERM" : "SIGINT", e.what(), f.file,
                            opt.out_dir.string()));
    return e.signal() == SIGTERM ? 143 : 130;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads that spin without bound while they wait cost 3x the wall time on a shared or
  // oversubscribed machine (measured: default scenario 193 s vs 58 s under load 7 on 2 cores);
  // threads that sleep at once pay a wake-up at each of a step's barriers. Unless the user chose
  // a policy, waiting threads spin for about 70 us, then sleep (core/openmp_wait.hpp). libgomp
  // reads its settings before main, so set it and start again.
  if (mnsim::set_default_openmp_wait()) {
    ::execv("/proc/self/exe", argv);  // returns only on failure: carry on with the default
  }
  // Under mpirun in an MPI build: MPI_COMM_WORLD, finalised when main returns (core/ranks.hpp);
  // otherwise one rank. Only the root (rank 0) prints.
  const mnsim::RankSession mpi;
  const mnsim::Ranks& ranks = mnsim::Ranks::world();
  CLI::App app{
      "mnsim: a simulator of microneedling, from needle device to micro-wounds, healing and "
      "clinical outcome.",
      "mnsim"};
  app.require_subcommand(1);
  app.set_version_flag(
      "--version",
      fmt::format("mnsim {} (commit {}, {} build, instruction set {})", mnsim::version(),
                  mnsim::git_commit(), mnsim::build_type(), mnsim::instruction_set()));
  app.footer(
      "Run 'mnsim SUBCOMMAND --help' for the options of each subcommand.\n"
      "Documentation: docs/cli.md, docs/scenario.md, docs/model.md, docs/outputs.md");
  Flags f;

  constexpr std::uint64_t kMaxThreads = 1024;
  const std::string threads_help =
      fmt::format("Worker threads, 1 to {} (default: all cores)", kMaxThreads);
  auto* run = app.add_subcommand("run", "Simulate a scenario and write its results to a folder.");
  run->add_option("scenario", f.scenario, "Scenario file (TOML)")->required();
  run->add_option("--out,-o", f.out, "Results folder (default: results/<scenario name>)");
  CLI::Option* run_threads =
      run->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  const std::string seed_help =
      fmt::format("Override the scenario's seed (a whole number from 0 to {})", mnsim::kMaxSeed);
  CLI::Option* run_seed = run->add_option("--seed", f.seed_text, seed_help)->type_name("S");
  run->add_flag("--quiet,-q", f.quiet, "Print nothing but the final summary");
  run->add_option("--log-level", f.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  run->add_flag("--force", f.force,
                "Write into a non-empty folder that is not an earlier mnsim output, or start "
                "over in a folder that holds a checkpoint");
  run->add_option("--resume", f.resume,
                  "Continue the killed or interrupted run whose output folder is DIR (from "
                  "DIR/checkpoint; the same scenario and --seed)")
      ->type_name("DIR");
  run->add_option("--checkpoint-every", f.checkpoint_every,
                  "Wall time between checkpoints, with its unit (default \"5 min\"; \"0 s\": "
                  "only at session boundaries and on SIGINT/SIGTERM)")
      ->type_name("TIME");

  auto* check = app.add_subcommand(
      "check", "Validate a scenario without running it; print it fully resolved.");
  check->add_option("scenario", f.scenario, "Scenario file (TOML)")->required();
  CLI::Option* check_seed = check->add_option("--seed", f.seed_text, seed_help)->type_name("S");

  auto* punct = app.add_subcommand(
      "punctures",
      "Run the device stage alone: write the punctures, a density map and statistics.");
  punct->add_option("scenario", f.scenario, "Scenario file (TOML)")->required();
  punct->add_option("--out,-o", f.out,
                    "Results folder (default: results/<scenario name>_punctures)");
  CLI::Option* punct_seed = punct->add_option("--seed", f.seed_text, seed_help)->type_name("S");
  punct->add_flag("--force", f.force,
                  "Write into a non-empty folder that is not an earlier mnsim output");

  auto* catalog = app.add_subcommand(
      "catalog", "List what the scenario language can name: " + mnsim::catalog_topics_text() + ".");
  CLI::Option* catalog_topic =
      catalog->add_option("topic", f.topic, "One topic (default: an overview of all)");
  catalog
      ->add_flag("--bibtex", f.bibtex,
                 "Print a BibTeX database of every primary source the data files cite "
                 "(data/references.toml)")
      ->excludes(catalog_topic);

  auto* cohort = app.add_subcommand(
      "cohort", "Simulate a virtual cohort (reduced model); write cohort.json and patients.csv.");
  cohort->add_option("cohort", f.file, "Cohort file (TOML, docs/cohort.md)")->required();
  cohort->add_option("--out,-o", f.out, "Results folder (default: results/<cohort name>)");
  CLI::Option* cohort_threads =
      cohort->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  cohort->add_flag("--force", f.force,
                   "Write into a non-empty folder that is not an earlier mnsim output, or start "
                   "over in a folder that holds a checkpoint");
  cohort
      ->add_option("--resume", f.resume,
                   "Continue the killed cohort whose output folder is DIR: patients recorded "
                   "in DIR/checkpoint are not simulated again")
      ->type_name("DIR");

  cohort
      ->add_option("--shard", f.shard_text,
                   "Simulate only shard i of N (patients i, i + N, ...; 1 <= i <= N) and write "
                   "their records; `mnsim merge` joins the shards (docs/cohort.md)")
      ->type_name("i/N");

  auto* merge = app.add_subcommand(
      "merge",
      "Join the shards of a cohort or a sensitivity analysis (--shard i/N) into its results, or "
      "close a stage of a plan's or a calibration's state folder (--state DIR).");
  merge
      ->add_option("file", f.file,
                   "The cohort, sensitivity, planner patient or calibration file the shards ran "
                   "(TOML)")
      ->required();
  merge->add_option("shards", f.shard_dirs,
                    "Each shard's output folder, every shard once (cohort, sensitivity)");
  merge->add_option("--out,-o", f.out, "Results folder of the joined run (cohort, sensitivity)");
  merge
      ->add_option("--state", f.state,
                   "Close the open stage of this state folder of `mnsim plan` or `mnsim "
                   "calibrate` from its shards (docs/scaling.md, \"State folders\")")
      ->type_name("DIR");
  CLI::Option* merge_threads =
      merge->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  merge->add_flag("--force", f.force,
                  "Write into a non-empty folder that is not an earlier mnsim output");

  auto* validate = app.add_subcommand(
      "validate", "Run the shipped reference cases; print a pass/fail table (exit 1 on a fail).");
  validate->add_option("cases", f.file, "Reference cases (default: data/validation.toml)");
  CLI::Option* validate_threads =
      validate->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");

  auto* plan = app.add_subcommand("plan",
                                  "Search protocols with every catalog device for a patient; print "
                                  "them ranked with uncertainty bands.");
  plan->add_option("patient", f.file, "Patient file (TOML, docs/cohort.md)")->required();
  CLI::Option* plan_threads =
      plan->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  plan->add_option("--json", f.json,
                   "Also write the plan (every protocol searched, with outcomes or why it was "
                   "excluded) to this JSON file")
      ->type_name("FILE");
  plan->add_option("--csv", f.csv, "Also write every protocol searched to this CSV file")
      ->type_name("FILE");
  plan->add_option("--export", f.export_rank,
                   "Print ranked protocol N as a scenario for `mnsim run` instead of the table")
      ->type_name("N")
      ->check(CLI::Range(1, 1000));
  plan->add_option("--html", f.html,
                   "Also write a printable page of the plan (patient, ranked protocols with a "
                   "legend, session calendar) to this HTML file")
      ->type_name("FILE");
  plan->add_option("--start-date", f.start_date,
                   "Date of the first session (YYYY-MM-DD): dates the calendar of the table, "
                   "--json, --html and --export")
      ->type_name("DATE");
  plan->add_flag("--progress", f.progress,
                 "Report progress on stderr also when it is not a terminal");
  plan->add_flag("--force", f.force, "Replace the --json, --csv or --html file if it exists");

  auto* dose = app.add_subcommand(
      "dose-response",
      "Tabulate a patient's response to needle depth, punctures, interval and skin type "
      "(reduced model); print Markdown tables.");
  dose->add_option("grid", f.file, "Dose-response file (TOML, docs/cohort.md)")->required();
  dose->add_option("--csv", f.csv, "Also write every grid point to this CSV file")
      ->type_name("FILE");
  dose->add_flag("--force", f.force, "Replace the --csv file if it exists");
  CLI::Option* dose_threads =
      dose->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");

  auto* sweep = app.add_subcommand(
      "sweep",
      "Run a scenario over a grid or list of values of any of its keys; write one tidy CSV.");
  sweep->add_option("sweep", f.file, "Sweep file (TOML, docs/sweep.md)")->required();
  sweep->add_option("--out,-o", f.out, "Results folder (default: results/<sweep name>)");
  CLI::Option* sweep_threads =
      sweep->add_option("--threads,-j", f.threads_text, threads_help + ", shared by the jobs")
          ->type_name("N");
  CLI::Option* sweep_jobs =
      sweep->add_option("--jobs", f.jobs_text, "Points run at once, 1 to 64 (default 1)")
          ->type_name("N");
  sweep->add_flag("--quiet,-q", f.quiet, "Print no progress lines");
  sweep->add_flag("--force", f.force,
                  "Write into a non-empty folder that is not an earlier mnsim output, or start "
                  "over in a folder that holds a checkpoint");
  sweep
      ->add_option("--resume", f.resume,
                   "Continue the killed or interrupted sweep whose output folder is DIR: points "
                   "recorded in DIR/checkpoint are not run again")
      ->type_name("DIR");

  auto* sens = app.add_subcommand(
      "sensitivity",
      "Morris screening or Sobol' indices of clinical outputs over model parameters (reduced "
      "model); write sensitivity.json, sensitivity.csv and a figure.");
  sens->add_option("file", f.file, "Sensitivity file (TOML, docs/sensitivity.md)")->required();
  sens->add_option("--out,-o", f.out, "Results folder (default: results/<file name>)");
  CLI::Option* sens_threads =
      sens->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  sens->add_flag("--quiet,-q", f.quiet, "Print no progress lines");
  sens->add_flag("--progress", f.progress,
                 "Report progress on stderr also when it is not a terminal");
  sens->add_flag("--force", f.force,
                 "Write into a non-empty folder that is not an earlier mnsim output");
  sens->add_option("--shard", f.shard_text,
                   "Run only shard i of N of the design's evaluations (i, i + N, ...; 1 <= i <= "
                   "N) and write them; `mnsim merge` joins the shards (docs/scaling.md)")
      ->type_name("i/N");

  auto* serve = app.add_subcommand(
      "serve", "Serve the consultation web app (plan for a patient in a browser) on this machine.");
  serve->add_option("--port,-p", f.port_text, "Port to listen on (default 8080; 0: any free port)")
      ->type_name("P");
  serve->add_option("--host", f.host, "Address to listen on (default 127.0.0.1: this machine only)")
      ->type_name("H");
  serve
      ->add_option("--time-limit", f.time_limit_text,
                   "Seconds one consultation may run before it is stopped (1 to 3600, default 120)")
      ->type_name("S");
  CLI::Option* serve_threads =
      serve->add_option("--threads,-j", f.threads_text, threads_help + " per consultation")
          ->type_name("N");

  auto* calib = app.add_subcommand(
      "calibrate",
      "Posterior sample of calibrated parameters given the calibration cases (reduced model, "
      "sequential Monte Carlo); write calibration.json, posterior.csv and a figure.");
  calib->add_option("file", f.file, "Calibration file (TOML, docs/calibration.md)")->required();
  calib->add_option("--out,-o", f.out, "Results folder (default: results/<file name>)");
  CLI::Option* calib_threads =
      calib->add_option("--threads,-j", f.threads_text, threads_help)->type_name("N");
  calib->add_flag("--quiet,-q", f.quiet, "Print no progress lines");
  calib->add_flag("--progress", f.progress,
                  "Report progress on stderr also when it is not a terminal");
  calib->add_flag("--force", f.force,
                  "Write into a non-empty folder that is not an earlier mnsim output");

  // --state and --shard on the commands whose stages depend on each other (cmd_plan,
  // cmd_calibrate; docs/scaling.md, "State folders").
  for (CLI::App* sub : {plan, calib}) {
    sub->add_option("--state", f.state,
                    "State folder of a job array: with --shard, compute one shard of the first "
                    "open stage; without, write the results once `mnsim merge FILE --state DIR` "
                    "has closed every stage (docs/scaling.md, \"State folders\")")
        ->type_name("DIR");
    sub->add_option("--shard", f.shard_text,
                    "With --state DIR: compute only shard i of N of the first open stage (its "
                    "items i, i + N, ...; 1 <= i <= N) and write it into DIR")
        ->type_name("i/N");
  }

  // --set KEY=VALUE (repeatable) on the commands that read a scenario, cohort or planner file.
  const std::string set_help =
      "Set a key of the file, checked like the file (repeatable): --set technique.passes=8, "
      "--set device.depth=\"1.5 mm\", --set lesions[0].depth=0.4mm (docs/cli.md)";
  for (CLI::App* sub : {run, check, punct, cohort, plan, merge, sens, calib}) {
    sub->add_option("--set", f.set_text, set_help)->type_name("KEY=VALUE")->allow_extra_args(false);
  }
  // --no-bands: no predictive bands (docs/outputs.md, "Predictive bands"), as the keys set to 0.
  for (CLI::App* sub : {run, cohort, plan, merge}) {
    sub->add_flag("--no-bands", f.no_bands,
                  "Compute no predictive band (parameter uncertainty, patient variability): "
                  "the file's band keys set to 0");
  }

  // An unknown subcommand: named, with the known ones (CLI11 would only say one is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* s : app.get_subcommands({})) names.push_back(s->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string guess = mnsim::schema::suggest(argv[1], names);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      if (!ranks.root()) return 2;
      return fail_input(mnsim::InputError(
          {"command line", 0, 0}, argv[1], "unknown subcommand",
          guess.empty() ? "one of " + list
                        : fmt::format("did you mean '{}'? one of {}", guess, list)));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return ranks.root() ? app.exit(e) : 0;
  } catch (const CLI::CallForAllHelp& e) {
    return ranks.root() ? app.exit(e) : 0;
  } catch (const CLI::CallForVersion& e) {
    return ranks.root() ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    if (ranks.root()) print_error(fmt::format("command line: {} (see mnsim --help)", e.what()));
    return 2;
  }

  auto logger = spdlog::stderr_color_mt("mnsim");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] %v");
  spdlog::set_level(f.quiet ? spdlog::level::warn : spdlog::level::from_str(f.log_level));

  try {
    // The options are checked on every rank (the same error everywhere, printed by the root).
    mnsim::agree(ranks, [&] {
      // An empty file or folder name ('') is an error, not the default.
      for (const CLI::App* sub : app.get_subcommands()) {
        for (const CLI::Option* o : sub->get_options()) {
          const std::string name = o->get_name();
          if (o->count() == 0 || name == "--seed" || name == "--threads" ||
              name == "--checkpoint-every") {
            continue;
          }
          for (const auto& r : o->results()) {
            if (!r.empty()) continue;
            const bool folder = name == "--out" || name == "--resume";
            const bool file = o->get_positional() && name != "topic";
            throw mnsim::InputError(
                {"command line", 0, 0}, name,
                folder ? "empty folder name" : (file ? "empty file name" : "empty value"),
                folder ? "a folder" : o->get_description());
          }
        }
      }
      for (const std::string& t : f.set_text) f.overrides.push_back(mnsim::parse_override(t));
      if (f.no_bands) {
        if (run->parsed()) f.overrides.push_back({"output.band_draws", "0"});
        if (cohort->parsed() || merge->parsed()) {
          f.overrides.push_back({"bands.posterior_draws", "0"});
        }
        if (plan->parsed()) {
          f.overrides.push_back({"search.posterior_draws", "0"});
          f.overrides.push_back({"search.replicates", "0"});
        }
      }
      // --seed: strictly 0 to 2^53 - 1 in decimal digits (the scenario's seed range).
      for (const CLI::Option* o : {run_seed, check_seed, punct_seed}) {
        if (o->count() > 0) f.seed = mnsim::parse_seed_option(f.seed_text);
      }
      // --threads: strictly 1 to 1024 in decimal digits.
      for (const CLI::Option* o :
           {run_threads, cohort_threads, validate_threads, plan_threads, dose_threads,
            sweep_threads, merge_threads, sens_threads, serve_threads, calib_threads}) {
        if (o->count() > 0) {
          f.threads = static_cast<int>(
              mnsim::parse_whole_option(f.threads_text, "--threads", 1, kMaxThreads));
        }
      }
      if (sweep_jobs->count() > 0) {
        f.jobs = static_cast<int>(mnsim::parse_whole_option(f.jobs_text, "--jobs", 1, 64));
      }
      if (!f.shard_text.empty()) std::tie(f.shard, f.shards) = parse_shard(f.shard_text);
      // mpirun -n N splits the work of these commands only; each other command would run N times.
      if (ranks.several() && !cohort->parsed() && !sens->parsed() && !calib->parsed() &&
          !plan->parsed()) {
        const std::string name = app.get_subcommands().front()->get_name();
        throw mnsim::InputError(
            {"command line", 0, 0}, name,
            fmt::format("does not split its work over MPI ranks ({} here)", ranks.size()),
            "mnsim cohort, sensitivity, calibrate or plan under mpirun; run mnsim " + name +
                " without mpirun (or with -n 1)");
      }
    });
    if (run->parsed()) return cmd_run(f);
    if (merge->parsed()) return cmd_merge(f);
    if (sweep->parsed()) return cmd_sweep(f);
    if (check->parsed()) return cmd_check(f);
    if (punct->parsed()) return cmd_punctures(f);
    if (cohort->parsed()) return cmd_cohort(f);
    if (validate->parsed()) return cmd_validate(f);
    if (plan->parsed()) return cmd_plan(f);
    if (dose->parsed()) return cmd_dose_response(f);
    if (sens->parsed()) return cmd_sensitivity(f);
    if (serve->parsed()) return cmd_serve(f);
    if (calib->parsed()) return cmd_calibrate(f);
    if (catalog->parsed()) {
      const std::string text =
          f.bibtex ? mnsim::bibtex_text(mnsim::load_references(mnsim::default_references_path()))
                   : mnsim::catalog_text(f.topic);
      std::fputs(text.c_str(), stdout);
      return 0;
    }
  } catch (const mnsim::RankError& e) {
    // Every rank throws it together (core/ranks.hpp): the root prints it.
    if (ranks.root()) std::fprintf(stderr, "error: %s\n", e.line().c_str());
    return e.code();
  } catch (...) {
    const mnsim::ErrorExit x = mnsim::error_exit(std::current_exception());
    // A failure on one rank of several that the others have not agreed on: they may be waiting
    // for it, so the whole job ends here.
    if (ranks.several()) ranks.abort(x.line, x.code);
    std::fprintf(stderr, "error: %s\n", x.line.c_str());
    return x.code;
  }
  return 1;
}
