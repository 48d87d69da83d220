#include "run/sensitivity.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <stdexcept>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/ranks.hpp"
#include "core/version.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "io/shards.hpp"
#include "report/sensitivity_figure.hpp"

namespace mnsim {

const std::vector<std::string>& sensitivity_files() {
  static const std::vector<std::string> f{"sensitivity.json", "sensitivity.csv", "sensitivity.png"};
  return f;
}

std::uint64_t sensitivity_key(const protocol::SensitivitySpec& spec) {
  std::string what = spec.resolved.to_toml() + version() + git_commit() + build_type();
  for (const auto& p : spec.parameters) {
    what += fmt::format("\n{} {} {} {} {}", p.key, p.nominal, p.low, p.high, p.log ? 1 : 0);
  }
  return io::fnv1a64(what);
}

namespace {

int threads_of(const SensitivityOptions& o) {
#ifdef _OPENMP
  return o.threads > 0 ? o.threads : omp_get_max_threads();
#else
  (void)o;
  return 1;
#endif
}

// The indices and the three files from every evaluation's outputs, committed into `folder`.
void write_results(io::OutputFolder& folder, const protocol::SensitivitySpec& spec,
                   const std::vector<std::vector<double>>& values,
                   std::chrono::steady_clock::time_point t0, SensitivityRun& run) {
  run.result = protocol::sensitivity_indices(spec, values);
  run.info.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.info.load_end = load_average();
  const auto& files = sensitivity_files();
  io::write_file_atomic(folder.staging() / files[0],
                        protocol::sensitivity_json(spec, run.result, run.info));
  io::write_file_atomic(folder.staging() / files[1], protocol::sensitivity_csv(spec, run.result));
  io::write_file_atomic(folder.staging() / files[2], report::sensitivity_png(spec, run.result));
  // What was computed: the resolved file and the build.
  const std::uint64_t key =
      io::fnv1a64(spec.resolved.to_toml() + version() + git_commit() + build_type());
  folder.commit(files, key);
  run.files = files;
}

std::string rerun_hint() {
  return "mnsim sensitivity FILE --shard i/N --out DIR";
}

}  // namespace

SensitivityRun run_sensitivity_into(const protocol::ReducedModel& m,
                                    const protocol::SensitivitySpec& spec,
                                    const SensitivityOptions& o) {
  const Ranks& ranks = o.ranks != nullptr ? *o.ranks : Ranks::single();
  if (o.shards < 0 || (o.shards > 0 && (o.shard < 1 || o.shard > o.shards || ranks.several()))) {
    throw std::invalid_argument("run_sensitivity_into: shard i of N needs 1 <= i <= N, one rank");
  }
  // Only the root opens the folder; any rank's failure is every rank's (core/ranks.hpp).
  std::optional<io::OutputFolder> folder;
  agree(ranks, [&] {
    if (ranks.root())
      folder.emplace(io::OutputFolder::open(o.out_dir, o.force, "mnsim sensitivity"));
  });
  SensitivityRun run;
  run.info.threads = threads_of(o);
  run.info.ranks = ranks.size();
  run.info.load_start = load_average();
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = protocol::sensitivity_evaluations(spec);
  if (o.shards > 0) {
    // A shard: its evaluations' outputs, for mnsim merge.
    std::vector<std::size_t> mine;
    for (std::size_t e = 0; e < n; ++e) {
      if (io::in_shard(e, o.shard, o.shards)) mine.push_back(e);
    }
    const auto values = protocol::evaluate_selected(m, spec, mine, o.threads, o.progress);
    std::vector<std::string> bytes;
    bytes.reserve(values.size());
    for (const auto& y : values) bytes.push_back(protocol::outputs_bytes(y));
    const io::ShardId id{"sensitivity", o.shard, o.shards, sensitivity_key(spec), n};
    run.files = io::write_shard(folder->staging(), id, bytes);
    folder->commit(run.files, sensitivity_key(spec));
    run.shard_evaluations = mine.size();
    run.info.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return run;
  }
  const std::vector<std::vector<double>> values =
      ranks.several() ? protocol::evaluate_split(m, spec, ranks, o.threads, o.progress)
                      : protocol::evaluate_indices(m, spec, 0, n, o.threads, o.progress);
  if (!ranks.root()) return run;
  write_results(*folder, spec, values, t0, run);
  return run;
}

SensitivityRun merge_sensitivity_into(const protocol::ReducedModel& m,
                                      const protocol::SensitivitySpec& spec,
                                      const std::vector<std::filesystem::path>& shard_dirs,
                                      const SensitivityOptions& o) {
  (void)m;  // nothing is evaluated: every output comes from the shards
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = protocol::sensitivity_evaluations(spec);
  const std::vector<std::string> bytes =
      io::read_shards(shard_dirs, "sensitivity", sensitivity_key(spec), n, rerun_hint());
  std::vector<std::vector<double>> values;
  values.reserve(n);
  for (std::size_t e = 0; e < n; ++e) {
    values.push_back(protocol::outputs_from_bytes(bytes[e], spec.outputs.size(), "(shards)", e));
  }
  // Everything is read and checked before the folder is opened: a bad shard writes nothing.
  io::OutputFolder folder = io::OutputFolder::open(o.out_dir, o.force, "mnsim merge");
  SensitivityRun run;
  run.info.threads = threads_of(o);
  run.info.ranks = 1;
  run.info.shards = static_cast<int>(shard_dirs.size());
  run.info.load_start = load_average();
  write_results(folder, spec, values, t0, run);
  return run;
}

}  // namespace mnsim
