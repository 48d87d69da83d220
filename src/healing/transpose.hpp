// Transposed copies of a grid plane, for sweeps that solve every line of a plane together, one
// SIMD lane per line (healing/diffusion.cpp, healing/chemotaxis.cpp). The plane is copied in
// 16 x 16 blocks through in-register shuffles: AVX-512, AVX2 (four 8 x 8 blocks) or SSE (sixteen
// 4 x 4 blocks), whichever the CPU has, chosen once at run time (healing/transpose.cpp; a build
// for a CPU with AVX-512 uses it directly), and a plain loop for the edges. The copies only move
// values, so the result is the same whichever is used.
#pragma once

#include <cstddef>

namespace mnsim::healing::transpose {

constexpr int kLanes = 16;  // block side: one 512-bit vector of floats

/// Lanes of a transposed plane of n lines: n rounded up to a multiple of kLanes.
constexpr int lanes_for(int n) {
  return (n + kLanes - 1) / kLanes * kLanes;
}

/// Loads the ny rows of a plane (row stride sy, nx values each) transposed into buf[i * w + j],
/// w >= ny a multiple of 16; lanes ny..w-1 are zero-filled.
void load_plane_t(const float* plane, std::ptrdiff_t sy, int nx, int ny, int w, float* buf);

/// Inverse of load_plane_t.
void store_plane_t(const float* buf, int nx, int ny, int w, float* plane, std::ptrdiff_t sy);

/// Asks the CPU to bring rows [0, n) of a plane (row stride sy, m values each) into its cache
/// ahead of a sweep (software prefetch; no value changes).
void prefetch_rows(const float* plane, std::ptrdiff_t sy, int m, int n);

/// The instruction set of the 16 x 16 block copies this process uses: "avx512f", "avx2", "sse"
/// or "scalar".
const char* block_isa();

/// Copies a 16 x 16 block, transposed, with the given instruction set (one of those the CPU
/// has, as block_isa() names them): dst[c * dstride + r] = src[r * sstride + c]. For tests
/// and benchmarks; false when this build or CPU does not have it.
bool transpose16_with(const char* isa, const float* src, std::ptrdiff_t sstride, float* dst,
                      std::ptrdiff_t dstride);

}  // namespace mnsim::healing::transpose
