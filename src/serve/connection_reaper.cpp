#include "serve/connection_reaper.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace mnsim::serve {
namespace {

/// The inode of the socket open at `fd` ("socket:[INODE]"), or 0 when it is not a socket.
ino_t socket_inode(int fd) {
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buf[64];
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  const std::string_view target(buf, static_cast<std::size_t>(n));
  constexpr std::string_view prefix = "socket:[";
  if (!target.starts_with(prefix) || !target.ends_with("]")) return 0;
  const auto digits = target.substr(prefix.size(), target.size() - prefix.size() - 1);
  ino_t inode = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  return ec == std::errc{} && end == digits.data() + digits.size() ? inode : 0;
}

/// True when `fd` is a connected (not listening) TCP socket whose local port is `port`: a
/// connection the server accepted. A client of the server in this process (the tests) has the
/// port as its peer's, not its own.
bool accepted_on(int fd, int port) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return false;
  int local = -1;
  if (a.ss_family == AF_INET) {
    local = ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
  } else if (a.ss_family == AF_INET6) {
    local = ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
  }
  if (local != port) return false;
  int listening = 0;
  socklen_t l = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) != 0) return false;
  return listening == 0;
}

}  // namespace

ConnectionReaper::ConnectionReaper(int port, std::chrono::milliseconds limit)
    : port_(port), limit_(limit) {
  std::error_code ec;
  watching_ = std::filesystem::is_directory("/proc/self/fd", ec) && port > 0;
  if (watching_) thread_ = std::thread([this] { loop(); });
}

ConnectionReaper::~ConnectionReaper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConnectionReaper::loop() {
  // A look a quarter of the limit apart (at most 1 s): a connection lives at most 1.25 limits.
  const auto every =
      std::clamp(limit_ / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, every, [&] { return stop_; })) {
    lock.unlock();
    scan(Clock::now());
    lock.lock();
  }
}

std::size_t ConnectionReaper::scan(Clock::time_point now) {
  std::vector<int> fds;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int fd = -1;
    const auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (err == std::errc{} && p == name.data() + name.size()) fds.push_back(fd);
  }
  std::lock_guard lock(mu_);
  std::map<std::pair<int, ino_t>, Seen> still;
  std::size_t shut = 0;
  for (int fd : fds) {
    const ino_t inode = socket_inode(fd);
    if (inode == 0 || !accepted_on(fd, port_)) continue;
    const auto key = std::make_pair(fd, inode);
    const auto found = seen_.find(key);
    Seen s = found == seen_.end() ? Seen{now, false} : found->second;
    if (!s.shut && now - s.first > limit_ && socket_inode(fd) == inode) {
      // Still the same socket: shut it down (the server closes the descriptor itself).
      s.shut = shutdown(fd, SHUT_RDWR) == 0;
      if (s.shut) ++shut;
    }
    still.emplace(key, s);
  }
  seen_ = std::move(still);
  reaped_ += shut;
  return shut;
}

}  // namespace mnsim::serve
