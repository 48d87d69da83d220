#include "healing/stream.hpp"

namespace mnsim::healing {

namespace {
std::size_t min_bytes = kStreamMinBytesDefault;
}  // namespace

std::size_t stream_min_bytes() {
  return min_bytes;
}

void set_stream_min_bytes(std::size_t bytes) {
  min_bytes = bytes;
}

}  // namespace mnsim::healing
