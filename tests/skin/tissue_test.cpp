// Voxel tissue: layer faces exact, voxelised scar volumes against analytic volumes, dermal
// deficit and tethering bands, per-point queries.
#include <gtest/gtest.h>
#include <omp.h>

#include <array>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "core/scenario.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

using namespace mnsim;
using namespace mnsim::skin;

namespace {

Table scenario(const std::string& body) {
  return parse_scenario_text(body, "/tmp/tissue_test.toml", scenario_schema());
}

// Volume of the Outside voxels below the surface plane (z > 0): the voxelised depression.
double voxel_depression_volume(const Tissue& t) {
  const grid::Grid& g = t.grid();
  double v = 0.0;
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      for (int i = 0; i < g.nx; ++i) {
        if (t.layer(i, j, k) == Layer::Outside) v += g.dx * g.dx * g.dz(k);
      }
    }
  }
  return v;
}

const std::string kPatient = R"(
[patient]
site = "medial_cheek"
age = "30 years"
sex = "female"
[tissue]
width = "8 mm"
length = "8 mm"
)";

}  // namespace

TEST(Tissue, LayerInterfacesLieExactlyOnFaces) {
  const Tissue t = build_tissue(read_patch_spec(scenario(kPatient)));
  const SkinProfile& p = t.patch.profile();
  const grid::Grid& g = t.grid();
  // Atlas values at 30 years (below the reference age): medial cheek, woman.
  EXPECT_DOUBLE_EQ(p.thickness[0], 16.8e-6);
  EXPECT_DOUBLE_EQ(p.thickness[1], 50e-6);
  EXPECT_DOUBLE_EQ(p.thickness[2] + p.thickness[3], 0.87e-3);
  double z = 0.0;
  for (int l = 0; l < kLayers; ++l) {
    z += p.thickness[static_cast<std::size_t>(l)];
    bool found = false;
    for (double f : g.zf) found = found || f == z;
    EXPECT_TRUE(found) << "interface below " << layer_name(layer_from_index(l)) << " at " << z;
  }
  EXPECT_EQ(g.zf.back(), z);
  EXPECT_DOUBLE_EQ(g.depth(), 16.8e-6 + 50e-6 + 0.87e-3 + 0.5e-3);
  // Thin layers get z_min_cells = 2 cells; cells are never thicker than the resolution.
  for (int k = 0; k < g.nz; ++k) EXPECT_LE(g.dz(k), 50e-6 * (1 + 1e-12));
  EXPECT_EQ(g.nx, 160);
  EXPECT_EQ(g.ny, 160);
  // Every voxel carries the layer of its centre depth and that layer's composition.
  for (int k = 0; k < g.nz; ++k) {
    const Layer want = p.layer_at(g.zc(k));
    EXPECT_EQ(t.layer(3, 5, k), want) << k;
    EXPECT_FLOAT_EQ(
        t.fields.view(field::kCollagen1)(3, 5, k),
        static_cast<float>(p.composition[static_cast<std::size_t>(layer_index(want))].collagen1));
    EXPECT_FLOAT_EQ(
        t.fields.view(field::kVascular)(3, 5, k),
        static_cast<float>(p.composition[static_cast<std::size_t>(layer_index(want))].vascular));
  }
}

struct VolumeCase {
  std::string name;
  std::string lesion;
};

void PrintTo(const VolumeCase& c, std::ostream* os) {
  *os << c.name;
}

class ScarVolume : public ::testing::TestWithParam<VolumeCase> {};

// Typical geometries of Jacob 2001 at the default 50 um resolution: the voxelised depression
// matches the analytic volume within 5 %.
TEST_P(ScarVolume, VoxelisedMatchesAnalyticWithin5Percent) {
  const Tissue t =
      build_tissue(read_patch_spec(scenario(kPatient + "\n[[lesions]]\n" + GetParam().lesion)));
  ASSERT_EQ(t.patch.lesions().size(), 1u);
  const double analytic = t.patch.lesions()[0]->volume();
  const double voxel = voxel_depression_volume(t);
  RecordProperty("relative_error", std::to_string(voxel / analytic - 1.0));
  EXPECT_NEAR(voxel / analytic, 1.0, 0.05) << GetParam().name << ": voxel " << voxel * 1e9
                                           << " mm^3, analytic " << analytic * 1e9 << " mm^3";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ScarVolume,
    ::testing::Values(
        VolumeCase{"icepick",
                   "kind = \"icepick\"\nx = \"4 mm\"\ny = \"4 mm\"\nwidth = \"1 mm\"\n"
                   "depth = \"0.7 mm\"\n"},
        VolumeCase{"boxcar_shallow",
                   "kind = \"boxcar\"\nx = \"4 mm\"\ny = \"4 mm\"\nwidth = "
                   "\"2.5 mm\"\ndepth = \"0.3 mm\"\nwall_angle = \"10 deg\"\n"},
        VolumeCase{"boxcar_deep",
                   "kind = \"boxcar\"\nx = \"4 mm\"\ny = \"4 mm\"\nwidth = "
                   "\"3 mm\"\ndepth = \"0.7 mm\"\n"},
        VolumeCase{"rolling",
                   "kind = \"rolling\"\nx = \"4 mm\"\ny = \"4 mm\"\nwidth = \"5 mm\"\n"
                   "depth = \"0.3 mm\"\n"},
        VolumeCase{"striae",
                   "kind = \"striae\"\nx = \"4 mm\"\ny = \"4 mm\"\nlength = \"6 mm\"\n"
                   "width = \"2 mm\"\ndepth = \"0.12 mm\"\nangle = \"30 deg\"\n"},
        VolumeCase{"wrinkle",
                   "kind = \"wrinkle\"\nx = \"4 mm\"\ny = \"4 mm\"\nlength = \"5 mm\"\n"
                   "width = \"0.3 mm\"\ndepth = \"0.06 mm\"\nangle = \"90 deg\"\n"}),
    [](const auto& info) { return info.param.name; });

TEST(Tissue, DermalDeficitUnderABoxcarOnly) {
  const Tissue t = build_tissue(read_patch_spec(scenario(kPatient + R"(
[[lesions]]
kind = "boxcar"
x = "4 mm"
y = "4 mm"
width = "2 mm"
depth = "0.3 mm"
wall_angle = "0 deg"
)")));
  const grid::Grid& g = t.grid();
  const SkinProfile& p = t.patch.profile();
  const int ic = 80, jc = 80;  // column at the scar centre (x = 4.025 mm)
  const int io = 10;           // far from the scar
  const auto c1 = t.fields.view(field::kCollagen1);
  const auto order = t.fields.view(field::kCollagenOrder);
  // Surface at 0.3 mm under the scar: the first tissue cell starts at or below it.
  const int ks = t.surface_k[static_cast<std::size_t>(ic + jc * g.nx)];
  EXPECT_GE(g.zc(ks), 0.3e-3);
  EXPECT_LT(g.zc(ks - 1), 0.3e-3);
  EXPECT_EQ(t.layer(ic, jc, ks - 1), Layer::Outside);
  EXPECT_EQ(t.surface_k[static_cast<std::size_t>(io + jc * g.nx)], 0);
  // Shallow boxcar: 30 % collagen deficit, disorder 50 % (data/lesions.toml).
  int dermal = 0;
  for (int k = 0; k < g.nz; ++k) {
    const Layer l = t.layer(ic, jc, k);
    if (l != Layer::ReticularDermis && l != Layer::PapillaryDermis) continue;
    ++dermal;
    const double base = p.composition[static_cast<std::size_t>(layer_index(l))].collagen1;
    EXPECT_FLOAT_EQ(c1(ic, jc, k), static_cast<float>(base * 0.7));
    EXPECT_FLOAT_EQ(order(ic, jc, k), 0.5f);
    EXPECT_EQ(t.layer(io, jc, k),
              l == Layer::PapillaryDermis ? t.layer(io, jc, k) : t.layer(io, jc, k));
  }
  EXPECT_GT(dermal, 5);
  for (int k = 0; k < g.nz; ++k) {
    if (t.layer(io, jc, k) == Layer::ReticularDermis) {
      EXPECT_FLOAT_EQ(c1(io, jc, k), static_cast<float>(p.composition[3].collagen1));
      EXPECT_FLOAT_EQ(order(io, jc, k), 1.0f);
    }
  }
  // Local profile: epidermis and papillary dermis follow the floor, the reticular dermis is
  // thinned by the depth, the bottom of the dermis stays put.
  const SkinProfile local = t.patch.profile_at(4e-3, 4e-3);
  EXPECT_DOUBLE_EQ(t.patch.surface_depth(4e-3, 4e-3), 0.3e-3);
  EXPECT_DOUBLE_EQ(local.thickness[1], p.thickness[1]);
  EXPECT_DOUBLE_EQ(local.thickness[2], p.thickness[2]);
  EXPECT_NEAR(local.thickness[3], p.thickness[3] - 0.3e-3, 1e-15);
  EXPECT_NEAR(local.plexus_depth, p.plexus_depth, 1e-15);
  EXPECT_EQ(t.patch.layer_at(4e-3, 4e-3, 0.2e-3), Layer::Outside);
  EXPECT_EQ(t.patch.layer_at(4e-3, 4e-3, 0.31e-3), Layer::StratumCorneum);
  EXPECT_EQ(t.patch.layer_at(1e-3, 1e-3, 0.31e-3), Layer::ReticularDermis);
}

TEST(Tissue, RollingScarTethersIntoTheHypodermis) {
  const Tissue t = build_tissue(read_patch_spec(scenario(kPatient + R"(
[[lesions]]
kind = "rolling"
x = "4 mm"
y = "4 mm"
width = "5 mm"
depth = "0.3 mm"
)")));
  const grid::Grid& g = t.grid();
  const auto teth = t.fields.view(field::kTether);
  const auto c1 = t.fields.view(field::kCollagen1);
  const double bottom = t.patch.dermis_bottom();
  int hypo_band = 0;
  for (int k = 0; k < g.nz; ++k) {
    const Layer l = t.layer(79, 79, k);
    const bool in_band = l != Layer::Outside && l != Layer::StratumCorneum &&
                         l != Layer::ViableEpidermis && g.zc(k) < bottom + 0.3e-3;
    EXPECT_EQ(teth(79, 79, k), in_band ? 1.0f : 0.0f) << k;
    if (in_band && l == Layer::Hypodermis) {
      ++hypo_band;
      EXPECT_FLOAT_EQ(c1(79, 79, k), static_cast<float>(212.5 * 1.5));
    }
    EXPECT_EQ(teth(20, 20, k), 0.0f);
  }
  EXPECT_GT(hypo_band, 3);
  bool tether_flag = false;
  for (int k = 0; k < g.nz; ++k) tether_flag = tether_flag || teth(79 + 10, 79, k) > 0;
  EXPECT_FALSE(tether_flag);  // 0.5 mm from the centre: outside the 0.15 mm band
}

namespace {

// Volume of the viable epidermis that lies outside the epidermis of its column's own profile:
// the lining of scar walls and floors (build_tissue).
double lining_volume(const Tissue& t) {
  const grid::Grid& g = t.grid();
  double v = 0.0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        if (t.layer(i, j, k) == Layer::ViableEpidermis &&
            t.patch.layer_at(g.xc(i), g.yc(j), g.zc(k)) != Layer::ViableEpidermis)
          v += g.dx * g.dx * g.dz(k);
  return v;
}

Tissue icepick_tissue(const std::string& resolution) {
  return build_tissue(read_patch_spec(scenario(R"(
[patient]
site = "medial_cheek"
age = "30 years"
sex = "female"
[tissue]
width = "2 mm"
length = "2 mm"
resolution = ")" + resolution + R"("
[[lesions]]
kind = "icepick"
x = "1 mm"
y = "1 mm"
width = "0.6 mm"
depth = "0.8 mm"
)")));
}

}  // namespace

// The steep wall of an icepick (0.8 mm over 0.3 mm) puts the epidermis of neighbouring columns
// several cells apart: every tissue cell with a face on the air is epidermis, the epidermis is
// one face-connected sheet (keratinocytes can reach every epidermal cell), and the lining that
// this takes shrinks with the cells.
TEST(Tissue, EpidermisLinesTheAirAndIsOneSheet) {
  double lined[2] = {0, 0};
  int n = 0;
  for (const char* res : {"100 um", "50 um"}) {
    const Tissue t = icepick_tissue(res);
    const grid::Grid& g = t.grid();
    auto layer = [&](int i, int j, int k) {
      if (i < 0 || i >= g.nx || j < 0 || j >= g.ny || k < 0 || k >= g.nz) return Layer::Hypodermis;
      return t.layer(i, j, k);
    };
    auto epidermal = [](Layer l) {
      return l == Layer::StratumCorneum || l == Layer::ViableEpidermis;
    };
    const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
    std::vector<char> seen(static_cast<std::size_t>(g.nx * g.ny * g.nz), 0);
    auto id = [&](int i, int j, int k) {
      return static_cast<std::size_t>(i + g.nx * (j + g.ny * k));
    };
    int epi = 0, exposed_dermis = 0;
    std::vector<std::array<int, 3>> stack;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const Layer l = t.layer(i, j, k);
          if (epidermal(l)) {
            ++epi;
            if (stack.empty()) {
              stack.push_back({i, j, k});
              seen[id(i, j, k)] = 1;
            }
          } else if (l != Layer::Outside) {
            for (const auto& d : nb)
              if (d[2] != 1 && layer(i + d[0], j + d[1], k + d[2]) == Layer::Outside)
                ++exposed_dermis;
          }
        }
    EXPECT_EQ(exposed_dermis, 0) << res;
    int reached = 0;
    while (!stack.empty()) {
      const auto [i, j, k] = stack.back();
      stack.pop_back();
      ++reached;
      for (const auto& d : nb) {
        const int a = i + d[0], b = j + d[1], c = k + d[2];
        if (!epidermal(layer(a, b, c)) || seen[id(a, b, c)]) continue;
        seen[id(a, b, c)] = 1;
        stack.push_back({a, b, c});
      }
    }
    EXPECT_EQ(reached, epi) << res << ": epidermal cells not connected to the sheet";
    lined[n++] = lining_volume(t);
  }
  EXPECT_GT(lined[0], 0.0);
  EXPECT_LT(lined[1], 0.6 * lined[0]) << lined[1] << " m^3 at 50 um, " << lined[0] << " at 100 um";
}

TEST(Tissue, AgeAndSexFromThePatientTable) {
  const Tissue t = build_tissue(read_patch_spec(scenario(R"(
[patient]
site = "forehead"
age = "55 years"
sex = "female"
fitzpatrick = 4
[tissue]
width = "1 mm"
length = "1 mm"
)")));
  // Worked example 1 of atlas_test.cpp through the scenario.
  EXPECT_NEAR(t.patch.profile().thickness[1], 44.3e-6, 1e-15);
  EXPECT_NEAR(t.patch.profile().plexus_depth, 212.46e-6, 1e-15);
  EXPECT_DOUBLE_EQ(t.patch.profile().melanocyte_activity, 1.07);
}

TEST(Tissue, ScenarioErrorsPointAtTheKey) {
  auto err = [](const std::string& body) -> std::string {
    try {
      build_tissue(read_patch_spec(scenario(body)));
    } catch (const InputError& e) {
      return e.line();
    }
    return "no error";
  };
  EXPECT_EQ(err(kPatient + "[[lesions]]\nkind = \"icepick\"\nx = \"9 mm\"\ny = \"4 mm\"\nwidth = "
                           "\"1 mm\"\ndepth = \"0.5 mm\"\n"),
            "/tmp/tissue_test.toml:11:5: lesions[0].x: 9 mm is outside the patch (0 to 8 mm "
            "([tissue] width))");
  const std::string edge = err(kPatient +
                               "[[lesions]]\nkind = \"boxcar\"\nx = \"7.5 mm\"\ny = "
                               "\"4 mm\"\nwidth = \"2 mm\"\ndepth = \"0.2 mm\"\n");
  EXPECT_NE(edge.find("lesions[0].x: the boxcar extends outside the patch"), std::string::npos)
      << edge;
  const std::string deep = err(kPatient +
                               "[[lesions]]\nkind = \"icepick\"\nx = \"4 mm\"\ny = "
                               "\"4 mm\"\nwidth = \"1 mm\"\ndepth = \"1.2 mm\"\n");
  EXPECT_NE(deep.find(":14:9: lesions[0].depth: 1.2 mm is deeper than the skin"), std::string::npos)
      << deep;
  const std::string wrong_key = err(kPatient +
                                    "[[lesions]]\nkind = \"icepick\"\nx = \"4 mm\"\ny = "
                                    "\"4 mm\"\nwidth = \"1 mm\"\ndepth = \"0.2 mm\"\n"
                                    "length = \"3 mm\"\n");
  EXPECT_NE(wrong_key.find("lesions[0].length: key 'length' is only valid when kind = "),
            std::string::npos)
      << wrong_key;
  const std::string site = err("[patient]\nsite = \"medial_cheeks\"\n");
  EXPECT_NE(site.find("patient.site: unknown value 'medial_cheeks' (did you mean 'medial_cheek'?"),
            std::string::npos)
      << site;
  const std::string huge =
      err("[tissue]\nwidth = \"100 mm\"\nlength = \"100 mm\"\nresolution = "
          "\"2 um\"\n");
  EXPECT_NE(huge.find("tissue.resolution: the grid would have"), std::string::npos) << huge;
}

TEST(Tissue, IndependentOfThreadCount) {
  const Table sc = scenario("seed = 3\n" + kPatient + "[inventory]\nicepick = 4\nrolling = 1\n");
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const Tissue one = build_tissue(read_patch_spec(sc));
  omp_set_num_threads(3);
  const Tissue three = build_tissue(read_patch_spec(sc));
  omp_set_num_threads(before);
  ASSERT_EQ(one.fields.size(), three.fields.size());
  const std::size_t n = one.grid().padded_size();
  for (int f = 0; f < one.fields.size(); ++f) {
    EXPECT_EQ(std::memcmp(one.fields.view(f).data, three.fields.view(f).data, n * sizeof(float)), 0)
        << one.fields.name(f);
  }
  EXPECT_EQ(one.surface_k, three.surface_k);
}
