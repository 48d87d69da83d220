#include "io/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/data_dir.hpp"
#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/version.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/shards.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

const SourceLoc kCli{"command line", 0, 0};

std::string hex(std::uint64_t key) {
  return fmt::format("{:016x}", key);
}

/// Writes `bytes` as the shard `id` into `target` through a temporary folder `tmp` beside it,
/// renamed into place: the folder is whole or absent.
void install_shard(const fs::path& tmp, const fs::path& target, const ShardId& id,
                   const std::vector<std::string>& bytes) {
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw OutputError(fmt::format("cannot create '{}': {}", tmp.string(), ec.message()));
  write_shard(tmp, id, bytes);
  fs::remove_all(target, ec);
  fs::rename(tmp, target, ec);
  if (ec) {
    throw OutputError(
        fmt::format("cannot rename '{}' to '{}': {}", tmp.string(), target.string(), ec.message()));
  }
}

bool is_stage_name(const std::string& name) {
  return name.size() == 10 && name.rfind("stage-", 0) == 0 &&
         std::all_of(name.begin() + 6, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::uint64_t state_input_key(std::string_view command, const fs::path& file,
                              std::string_view extra) {
  std::uint64_t h = fnv1a64(fmt::format("mnsim state\n{}\n", command));
  h = fnv1a64(read_text_file(file, std::size_t{64} << 20, "the command's input file"), h);
  h = fnv1a64(extra, h);
  // The data files the model reads, by name and content.
  std::vector<fs::path> data;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(data_dir(), ec)) {
    if (e.is_regular_file(ec)) data.push_back(e.path());
  }
  std::sort(data.begin(), data.end());
  for (const fs::path& p : data) {
    h = fnv1a64(fs::relative(p, data_dir(), ec).generic_string() + "\n", h);
    h = fnv1a64(read_text_file(p, std::size_t{64} << 20, "a data file"), h);
  }
  return fnv1a64(version() + "\n" + git_commit() + "\n" + build_type(), h);
}

StateFolder::StateFolder(fs::path dir, std::string command, std::string file, std::uint64_t key,
                         Mode mode, int shard, int shards)
    : dir_(std::move(dir)),
      command_(std::move(command)),
      file_(std::move(file)),
      key_(key),
      chain_(key),
      mode_(mode),
      shard_(shard),
      shards_(shards) {
  std::error_code ec;
  const std::string where = dir_.string();
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec)) {
    throw InputError(kCli, "--state", fmt::format("'{}' is not a folder", printable(where)),
                     "a state folder (created by the first shard)");
  }
  const fs::path sj = dir_ / "state.json";
  if (fs::is_regular_file(sj, ec)) {
    const nlohmann::json j = nlohmann::json::parse(
        read_text_file(sj, std::size_t{1} << 20, "a state description"), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("mnsim_state") ||
        !j["mnsim_state"].is_string() || !j.contains("key") || !j["key"].is_string() ||
        !j.contains("finished") || !j["finished"].is_boolean()) {
      throw InputError(
          kCli, "--state",
          fmt::format("'{}' holds a state.json that mnsim did not write", printable(where)),
          "a state folder written by mnsim --state");
    }
    if (j["mnsim_state"].get<std::string>() != command_) {
      throw InputError(
          kCli, "--state",
          fmt::format("'{}' holds the state of `mnsim {}`, not of `mnsim {}`", printable(where),
                      printable(j["mnsim_state"].get<std::string>()), command_),
          "one state folder per run");
    }
    if (j["key"].get<std::string>() != hex(key_)) {
      throw InputError(kCli, "--state",
                       fmt::format("'{}' holds the state of another input file, data or mnsim "
                                   "build",
                                   printable(where)),
                       "a new state folder for this input, or the input and build it was "
                       "started with");
    }
    finished_ = j["finished"].get<bool>();
  } else if (fs::is_directory(dir_, ec)) {
    // Only a state's own entries: never write into someone else's folder.
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      const std::string name = e.path().filename().string();
      if (!is_stage_name(name) && name.rfind(".state.json.tmp.", 0) != 0) {
        throw InputError(kCli, "--state",
                         fmt::format("'{}' is not a state folder (it holds '{}')", printable(where),
                                     printable(name)),
                         "a new or empty folder, or a state folder written by mnsim --state");
      }
    }
  }
  if (mode_ == Mode::Shard) {
    fs::create_directories(dir_, ec);
    if (ec) {
      throw OutputError(
          fmt::format("cannot create the state folder '{}': {}", printable(where), ec.message()));
    }
    if (!fs::exists(sj, ec)) write_state(0, false);
  } else if (!fs::is_regular_file(sj, ec)) {
    throw InputError(kCli, "--state", fmt::format("'{}' holds no state", printable(where)),
                     fmt::format("a folder written by `{}`", shard_hint()));
  }
}

fs::path StateFolder::stage_dir(std::size_t k) const {
  return dir_ / fmt::format("stage-{:04d}", k);
}

std::string StateFolder::merge_hint() const {
  return fmt::format("mnsim merge {} --state {}", file_, dir_.string());
}

std::string StateFolder::shard_hint() const {
  return fmt::format("mnsim {} {} --state {} --shard i/N", command_, file_, dir_.string());
}

void StateFolder::write_state(std::size_t closed, bool finished) const {
  nlohmann::ordered_json j;
  j["mnsim_state"] = command_;
  j["key"] = hex(key_);
  j["closed_stages"] = closed;
  j["finished"] = finished;
  write_file_atomic(dir_ / "state.json", j.dump(2) + "\n");
}

std::vector<std::string> StateFolder::run(std::size_t n,
                                          const std::function<std::string(std::size_t)>& item,
                                          int threads, Progress* progress, std::string_view stage) {
  if (n == 0) return {};  // no stage (the same in every mode: n follows from the earlier ones)
  const std::size_t k = ++stage_;
  const std::uint64_t key = fnv1a64(fmt::format("{} stage {} of {} items", command_, k, n), chain_);
  const fs::path sd = stage_dir(k);
  const fs::path closed = sd / "closed";
  std::error_code ec;
  auto advance = [&](const std::vector<std::string>& bytes) {
    std::uint64_t h = key;
    for (const std::string& b : bytes) h = fnv1a64(b, fnv1a64(std::to_string(b.size()) + ":", h));
    chain_ = h;
    return bytes;
  };
  if (fs::is_directory(closed, ec)) {
    return advance(
        read_shards({closed}, command_, key, n,
                    fmt::format("remove {} and run `{}` again", closed.string(), merge_hint())));
  }
  const std::string what = fmt::format("stage {} ({} {})", k, n, stage);
  if (mode_ == Mode::Replay) {
    throw InputError(kCli, "--state",
                     fmt::format("{} of '{}' is not closed", what, printable(dir_.string())),
                     fmt::format("run its shards (`{}`), then `{}`", shard_hint(), merge_hint()));
  }
  if (mode_ == Mode::Shard) {
    const auto N = static_cast<std::size_t>(shards_), i = static_cast<std::size_t>(shard_ - 1);
    const std::size_t m = items_in_shard(n, shard_, shards_);
    const std::vector<std::string> mine = map_items(
        Ranks::single(), m, [&](std::size_t j) { return item(j * N + i); }, Deliver::Root, threads,
        progress, stage);
    const fs::path target = sd / fmt::format("shard-{}-of-{}", shard_, shards_);
    install_shard(sd / fmt::format(".shard-{}-of-{}.tmp", shard_, shards_), target,
                  ShardId{command_, shard_, shards_, key, n}, mine);
    throw StagePending(fmt::format(
        "{}: shard {}/{}: wrote {} of its {} items to {}; once every shard of stage {} is "
        "written, close the stage with `{}`",
        what, shard_, shards_, m, n, target.string(), k, merge_hint()));
  }
  // Close: the stage's shards, joined; one stage per merge.
  if (closed_now_ > 0) {
    throw StagePending(
        fmt::format("closed stage {} of '{}'; next: {}: run its shards (`{}`), "
                    "then `{}`",
                    closed_now_, dir_.string(), what, shard_hint(), merge_hint()));
  }
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(sd, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("shard-", 0) == 0 && e.is_directory(ec)) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) {
    throw InputError(kCli, "--state",
                     fmt::format("{} of '{}' has no shards", what, printable(dir_.string())),
                     fmt::format("run its shards first (`{}`)", shard_hint()));
  }
  const std::vector<std::string> bytes = read_shards(dirs, command_, key, n, shard_hint());
  install_shard(sd / ".closed.tmp", closed, ShardId{command_, 1, 1, key, n}, bytes);
  for (const fs::path& d : dirs) fs::remove_all(d, ec);  // joined: kept in `closed`
  write_state(k, false);
  // The command goes on: its next stage, if any, is open (StagePending), else finish().
  std::vector<std::string> out = advance(bytes);
  closed_now_ = k;
  return out;
}

std::string StateFolder::finish() {
  if (mode_ == Mode::Close) write_state(stage_, true);
  finished_ = true;
  return fmt::format(
      "every stage of '{}' is closed ({} stages): write the results with "
      "`mnsim {} {} --state {}` and the command's output options",
      dir_.string(), stage_, command_, file_, dir_.string());
}

void StateFolder::require_finished() const {
  if (!finished_) {
    throw InputError(kCli, "--state",
                     fmt::format("the run in '{}' is not finished", printable(dir_.string())),
                     fmt::format("run each open stage's shards (`{}`) and `{}` until it says "
                                 "every stage is closed",
                                 shard_hint(), merge_hint()));
  }
}

}  // namespace mnsim::io
