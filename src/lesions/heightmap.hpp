// Measured surfaces: a height map (16-bit grayscale PNG or CSV of numbers) with a stated pixel
// size and height scale becomes the surface of the patch and its scar geometry.
//
// Pixel (c, r) covers x in [c p, (c+1) p), y in [r p, (r+1) p) (row 0 at y = 0). Heights are
// h = value * height_scale; the highest pixel is the unlesioned surface and the depression is
// max(h) - h. The depression is piecewise constant per pixel, so its volume is exact.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "lesions/lesion.hpp"

namespace mnsim::lesions {

/// Limits on imported maps (a hostile file must never exhaust memory).
inline constexpr int kMaxMapSide = 8192;
inline constexpr std::size_t kMaxMapPixels = std::size_t{1} << 24;  // 16.8 million
inline constexpr std::size_t kMaxMapFileBytes = 256u << 20;

/// Raw values of a height map, row-major (rows along y, columns along x).
struct HeightMap {
  int cols = 0, rows = 0;
  std::vector<double> values;
  double at(int c, int r) const {
    return values[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) +
                  static_cast<std::size_t>(c)];
  }
};

/// Reads a 16-bit grayscale PNG. Any other PNG (8-bit, colour, palette, alpha, interlaced is
/// fine), a truncated or corrupt file, or absurd dimensions: InputError naming the file and `key`.
HeightMap read_png_height_map(const std::string& path, const std::string& key);
/// Reads a CSV of finite numbers (comma, semicolon or whitespace separated; '#' comments), every
/// row the same length. NaN, inf, text, ragged rows: InputError at file:line:col.
HeightMap read_csv_height_map(const std::string& path, const std::string& key);
/// The same readers on bytes already in memory (`path` names the source in errors; fuzzing,
/// the consultation app's uploads). `max_pixels` lowers the limit on the map's pixels (a PNG's
/// size is checked before its pixels are decompressed).
HeightMap parse_png_height_map(const std::string& bytes, const std::string& path,
                               const std::string& key, std::size_t max_pixels = kMaxMapPixels);
HeightMap parse_csv_height_map(const std::string& text, const std::string& path,
                               const std::string& key, std::size_t max_pixels = kMaxMapPixels);
/// By extension: .png or .csv/.txt (case-insensitive); anything else is an InputError.
HeightMap read_height_map(const std::string& path, const std::string& key);

class Measured final : public Lesion {
 public:
  /// `map` values times `height_scale` (m per unit) are heights; `pixel` is the pixel size (m).
  /// `threshold`: depressions shallower than this do not carry the dermal deficit.
  Measured(const HeightMap& map, double pixel, double height_scale, double threshold, Effects e,
           std::string file);
  std::string_view kind() const override { return "measured"; }
  std::string describe() const override;
  double depression(double x, double y) const override;
  /// Volume of the depression inside [0, width] x [0, length] where the map is used.
  double volume() const override { return volume_; }
  double max_depth() const override { return max_depth_; }
  Box bounds() const override;
  bool covers(double x, double y) const override { return depression(x, y) > threshold_; }

  int cols() const { return cols_; }
  int rows() const { return rows_; }
  double pixel() const { return pixel_; }
  /// Volume of the depression over the pixels overlapping [0, w] x [0, l] (exact for the
  /// piecewise-constant surface).
  double volume_in(double w, double l) const;

 private:
  int cols_, rows_;
  double pixel_, threshold_;
  std::vector<double> depth_;  // depression per pixel, m
  double volume_ = 0.0, max_depth_ = 0.0;
  std::string file_;
};

}  // namespace mnsim::lesions
