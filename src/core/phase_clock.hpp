// Where a run's time goes (mnsim run --log-level debug, "time per phase"; docs/numerics.md,
// "Where the default course's time goes"): wall and process CPU time (all threads) spent in a
// phase, summed over its calls.
#pragma once

#include <chrono>
#include <ctime>

namespace mnsim {

/// CPU time of the whole process so far (all threads), in seconds.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct PhaseTime {
  double wall = 0.0;  // s
  double cpu = 0.0;   // s, all threads
  long calls = 0;
};

/// Adds the wall and CPU time from its construction to its destruction to a PhaseTime.
class PhaseClock {
 public:
  explicit PhaseClock(PhaseTime& t)
      : t_(t), wall0_(std::chrono::steady_clock::now()), cpu0_(process_cpu_seconds()) {}
  ~PhaseClock() {
    t_.wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    t_.cpu += process_cpu_seconds() - cpu0_;
    ++t_.calls;
  }
  PhaseClock(const PhaseClock&) = delete;
  PhaseClock& operator=(const PhaseClock&) = delete;

 private:
  PhaseTime& t_;
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

}  // namespace mnsim
