#include "io/files.hpp"

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

void fail_write(const fs::path& path, const char* what, int err) {
  throw OutputError(
      fmt::format("cannot write {}: {} ({})", path.string(), what, std::strerror(err)));
}

fs::path temporary_name(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  // Unique temporary name in the same folder (same file system, so rename is atomic).
  std::random_device rd;
  return dir / fmt::format(".{}.tmp.{:08x}", path.filename().string(), rd());
}

std::size_t injected_write_limit(const fs::path& path) {
  if (const char* e = std::getenv("MNSIM_TEST_FAIL_WRITE_AFTER_BYTES"); e && *e) {
    const char* only = std::getenv("MNSIM_TEST_FAIL_WRITE_NAME");
    if (!only || !*only || path.filename() == only) {
      return static_cast<std::size_t>(std::strtoull(e, nullptr, 10));
    }
  }
  return std::numeric_limits<std::size_t>::max();
}

namespace {

/// Renames the complete, synced temporary file into place and syncs the folder.
void rename_into_place(const fs::path& tmp, const fs::path& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(path, "rename", err);
  }
  // The rename itself is durable once the folder is synced.
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

void install_temporary(const fs::path& tmp, const fs::path& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(path, "open", err);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail_write(path, "fsync", err);
  }
  ::close(fd);
  rename_into_place(tmp, path);
}

void write_file_atomic(const fs::path& path, std::string_view content, double pause_mid_write_s) {
  const std::size_t fail_after = injected_write_limit(path);
  const std::size_t pause_at = pause_mid_write_s > 0.0 ? content.size() / 2 : content.size() + 1;
  const fs::path tmp = temporary_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail_write(path, "open", errno);
  std::size_t done = 0;
  while (done < content.size()) {
    std::size_t chunk = content.size() - done;
    if (done < pause_at) chunk = std::min(chunk, pause_at - done);
    if (done == pause_at) {
      std::this_thread::sleep_for(std::chrono::duration<double>(pause_mid_write_s));
    }
    if (done >= fail_after) {
      ::close(fd);
      ::unlink(tmp.c_str());
      fail_write(path, "write", ENOSPC);
    }
    chunk = std::min(chunk, fail_after - done);
    const ssize_t n = ::write(fd, content.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail_write(path, "write", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail_write(path, "fsync", err);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(path, "close", err);
  }
  rename_into_place(tmp, path);
}

BackgroundWrites::~BackgroundWrites() {
  if (!pending_.valid()) return;
  try {
    pending_.get();
  } catch (const std::exception& e) {
    spdlog::warn("a file written in the background failed as well: {}", e.what());
  }
}

void BackgroundWrites::start(std::function<void()> job) {
  wait();
  pending_ = std::async(std::launch::async, [job = std::move(job)] {
    job();
    // What the job allocated here (a checkpoint's encoded bytes) came from this thread's malloc
    // arena, which keeps freed pages.
    release_free_memory();
  });
}

void release_free_memory() {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
}

void BackgroundWrites::wait() {
  if (!pending_.valid()) return;
  std::future<void> f = std::move(pending_);
  f.get();
}

void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    const auto at = n.rfind(".tmp.");
    if (n.size() > 1 && n[0] == '.' && at != std::string::npos && at + 13 == n.size()) {
      stale.push_back(e.path());
    }
  }
  for (const auto& p : stale) fs::remove(p, ec);
}

namespace {

/// What a file that is not a regular file is, for messages; nullptr for a regular file.
const char* non_regular_kind(mode_t mode) {
  if (S_ISREG(mode)) return nullptr;
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a named pipe (FIFO)";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is a special file";
}

[[noreturn]] void refuse_kind(const fs::path& path, const std::string& key, const char* kind,
                              const std::string& what) {
  throw InputError({path.string(), 1, 1}, key, fmt::format("{}, not a regular file", kind), what);
}

}  // namespace

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

InputFile open_input_file(const fs::path& path, const std::string& key, const std::string& what) {
  // stat first: a device or FIFO is refused without opening it (opening some devices has side
  // effects); the descriptor is checked again below, so a file swapped in between is caught too.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (const char* kind = non_regular_kind(st.st_mode)) refuse_kind(path, key, kind, what);
  }
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    throw InputError({path.string(), 1, 1}, key,
                     std::string("cannot open file: ") + std::strerror(errno), "a readable file");
  }
  InputFile file(fd, 0, path, key);
  if (::fstat(fd, &st) != 0) {
    throw InputError({path.string(), 1, 1}, key,
                     std::string("cannot read file: ") + std::strerror(errno), "a readable file");
  }
  if (const char* kind = non_regular_kind(st.st_mode)) refuse_kind(path, key, kind, what);
  // A regular file never blocks; clear O_NONBLOCK all the same so reads behave as usual.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return InputFile(file.release(), static_cast<std::uint64_t>(st.st_size), path, key);
}

std::string InputFile::read_all(std::size_t max_bytes) const {
  const auto mib = [](double b) { return b / (1 << 20); };
  if (size_ > max_bytes) {
    throw InputError({path_.string(), 1, 1}, key_,
                     fmt::format("file is {:.1f} MiB", mib(static_cast<double>(size_))),
                     fmt::format("at most {:.1f} MiB", mib(static_cast<double>(max_bytes))));
  }
  // Read to the end (the file may have changed since fstat), never more than max_bytes + 1.
  std::string text;
  text.resize(static_cast<std::size_t>(size_) + 1);
  std::size_t done = 0;
  for (;;) {
    if (done == text.size()) {
      if (text.size() > max_bytes) break;
      text.resize(std::min(max_bytes + 1, text.size() * 2 + 4096));
    }
    const ssize_t n = ::read(fd_, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError({path_.string(), 1, 1}, key_,
                       std::string("cannot read file: ") + std::strerror(errno), "a readable file");
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done > max_bytes) {
    throw InputError({path_.string(), 1, 1}, key_, "file grew beyond the size limit while read",
                     fmt::format("at most {:.1f} MiB", mib(static_cast<double>(max_bytes))));
  }
  text.resize(done);
  return text;
}

std::string read_text_file(const fs::path& path, std::size_t max_bytes, const std::string& what) {
  return open_input_file(path, "(file)", what).read_all(max_bytes);
}

}  // namespace mnsim::io
