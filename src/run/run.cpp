#include "run/run.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <ctime>

#include "core/version.hpp"
#include "devices/device.hpp"
#include "io/files.hpp"
#include "protocol/course.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json run_metadata(std::uint64_t seed, int threads, const std::string& started_utc,
                            double wall_s) {
  return {{"mnsim_version", version()}, {"git_commit", git_commit()},
          {"build_type", build_type()}, {"seed", seed},
          {"threads", threads},         {"started_utc", started_utc},
          {"wall_time_s", wall_s}};
}

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

void validate_semantics(const Table& scenario) {
  (void)protocol::make_course(scenario.table("course"));
  // The patch with its lesions: lesions outside the patch or deeper than the skin, unreadable
  // height maps (InputError at the key).
  (void)skin::make_patch(scenario);
  // The device resolves against the catalog (model, offered lengths, depth range).
  devices::make_device(scenario.table("device"), devices::DeviceCatalog::defaults());
}

RunResult run_scenario(Table scenario, const RunOptions& opts) {
  NullProgress quiet;
  Progress& progress = opts.progress ? *opts.progress : quiet;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = utc_now_iso();
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  const int threads = omp_get_max_threads();
  const std::uint64_t seed = apply_seed_override(scenario, opts.seed);

  validate_semantics(scenario);
  io::prepare_output_dir(opts.out_dir, opts.force);
  progress.stage("setup");

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RunResult res;
  res.out_dir = opts.out_dir;
  res.summary = {{"schema_version", 1},
                 {"run", run_metadata(seed, threads, started, wall)},
                 {"scenario", scenario.to_json()}};
  io::write_file_atomic(opts.out_dir / "scenario.resolved.toml",
                        fmt::format("# mnsim {} ({}) resolved scenario, seed {}, started {}\n{}",
                                    version(), git_commit(), seed, started, scenario.to_toml()));
  io::write_file_atomic(opts.out_dir / "summary.json", res.summary.dump(2) + "\n");
  res.summary_text = fmt::format("results: {}", opts.out_dir.string());
  return res;
}

}  // namespace mnsim
