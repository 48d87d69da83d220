// Counter-based random numbers: every draw is a pure function of (seed, stream, entity, counter),
// so results never depend on thread count or on the order in which entities are processed.
// The mixing function is SplitMix64's finaliser (Steele, Lea & Flood 2014), applied to a
// combination of the key words; it passes BigCrush as a counter-mode generator.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace mnsim {

constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A stream of random numbers keyed by (seed, stream id, entity id). Copyable, no shared state.
class Rng {
 public:
  constexpr Rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t entity = 0)
      : key_(mix64(mix64(mix64(seed) ^ stream) ^ entity)) {}

  /// Next 64 random bits.
  constexpr std::uint64_t next() { return mix64(key_ ^ mix64(counter_++)); }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller, one value per two uniforms).
  double normal() {
    double u1 = uniform();
    const double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  /// Integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

/// Stream ids: one per purpose, so adding draws in one place never shifts another's.
enum RngStream : std::uint64_t {
  kStreamLesions = 1,       // lesion inventory: entity = lesion number
  kStreamTechnique = 2,     // hand jitter: entity = (pass, stroke)
  kStreamNeedles = 3,       // per-needle variation: entity = puncture key
  kStreamCohort = 4,        // a cohort's patients: entity = patient index
  kStreamVariability = 5,   // between-patient rate factors: entity = patient or replicate
  kStreamSessions = 6,      // the seed of each session's device stage: entity = session index
  kStreamPih = 7,           // a cohort patient's PIH outcome draw: entity = patient index
  kStreamSessionCount = 8,  // a cohort patient's number of sessions: entity = patient index
  kStreamSaltelli = 9,      // a Saltelli sample's base rows: entity = row (core/sensitivity.hpp)
  kStreamMorris = 10,       // a Morris design's trajectories: entity = trajectory
  kStreamBootstrap = 11,    // bootstrap resamples of sensitivity indices: entity = resample
  // 12: the calibration sampler's draws (smc::kStreamSmc, core/smc.hpp)
  kStreamPosterior = 13,  // predictive bands' posterior draws: entity 0 = the resampling uniform
};

/// The seed of the device stage of session `session` (0-based) of a course, from the scenario's
/// seed: `mnsim punctures` draws session 0, so it shows the punctures of session 1 of `mnsim run`.
constexpr std::uint64_t session_seed(std::uint64_t seed, std::uint64_t session) {
  return Rng(seed, kStreamSessions, session).next();
}

}  // namespace mnsim
