// The connection lifetime limit of `mnsim serve` (docs/serve.md, "Security"). cpp-httplib 0.11's
// timeouts apply to each read and write, so a client that sends a byte every few seconds would
// hold one of the server's threads for as long as it goes on. The reaper bounds the life of
// every connection the server accepted: a thread looks at this process's open sockets (Linux:
// /proc/self/fd) every fraction of a second, and a connection on the server's port that has been
// open longer than the limit is shut down (shutdown(2): the server's blocked read returns, and
// cpp-httplib closes the connection and frees the thread).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace mnsim::serve {

class ConnectionReaper {
 public:
  using Clock = std::chrono::steady_clock;

  /// Watches the connections accepted on local `port`; none may stay open longer than `limit`.
  ConnectionReaper(int port, std::chrono::milliseconds limit);
  ~ConnectionReaper();
  ConnectionReaper(const ConnectionReaper&) = delete;
  ConnectionReaper& operator=(const ConnectionReaper&) = delete;

  /// One look at the open sockets at time `now` (the thread calls it; tests may too). Returns
  /// the number of connections shut down by this look.
  std::size_t scan(Clock::time_point now);
  /// Connections shut down so far.
  std::size_t reaped() const { return reaped_.load(); }
  /// False where this process's sockets cannot be listed (no /proc): nothing is watched.
  bool watching() const { return watching_; }

 private:
  void loop();

  int port_;
  std::chrono::milliseconds limit_;
  bool watching_ = false;
  struct Seen {
    Clock::time_point first;  // when first seen
    bool shut;                // shut down (the server has not closed it yet)
  };
  // (descriptor, socket inode) -> when first seen: an inode names one socket for its life, so a
  // descriptor closed and reused by a new connection starts a new entry.
  std::map<std::pair<int, ino_t>, Seen> seen_;
  std::atomic<std::size_t> reaped_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mnsim::serve
