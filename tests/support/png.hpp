// PNG files for the height-map tests, written with libpng into memory: any bit depth and colour
// type, so that the tests can make the files the readers must refuse (8-bit, RGB) as well as
// 16-bit grayscale height maps.
#pragma once

#include <png.h>

#include <string>
#include <vector>

namespace mnsim::test {

/// A PNG of `w` x `h` pixels: `depth` bits per sample (8 or 16), libpng colour type `color`
/// (PNG_COLOR_TYPE_GRAY or PNG_COLOR_TYPE_RGB, every channel the same value), `values` row-major.
inline std::string png_bytes(int w, int h, int depth, int color,
                             const std::vector<unsigned>& values) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(data), n);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), depth, color,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const int channels = color == PNG_COLOR_TYPE_RGB ? 3 : 1;
  const int bytes = depth / 8;
  std::vector<unsigned char> row(static_cast<std::size_t>(w * channels * bytes));
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      const unsigned v = values[static_cast<std::size_t>(r * w + c)];
      for (int ch = 0; ch < channels; ++ch) {
        unsigned char* p = &row[static_cast<std::size_t>((c * channels + ch) * bytes)];
        if (bytes == 2) {
          p[0] = static_cast<unsigned char>(v >> 8);
          p[1] = static_cast<unsigned char>(v & 0xff);
        } else {
          p[0] = static_cast<unsigned char>(v & 0xff);
        }
      }
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace mnsim::test
