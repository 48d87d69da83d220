// libFuzzer target: the height-map readers (16-bit grayscale PNG via libpng, and CSV). The first
// byte picks the reader; the rest is the file. Any input must either give a map within the
// documented limits or raise mnsim::InputError with a one-line message; anything else (crash,
// other exception, sanitizer report, a map beyond the limits) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "lesions/heightmap.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool png = (data[0] & 1u) == 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const mnsim::lesions::HeightMap m =
        png ? mnsim::lesions::parse_png_height_map(bytes, "fuzz.png", "lesions.file")
            : mnsim::lesions::parse_csv_height_map(bytes, "fuzz.csv", "lesions.file");
    if (m.cols < 2 || m.rows < 2 || m.cols > mnsim::lesions::kMaxMapSide ||
        m.rows > mnsim::lesions::kMaxMapSide ||
        m.values.size() != static_cast<std::size_t>(m.cols) * static_cast<std::size_t>(m.rows) ||
        m.values.size() > mnsim::lesions::kMaxMapPixels) {
      __builtin_trap();
    }
  } catch (const mnsim::InputError& e) {
    if (std::string(e.what()).find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
