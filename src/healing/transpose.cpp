#include "healing/transpose.hpp"

#include <cstring>
#include <initializer_list>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MNSIM_TRANSPOSE_X86 1
#endif

namespace mnsim::healing::transpose {

namespace {

using Block = void (*)(const float*, std::ptrdiff_t, float*, std::ptrdiff_t);

void block_scalar(const float* src, std::ptrdiff_t ss, float* dst, std::ptrdiff_t ds) {
  for (int c = 0; c < kLanes; ++c)
    for (int r = 0; r < kLanes; ++r) dst[c * ds + r] = src[r * ss + c];
}

#if defined(MNSIM_TRANSPOSE_X86)

// SSE (every x86-64 CPU): sixteen 4 x 4 blocks.
void block_sse(const float* src, std::ptrdiff_t ss, float* dst, std::ptrdiff_t ds) {
  for (int r0 = 0; r0 < kLanes; r0 += 4) {
    for (int c0 = 0; c0 < kLanes; c0 += 4) {
      const float* s = src + r0 * ss + c0;
      __m128 a = _mm_loadu_ps(s), b = _mm_loadu_ps(s + ss), c = _mm_loadu_ps(s + 2 * ss),
             d = _mm_loadu_ps(s + 3 * ss);
      _MM_TRANSPOSE4_PS(a, b, c, d);
      float* t = dst + c0 * ds + r0;
      _mm_storeu_ps(t, a);
      _mm_storeu_ps(t + ds, b);
      _mm_storeu_ps(t + 2 * ds, c);
      _mm_storeu_ps(t + 3 * ds, d);
    }
  }
}

// AVX2: four 8 x 8 blocks (unpack within 128-bit lanes, 64-bit shuffles, then the lanes).
__attribute__((target("avx2"))) void block_avx2(const float* src, std::ptrdiff_t ss, float* dst,
                                                std::ptrdiff_t ds) {
  for (int r0 = 0; r0 < kLanes; r0 += 8) {
    for (int c0 = 0; c0 < kLanes; c0 += 8) {
      const float* s = src + r0 * ss + c0;
      __m256 r[8], t[8], u[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * ss);
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
      }
      for (int i = 0; i < 8; i += 4) {  // u[i + m]: column m | column m + 4 of rows i..i+3
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
      }
      float* d = dst + c0 * ds + r0;
      for (int m = 0; m < 4; ++m) {
        _mm256_storeu_ps(d + m * ds, _mm256_permute2f128_ps(u[m], u[4 + m], 0x20));
        _mm256_storeu_ps(d + (m + 4) * ds, _mm256_permute2f128_ps(u[m], u[4 + m], 0x31));
      }
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_ps() inside the unpack intrinsics as uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// AVX-512: the whole 16 x 16 block in registers.
__attribute__((target("avx512f"))) void block_avx512(const float* src, std::ptrdiff_t ss,
                                                     float* dst, std::ptrdiff_t ds) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ss);
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
    _mm512_storeu_ps(dst + (0 + m) * ds, _mm512_shuffle_f32x4(v0, w0, 0x88));
    _mm512_storeu_ps(dst + (4 + m) * ds, _mm512_shuffle_f32x4(v0, w0, 0xDD));
    _mm512_storeu_ps(dst + (8 + m) * ds, _mm512_shuffle_f32x4(v1, w1, 0x88));
    _mm512_storeu_ps(dst + (12 + m) * ds, _mm512_shuffle_f32x4(v1, w1, 0xDD));
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // MNSIM_TRANSPOSE_X86

struct Isa {
  const char* name;
  Block block;
};

/// The block copies this build and CPU can use, best first.
Isa isa_named(const char* name) {
#if defined(MNSIM_TRANSPOSE_X86)
  __builtin_cpu_init();
  if (std::strcmp(name, "avx512f") == 0) {
    return {name, __builtin_cpu_supports("avx512f") ? block_avx512 : nullptr};
  }
  if (std::strcmp(name, "avx2") == 0) {
    return {name, __builtin_cpu_supports("avx2") ? block_avx2 : nullptr};
  }
  if (std::strcmp(name, "sse") == 0) return {name, block_sse};
#endif
  if (std::strcmp(name, "scalar") == 0) return {name, block_scalar};
  return {name, nullptr};
}

const Isa& best() {
  static const Isa isa = [] {
    for (const char* n : {"avx512f", "avx2", "sse", "scalar"}) {
      const Isa i = isa_named(n);
      if (i.block) return i;
    }
    return Isa{"scalar", block_scalar};
  }();
  return isa;
}

}  // namespace

const char* block_isa() {
  return best().name;
}

bool transpose16_with(const char* isa, const float* src, std::ptrdiff_t sstride, float* dst,
                      std::ptrdiff_t dstride) {
  const Isa i = isa_named(isa);
  if (!i.block) return false;
  i.block(src, sstride, dst, dstride);
  return true;
}

void prefetch_rows(const float* plane, std::ptrdiff_t sy, int m, int n) {
  constexpr std::ptrdiff_t kLine = 64 / sizeof(float);
  for (int j = 0; j < n; ++j) {
    const float* row = plane + j * sy;
    for (std::ptrdiff_t i = 0; i < m; i += kLine) __builtin_prefetch(row + i, 0, 2);
    __builtin_prefetch(row + m - 1, 0, 2);  // (a row need not start on a line)
  }
}

void load_plane_t(const float* plane, std::ptrdiff_t sy, int nx, int ny, int w, float* buf) {
  const Block block = best().block;
  const int jfull = ny / kLanes * kLanes, ifull = nx / kLanes * kLanes;
  for (int jb = 0; jb < jfull; jb += kLanes) {
    for (int i0 = 0; i0 < ifull; i0 += kLanes)
      block(plane + jb * sy + i0, sy, buf + i0 * w + jb, w);
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

void store_plane_t(const float* buf, int nx, int ny, int w, float* plane, std::ptrdiff_t sy) {
  const Block block = best().block;
  const int jfull = ny / kLanes * kLanes, ifull = nx / kLanes * kLanes;
  for (int jb = 0; jb < jfull; jb += kLanes) {
    for (int i0 = 0; i0 < ifull; i0 += kLanes)
      block(buf + i0 * w + jb, w, plane + jb * sy + i0, sy);
    for (int j = jb; j < jb + kLanes; ++j)
      for (int i = ifull; i < nx; ++i) plane[j * sy + i] = buf[i * w + j];
  }
  for (int j = jfull; j < ny; ++j)
    for (int i = 0; i < nx; ++i) plane[j * sy + i] = buf[i * w + j];
}

}  // namespace mnsim::healing::transpose
