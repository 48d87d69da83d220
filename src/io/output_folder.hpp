// Output folders of `mnsim run`, `punctures` and `cohort` (docs/reliability.md, "Output
// folders"): one writer at a time, results that appear complete or not at all.
//
// DIR/.mnsim-output   marker (JSON): this is an mnsim output folder; the state of its results
//                     ("empty", "installing", "complete"), the entries they consist of, the
//                     command and the key of the run that wrote them
// DIR/.mnsim-lock     held with flock(2) by the process writing DIR (removed when it is done);
//                     holds that process's pid, command line and start time, for the message
//                     another writer gets
// DIR/checkpoint/     what a killed writer needs to resume (run.ckpt, snapshots, patients.rec)
// DIR/.staging/       the results being written; DIR/.staging/.commit marks them complete
//
// Results are written into DIR/.staging. commit() records the list of entries (the commit
// point), then installs them: the previous results are removed (report.html first), the new
// entries are renamed into DIR in the order given (summary.json first, report.html last), the
// marker says "complete", and the checkpoint and staging folders are removed. A writer killed
// after the commit point leaves the marker at "installing" or "complete"; the next open()
// finishes the installation, so a folder never shows two runs' results side by side and never a
// report without its summary. A writer killed before it leaves the earlier results untouched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mnsim::io {

/// File names of the folder's own bookkeeping.
inline constexpr const char* kOutputMarker = ".mnsim-output";
inline constexpr const char* kOutputLock = ".mnsim-lock";
inline constexpr const char* kStagingDir = ".staging";
inline constexpr const char* kCheckpointDir = "checkpoint";

class OutputFolder {
 public:
  /// Creates `dir` or accepts it if it is empty or an earlier mnsim output folder; a non-empty
  /// folder that is not one is refused (InputError at --out, exit 2) unless `force`. Takes the
  /// writer lock: a folder another process is writing is refused (InputError naming that
  /// process). Finishes an installation a killed writer had committed and clears the staging
  /// folder. `command` names the writer in the marker and in the lock ("mnsim run S.toml").
  /// OutputError (exit 1) when the folder cannot be created or written.
  static OutputFolder open(const std::filesystem::path& dir, bool force, std::string_view command);

  OutputFolder(OutputFolder&& o) noexcept;
  OutputFolder& operator=(OutputFolder&&) = delete;
  OutputFolder(const OutputFolder&) = delete;
  ~OutputFolder();  // removes an empty staging folder and the lock file; releases the lock

  const std::filesystem::path& path() const { return dir_; }
  /// DIR/.staging (exists after open()): write every result file here.
  std::filesystem::path staging() const { return dir_ / kStagingDir; }
  /// DIR/checkpoint (not created by open()).
  std::filesystem::path checkpoints() const { return dir_ / kCheckpointDir; }
  /// The key of the complete results the folder holds (commit's `key`), if any.
  std::optional<std::uint64_t> complete_key() const { return complete_key_; }

  /// Makes the staged `entries` (file or folder names in DIR/.staging, in the order a reader
  /// should find them appear) the folder's results, replacing the earlier ones, and removes
  /// DIR/checkpoint. `key` identifies what was computed (complete_key() of a later open()).
  void commit(const std::vector<std::string>& entries, std::uint64_t key);

 private:
  OutputFolder() = default;
  void recover();
  void install();

  std::filesystem::path dir_;
  int lock_fd_ = -1;
  std::string command_;
  std::optional<std::uint64_t> complete_key_;
};

/// The state of an output folder's results as its marker records it: "complete", "installing",
/// "empty", or "none" (no marker: not an mnsim output folder). For readers of result folders.
std::string output_state(const std::filesystem::path& dir);

/// Test hook: MNSIM_TEST_PAUSE_IN_OUTPUT=SECONDS sleeps that long after each result file is
/// staged (callers of this) and after each step of an installation, so tests can kill a writer
/// there. No effect without the variable.
void output_test_pause();

}  // namespace mnsim::io
