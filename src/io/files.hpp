// Writing results safely: every file is written to a temporary name in the same folder,
// flushed to disk and renamed, so no reader ever sees a half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <string_view>

namespace mnsim::io {

/// Writes `content` to `path` atomically (temporary file, fsync, rename, fsync of the folder):
/// the previous file at `path`, if any, stays intact until the new one is complete. Throws
/// OutputError (a failed write leaves no temporary file behind).
/// Test hooks (environment): MNSIM_TEST_FAIL_WRITE_AFTER_BYTES=N makes every write fail with
/// ENOSPC once N bytes of that file are written (a full disk), only the files named
/// MNSIM_TEST_FAIL_WRITE_NAME if that is set (one writer at a time); `pause_mid_write_s` > 0 sleeps
/// after half of the bytes (tests that kill the writer mid-write).
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       double pause_mid_write_s = 0.0);

/// Writes files one at a time on a thread of its own, so the caller goes on while a file is
/// written, synced and renamed into place (the checkpoints and snapshots of `mnsim run`: their
/// fsync waits off the engine's path). A job (a call of write_file_atomic, say) starts only once
/// the one before it has finished; its error is kept and thrown by the next start() or wait(),
/// so a failure is never lost and nothing handed over after a failed file is written. A file is
/// done (durable and in place) only once wait() has returned.
class BackgroundWrites {
 public:
  BackgroundWrites() = default;
  BackgroundWrites(const BackgroundWrites&) = delete;
  BackgroundWrites& operator=(const BackgroundWrites&) = delete;
  /// Waits for the job in hand; its error, if any, cannot be thrown here (the caller is leaving
  /// on another error) and is logged instead.
  ~BackgroundWrites();
  /// Waits for the job before (throwing its error), then starts `job` on the writing thread.
  void start(std::function<void()> job);
  /// Returns once the last job has finished; throws its error (OutputError, say) if it failed.
  void wait();

 private:
  std::future<void> pending_;
};

/// Gives the pages of freed memory back to the system (glibc's malloc_trim; nothing elsewhere):
/// called by a thread that has freed large buffers in its own malloc arena, which would keep
/// them (the peak resident memory of a run counted them twice).
void release_free_memory();

/// Removes temporary files left by writers that were killed (".NAME.tmp.XXXXXXXX") in `dir`.
void remove_stale_temporaries(const std::filesystem::path& dir);

// The pieces of write_file_atomic, for writers that write a file through another library (the
// HDF5 fields file): a temporary name beside `path`, the test hook's byte limit, the same
// one-line OutputError, and the installation of the finished temporary file.
/// A unique temporary name in the folder of `path` (".NAME.tmp.XXXXXXXX"; remove_stale_temporaries
/// removes it after a killed writer).
std::filesystem::path temporary_name(const std::filesystem::path& path);
/// The number of bytes after which writes of `path` fail with ENOSPC
/// (MNSIM_TEST_FAIL_WRITE_AFTER_BYTES, MNSIM_TEST_FAIL_WRITE_NAME); SIZE_MAX when none.
std::size_t injected_write_limit(const std::filesystem::path& path);
/// Throws OutputError "cannot write PATH: WHAT (strerror(err))".
[[noreturn]] void fail_write(const std::filesystem::path& path, const char* what, int err);
/// Flushes the complete temporary file `tmp` to disk (fsync) and renames it to `path`, then
/// syncs the folder; on failure removes `tmp` and throws OutputError naming `path`.
void install_temporary(const std::filesystem::path& tmp, const std::filesystem::path& path);

/// An input file open for reading (the descriptor is closed by the destructor).
class InputFile {
 public:
  InputFile(int fd, std::uint64_t size, std::filesystem::path path, std::string key)
      : fd_(fd), size_(size), path_(std::move(path)), key_(std::move(key)) {}
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  /// Gives up ownership of the descriptor.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Size in bytes when it was opened (fstat).
  std::uint64_t size() const { return size_; }
  /// The whole file; more than `max_bytes` is an InputError ("file is N MiB (at most M MiB)").
  std::string read_all(std::size_t max_bytes) const;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::filesystem::path path_;
  std::string key_;
};

/// Opens an input file for reading: the only way mnsim opens a file it reads. Only a regular file
/// (or a symbolic link to one) is accepted: a named pipe (FIFO), a character or block device, a
/// socket or a directory is refused with an InputError at `path`:1:1 and `key`, e.g. "is a named
/// pipe (FIFO), not a regular file (a TOML scenario file)" (`what` describes the expected file).
/// The file is opened with O_NONBLOCK | O_CLOEXEC and checked with fstat on the descriptor, so
/// opening never blocks (a FIFO without a writer) and the file checked is the file read.
InputFile open_input_file(const std::filesystem::path& path, const std::string& key,
                          const std::string& what);

/// Reads a whole small text file (open_input_file with key "(file)"); throws InputError naming
/// the file on failure. `what` describes the file expected ("a TOML scenario file").
std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes,
                           const std::string& what);

}  // namespace mnsim::io
