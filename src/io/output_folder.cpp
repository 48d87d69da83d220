#include "io/output_folder.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

const SourceLoc kCli{"command line", 0, 0};
constexpr const char* kCommitFile = ".commit";

/// What earlier mnsim versions wrote, before the marker listed the results: their entries.
const std::vector<std::string> kLegacyEntries = {
    "summary.json", "report.html",    "figures",       "fields.h5",
    "fields.xmf",   "timeseries.csv", "punctures.csv", "scenario.resolved.toml",
    "density.csv",  "punctures.json", "cohort.json",   "patients.csv"};

[[noreturn]] void fail(const fs::path& p, const std::string& what, int err) {
  throw OutputError(fmt::format("cannot {} {}: {}", what, p.string(), std::strerror(err)));
}

/// A result entry is a plain name inside the folder, never one of the folder's own files.
bool plain_entry(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos && n != kOutputMarker && n != kOutputLock &&
         n != kStagingDir && n != kCheckpointDir;
}

struct Marker {
  bool present = false;
  bool legacy = false;  // a marker of an mnsim that did not record its results
  std::string state = "empty";
  std::string command;
  std::vector<std::string> entries;
  std::vector<std::string> previous;  // while installing: the results being replaced
  std::optional<std::uint64_t> key;
};

std::vector<std::string> names_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string() && plain_entry(e.get<std::string>())) out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<std::uint64_t> key_of(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  const std::string s = j.get<std::string>();
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  return std::strtoull(s.c_str(), nullptr, 16);
}

Marker read_marker(const fs::path& dir) {
  Marker m;
  std::error_code ec;
  const fs::path file = dir / kOutputMarker;
  if (!fs::exists(file, ec)) return m;
  m.present = true;
  std::string text;
  try {
    text = read_text_file(file, 1 << 20, "an mnsim output folder marker");
  } catch (const InputError&) {
    text.clear();
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) {
    m.legacy = true;
    m.state = "complete";
    m.entries = kLegacyEntries;
    return m;
  }
  m.state = j["state"].get<std::string>();
  if (j.contains("command") && j["command"].is_string()) m.command = j["command"];
  if (j.contains("entries")) m.entries = names_of(j["entries"]);
  if (j.contains("previous")) m.previous = names_of(j["previous"]);
  if (j.contains("key")) m.key = key_of(j["key"]);
  return m;
}

std::string hex_key(std::uint64_t k) {
  return fmt::format("{:016x}", k);
}

void write_marker(const fs::path& dir, const Marker& m) {
  nlohmann::ordered_json j;
  j["mnsim_output_folder"] = 1;
  j["state"] = m.state;
  j["command"] = m.command;
  j["entries"] = m.entries;
  if (!m.previous.empty()) j["previous"] = m.previous;
  if (m.key) j["key"] = hex_key(*m.key);
  write_file_atomic(dir / kOutputMarker, j.dump(1) + "\n");
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// The folder's own files, and what a writer killed while creating the marker leaves.
bool bookkeeping(const std::string& n) {
  return n == kOutputLock || n.rfind(fmt::format(".{}.tmp.", kOutputMarker), 0) == 0;
}

/// One line describing the process that holds the lock (written by it after locking).
std::string lock_holder(int fd) {
  std::string text;
  // The holder writes its line right after it takes the lock: give it a moment.
  for (int i = 0; i < 50 && text.empty(); ++i) {
    char buf[512];
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) text.assign(buf, static_cast<std::size_t>(n));
    if (text.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text.empty() ? std::string("a process that has not said which") : text;
}

}  // namespace

void output_test_pause() {
  static const double pause = [] {
    const char* e = std::getenv("MNSIM_TEST_PAUSE_IN_OUTPUT");
    return e && *e ? std::strtod(e, nullptr) : 0.0;
  }();
  if (pause > 0.0) std::this_thread::sleep_for(std::chrono::duration<double>(pause));
}

std::string output_state(const fs::path& dir) {
  const Marker m = read_marker(dir);
  return m.present ? m.state : std::string("none");
}

OutputFolder::OutputFolder(OutputFolder&& o) noexcept
    : dir_(std::move(o.dir_)),
      lock_fd_(o.lock_fd_),
      command_(std::move(o.command_)),
      complete_key_(o.complete_key_) {
  o.lock_fd_ = -1;
}

OutputFolder::~OutputFolder() {
  if (lock_fd_ < 0) return;
  ::rmdir(staging().c_str());  // if nothing was staged (fails, as it should, if something was)
  // Removed while still held: a writer that opened it meanwhile finds it is no longer the
  // folder's lock file (open() checks) and takes a new one.
  ::unlink((dir_ / kOutputLock).c_str());
  ::close(lock_fd_);  // releases the flock
}

OutputFolder OutputFolder::open(const fs::path& dir, bool force, std::string_view command) {
  OutputFolder f;
  f.dir_ = dir;
  f.command_ = std::string(command);
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      throw InputError(kCli, "--out", fmt::format("'{}' exists and is not a folder", dir.string()),
                       "a new or empty folder, or an earlier mnsim output folder");
    }
    if (!fs::exists(dir / kOutputMarker, ec)) {
      bool foreign = false;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!bookkeeping(e.path().filename().string())) foreign = true;
      }
      if (ec) fail(dir, "read output folder", ec.value());
      if (foreign && !force) {
        throw InputError(
            kCli, "--out",
            fmt::format("'{}' is not empty and is not an mnsim output folder", dir.string()),
            "an empty or new folder; pass --force to write into it anyway");
      }
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec) fail(dir, "create output folder", ec.value());
  }

  // One writer at a time. flock is released by the kernel when the process ends, however. The
  // holder removes the lock file when it is done, so a lock taken on a file that was removed (or
  // replaced) meanwhile is not the folder's lock: take it again.
  const fs::path lock = dir / kOutputLock;
  for (int attempt = 0;; ++attempt) {
    f.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f.lock_fd_ < 0) fail(lock, "create", errno);
    if (::flock(f.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      // Not ours: closed here, so that the destructor leaves the holder's lock file and its
      // (still empty) staging folder alone.
      const std::string holder = err == EWOULDBLOCK ? lock_holder(f.lock_fd_) : std::string();
      ::close(f.lock_fd_);
      f.lock_fd_ = -1;
      if (err != EWOULDBLOCK) fail(lock, "lock", err);
      throw InputError(
          kCli, "--out",
          fmt::format("'{}' is being written by another mnsim process: {}", dir.string(), holder),
          "wait until it has finished, or another folder");
    }
    struct stat held {
    }, now{};
    if (::fstat(f.lock_fd_, &held) == 0 && ::stat(lock.c_str(), &now) == 0 &&
        held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
      break;
    }
    ::close(f.lock_fd_);
    f.lock_fd_ = -1;
    if (attempt > 100) fail(lock, "lock (the lock file keeps changing)", EAGAIN);
  }
  std::string who = fmt::format("pid {}, '{}', started {:%Y-%m-%dT%H:%M:%SZ}", ::getpid(), command,
                                fmt::gmtime(std::time(nullptr)));
  for (char& c : who) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (::ftruncate(f.lock_fd_, 0) != 0 ||
      ::pwrite(f.lock_fd_, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
    fail(lock, "write", errno);
  }

  // Temporary files of killed writers.
  remove_stale_temporaries(dir);
  Marker m = read_marker(dir);
  if (!m.present) {
    m.command = f.command_;
    write_marker(dir, m);
  }
  f.recover();
  fs::create_directories(f.staging(), ec);
  if (ec) fail(f.staging(), "create", ec.value());
  const Marker now = read_marker(dir);
  if (now.state == "complete") f.complete_key_ = now.key;
  return f;
}

void OutputFolder::recover() {
  std::error_code ec;
  if (fs::exists(staging() / kCommitFile, ec)) {
    install();  // committed by a writer that was killed before it had installed everything
    return;
  }
  Marker m = read_marker(dir_);
  if (m.state == "installing") {
    // Every entry was moved in (the commit record goes last): only the marker is behind.
    std::vector<std::string> present;
    for (const auto& e : m.entries) {
      if (fs::exists(dir_ / e, ec)) present.push_back(e);
    }
    m.entries = present;
    m.previous.clear();
    m.state = "complete";
    write_marker(dir_, m);
  }
  // Results staged but never committed belong to no run.
  fs::remove_all(staging(), ec);
  if (ec) fail(staging(), "remove", ec.value());
}

void OutputFolder::commit(const std::vector<std::string>& entries, std::uint64_t key) {
  std::error_code ec;
  for (const auto& e : entries) {
    if (!plain_entry(e) || !fs::exists(staging() / e, ec)) {
      throw std::logic_error("internal: result '" + e + "' was not staged");
    }
  }
  sync_dir(staging());
  nlohmann::ordered_json j;
  j["entries"] = entries;
  j["key"] = hex_key(key);
  // The commit point: from here on the results are this run's, even if it is killed.
  try {
    write_file_atomic(staging() / kCommitFile, j.dump(1) + "\n");
  } catch (const OutputError& e) {
    throw OutputError(fmt::format(
        "{}; nothing was committed: any checkpoint and earlier results in {} are intact", e.what(),
        dir_.string()));
  }
  output_test_pause();
  try {
    install();
  } catch (const OutputError& e) {
    throw OutputError(fmt::format(
        "{}; the results are complete in {}: the next mnsim command that writes into {} (such as "
        "the same command with --resume) finishes installing them",
        e.what(), staging().string(), dir_.string()));
  }
}

void OutputFolder::install() {
  std::error_code ec;
  const nlohmann::json c = nlohmann::json::parse(
      [&] {
        try {
          return read_text_file(staging() / kCommitFile, 1 << 20, "a commit record");
        } catch (const InputError&) {
          return std::string();
        }
      }(),
      nullptr, false);
  if (!c.is_object() || !c.contains("entries") || !c.contains("key") || !key_of(c["key"])) {
    // Not a commit record this code wrote (written atomically, so never half of one).
    fs::remove_all(staging(), ec);
    return;
  }
  const std::vector<std::string> fresh = names_of(c["entries"]);
  const std::uint64_t key = *key_of(c["key"]);

  Marker m = read_marker(dir_);
  std::vector<std::string> old;
  if (m.state == "installing") {
    old = m.previous;
  } else if (m.state == "complete") {
    old = m.entries;
  }
  m.present = true;
  m.legacy = false;
  m.state = "installing";
  m.entries = fresh;
  m.previous = old;
  m.key = key;
  if (m.command.empty()) m.command = command_;
  write_marker(dir_, m);
  output_test_pause();

  // Out with the earlier results, the report first: no reader finds an earlier run's report
  // beside this run's summary. An entry already moved in (a resumed installation) stays.
  std::vector<std::string> out = old;
  for (const auto& e : fresh) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const std::string& e) { return e == "report.html"; });
  auto is_fresh = [&](const std::string& e) {
    return std::find(fresh.begin(), fresh.end(), e) != fresh.end();
  };
  for (const auto& e : out) {
    const bool replace = is_fresh(e) && fs::exists(staging() / e, ec);
    if (replace || !is_fresh(e)) {
      fs::remove_all(dir_ / e, ec);
      if (ec) fail(dir_ / e, "remove", ec.value());
    }
  }
  output_test_pause();
  // In with the new, in the order given (the report last).
  for (const auto& e : fresh) {
    if (!fs::exists(staging() / e, ec)) continue;  // moved in before a kill
    if (::rename((staging() / e).c_str(), (dir_ / e).c_str()) != 0) fail(dir_ / e, "move", errno);
    output_test_pause();
  }
  sync_dir(dir_);
  m.state = "complete";
  m.previous.clear();
  write_marker(dir_, m);
  complete_key_ = key;
  fs::remove_all(checkpoints(), ec);
  if (ec) fail(checkpoints(), "remove", ec.value());
  fs::remove_all(staging(), ec);
  if (ec) fail(staging(), "remove", ec.value());
}

}  // namespace mnsim::io
