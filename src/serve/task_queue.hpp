// The connection queue of `mnsim serve` (docs/serve.md, "Security"): a cpp-httplib task queue
// with a bound on the connections waiting for a thread.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mnsim::serve {

/// cpp-httplib's task queue, bounded: `threads` workers answer connections and at most
/// `max_queued` accepted connections wait for one (cpp-httplib's own ThreadPool queues without
/// bound). When the queue is full the accepting thread waits for room, so further connections
/// wait in the kernel's listen backlog (and past it are refused by the kernel): a flood of
/// connections costs bounded memory and threads, and each connection is answered in turn.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override {
    if (!workers_.empty() && workers_.front().joinable()) shutdown();
  }
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return tasks_.size() < max_queued_ || shutdown_; });
    if (shutdown_) {
      // Not queued: run here, so that the connection is closed all the same.
      lock.unlock();
      fn();
      return;
    }
    tasks_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return shutdown_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // shutting down, nothing left
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
      room_.notify_one();
      fn();
    }
  }

  std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> workers_;
  bool shutdown_ = false;
};

}  // namespace mnsim::serve
