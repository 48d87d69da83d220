// Non-temporal (streaming) stores for a pass that writes a whole field into another buffer on a
// grid far larger than the last-level cache (docs/numerics.md, "The reactions' output
// streamed, ..."). An ordinary store first reads the cache line it writes into (write-allocate), so
// such a pass moves each written byte twice; a streaming store writes the line to memory without
// reading it. On a grid whose fields fit the cache the next pass would find the written lines
// there, and streaming them out would cost more than it saves: stream_pays chooses by size.
// Only where values are stored changes, never which: results are the same bits either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace mnsim::healing {

/// A pass streams its output when it writes at least this many bytes (a multiple of the 32 MiB
/// last-level cache of the machine it was measured on: docs/numerics.md).
inline constexpr std::size_t kStreamMinBytesDefault = std::size_t{256} << 20;
/// The threshold now in force (kStreamMinBytesDefault unless set_stream_min_bytes changed it).
std::size_t stream_min_bytes();
/// Changes the threshold for the whole process (tests and benchmarks; results do not depend on
/// it). Not thread-safe: set it before any step.
void set_stream_min_bytes(std::size_t bytes);
/// Whether a pass writing `bytes` into buffers it does not read streams its stores.
inline bool stream_pays(std::size_t bytes) {
  return bytes >= stream_min_bytes();
}

/// Copies n floats from src to dst with streaming stores for the whole 64-byte lines of dst, and
/// ordinary stores for the partial lines at either end (which may hold cells that another thread
/// writes). The streamed values reach memory in no particular order: call stream_fence() before
/// another thread may read dst.
inline void stream_copy(const float* src, float* dst, std::size_t n) {
#if defined(__SSE2__)
  constexpr std::size_t kLine = 64 / sizeof(float);
  const auto addr = reinterpret_cast<std::uintptr_t>(dst);
  const std::size_t head = (kLine - addr / sizeof(float) % kLine) % kLine;
  if (addr % sizeof(float) != 0 || head + kLine > n) {
    std::memcpy(dst, src, n * sizeof(float));
    return;
  }
  std::memcpy(dst, src, head * sizeof(float));
  std::size_t i = head;
  for (; i + kLine <= n; i += kLine) {
    _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    _mm_stream_ps(dst + i + 4, _mm_loadu_ps(src + i + 4));
    _mm_stream_ps(dst + i + 8, _mm_loadu_ps(src + i + 8));
    _mm_stream_ps(dst + i + 12, _mm_loadu_ps(src + i + 12));
  }
  std::memcpy(dst + i, src + i, (n - i) * sizeof(float));
#else
  std::memcpy(dst, src, n * sizeof(float));
#endif
}

/// Orders the calling thread's streaming stores before its later stores (and so before the
/// barrier after which other threads read them).
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace mnsim::healing
