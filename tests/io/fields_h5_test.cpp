#include "io/fields_h5.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace mnsim::io {
namespace {

TEST(FieldsH5, RoundTripsSnapshotsAndWritesXdmf) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  grid::Grid g = grid::Grid::uniform(5, 4, 3, 10e-6);
  g.zf = {0.0, 5e-6, 20e-6, 60e-6};  // non-uniform z
  grid::FieldSet f(g);
  const int a = f.add("a");
  f.add("b", 2.0f);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 5; ++i) f.view(a)(i, j, k) = static_cast<float>(100 * k + 10 * j + i);
  {
    FieldsWriter w(dir / "fields.h5", g, {"a", "b"});
    w.attribute("mnsim_scenario", "title = \"x\"");
    w.snapshot(0.0, "start", f);
    f.view(a)(1, 2, 2) = -7.0f;
    w.snapshot(3600.0, "one hour", f);
    EXPECT_FALSE(fs::exists(dir / "fields.h5"));  // not visible until closed
    w.close();
  }
  ASSERT_TRUE(fs::exists(dir / "fields.h5"));
  const auto s0 = read_snapshot_field(dir / "fields.h5", 0, "a");
  const auto s1 = read_snapshot_field(dir / "fields.h5", 1, "a");
  ASSERT_EQ(s0.size(), 60u);
  EXPECT_EQ(s0[(2 * 4 + 2) * 5 + 1], 221.0f);  // [k][j][i]
  EXPECT_EQ(s1[(2 * 4 + 2) * 5 + 1], -7.0f);
  EXPECT_EQ(read_snapshot_field(dir / "fields.h5", 1, "b")[7], 2.0f);
  std::ifstream x(dir / "fields.xmf");
  std::stringstream ss;
  ss << x.rdbuf();
  EXPECT_NE(ss.str().find("3DRectMesh\" Dimensions=\"4 5 6\""), std::string::npos);
  EXPECT_NE(ss.str().find("fields.h5:/snapshots/000001/b"), std::string::npos);
  fs::remove_all(dir);
}

TEST(FieldsH5, UnfinishedFileLeavesNothingBehind) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5b_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  grid::Grid g = grid::Grid::uniform(2, 2, 2, 1e-5);
  grid::FieldSet f(g);
  f.add("a");
  {
    FieldsWriter w(dir / "fields.h5", g, {"a"});
    w.snapshot(0.0, "start", f);
  }  // destroyed without close(): e.g. a numerical failure mid-run
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mnsim::io
