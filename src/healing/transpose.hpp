// Transposed copies of a grid plane, for sweeps that solve every line of a plane together, one
// SIMD lane per line (healing/diffusion.cpp, healing/chemotaxis.cpp): 16 x 16 blocks through
// AVX-512 shuffles where the machine has them, a plain loop otherwise.
#pragma once

#include <cstddef>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace mnsim::healing::transpose {

constexpr int kLanes = 16;  // block side: one 512-bit vector of floats

/// Lanes of a transposed plane of n lines: n rounded up to a multiple of kLanes.
constexpr int lanes_for(int n) {
  return (n + kLanes - 1) / kLanes * kLanes;
}

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_ps() inside the unpack intrinsics as uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// Copies a 16 x 16 block, transposed: dst[c * dstride + r] = src[r * sstride + c].
inline void transpose16(const float* src, std::ptrdiff_t sstride, float* dst,
                        std::ptrdiff_t dstride) {
#if defined(__AVX512F__)
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * sstride);
  for (int i = 0; i < 16; i += 2) {  // 32-bit interleave within 128-bit lanes
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // 64-bit interleave: r[i + m] = column 4 L + m, rows i..i+3
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int m = 0; m < 4; ++m) {  // gather the four 128-bit lanes of each column
    const __m512 v0 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x44);
    const __m512 v1 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xEE);
    const __m512 w0 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x44);
    const __m512 w1 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xEE);
    _mm512_storeu_ps(dst + (0 + m) * dstride, _mm512_shuffle_f32x4(v0, w0, 0x88));
    _mm512_storeu_ps(dst + (4 + m) * dstride, _mm512_shuffle_f32x4(v0, w0, 0xDD));
    _mm512_storeu_ps(dst + (8 + m) * dstride, _mm512_shuffle_f32x4(v1, w1, 0x88));
    _mm512_storeu_ps(dst + (12 + m) * dstride, _mm512_shuffle_f32x4(v1, w1, 0xDD));
  }
#else
  for (int c = 0; c < 16; ++c)
    for (int r = 0; r < 16; ++r) dst[c * dstride + r] = src[r * sstride + c];
#endif
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Loads the ny rows of a plane (row stride sy, nx values each) transposed into buf[i * w + j],
/// w >= ny a multiple of 16; lanes ny..w-1 are zero-filled.
inline void load_plane_t(const float* plane, std::ptrdiff_t sy, int nx, int ny, int w, float* buf) {
  const int jfull = ny / kLanes * kLanes, ifull = nx / kLanes * kLanes;
  for (int jb = 0; jb < jfull; jb += kLanes) {
    for (int i0 = 0; i0 < ifull; i0 += kLanes) {
      transpose16(plane + jb * sy + i0, sy, buf + i0 * w + jb, w);
    }
    for (int j = jb; j < jb + kLanes; ++j)
      for (int i = ifull; i < nx; ++i) buf[i * w + j] = plane[j * sy + i];
  }
  for (int j = jfull; j < w; ++j) {
    if (j < ny) {
      for (int i = 0; i < nx; ++i) buf[i * w + j] = plane[j * sy + i];
    } else {
      for (int i = 0; i < nx; ++i) buf[i * w + j] = 0.0f;
    }
  }
}

/// Inverse of load_plane_t.
inline void store_plane_t(const float* buf, int nx, int ny, int w, float* plane,
                          std::ptrdiff_t sy) {
  const int jfull = ny / kLanes * kLanes, ifull = nx / kLanes * kLanes;
  for (int jb = 0; jb < jfull; jb += kLanes) {
    for (int i0 = 0; i0 < ifull; i0 += kLanes) {
      transpose16(buf + i0 * w + jb, w, plane + jb * sy + i0, sy);
    }
    for (int j = jb; j < jb + kLanes; ++j)
      for (int i = ifull; i < nx; ++i) plane[j * sy + i] = buf[i * w + j];
  }
  for (int j = jfull; j < ny; ++j)
    for (int i = 0; i < nx; ++i) plane[j * sy + i] = buf[i * w + j];
}

}  // namespace mnsim::healing::transpose
