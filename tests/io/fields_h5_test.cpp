#include "io/fields_h5.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace mnsim::io {
namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string string_attribute(hid_t obj, const char* name) {
  const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return "(none)";
  const hid_t t = H5Aget_type(a);
  std::string v(H5Tget_size(t), '\0');
  H5Aread(a, t, v.data());
  H5Tclose(t);
  H5Aclose(a);
  return v;
}

std::vector<double> read_doubles(hid_t f, const char* name) {
  const hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t space = H5Dget_space(ds);
  std::vector<double> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(space);
  H5Dclose(ds);
  return v;
}

// A 5 x 4 x 3 grid whose top cell of column (0, 0) is air.
CellLayers layers_with_air() {
  CellLayers c;
  c.value.assign(60, 3);
  for (std::size_t i = 0; i < 20; ++i) c.value[i] = 1;  // the top plane (k = 0 from the top)
  c.value[0] = 0;
  c.names = {"outside", "top", "middle", "bottom"};
  return c;
}

TEST(FieldsH5, StoresUpwardWithAirMaskUnitsAndDistinctTimes) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  grid::Grid g = grid::Grid::uniform(5, 4, 3, 10e-6);
  g.zf = {0.0, 5e-6, 20e-6, 60e-6};  // non-uniform z, downward in the simulation
  grid::FieldSet f(g);
  const int a = f.add("a");
  f.add("b", 2.0f);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 5; ++i) f.view(a)(i, j, k) = static_cast<float>(100 * k + 10 * j + i);
  {
    FieldsWriter w(dir / "fields.h5", g, {{"a", "mg/mL"}, {"b", "1"}}, layers_with_air());
    w.attribute("mnsim_scenario", "title = \"x\"");
    w.snapshot(0.0, "before session 1", f);
    f.view(a)(1, 2, 2) = -7.0f;
    w.snapshot(0.0, "after session 1", f);
    w.snapshot(3600.0, "one hour", f);
    EXPECT_THROW(w.snapshot(60.0, "earlier", f), std::logic_error);
    EXPECT_FALSE(fs::exists(dir / "fields.h5"));  // not visible until closed
    w.close();
  }
  ASSERT_TRUE(fs::exists(dir / "fields.h5"));
  const auto s0 = read_snapshot_field(dir / "fields.h5", 0, "a");
  const auto s1 = read_snapshot_field(dir / "fields.h5", 1, "a");
  ASSERT_EQ(s0.size(), 60u);
  // Stored [k][j][i] with k = 0 the deepest plane: simulation cell (1, 2, k) is stored at 2 - k.
  EXPECT_EQ(s0[(0 * 4 + 2) * 5 + 1], 221.0f);
  EXPECT_EQ(s1[(0 * 4 + 2) * 5 + 1], -7.0f);
  EXPECT_EQ(s0[(2 * 4 + 2) * 5 + 1], 21.0f);
  EXPECT_TRUE(std::isnan(s0[(2 * 4 + 0) * 5 + 0]));  // the air cell: top plane, column (0, 0)
  EXPECT_EQ(s0[(1 * 4 + 0) * 5 + 0], 100.0f);        // tissue below it
  EXPECT_EQ(read_snapshot_field(dir / "fields.h5", 1, "b")[7], 2.0f);
  EXPECT_TRUE(std::isnan(read_snapshot_field(dir / "fields.h5", 1, "b")[40]));

  const hid_t file = H5Fopen((dir / "fields.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const std::vector<double> z = read_doubles(file, "grid/z_faces");
  EXPECT_EQ(z, (std::vector<double>{-60.0, -20.0, -5.0, 0.0}));  // um, height, increasing
  const hid_t zds = H5Dopen2(file, "grid/z_faces", H5P_DEFAULT);
  EXPECT_EQ(string_attribute(zds, "units"), "um");
  EXPECT_EQ(string_attribute(zds, "positive"), "up");
  H5Dclose(zds);
  const hid_t lds = H5Dopen2(file, "grid/layer", H5P_DEFAULT);
  std::vector<std::uint8_t> layer(60);
  H5Dread(lds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, layer.data());
  EXPECT_EQ(layer[40], 0);  // stored top plane
  EXPECT_EQ(layer[41], 1);
  EXPECT_EQ(layer[0], 3);
  EXPECT_EQ(string_attribute(lds, "flag_meanings"), "outside top middle bottom");
  H5Dclose(lds);
  const hid_t ads = H5Dopen2(file, "snapshots/000002/a", H5P_DEFAULT);
  EXPECT_EQ(string_attribute(ads, "units"), "mg/mL");
  H5Dclose(ads);
  H5Fclose(file);

  const std::string x = slurp(dir / "fields.xmf");
  EXPECT_NE(x.find("3DRectMesh\" Dimensions=\"4 5 6\""), std::string::npos);
  EXPECT_NE(x.find("fields.h5:/snapshots/000001/b"), std::string::npos);
  EXPECT_NE(x.find("fields.h5:/grid/layer"), std::string::npos);
  EXPECT_NE(x.find("<Information Name=\"units\" Value=\"mg/mL\"/>"), std::string::npos);
  // Before and after the session share t = 0: before is placed a minute earlier; times in days.
  EXPECT_NE(x.find("<Time Value=\"-0.000694444444444444\"/>"), std::string::npos) << x;
  EXPECT_NE(x.find("<Time Value=\"0\"/>"), std::string::npos);
  EXPECT_NE(x.find("<Time Value=\"0.0416666666666667\"/>"), std::string::npos);
  fs::remove_all(dir);
}

// A field's chunks are as even as each dimension allows under 16 x 64 x 64 (no edge chunk that
// is mostly fill value: 18 planes are 2 chunks of 9, 100 cells 2 of 50, 130 cells 3 of 44), and
// every value reads back.
TEST(FieldsH5, ChunksAreEvenAndHoldEveryValue) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5c_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const grid::Grid g = grid::Grid::uniform(130, 100, 18, 10e-6);
  grid::FieldSet f(g);
  const int a = f.add("a");
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        f.view(a)(i, j, k) = static_cast<float>(10000 * k + 100 * j + i) * 0.5f;
  CellLayers layers;
  layers.value.assign(g.cells(), 1);
  layers.names = {"outside", "skin"};
  {
    FieldsWriter w(dir / "fields.h5", g, {{"a", "1"}}, layers);
    w.snapshot(0.0, "start", f);
    w.close();
  }
  const hid_t file = H5Fopen((dir / "fields.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t ds = H5Dopen2(file, "snapshots/000000/a", H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  const hid_t dcpl = H5Dget_create_plist(ds);
  hsize_t chunk[3] = {0, 0, 0};
  ASSERT_EQ(H5Pget_chunk(dcpl, 3, chunk), 3);
  EXPECT_EQ(chunk[0], 9u);  // [k][j][i]
  EXPECT_EQ(chunk[1], 50u);
  EXPECT_EQ(chunk[2], 44u);
  H5Pclose(dcpl);
  H5Dclose(ds);
  H5Fclose(file);
  const auto v = read_snapshot_field(dir / "fields.h5", 0, "a");
  ASSERT_EQ(v.size(), g.cells());
  for (int k = 0; k < g.nz; ++k)  // stored upward: simulation plane k at nz - 1 - k
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const std::size_t at =
            (static_cast<std::size_t>(g.nz - 1 - k) * static_cast<std::size_t>(g.ny) +
             static_cast<std::size_t>(j)) *
                static_cast<std::size_t>(g.nx) +
            static_cast<std::size_t>(i);
        ASSERT_EQ(v[at], static_cast<float>(10000 * k + 100 * j + i) * 0.5f) << i << " " << j;
      }
  fs::remove_all(dir);
}

TEST(FieldsH5, XdmfTimesAreDistinctAndIncreasing) {
  const double day = 86400.0, min = 60.0;
  // Before/after a session at day 28, a periodic snapshot at the same time, then the end.
  const auto t = xdmf_times({0.0, 0.0, 7 * day, 28 * day, 28 * day, 28 * day, 60 * day});
  ASSERT_EQ(t.size(), 7u);
  EXPECT_DOUBLE_EQ(t[0], -min / day);
  EXPECT_DOUBLE_EQ(t[1], 0.0);
  EXPECT_DOUBLE_EQ(t[2], 7.0);
  EXPECT_DOUBLE_EQ(t[3], 28.0 - 2 * min / day);
  EXPECT_DOUBLE_EQ(t[4], 28.0 - min / day);
  EXPECT_DOUBLE_EQ(t[5], 28.0);  // the last of a shared time keeps it exactly
  EXPECT_DOUBLE_EQ(t[6], 60.0);
  // A snapshot 30 s before a session: the session's pair fits between it and the session.
  const auto c = xdmf_times({100.0, 130.0, 130.0});
  EXPECT_GT(c[1], c[0]);
  EXPECT_GT(c[2], c[1]);
  EXPECT_DOUBLE_EQ(c[2], 130.0 / day);
  // Times that differ by rounding only (under a millisecond) share a time.
  const auto r = xdmf_times({day, day + 1e-9});
  EXPECT_DOUBLE_EQ(r[1], (day + 1e-9) / day);
  EXPECT_DOUBLE_EQ(r[0], r[1] - min / day);
}

// Runs in one process (mnsim sweep --jobs 2, the Python module) each hold a fields.h5 open at
// once: two writers of files with the same name in different folders both write theirs (HDF5
// refused the second while it created both under the bare name "fields.h5").
TEST(FieldsH5, WritersOfSameNamedFilesCoexist) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5c_" + std::to_string(::getpid()));
  fs::create_directories(dir / "one");
  fs::create_directories(dir / "two");
  grid::Grid g = grid::Grid::uniform(2, 2, 2, 1e-5);
  grid::FieldSet f(g);
  const int a = f.add("a");
  const CellLayers layers{std::vector<std::uint8_t>(8, 1), {"outside", "tissue"}};
  {
    FieldsWriter one(dir / "one" / "fields.h5", g, {{"a", "1"}}, layers);
    FieldsWriter two(dir / "two" / "fields.h5", g, {{"a", "1"}}, layers);
    f.view(a)(0, 0, 0) = 1.0f;
    one.snapshot(0.0, "start", f);
    f.view(a)(0, 0, 0) = 2.0f;
    two.snapshot(0.0, "start", f);
    two.close();
    one.close();
  }
  EXPECT_EQ(read_snapshot_field(dir / "one" / "fields.h5", 0, "a")[4], 1.0f);
  EXPECT_EQ(read_snapshot_field(dir / "two" / "fields.h5", 0, "a")[4], 2.0f);
  fs::remove_all(dir);
}

TEST(FieldsH5, UnfinishedFileLeavesNothingBehind) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_h5b_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  grid::Grid g = grid::Grid::uniform(2, 2, 2, 1e-5);
  grid::FieldSet f(g);
  f.add("a");
  {
    FieldsWriter w(dir / "fields.h5", g, {{"a", "1"}},
                   CellLayers{std::vector<std::uint8_t>(8, 1), {"outside", "tissue"}});
    w.snapshot(0.0, "start", f);
  }  // destroyed without close(): e.g. a numerical failure mid-run
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mnsim::io
