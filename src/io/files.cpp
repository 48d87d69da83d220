#include "io/files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
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

namespace {
[[noreturn]] void fail_write(const fs::path& path, const char* what, int err) {
  throw OutputError(
      fmt::format("cannot write {}: {} ({})", path.string(), what, std::strerror(err)));
}
}  // namespace

void write_file_atomic(const fs::path& path, std::string_view content, double pause_mid_write_s) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::size_t fail_after = std::numeric_limits<std::size_t>::max();
  if (const char* e = std::getenv("MNSIM_TEST_FAIL_WRITE_AFTER_BYTES"); e && *e) {
    const char* only = std::getenv("MNSIM_TEST_FAIL_WRITE_NAME");
    if (!only || !*only || path.filename() == only) {
      fail_after = static_cast<std::size_t>(std::strtoull(e, nullptr, 10));
    }
  }
  const std::size_t pause_at = pause_mid_write_s > 0.0 ? content.size() / 2 : content.size() + 1;
  // Unique temporary name in the same folder (same file system, so rename is atomic).
  std::random_device rd;
  const fs::path tmp = dir / fmt::format(".{}.tmp.{:08x}", path.filename().string(), rd());
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
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_write(path, "rename", err);
  }
  // The rename itself is durable once the folder is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
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

std::string read_text_file(const fs::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw InputError({path.string(), 1, 1}, "(file)", "is a directory", "a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError({path.string(), 1, 1}, "(file)",
                     std::string("cannot open file: ") + std::strerror(errno), "a readable file");
  }
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0)
    throw InputError({path.string(), 1, 1}, "(file)", "cannot read file", "a readable file");
  if (static_cast<std::size_t>(size) > max_bytes) {
    throw InputError({path.string(), 1, 1}, "(file)",
                     fmt::format("file is {:.1f} MiB", static_cast<double>(size) / (1 << 20)),
                     fmt::format("at most {:.1f} MiB", static_cast<double>(max_bytes) / (1 << 20)));
  }
  in.seekg(0);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) throw InputError({path.string(), 1, 1}, "(file)", "cannot read file", "a readable file");
  return text;
}

}  // namespace mnsim::io
