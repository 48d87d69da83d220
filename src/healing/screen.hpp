// The health screen that the passes writing a field last fuse into their writes (the reactions,
// the permeability path's z sweep; Stepper::set_screened): a plane of a field is flagged when
// one of its cells holds what the stepper's health checks fail or clamp, a NaN, an infinite or a
// negative value, and the checks then scan only the flagged planes (docs/numerics.md, "Health
// checks").
#pragma once

#include <atomic>
#include <cstdint>

namespace mnsim::healing {

/// Whether v[i0, i1) holds a NaN, an infinite or a negative value. Two float reductions (an int
/// one of flags went through the stack): the least value (a negative one, or minus infinity),
/// and the sum of v * 0, NaN for a NaN or an infinite value and +-0 otherwise.
inline bool screen_finds(const float* v, int i0, int i1) {
  float lo = 0.0f, z = 0.0f;
#pragma omp simd reduction(min : lo) reduction(+ : z)
  for (int i = i0; i < i1; ++i) {
    const float x = v[i];
    lo = x < lo ? x : lo;
    z += x * 0.0f;
  }
  return lo < 0.0f || z != z;
}

/// Sets a plane's flag (written by any thread: relaxed, and only when not yet set).
inline void screen_flag(std::uint8_t& flag) {
  std::atomic_ref<std::uint8_t> f(flag);
  if (f.load(std::memory_order_relaxed) == 0) f.store(1, std::memory_order_relaxed);
}

}  // namespace mnsim::healing
