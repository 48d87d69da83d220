// Height-map import: good 16-bit PNG and CSV maps become the surface; every bad input is a
// one-line InputError (also through `mnsim check`, exit code 2).
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "lesions/heightmap.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "support/files.hpp"
#include "support/png.hpp"

using namespace mnsim;
using namespace mnsim::lesions;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(MNSIM_TEST_DIR) + "/lesions/data/";

fs::path tmp_dir() {
  const fs::path d = fs::temp_directory_path() / "mnsim_heightmap_test";
  fs::create_directories(d);
  return d;
}

// Writes a PNG (support/png.hpp): `depth` bits, `color` type, values row-major (16-bit samples).
void write_png(const fs::path& path, int w, int h, int depth, int color,
               const std::vector<unsigned>& values) {
  std::ofstream(path, std::ios::binary) << test::png_bytes(w, h, depth, color, values);
}

std::string error_of(const std::string& path) {
  try {
    read_height_map(path, "surface.file");
  } catch (const InputError& e) {
    return e.line();
  }
  return "no error";
}

// A 200 x 200 map of 10 um pixels (2 x 2 mm): flat at 1000 units, one square pit of 40 x 40
// pixels 300 units deep.
std::vector<unsigned> pit_map() {
  std::vector<unsigned> v(200 * 200, 1000);
  for (int r = 80; r < 120; ++r) {
    for (int c = 50; c < 90; ++c) v[static_cast<std::size_t>(r * 200 + c)] = 700;
  }
  return v;
}

}  // namespace

TEST(HeightMap, Png16BitBecomesTheSurface) {
  const fs::path png = tmp_dir() / "pit.png";
  write_png(png, 200, 200, 16, PNG_COLOR_TYPE_GRAY, pit_map());
  const HeightMap m = read_height_map(png.string(), "surface.file");
  ASSERT_EQ(m.cols, 200);
  ASSERT_EQ(m.rows, 200);
  EXPECT_EQ(m.at(60, 90), 700.0);
  EXPECT_EQ(m.at(0, 0), 1000.0);
  // height_scale 1 um per gray level: the pit is 0.3 mm deep, 0.4 x 0.4 mm wide.
  const Measured s(m, 10e-6, 1e-6, 0.05e-3, Effects{0.3, 0.5}, png.string());
  EXPECT_DOUBLE_EQ(s.max_depth(), 0.3e-3);
  EXPECT_NEAR(s.volume(), 0.4e-3 * 0.4e-3 * 0.3e-3, 1e-18);
  EXPECT_DOUBLE_EQ(s.depression(0.6e-3, 0.9e-3), 0.3e-3);  // pixel (60, 90)
  EXPECT_DOUBLE_EQ(s.depression(0.1e-3, 0.1e-3), 0.0);
  EXPECT_TRUE(s.covers(0.6e-3, 0.9e-3));
  EXPECT_FALSE(s.covers(0.1e-3, 0.1e-3));

  // Through a scenario: relative path, voxelised volume = the exact pit volume (pixel edges fall
  // on voxel edges at a 50 um resolution... 40 px = 0.4 mm = 8 voxels).
  std::ofstream(tmp_dir() / "measured.toml") << R"(
[patient]
site = "lateral_cheek"
[tissue]
width = "2 mm"
length = "2 mm"
[surface]
file = "pit.png"
pixel_size = "10 um"
height_scale = "1 um"
)";
  const Table sc = load_scenario((tmp_dir() / "measured.toml").string());
  const skin::Tissue t = skin::build_tissue(read_patch_spec(sc));
  const grid::Grid& g = t.grid();
  double v = 0.0;
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      for (int i = 0; i < g.nx; ++i) {
        if (t.layer(i, j, k) == skin::Layer::Outside) v += g.dx * g.dx * g.dz(k);
      }
    }
  }
  EXPECT_NEAR(v / (0.4e-3 * 0.4e-3 * 0.3e-3), 1.0, 0.05);
}

TEST(HeightMap, CsvMap) {
  const HeightMap m = read_height_map(kData + "pit.csv", "surface.file");
  EXPECT_EQ(m.cols, 4);
  EXPECT_EQ(m.rows, 4);
  const Measured s(m, 1e-3, 0.1e-3, 0.0, Effects{}, "pit.csv");
  EXPECT_DOUBLE_EQ(s.max_depth(), 0.4e-3);
  EXPECT_NEAR(s.volume(), 4 * 1e-6 * 0.4e-3, 1e-18);
}

TEST(HeightMap, BadImagesAreOneLineErrors) {
  const fs::path d = tmp_dir();
  write_png(d / "gray8.png", 8, 8, 8, PNG_COLOR_TYPE_GRAY, std::vector<unsigned>(64, 3));
  EXPECT_EQ(error_of((d / "gray8.png").string()),
            (d / "gray8.png").string() +
                ":1:1: surface.file: PNG is 8-bit grayscale (a 16-bit grayscale PNG height map)");
  write_png(d / "rgb16.png", 8, 8, 16, PNG_COLOR_TYPE_RGB, std::vector<unsigned>(64, 3));
  EXPECT_NE(error_of((d / "rgb16.png").string()).find("PNG is 16-bit RGB"), std::string::npos);
  write_png(d / "tiny.png", 1, 1, 16, PNG_COLOR_TYPE_GRAY, {7});
  EXPECT_NE(error_of((d / "tiny.png").string())
                .find("PNG is 1 x 1 pixels (at least 2 x 2 and at most 16777216 pixels)"),
            std::string::npos);

  // Truncated: the first half of a good file.
  write_png(d / "full.png", 64, 64, 16, PNG_COLOR_TYPE_GRAY, std::vector<unsigned>(64 * 64, 9));
  const std::string full = mnsim::test::slurp(d / "full.png");
  std::ofstream(d / "trunc.png", std::ios::binary) << full.substr(0, full.size() / 2);
  EXPECT_NE(error_of((d / "trunc.png").string()).find("surface.file: corrupt PNG"),
            std::string::npos)
      << error_of((d / "trunc.png").string());

  // Absurd dimensions: a valid IHDR claiming 100000 x 100000 pixels (CRC recomputed).
  std::string huge = full;
  const unsigned char dims[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
  huge.replace(16, 8, reinterpret_cast<const char*>(dims), 8);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(huge.data() + 12), 17);
  for (int b = 0; b < 4; ++b)
    huge[static_cast<std::size_t>(29 + b)] = static_cast<char>((crc >> (24 - 8 * b)) & 0xff);
  std::ofstream(d / "huge.png", std::ios::binary) << huge;
  const std::string e_huge = error_of((d / "huge.png").string());
  EXPECT_NE(e_huge.find("corrupt PNG"), std::string::npos) << e_huge;
  EXPECT_NE(e_huge.find("at most 8192 x 8192 pixels"), std::string::npos) << e_huge;

  // Random garbage after a PNG signature.
  std::string garbage = full.substr(0, 8);
  for (int i = 0; i < 4000; ++i) garbage += static_cast<char>((i * 7919) & 0xff);
  std::ofstream(d / "garbage.png", std::ios::binary) << garbage;
  EXPECT_NE(error_of((d / "garbage.png").string()).find("corrupt PNG"), std::string::npos);

  EXPECT_NE(error_of(kData + "not_a_png.png").find("not a PNG file (bad signature)"),
            std::string::npos);
  EXPECT_EQ(error_of(kData + "nan.csv"),
            kData +
                "nan.csv:2:3: surface.file: 'nan' is not a finite number (a CSV of finite "
                "numbers, every row the same length)");
  EXPECT_EQ(error_of(kData + "ragged.csv"),
            kData +
                "ragged.csv:2:1: surface.file: row has 2 values, the first row has 3 (a CSV "
                "of finite numbers, every row the same length)");
  EXPECT_NE(error_of(kData + "text.csv").find("text.csv:3:4: surface.file: 'abc' is not a number"),
            std::string::npos)
      << error_of(kData + "text.csv");
  EXPECT_EQ(error_of(kData + "long_row.csv"),
            kData +
                "long_row.csv:2:7: surface.file: row has more than 3 values, as many as the "
                "first row (a CSV of finite numbers, every row the same length)");
  EXPECT_NE(error_of(kData + "empty.csv").find("the file is empty"), std::string::npos);
  EXPECT_NE(error_of(kData + "missing.png").find("file not found"), std::string::npos);
  EXPECT_NE(error_of(kData + "pit.bmp").find("unsupported height map type '.bmp'"),
            std::string::npos);
  fs::create_directories(d / "folder.png");
  EXPECT_NE(error_of((d / "folder.png").string()).find("is a directory"), std::string::npos);
}

// Hostile files: every single-byte corruption of a small valid PNG, and random bytes in a CSV,
// either read or raise InputError; nothing else escapes (run under ASan/UBSan in CI).
TEST(HeightMap, CorruptedFilesNeverCrash) {
  const fs::path d = tmp_dir();
  std::vector<unsigned> v(16 * 16);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<unsigned>(i * 977 % 65536);
  write_png(d / "small.png", 16, 16, 16, PNG_COLOR_TYPE_GRAY, v);
  const std::string good = mnsim::test::slurp(d / "small.png");
  int ok = 0, rejected = 0;
  for (std::size_t pos = 0; pos < good.size(); ++pos) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(static_cast<unsigned char>(bad[pos]) ^ x);
      std::ofstream(d / "flip.png", std::ios::binary) << bad;
      try {
        const HeightMap m = read_height_map((d / "flip.png").string(), "surface.file");
        EXPECT_EQ(m.values.size(),
                  static_cast<std::size_t>(m.cols) * static_cast<std::size_t>(m.rows));
        ++ok;
      } catch (const InputError& e) {
        EXPECT_EQ(e.line().find('\n'), std::string::npos);
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  std::uint64_t state = 12345;
  for (int f = 0; f < 200; ++f) {
    std::string text;
    for (int i = 0; i < 200; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const char alphabet[] = "0123456789.,;-+eE \n\tnaif#x\r";
      text += alphabet[(state >> 33) % (sizeof alphabet - 1)];
    }
    std::ofstream(d / "fuzz.csv", std::ios::binary) << text;
    try {
      read_height_map((d / "fuzz.csv").string(), "surface.file");
    } catch (const InputError&) {
    }
  }
}

TEST(HeightMap, MapMustCoverThePatchAndStayInTheSkin) {
  auto err = [](const std::string& surface) -> std::string {
    std::ofstream(tmp_dir() / "s.toml") << "[tissue]\nwidth = \"5 mm\"\nlength = \"5 mm\"\n"
                                        << "[surface]\n"
                                        << surface;
    try {
      skin::make_patch(read_patch_spec(load_scenario((tmp_dir() / "s.toml").string())));
    } catch (const InputError& e) {
      return e.line();
    }
    return "no error";
  };
  const std::string pit = std::string(MNSIM_TEST_DIR) + "/lesions/data/pit.csv";
  const std::string small =
      err("file = \"" + pit + "\"\npixel_size = \"1 mm\"\nheight_scale = \"10 um\"\n");
  EXPECT_NE(small.find("s.toml:6:14: surface.pixel_size: the 4 x 4 pixel map covers 4 mm x 4 mm, "
                       "smaller than the 5 mm x 5 mm patch"),
            std::string::npos)
      << small;
  const std::string deep =
      err("file = \"" + pit + "\"\npixel_size = \"2 mm\"\nheight_scale = \"1 mm\"\n");
  EXPECT_NE(
      deep.find("surface.height_scale: the measured relief is 4 mm deep, deeper than the skin"),
      std::string::npos)
      << deep;
  EXPECT_EQ(err("file = \"" + pit + "\"\npixel_size = \"2 mm\"\nheight_scale = \"10 um\"\n"),
            "no error");
}

TEST(HeightMap, CliReportsBadImagesWithExitCode2) {
  const fs::path d = tmp_dir();
  write_png(d / "gray8.png", 8, 8, 8, PNG_COLOR_TYPE_GRAY, std::vector<unsigned>(64, 3));
  std::ofstream(d / "cli.toml") << "[surface]\nfile = \"gray8.png\"\npixel_size = \"2 mm\"\n"
                                << "height_scale = \"1 um\"\n";
  const std::string cmd = std::string(MNSIM_BINARY) + " check " + (d / "cli.toml").string() +
                          " > " + (d / "out.txt").string() + " 2> " + (d / "err.txt").string();
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  const std::string err = mnsim::test::slurp(d / "err.txt");
  EXPECT_EQ(err, "error: " + (d / "gray8.png").string() +
                     ":1:1: surface.file: PNG is 8-bit grayscale (a 16-bit grayscale PNG height "
                     "map)\n");
}
