// stream_copy (healing/stream.hpp): the same values as a copy, whatever the alignment of the
// destination and the length, and nothing written outside the destination's n floats (the
// partial lines at either end hold cells that other threads write).
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "grid/grid.hpp"
#include "healing/stream.hpp"

namespace mnsim::healing {
namespace {

TEST(StreamCopy, CopiesExactlyTheRangeAtEveryAlignmentAndLength) {
  constexpr std::size_t kSpace = 256;
  grid::AlignedBuffer src(kSpace), dst(kSpace);
  for (std::size_t i = 0; i < kSpace; ++i) src.data()[i] = 0.5f + static_cast<float>(i);
  for (std::size_t offset = 0; offset < 20; ++offset) {
    for (const std::size_t n : {0, 1, 5, 15, 16, 17, 31, 32, 33, 47, 64, 100, 200}) {
      for (std::size_t i = 0; i < kSpace; ++i) dst.data()[i] = -1.0f;
      // (the source at another alignment than the destination)
      stream_copy(src.data() + 3, dst.data() + offset, n);
      stream_fence();
      for (std::size_t i = 0; i < kSpace; ++i) {
        const float want = i >= offset && i < offset + n ? src.data()[3 + i - offset] : -1.0f;
        ASSERT_EQ(dst.data()[i], want) << "offset " << offset << ", n " << n << ", at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace mnsim::healing
