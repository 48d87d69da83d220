// Transposed plane copies (healing/transpose.hpp): every instruction set's 16 x 16 block gives the
// plain loop's copy, and load/store of planes with edges (sizes not multiples of 16) round-trip.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "healing/transpose.hpp"

namespace {

using namespace mnsim::healing::transpose;

TEST(Transpose, EveryInstructionSetCopiesTheBlockAsThePlainLoop) {
  const std::ptrdiff_t ss = 21, ds = 19;  // strides above 16, as in a padded plane
  std::vector<float> src(16 * ss);
  for (std::size_t n = 0; n < src.size(); ++n) src[n] = static_cast<float>(n) * 0.5f - 7.0f;
  std::vector<float> want(16 * ds, -1.0f);
  ASSERT_TRUE(transpose16_with("scalar", src.data(), ss, want.data(), ds));
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) ASSERT_EQ(want[c * ds + r], src[r * ss + c]);
  int tried = 0;
  for (const char* isa : {"sse", "avx2", "avx512f"}) {
    std::vector<float> got(16 * ds, -1.0f);
    if (!transpose16_with(isa, src.data(), ss, got.data(), ds)) continue;  // not on this CPU
    ++tried;
    EXPECT_EQ(got, want) << isa;
  }
  EXPECT_FALSE(transpose16_with("none", src.data(), ss, nullptr, ds));
#if defined(__x86_64__)
  EXPECT_GE(tried, 1);  // SSE is on every x86-64 CPU
#endif
}

TEST(Transpose, PlanesWithEdgesRoundTrip) {
  for (const auto& [nx, ny] : {std::pair{5, 3}, {16, 16}, {37, 50}, {100, 100}, {33, 17}}) {
    const std::ptrdiff_t sy = nx + 4;
    const int w = lanes_for(ny);
    std::vector<float> plane(static_cast<std::size_t>(sy) * ny);
    for (std::size_t n = 0; n < plane.size(); ++n) plane[n] = static_cast<float>(n) + 0.25f;
    std::vector<float> buf(static_cast<std::size_t>(nx) * w, -3.0f);
    load_plane_t(plane.data(), sy, nx, ny, w, buf.data());
    for (int i = 0; i < nx; ++i)
      for (int j = 0; j < w; ++j)
        ASSERT_EQ(buf[i * w + j], j < ny ? plane[j * sy + i] : 0.0f) << nx << " " << ny;
    std::vector<float> back(plane.size(), -5.0f);
    store_plane_t(buf.data(), nx, ny, w, back.data(), sy);
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < sy; ++i)
        ASSERT_EQ(back[j * sy + i], i < nx ? plane[j * sy + i] : -5.0f) << nx << " " << ny;
  }
  EXPECT_NE(std::string(block_isa()), "");
}

}  // namespace
