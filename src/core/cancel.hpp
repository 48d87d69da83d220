// Cooperative stop requests: the CLI's SIGINT/SIGTERM handler sets a flag; long-running library
// loops check it at safe points, write a checkpoint and throw Interrupted.
#pragma once

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <string>

namespace mnsim {

/// A stop request (signal number, 0 = none). Lock-free, async-signal-safe to set.
class StopToken {
 public:
  void request(int signal) { signal_.store(signal, std::memory_order_relaxed); }
  int requested() const { return signal_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> signal_{0};
};

/// Thrown at a safe point after a stop request; carries the signal and what to do next.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, const std::string& what) : std::runtime_error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace mnsim
