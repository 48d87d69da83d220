#include "lesions/heightmap.hpp"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <filesystem>

#include "io/files.hpp"

namespace mnsim::lesions {

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& key, const std::string& what,
                      const std::string& expected, int line = 0, int col = 0) {
  // Whole-file problems point at the start of the file.
  throw InputError({path, line > 0 ? line : 1, line > 0 ? col : 1}, key, what, expected);
}

const char* kPngExpected = "a 16-bit grayscale PNG height map";

std::string read_bytes(const std::string& path, const std::string& key) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) bad(path, key, "file not found", "an existing file");
  const io::InputFile in =
      io::open_input_file(path, key, "a .png (16-bit grayscale) or .csv height map");
  if (in.size() > kMaxMapFileBytes) {
    bad(path, key, fmt::format("file is {:.0f} MiB", static_cast<double>(in.size()) / (1 << 20)),
        fmt::format("a height map of at most {} MiB", kMaxMapFileBytes >> 20));
  }
  std::string bytes = in.read_all(kMaxMapFileBytes);
  if (bytes.empty()) bad(path, key, "the file is empty", "a height map");
  return bytes;
}

// ---- PNG (classic libpng API; errors longjmp back into read_png_core) ------------------------

struct PngReader {
  const std::string* bytes;
  std::size_t pos = 0;
  char error[200] = {0};
};

void png_read_fn(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (r->pos + n > r->bytes->size()) png_error(png, "file truncated");
  std::memcpy(out, r->bytes->data() + r->pos, n);
  r->pos += n;
}

void png_error_fn(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->error, sizeof r->error, "%s", msg ? msg : "corrupt PNG");
  png_longjmp(png, 1);
}

void png_warning_fn(png_structp, png_const_charp) {}

enum class PngStatus { Ok, Error, WrongFormat, BadSize };

// Header pass and pixel pass; only trivially destructible locals live across setjmp.
PngStatus read_png_core(PngReader& rd, std::size_t max_pixels, png_uint_32& w, png_uint_32& h,
                        int& depth, int& color, std::vector<unsigned char>& pixels,
                        std::vector<png_bytep>& rows) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &rd, png_error_fn, png_warning_fn);
  if (!png) return PngStatus::Error;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return PngStatus::Error;
  }
  PngStatus status = PngStatus::Ok;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return PngStatus::Error;
  }
  png_set_user_limits(png, kMaxMapSide, kMaxMapSide);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_set_read_fn(png, &rd, png_read_fn);
  png_read_info(png, info);
  w = png_get_image_width(png, info);
  h = png_get_image_height(png, info);
  depth = png_get_bit_depth(png, info);
  color = png_get_color_type(png, info);
  if (color != PNG_COLOR_TYPE_GRAY || depth != 16) {
    status = PngStatus::WrongFormat;
  } else if (w < 2 || h < 2 || static_cast<std::size_t>(w) * h > max_pixels) {
    status = PngStatus::BadSize;
  } else {
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const std::size_t stride = png_get_rowbytes(png, info);
    if (stride != static_cast<std::size_t>(w) * 2) {
      status = PngStatus::WrongFormat;
    } else {
      pixels.resize(stride * h);
      rows.resize(h);
      for (png_uint_32 r = 0; r < h; ++r) rows[r] = pixels.data() + r * stride;
      png_read_image(png, rows.data());
      png_read_end(png, nullptr);
    }
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return status;
}

std::string lower_ext(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

HeightMap read_png_height_map(const std::string& path, const std::string& key) {
  return parse_png_height_map(read_bytes(path, key), path, key);
}

HeightMap parse_png_height_map(const std::string& bytes, const std::string& path,
                               const std::string& key, std::size_t max_pixels) {
  max_pixels = std::min(max_pixels, kMaxMapPixels);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), sig, 8) != 0) {
    bad(path, key, "not a PNG file (bad signature)", kPngExpected);
  }
  PngReader rd;
  rd.bytes = &bytes;
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  std::vector<unsigned char> pixels;
  std::vector<png_bytep> rows;
  switch (read_png_core(rd, max_pixels, w, h, depth, color, pixels, rows)) {
    case PngStatus::Ok:
      break;
    case PngStatus::Error:
      bad(path, key, fmt::format("corrupt PNG: {}", rd.error[0] ? rd.error : "unreadable"),
          fmt::format("{} of at most {} x {} pixels", kPngExpected, kMaxMapSide, kMaxMapSide));
    case PngStatus::WrongFormat: {
      const char* kind = color == PNG_COLOR_TYPE_GRAY         ? "grayscale"
                         : color == PNG_COLOR_TYPE_GRAY_ALPHA ? "grayscale+alpha"
                         : color == PNG_COLOR_TYPE_PALETTE    ? "palette"
                         : color == PNG_COLOR_TYPE_RGB        ? "RGB"
                                                              : "RGBA";
      bad(path, key, fmt::format("PNG is {}-bit {}", depth, kind), kPngExpected);
    }
    case PngStatus::BadSize:
      bad(path, key, fmt::format("PNG is {} x {} pixels", w, h),
          fmt::format("at least 2 x 2 and at most {} pixels", max_pixels));
  }
  HeightMap m;
  m.cols = static_cast<int>(w);
  m.rows = static_cast<int>(h);
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (png_uint_32 r = 0; r < h; ++r) {
    const unsigned char* row = rows[r];
    for (png_uint_32 c = 0; c < w; ++c) {
      m.values[static_cast<std::size_t>(r) * w + c] =
          static_cast<double>((row[2 * c] << 8) | row[2 * c + 1]);
    }
  }
  return m;
}

HeightMap read_csv_height_map(const std::string& path, const std::string& key) {
  return parse_csv_height_map(read_bytes(path, key), path, key);
}

HeightMap parse_csv_height_map(const std::string& text, const std::string& path,
                               const std::string& key, std::size_t max_pixels) {
  max_pixels = std::min(max_pixels, kMaxMapPixels);
  const std::string expected = "a CSV of finite numbers, every row the same length";
  HeightMap m;
  int line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view row(text.data() + pos, eol - pos);
    const std::size_t row_start = pos;
    pos = eol + 1;
    ++line;
    if (const auto hash = row.find('#'); hash != std::string_view::npos) row = row.substr(0, hash);
    int count = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < row.size()) {
      const char ch = row[i];
      if (ch == ',' || ch == ';' || ch == ' ' || ch == '\t' || ch == '\r') {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < row.size() && row[j] != ',' && row[j] != ';' && row[j] != ' ' && row[j] != '\t' &&
             row[j] != '\r') {
        ++j;
      }
      const std::string tok(row.substr(i, j - i));
      const int col = static_cast<int>(i) + 1;
      if (tok.find('\0') != std::string::npos) {
        bad(path, key, "NUL byte: this is not a text file", expected, line, col);
      }
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(tok.c_str(), &end);
      if (end == tok.c_str() || *end != '\0') {
        bad(path, key, fmt::format("'{}' is not a number", tok.substr(0, 40)), expected, line, col);
      }
      if (!std::isfinite(v)) {
        bad(path, key, fmt::format("'{}' is not a finite number", tok.substr(0, 40)), expected,
            line, col);
      }
      if (m.rows == 0 && count >= kMaxMapSide) {
        bad(path, key, fmt::format("more than {} columns", kMaxMapSide), expected, line, col);
      }
      if (m.rows > 0 && count >= m.cols) {
        bad(path, key, fmt::format("row has more than {} values, as many as the first row", m.cols),
            expected, line, col);
      }
      m.values.push_back(v);
      ++count;
      any = true;
      i = j;
    }
    (void)row_start;
    if (!any) continue;
    if (m.rows == 0) {
      m.cols = count;
    } else if (count != m.cols) {
      bad(path, key, fmt::format("row has {} values, the first row has {}", count, m.cols),
          expected, line, 1);
    }
    ++m.rows;
    if (m.rows > kMaxMapSide || m.values.size() > max_pixels) {
      bad(path, key, fmt::format("more than {} rows or {} values", kMaxMapSide, max_pixels),
          expected, line, 1);
    }
  }
  if (m.rows == 0) bad(path, key, "no numbers in the file", expected, 1, 1);
  if (m.rows < 2 || m.cols < 2) {
    bad(path, key, fmt::format("map is {} x {} values", m.cols, m.rows), "at least 2 x 2 values", 1,
        1);
  }
  return m;
}

HeightMap read_height_map(const std::string& path, const std::string& key) {
  const std::string ext = lower_ext(path);
  if (ext == ".png") return read_png_height_map(path, key);
  if (ext == ".csv" || ext == ".txt") return read_csv_height_map(path, key);
  bad(path, key, fmt::format("unsupported height map type '{}'", ext.empty() ? "(none)" : ext),
      "a .png (16-bit grayscale) or .csv file");
}

Measured::Measured(const HeightMap& map, double pixel, double height_scale, double threshold,
                   Effects e, std::string file)
    : Lesion(e),
      cols_(map.cols),
      rows_(map.rows),
      pixel_(pixel),
      threshold_(threshold),
      file_(std::move(file)) {
  const double top = *std::max_element(map.values.begin(), map.values.end());
  depth_.resize(map.values.size());
  for (std::size_t i = 0; i < depth_.size(); ++i) {
    depth_[i] = (top - map.values[i]) * height_scale;
    max_depth_ = std::max(max_depth_, depth_[i]);
  }
  volume_ = volume_in(cols_ * pixel_, rows_ * pixel_);
}

double Measured::volume_in(double w, double l) const {
  double v = 0.0;
  for (int r = 0; r < rows_; ++r) {
    const double y0 = r * pixel_, y1 = std::min((r + 1) * pixel_, l);
    if (y1 <= y0) break;
    for (int c = 0; c < cols_; ++c) {
      const double x0 = c * pixel_, x1 = std::min((c + 1) * pixel_, w);
      if (x1 <= x0) break;
      v += depth_[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_) +
                  static_cast<std::size_t>(c)] *
           (x1 - x0) * (y1 - y0);
    }
  }
  return v;
}

std::string Measured::describe() const {
  return fmt::format("measured surface {} ({} x {} pixels of {:.1f} um), deepest {:.3f} mm", file_,
                     cols_, rows_, pixel_ * 1e6, max_depth_ * 1e3);
}

double Measured::depression(double x, double y) const {
  const int c = static_cast<int>(std::floor(x / pixel_));
  const int r = static_cast<int>(std::floor(y / pixel_));
  if (c < 0 || r < 0 || c >= cols_ || r >= rows_) return 0.0;
  return depth_[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_) +
                static_cast<std::size_t>(c)];
}

Box Measured::bounds() const {
  return {0.0, 0.0, cols_ * pixel_, rows_ * pixel_};
}

}  // namespace mnsim::lesions
