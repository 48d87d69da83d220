#include "skin/tissue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "core/constants.hpp"
#include "lesions/factory.hpp"

namespace mnsim::skin {

namespace {}  // namespace

schema::Key patient_schema() {
  using namespace schema;
  Key site = enumeration("site", default_atlas().site_keys(), "medial_cheek",
                         "anatomical site of the treated patch (mnsim catalog sites)");
  return table(
      "patient", "the patient and the treated site",
      {site,
       quantity("age", Dim::Time, "years", "35 years",
                "age; epidermis and dermis thin per decade above the atlas reference age",
                12 * kYear, 110 * kYear),
       enumeration("sex", {"female", "male"}, "female", "sex (site dermis and epidermis by sex)"),
       integer("fitzpatrick", "3", "Fitzpatrick skin type I-VI as 1-6 (melanocyte activity)", 1, 6),
       integer("glogau", "0",
               "photoageing baseline: Glogau type I-IV as 1-4 (dermal collagen I and III and "
               "elastin, data/sites.toml [modifiers.photoageing]); 0: none, the site's own skin",
               0, kGlogauTypes)});
}

schema::Key tissue_schema() {
  using namespace schema;
  return table(
      "tissue", "the simulated skin patch and its voxel grid",
      {quantity("width", Dim::Length, "mm", "10 mm", "patch size across (x)", 0.1 * kMm, 100 * kMm),
       quantity("length", Dim::Length, "mm", "10 mm", "patch size along (y)", 0.1 * kMm, 100 * kMm),
       quantity("hypodermis", Dim::Length, "mm", "0.5 mm",
                "thickness of hypodermis modelled below the dermis (grid depth = epidermis + "
                "dermis + this)",
                50 * kUm, 20 * kMm),
       quantity("resolution", Dim::Length, "um", "50 um", "voxel size in x and y; target in z",
                1 * kUm, 2 * kMm),
       integer("z_min_cells", "2", "minimum number of cells across each layer (z refinement)", 1,
               50)});
}

PatientSpec read_patient(const Table& p) {
  PatientSpec out;
  out.site = p.str("site");
  out.age_years = p.quantity("age") / kYear;
  out.sex = p.str("sex") == "male" ? Sex::Male : Sex::Female;
  out.fitzpatrick = static_cast<int>(p.integer("fitzpatrick"));
  out.glogau = static_cast<int>(p.integer("glogau"));
  return out;
}

TissueSpec read_tissue(const Table& t) {
  TissueSpec out;
  out.width = t.quantity("width");
  out.length = t.quantity("length");
  out.hypodermis = t.quantity("hypodermis");
  out.resolution = t.quantity("resolution");
  out.z_min_cells = static_cast<int>(t.integer("z_min_cells"));
  out.settings = Settings::from_table(t);
  return out;
}

// ---- SkinPatch --------------------------------------------------------------------------------

SkinPatch::SkinPatch(SkinProfile profile, double width, double length, lesions::Lesions lesions)
    : profile_(std::move(profile)), width_(width), length_(length), lesions_(std::move(lesions)) {}

double SkinPatch::surface_depth(double x, double y) const {
  double s = 0.0;
  for (const auto& l : lesions_) {
    const auto b = l->bounds();
    if (x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1) continue;
    s = std::max(s, l->depression(x, y));
  }
  return s;
}

std::array<double, kLayers + 1> SkinPatch::interfaces(double x, double y) const {
  const double s = surface_depth(x, y);
  const SkinProfile below = profile_below(profile_, s);
  std::array<double, kLayers + 1> z{};
  z[0] = std::min(s, profile_.total_thickness());
  for (int i = 0; i < kLayers; ++i) {
    z[static_cast<std::size_t>(i) + 1] =
        z[static_cast<std::size_t>(i)] + below.thickness[static_cast<std::size_t>(i)];
  }
  return z;
}

SkinProfile SkinPatch::profile_at(double x, double y) const {
  return profile_below(profile_, surface_depth(x, y));
}

Layer SkinPatch::layer_at(double x, double y, double depth) const {
  const auto z = interfaces(x, y);
  if (depth < z[0]) return Layer::Outside;
  for (int i = 0; i < kLayers - 1; ++i) {
    if (depth < z[static_cast<std::size_t>(i) + 1]) return layer_from_index(i);
  }
  return Layer::Hypodermis;
}

double SkinPatch::collagen_deficit(double x, double y) const {
  double d = 0.0;
  for (const auto& l : lesions_) {
    if (l->covers(x, y)) d = std::max(d, l->effects().collagen_deficit);
  }
  return d;
}

double SkinPatch::disorder(double x, double y) const {
  double d = 0.0;
  for (const auto& l : lesions_) {
    if (l->covers(x, y)) d = std::max(d, l->effects().disorder);
  }
  return d;
}

const lesions::Lesion* SkinPatch::tether_at(double x, double y) const {
  for (const auto& l : lesions_) {
    if (l->tethered(x, y)) return l.get();
  }
  return nullptr;
}

SkinPatch make_patch(const PatchSpec& spec) {
  const PatientSpec& pt = spec.patient;
  const TissueSpec& t = spec.tissue;
  const SkinProfile prof = default_atlas().make_profile(pt.site, pt.age_years, pt.sex,
                                                        pt.fitzpatrick, t.hypodermis, pt.glogau);
  lesions::PatchLimits lim;
  lim.width = t.width;
  lim.length = t.length;
  lim.skin_depth = prof.top_of(Layer::Hypodermis);
  return SkinPatch(prof, lim.width, lim.length,
                   lesions::make_lesions(spec.lesions, lesions::default_lesion_data(), lim));
}

// ---- Voxels -----------------------------------------------------------------------------------

std::vector<double> layer_faces(const SkinProfile& p, double resolution, int z_min_cells) {
  std::vector<double> zf = {0.0};
  double top = 0.0;
  for (int l = 0; l < kLayers; ++l) {
    const double t = p.thickness[static_cast<std::size_t>(l)];
    const double bottom = top + t;
    if (t <= 0.0) continue;
    const int n = std::max(z_min_cells, static_cast<int>(std::ceil(t / resolution - 1e-9)));
    for (int c = 1; c < n; ++c) zf.push_back(top + t * c / n);
    zf.push_back(bottom);  // the interface itself, exactly the running sum of thicknesses
    top = bottom;
  }
  return zf;
}

namespace {

/// Makes cell (i, j, k) of layer `l` with the layer's composition (its dermal matrix short by
/// `deficit`, its collagen order 1 - `disorder`, as build_tissue makes a scar's dermis).
void set_layer(Tissue& t, int i, int j, int k, Layer l, double deficit, double disorder) {
  grid::FieldSet& fs = t.fields;
  const Composition& c = t.patch.profile().composition[static_cast<std::size_t>(layer_index(l))];
  const double keep = 1.0 - deficit;
  const std::array<std::pair<const char*, double>, 8> values = {
      {{field::kLayer, static_cast<double>(static_cast<int>(l))},
       {field::kCollagen1, c.collagen1 * keep},
       {field::kCollagen3, c.collagen3 * keep},
       {field::kElastin, c.elastin * keep},
       {field::kFibroblasts, c.fibroblasts},
       {field::kVascular, c.vascular},
       {field::kCollagenOrder, 1.0 - disorder},
       {field::kTether, 0.0}}};
  for (const auto& [name, v] : values) fs.view(fs.index(name))(i, j, k) = static_cast<float>(v);
}

/// The skin surface is epidermis (docs/numerics.md, "Convergence of example 01"): a dermal or
/// hypodermal cell with a face on the air (above it or beside it: a scar wall steeper than the
/// grid's aspect ratio, or an epidermis thinner than the cells it falls in under a scar floor),
/// or beside a cell with air above it, becomes viable epidermis, with that layer's composition.
/// Without this lining the epidermis on a steep wall breaks into cells that touch no other
/// epidermal cell; a puncture that empties one leaves it empty for good (keratinocytes move only
/// between epidermal cells) and it stays a source of inflammatory signal for the rest of the run
/// (measured: 50 um grid of a 0.6 mm icepick, damage 1 in three such cells six months on). The
/// lining's volume is one cell wide and vanishes as the grid is refined.
void line_exposed_tissue(Tissue& t) {
  grid::FieldSet& fs = t.fields;
  const grid::Grid& g = fs.grid();
  const auto layer = fs.view(fs.index(field::kLayer));
  const auto at = [&](int i, int j, int k) {
    return static_cast<Layer>(static_cast<int>(layer(i, j, k)));
  };
  const auto open = [&](int i, int j, int k) {
    return i >= 0 && i < g.nx && j >= 0 && j < g.ny && k >= 0 && at(i, j, k) == Layer::Outside;
  };
  std::vector<std::array<int, 3>> lined;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const Layer l = at(i, j, k);
        if (l == Layer::Outside || l == Layer::StratumCorneum || l == Layer::ViableEpidermis)
          continue;
        // Air above, beside, or above a neighbour (the step down to the neighbour's first cell:
        // the lining then shares a face with it, not an edge).
        bool air = open(i, j, k - 1);
        for (int up = 0; up <= 1 && !air; ++up)
          air = open(i - 1, j, k - up) || open(i + 1, j, k - up) || open(i, j - 1, k - up) ||
                open(i, j + 1, k - up);
        if (air) lined.push_back({i, j, k});
      }
  if (lined.empty()) return;
  for (const auto& [i, j, k] : lined) set_layer(t, i, j, k, Layer::ViableEpidermis, 0.0, 0.0);
}

/// Every column whose dermis is not empty holds a dermal cell (docs/numerics.md, "The icepick").
/// Layers go by cell centre and the lining (line_exposed_tissue) takes the tissue cells that face
/// the air, so under a deep narrow floor (an icepick's tip: 0.14 mm of dermis left under 0.8 mm)
/// a column could hold its dermis only inside cells of other layers. Such a column had no matter
/// for the scar's deficit and no matrix to grow: the deficit it should hold was dropped and its
/// rise read 0, a quarter of a 1 mm icepick's footprint at 200 um with its tip on a column centre
/// and none with the tip 75 um away. The first cell under the lining (hypodermis by its centre,
/// never exposed: an exposed one is lining) becomes dermis of the deepest dermal layer the column
/// has; the read-out counts the column's true dermal length (Engine::for_each_dermal_part).
void keep_dermis_in_every_column(Tissue& t) {
  grid::FieldSet& fs = t.fields;
  const grid::Grid& g = fs.grid();
  const auto layer = fs.view(fs.index(field::kLayer));
  const auto pd = static_cast<std::size_t>(layer_index(Layer::PapillaryDermis));
  const auto rd = static_cast<std::size_t>(layer_index(Layer::ReticularDermis));
  const auto hd = static_cast<std::size_t>(layer_index(Layer::Hypodermis));
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const double x = g.xc(i), y = g.yc(j);
      const auto z = t.patch.interfaces(x, y);
      if (!(z[hd] > z[pd])) continue;
      int below = -1;
      bool dermal = false;
      for (int k = 0; k < g.nz && !dermal; ++k) {
        const auto l = static_cast<Layer>(static_cast<int>(layer(i, j, k)));
        dermal = l == Layer::PapillaryDermis || l == Layer::ReticularDermis;
        if (l == Layer::Hypodermis && below < 0) below = k;
      }
      if (dermal || below < 0) continue;
      const Layer l = z[hd] > z[rd] ? Layer::ReticularDermis : Layer::PapillaryDermis;
      if (fs.view(fs.index(field::kTether))(i, j, below) > 0.0f) {
        layer(i, j, below) = static_cast<float>(static_cast<int>(l));  // a band cell stays a band
      } else {
        set_layer(t, i, j, below, l, t.patch.collagen_deficit(x, y), t.patch.disorder(x, y));
      }
    }
}

}  // namespace

Tissue build_tissue(const SkinPatch& patch, double resolution, int z_min_cells) {
  grid::Grid g;
  g.nx = std::max(1, static_cast<int>(std::lround(patch.width() / resolution)));
  g.dx = patch.width() / g.nx;
  g.ny = std::max(1, static_cast<int>(std::lround(patch.length() / g.dx)));
  g.zf = layer_faces(patch.profile(), resolution, z_min_cells);
  g.nz = static_cast<int>(g.zf.size()) - 1;
  g.ghost = 1;

  Tissue tissue;
  tissue.patch = patch;
  tissue.fields = grid::FieldSet(g);
  auto& fs = tissue.fields;
  const auto layer = fs.view(fs.add(field::kLayer));
  const auto c1 = fs.view(fs.add(field::kCollagen1));
  const auto c3 = fs.view(fs.add(field::kCollagen3));
  const auto el = fs.view(fs.add(field::kElastin));
  const auto fb = fs.view(fs.add(field::kFibroblasts));
  const auto va = fs.view(fs.add(field::kVascular));
  const auto order = fs.view(fs.add(field::kCollagenOrder));
  const auto teth = fs.view(fs.add(field::kTether));
  const grid::Grid& gr = fs.grid();
  tissue.surface_k.assign(static_cast<std::size_t>(gr.nx) * static_cast<std::size_t>(gr.ny), gr.nz);
  const SkinProfile& prof = patch.profile();
  const double dermis_bottom = patch.dermis_bottom();

#pragma omp parallel for schedule(static)
  for (int j = 0; j < gr.ny; ++j) {
    for (int i = 0; i < gr.nx; ++i) {
      const double x = gr.xc(i), y = gr.yc(j);
      const auto z = patch.interfaces(x, y);
      const double deficit = patch.collagen_deficit(x, y);
      const double dis = patch.disorder(x, y);
      const lesions::Lesion* band = patch.tether_at(x, y);
      int first = gr.nz;
      for (int k = 0; k < gr.nz; ++k) {
        const double zc = gr.zc(k);
        Layer l = Layer::Outside;
        if (zc >= z[0]) {
          l = Layer::Hypodermis;
          for (int n = 0; n < kLayers - 1; ++n) {
            if (zc < z[static_cast<std::size_t>(n) + 1]) {
              l = layer_from_index(n);
              break;
            }
          }
          first = std::min(first, k);
        }
        layer(i, j, k) = static_cast<float>(static_cast<int>(l));
        if (l == Layer::Outside) {
          c1(i, j, k) = c3(i, j, k) = el(i, j, k) = fb(i, j, k) = va(i, j, k) = 0.0f;
          order(i, j, k) = teth(i, j, k) = 0.0f;
          continue;
        }
        const Composition& c = prof.composition[static_cast<std::size_t>(layer_index(l))];
        double f1 = c.collagen1, f3 = c.collagen3, fe = c.elastin, ord = 1.0, band_flag = 0.0;
        const bool dermal = l == Layer::PapillaryDermis || l == Layer::ReticularDermis;
        if (dermal && deficit > 0.0) {
          f1 *= 1.0 - deficit;
          f3 *= 1.0 - deficit;
          fe *= 1.0 - deficit;
          ord = 1.0 - dis;
        }
        if (band && zc >= z[2] && zc < dermis_bottom + band->effects().tether_depth &&
            l != Layer::StratumCorneum && l != Layer::ViableEpidermis) {
          const Composition& rd =
              prof.composition[static_cast<std::size_t>(layer_index(Layer::ReticularDermis))];
          f1 = rd.collagen1 * band->effects().tether_collagen_factor;
          f3 = rd.collagen3;
          ord = 1.0;
          band_flag = 1.0;
        }
        c1(i, j, k) = static_cast<float>(f1);
        c3(i, j, k) = static_cast<float>(f3);
        el(i, j, k) = static_cast<float>(fe);
        fb(i, j, k) = static_cast<float>(c.fibroblasts);
        va(i, j, k) = static_cast<float>(c.vascular);
        order(i, j, k) = static_cast<float>(ord);
        teth(i, j, k) = static_cast<float>(band_flag);
      }
      tissue.surface_k[static_cast<std::size_t>(i) +
                       static_cast<std::size_t>(j) * static_cast<std::size_t>(gr.nx)] = first;
    }
  }
  line_exposed_tissue(tissue);
  keep_dermis_in_every_column(tissue);
  for (int f = 0; f < fs.size(); ++f) grid::fill_ghosts_neumann(fs.view(f));
  return tissue;
}

GridDims grid_dims(const SkinPatch& patch, double res, int z_min_cells) {
  GridDims d;
  d.nx = std::max(1.0, std::round(patch.width() / res));
  d.ny = std::max(1.0, std::round(patch.length() / (patch.width() / d.nx)));
  d.nz = static_cast<double>(layer_faces(patch.profile(), res, z_min_cells).size() - 1);
  return d;
}

Tissue build_tissue(const PatchSpec& spec) {
  const SkinPatch patch = make_patch(spec);
  const TissueSpec& t = spec.tissue;
  const double res = t.resolution;
  const int zmin = t.z_min_cells;
  const GridDims d = grid_dims(patch, res, zmin);
  const double nx = d.nx, ny = d.ny, nz = d.nz;
  if (d.cells() > kMaxTissueCells) {
    t.settings.fail("resolution",
                    fmt::format("the grid would have {:.3g} cells ({:.0f} x {:.0f} x {:.0f})",
                                nx * ny * nz, nx, ny, nz),
                    fmt::format("at most {:.0g} cells: a coarser resolution or a smaller patch",
                                kMaxTissueCells));
  }
  return build_tissue(patch, res, zmin);
}

}  // namespace mnsim::skin
