#include "healing/engine.hpp"
#include "core/constants.hpp"
#include "healing/team.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>

namespace mnsim::healing {

namespace {
constexpr double kUm2PerHourToSi = kUm * kUm / kHour;

/// Absolute change tolerance for step control: a small fraction of the field's scale.
double tolerance_for(int slot, const Baselines& base, const Model& m) {
  double scale = 0.0;
  for (const auto& b : base) {
    const State s = baseline_state(b, m);
    scale = std::max(scale, std::fabs(s[static_cast<std::size_t>(slot)]));
  }
  return scale > 0.0 ? 0.02 * scale : 0.02;
}
}  // namespace

Engine::Engine(const skin::Tissue& tissue, const Params& params, EngineOptions opt,
               const Model& model)
    : tissue_(tissue),
      p_(params),
      model_(model),
      reactor_(model_, p_),
      collagen1_(model_.slot("collagen1")),
      collagen3_(model_.slot("collagen3")),
      elastin_(model_.slot("elastin")),
      base_(baselines_from_profile(tissue.patch.profile())),
      fields_(tissue.grid()),
      permeability_(tissue.grid()) {
  const grid::Grid& g = tissue.grid();
  layer_of_.assign(g.padded_size(), 0);
  const grid::ConstFieldView lay = tissue.fields.view(skin::field::kLayer);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        layer_of_[static_cast<std::size_t>(g.at(i, j, k))] =
            static_cast<std::uint8_t>(std::lround(lay(i, j, k)));
  surface_.resize(static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny));
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i)
      surface_[static_cast<std::size_t>(i + j * g.nx)] =
          tissue.patch.surface_depth(g.xc(i), g.yc(j));

  specs_ = field_specs(model_, p_);
  init_fields(base_, layer_of_, fields_, model_);
  seed_lesions();
  index_layer_runs();
  index_dermis();
  start_matrix_ = column_matrix();

  // Transport: per field, D_max over layers times a per-voxel permeability D_layer / D_max.
  // Fields with the same pattern of relative diffusivities share one permeability field.
  std::map<std::array<double, skin::kLayers>, int> patterns;
  StepControl control;
  control.dt_initial = opt.dt_initial;
  control.dt_after_event = opt.dt_after_event;
  control.dt_max = opt.dt_max;
  control.dt_min = 1e-3;
  control.rtol = opt.rtol;
  control.max_growth = opt.max_growth;
  control.splitting = Splitting::Lie;
  control.estimate = opt.step_doubling ? ErrorEstimate::StepDoubling : ErrorEstimate::Change;
  control.check_every = opt.check_every;
  control.grow_measured = opt.grow_measured;
  control.norm = opt.norm;
  control.cell_factor = opt.cell_factor;
  control.ghosts = false;  // reactions are pointwise, the cell transport reads interiors only
  stepper_ = std::make_unique<Stepper>(fields_, control, 0.0);
  stepper_->set_norm_regions(norm_regions());
  movers_.resize(specs_.size());
  // Baselines of the fields with capacity-form motility: read by the movers' constructors, which
  // keep what they need (the field set is dropped after construction).
  grid::FieldSet capacity(g);
  std::vector<int> screened;
  for (const FieldSpec& s : specs_) {
    const double dmax = *std::max_element(s.diffusivity.begin(), s.diffusivity.end());
    TransportSpec ts;
    ts.atol = tolerance_for(s.slot, base_, model_);
    // Step control follows the slow tissue state (matrix, cells, vessels, epidermis, pigment).
    // The fast mediators are integrated by the exact-exponential reaction step, stable and
    // positive for any step; steps restart small after every session (dt_after_event) and grow
    // at most max_growth per step, which resolves their hours-long transients.
    ts.controlled = model_.field(s.slot).slow;
    ts.reaction_decay = s.decay / kHour;
    if (dmax > 0.0) {
      std::array<double, skin::kLayers> rel{};
      for (int l = 0; l < skin::kLayers; ++l)
        rel[static_cast<std::size_t>(l)] = s.diffusivity[static_cast<std::size_t>(l)] / dmax;
      auto it = patterns.find(rel);
      if (it == patterns.end()) {
        const int id = permeability_.add(fmt::format("permeability_{}", patterns.size()));
        grid::FieldView pv = permeability_.view(id);
        for (int k = 0; k < g.nz; ++k)
          for (int j = 0; j < g.ny; ++j)
            for (int i = 0; i < g.nx; ++i) {
              const int l = layer_of_[static_cast<std::size_t>(g.at(i, j, k))];
              pv(i, j, k) =
                  l == 0 ? 0.0f : static_cast<float>(rel[static_cast<std::size_t>(l - 1)]);
            }
        it = patterns.emplace(rel, id).first;
      }
      ts.mode = TransportMode::Implicit;
      ts.diffusion.diffusivity = {dmax * kUm2PerHourToSi};
      ts.diffusion.permeability = permeability_.view(it->second);
      ts.diffusion.permeability_fixed = true;
    }
    // Resident cells whose baseline differs between layers move in capacity form, with their
    // chemotaxis (capacity_motility): taken out of the stepper's diffusion.
    std::array<double, skin::kLayers> cap{};
    const double mot = capacity_motility(s, base_, cap, model_);
    Motility motility;
    if (mot > 0.0) {
      const int id = capacity.add(s.name);
      motility = {mot, capacity.view(id)};
      grid::FieldView cv = capacity.view(id);
      for (int k = 0; k < g.nz; ++k)
        for (int j = 0; j < g.ny; ++j)
          for (int i = 0; i < g.nx; ++i) {
            const int l = layer_of_[static_cast<std::size_t>(g.at(i, j, k))];
            cv(i, j, k) = l == 0 ? 0.0f : static_cast<float>(cap[static_cast<std::size_t>(l - 1)]);
          }
      ts.mode = TransportMode::None;
      ts.diffusion.diffusivity.clear();
      ts.diffusion.permeability = {};
    }
    const bool chemo = s.chemoattractant >= 0 && s.chemotaxis > 0.0;
    if (chemo || mot > 0.0) {
      movers_[static_cast<std::size_t>(s.slot)] = std::make_unique<ChemotaxisOperator>(
          g, transport_mask(s, layer_of_), chemo ? s.chemotaxis : 0.0, motility);
    }
    // A field not moved is written last by the reaction (neither transported) or by its
    // transport (the permeability path), which screens its health as it writes it
    // (Stepper::set_screened).
    if (!movers_[static_cast<std::size_t>(s.slot)]) screened.push_back(s.slot);
    stepper_->set_field(s.slot, std::move(ts));
  }
  stepper_->set_screened(std::move(screened));
  // The reactions and the movers' kernels share their loops with the step's team
  // (healing/team.hpp): a trial step runs in one parallel region.
  stepper_->set_reaction([this](double, double dt, grid::FieldSet&) { react(dt); }, true);
  stepper_->set_reaction_into(
      [this](double, double dt, grid::FieldSet&, std::span<float* const> out) {
        reactor_.react_fields(base_, layer_of_, fields_, dt / kHour, out, screen());
      },
      true);
  stepper_->set_cell_transport([this](double dt, grid::FieldSet&) { move_cells(dt); }, true);
}

ReactionScreen Engine::screen() {
  return {stepper_->screen_fields(), stepper_->screen_flags()};
}

std::vector<std::uint16_t> Engine::norm_regions() const {
  // Region of a column: the first lesion whose footprint holds its centre, else the normal
  // skin (after the lesions); a cell's region: its column's and its layer's. Air counts not.
  const grid::Grid& g = grid();
  const auto& lesions = tissue_.patch.lesions();
  const int columns = std::min<int>(static_cast<int>(lesions.size()), 65535 / skin::kLayers - 1);
  std::vector<std::uint16_t> region(layer_of_.size(), 0);
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      int c = 0;
      while (c < columns && !lesions[static_cast<std::size_t>(c)]->covers(g.xc(i), g.yc(j))) ++c;
      for (int k = 0; k < g.nz; ++k) {
        const auto at = static_cast<std::size_t>(g.at(i, j, k));
        const int l = layer_of_[at];
        if (l != 0) region[at] = static_cast<std::uint16_t>(1 + c * skin::kLayers + (l - 1));
      }
    }
  return region;
}

void Engine::react(double dt_s) {
  const double dt_h = dt_s / kHour;
  reactor_.react_fields(base_, layer_of_, fields_, dt_h, {}, screen());
}

void Engine::move_cells(double dt_s) {
  const double dt_h = dt_s / kHour;
  // On the step's team a mover's last loop ends without a barrier (healing/team.hpp): one before
  // a mover whose attractant an earlier mover moved (outside a parallel region: nothing).
  std::vector<char> moved(specs_.size(), 0);
  for (const FieldSpec& s : specs_) {
    const ChemotaxisOperator* mover = movers_[static_cast<std::size_t>(s.slot)].get();
    if (!mover) continue;
    const bool chemo = s.chemoattractant >= 0 && s.chemotaxis > 0.0;
    if (chemo && moved[static_cast<std::size_t>(s.chemoattractant)] != 0) {
#pragma omp barrier
    }
    moved[static_cast<std::size_t>(s.slot)] = 1;
    mover->step(
        fields_.view(s.slot),
        chemo ? grid::ConstFieldView(fields_.view(s.chemoattractant)) : grid::ConstFieldView{},
        dt_h);
  }
}

InjuryTally Engine::apply_session(const devices::Punctures& punctures) {
  InjuryTally tally;
  for (const auto& pu : punctures) apply_puncture(p_, pu, layer_of_, surface_, fields_, &tally);
  return tally;
}

void Engine::index_layer_runs() {
  const grid::Grid& g = grid();
  for (int masked = 0; masked < 2; ++masked) {
    LayerRuns& lr = layer_runs_[static_cast<std::size_t>(masked)];
    lr.runs.clear();
    lr.vol = {};
    for (int k = 0; k < g.nz; ++k) {
      const double dv = g.dx * g.dx * g.dz(k);
      for (int j = 0; j < g.ny; ++j) {
        const std::ptrdiff_t row = g.at(0, j, k);
        for (int i = 0; i < g.nx; ++i) {
          const int l = layer_of_[static_cast<std::size_t>(row + i)];
          const bool counted = !masked || normal_[static_cast<std::size_t>(i + j * g.nx)] != 0;
          if (l == 0 || !counted) continue;
          lr.vol[static_cast<std::size_t>(l - 1)] += dv;  // cell by cell, as the sums below
          LayerRun* last = lr.runs.empty() ? nullptr : &lr.runs.back();
          if (last && last->layer == l - 1 && last->at + last->n == row + i && last->dv == dv) {
            ++last->n;
          } else {
            lr.runs.push_back({row + i, 1, l - 1, dv});
          }
        }
      }
    }
  }
}

namespace {

/// Adds dv u over the runs to s, for B fields at once: each field's sums take its cells in the
/// runs' order (that of the cells), one addition at a time, as a cell-by-cell loop would; the B
/// fields' additions are independent, so they overlap instead of waiting for each other.
template <int B>
void sum_runs(std::span<const Engine::LayerRun> runs, const float* const* u,
              std::array<double, skin::kLayers>* s) {
  for (const Engine::LayerRun& r : runs) {
    double acc[B];
    for (int b = 0; b < B; ++b) acc[b] = s[b][static_cast<std::size_t>(r.layer)];
    const double dv = r.dv;
    for (int i = 0; i < r.n; ++i) {
      for (int b = 0; b < B; ++b) acc[b] += dv * u[b][r.at + i];
    }
    for (int b = 0; b < B; ++b) s[b][static_cast<std::size_t>(r.layer)] = acc[b];
  }
}

}  // namespace

LayerMeans Engine::layer_means(bool outside_lesions) const {
  const grid::Grid& g = grid();
  const int nf = static_cast<int>(model_.size());
  const bool masked = outside_lesions && !normal_.empty() &&
                      std::find(normal_.begin(), normal_.end(), 1) != normal_.end();
  const LayerRuns& lr = layer_runs_[masked ? 1 : 0];
  // Fields in blocks of up to kBlock, each block summed in one pass over the runs of cells of
  // one layer (index_layer_runs): every sum takes the cells in the fixed order (k, j, i), one
  // addition at a time, so the result is the cell-by-cell loop's, bit for bit, whatever the
  // threads.
  constexpr int kBlock = 4;
  const int blocks = (nf + kBlock - 1) / kBlock;
  LayerMeans sum{};
  std::vector<std::array<double, skin::kLayers>> s(static_cast<std::size_t>(nf));
#pragma omp parallel for schedule(dynamic, 1) if (threads_pay(g))
  for (int b = 0; b < blocks; ++b) {
    const int f0 = b * kBlock;
    const int n = std::min(kBlock, nf - f0);
    const float* u[kBlock];
    for (int q = 0; q < n; ++q) u[q] = fields_.view(f0 + q).data;
    auto* out = s.data() + f0;
    switch (n) {
      case 4:
        sum_runs<4>(lr.runs, u, out);
        break;
      case 3:
        sum_runs<3>(lr.runs, u, out);
        break;
      case 2:
        sum_runs<2>(lr.runs, u, out);
        break;
      default:
        sum_runs<1>(lr.runs, u, out);
        break;
    }
  }
  for (int l = 0; l < skin::kLayers; ++l)
    for (int f = 0; f < nf; ++f) {
      const auto lu = static_cast<std::size_t>(l);
      sum[lu][static_cast<std::size_t>(f)] = s[static_cast<std::size_t>(f)][lu];
      if (lr.vol[lu] > 0) sum[lu][static_cast<std::size_t>(f)] /= lr.vol[lu];
    }
  return sum;
}

void Engine::seed_lesions() {
  const grid::Grid& g = grid();
  const skin::SkinPatch& patch = tissue_.patch;
  normal_.assign(static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny), 1);
  if (patch.lesions().empty()) return;
  // A column beside a step of the surface carries the epidermal lining of the scar's wall
  // (skin::build_tissue): part of the scar, not of the normal skin.
  const std::vector<int>& top = tissue_.surface_k;
  auto step_beside = [&](int i, int j) {
    const int k = top[static_cast<std::size_t>(i + j * g.nx)];
    auto differs = [&](int a, int b) {
      return a >= 0 && a < g.nx && b >= 0 && b < g.ny &&
             top[static_cast<std::size_t>(a + b * g.nx)] != k;
    };
    return differs(i - 1, j) || differs(i + 1, j) || differs(i, j - 1) || differs(i, j + 1);
  };
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      bool covered = step_beside(i, j);
      for (const auto& l : patch.lesions()) covered = covered || l->covers(g.xc(i), g.yc(j));
      if (covered) normal_[static_cast<std::size_t>(i + j * g.nx)] = 0;
    }
  const int scar = model_.find("scar_matrix");
  const int phenotype = model_.find("scar_fibroblasts");
  float* c1 = fields_.view(collagen1_).data;
  float* c3 = fields_.view(collagen3_).data;
  float* e = fields_.view(elastin_).data;
  float* s = scar >= 0 ? fields_.view(scar).data : nullptr;
  float* q = phenotype >= 0 ? fields_.view(phenotype).data : nullptr;
  const auto q0 = static_cast<float>(p_.scar_phenotype_share);
  const auto pd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::PapillaryDermis) + 1);
  const auto rd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::ReticularDermis) + 1);
  // Each column holds the deficit the scar puts under its area (kSub x kSub samples, each with
  // the dermis under its own surface), spread over the dermis the column's cells hold: the
  // deficit, the scar matrix and the scar-phenotype share are amounts over the column, so the
  // matrix the scar lacks does not depend on where its edge or its wall falls between column
  // centres (docs/model.md, "Scar remodelling" 1; docs/numerics.md, "Convergence of example 01").
  constexpr int kSub = 4;  // as the scars' read-out (run/assess.cpp, rise_near)
  const auto pd_top = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const auto pd_bottom = static_cast<std::size_t>(skin::layer_index(skin::Layer::Hypodermis));
  auto dermis = [&](double x, double y) {
    const auto z = patch.interfaces(x, y);
    return std::max(0.0, z[pd_bottom] - z[pd_top]);
  };
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      double lacking = 0.0, covered = 0.0;
      for (int b = 0; b < kSub; ++b)
        for (int a = 0; a < kSub; ++a) {
          const double x = g.xc(i) + ((a + 0.5) / kSub - 0.5) * g.dx;
          const double y = g.yc(j) + ((b + 0.5) / kSub - 0.5) * g.dx;
          const double here = std::clamp(patch.collagen_deficit(x, y), 0.0, 1.0);
          if (!(here > 0.0)) continue;
          lacking += here * dermis(x, y);
          covered += 1.0;
        }
      const double column = dermis(g.xc(i), g.yc(j));
      if (!(lacking > 0.0) || !(column > 0.0)) continue;
      const double d = std::min(1.0, lacking / (kSub * kSub) / column);
      covered /= kSub * kSub;
      if (!(d > 0.0)) continue;
      const auto keep = static_cast<float>(1.0 - d);
      for (int k = 0; k < g.nz; ++k) {
        const std::ptrdiff_t at = g.at(i, j, k);
        const std::uint8_t l = layer_of_[static_cast<std::size_t>(at)];
        if (l != pd && l != rd) continue;
        c1[at] *= keep;
        c3[at] *= keep;
        e[at] *= keep;
        if (s) s[at] = static_cast<float>(d);
        if (q) q[at] = static_cast<float>(q0 * covered);
      }
    }
}

std::vector<double> Engine::column_rise() const {
  std::vector<double> out = column_matrix();
  for (std::size_t c = 0; c < out.size(); ++c) out[c] -= start_matrix_[c];
  return out;
}

// A cell's matrix and set point for a DermalPart (for_each_dermal_part, region_rise).
struct Engine::DermalMatrix {
  explicit DermalMatrix(const Engine& en) : e(en), g(en.grid()) {
    c1 = e.fields_.view(e.collagen1_).data;
    c3 = e.fields_.view(e.collagen3_).data;
    el = e.fields_.view(e.elastin_).data;
    const int scar = e.model_.find("scar_matrix");
    sm = scar >= 0 ? e.fields_.view(scar).data : nullptr;
    // The growth law holds for an area that contains a channel and the matrix that can close it
    // (Params::growth_law_width, a square): the matrix and the scar set point are averaged over
    // it (cells of the same layer, each weighted by its overlap with the square) before the law
    // turns them into volume. Voxel by voxel, an unfilled lumen resolved by fine cells lowered
    // the surface while the packed matrix beside it added nothing, and the rise of normal skin
    // fell with every refinement (docs/numerics.md, "Convergence of example 01").
    half = 0.5 * e.p_.growth_law_width * 1e-6 / g.dx;  // in cells
    reach = static_cast<int>(std::ceil(half - 0.5));
    w.assign(static_cast<std::size_t>(2 * reach + 1), 0.0);
    for (int d = -reach; d <= reach; ++d)
      w[static_cast<std::size_t>(d + reach)] =
          std::max(0.0, std::min(d + 0.5, half) - std::max(d - 0.5, -half));
    if (reach == 0) w[0] = 1.0;
  }

  void mean_at(int i, int j, int k, std::uint8_t l, double& m, double& set) const {
    if (reach == 0) {
      // The cell alone (its layer is l), weight 1: the same arithmetic as the loop below, whose
      // products by 1 and divisions by 1 are exact.
      const std::ptrdiff_t at = g.at(i, j, k);
      m = static_cast<double>(c1[at]) + c3[at] + el[at];
      set = 1.0 - (sm ? static_cast<double>(sm[at]) : 0.0);
      return;
    }
    double sw = 0.0, sm_sum = 0.0, ss = 0.0;
    for (int b = -reach; b <= reach; ++b) {
      const int jj = j + b;
      if (jj < 0 || jj >= g.ny) continue;
      for (int a = -reach; a <= reach; ++a) {
        const int ii = i + a;
        if (ii < 0 || ii >= g.nx) continue;
        const std::ptrdiff_t at = g.at(ii, jj, k);
        if (e.layer_of_[static_cast<std::size_t>(at)] != l) continue;
        const double wt =
            w[static_cast<std::size_t>(a + reach)] * w[static_cast<std::size_t>(b + reach)];
        sw += wt;
        sm_sum += wt * (static_cast<double>(c1[at]) + c3[at] + el[at]);
        ss += wt * (sm ? static_cast<double>(sm[at]) : 0.0);
      }
    }
    m = sm_sum / sw;
    set = 1.0 - ss / sw;
  }

  /// The part taking its matrix from cell (i, j, from) without its length; false where that
  /// cell's layer has no matrix at the baseline (no part).
  bool part(int i, int j, int from, DermalPart& part) const {
    const std::uint8_t l = e.layer_of_[static_cast<std::size_t>(g.at(i, j, from))];
    const Baseline& b = e.base_[static_cast<std::size_t>(l - 1)];
    const double m0 = b.collagen1 + b.collagen3 + b.elastin;
    if (!(m0 > 0.0)) return false;
    part.k = from;
    part.layer = l;
    part.packing = e.p_.packing_density / m0;
    mean_at(i, j, from, l, part.matrix, part.set);
    part.matrix /= m0;
    return true;
  }

  const Engine& e;
  const grid::Grid& g;
  const float *c1 = nullptr, *c3 = nullptr, *el = nullptr, *sm = nullptr;
  double half = 0.0;
  int reach = 0;
  std::vector<double> w;
};

template <class Length>
void Engine::dermal_lengths(std::size_t column, std::vector<int>& dermal, Length&& length) const {
  const grid::Grid& g = grid();
  const auto pd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::PapillaryDermis) + 1);
  const auto rd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::ReticularDermis) + 1);
  const std::ptrdiff_t top = g.at(static_cast<int>(column % static_cast<std::size_t>(g.nx)),
                                  static_cast<int>(column / static_cast<std::size_t>(g.nx)), 0);
  dermal.clear();
  for (int k = 0; k < g.nz; ++k) {
    const std::uint8_t l = layer_of_[static_cast<std::size_t>(top + k * g.sz())];
    if (l == pd || l == rd) dermal.push_back(k);
  }
  if (dermal.empty()) return;
  // The dermis of this column lies between these depths (under a scar they fall inside cells;
  // SkinPatch::interfaces, kept by index_dermis): each cell counts with the length of the dermis
  // inside it, so the column holds its true dermal thickness at any grid; a cell of another
  // layer (an epidermis thicker than the cells it falls in, the lining of a wall) takes the
  // matrix of the nearest dermal cell (the upper one of two as near).
  const double z0 = dermis_z_[2 * column], z1 = dermis_z_[2 * column + 1];
  std::size_t near = 0;  // the nearest dermal cell to k: never moves up as k goes down
  for (int k = 0; k < g.nz; ++k) {
    const double dz = g.dz(k);
    double len = std::min(z1, g.zf[static_cast<std::size_t>(k) + 1]) -
                 std::max(z0, g.zf[static_cast<std::size_t>(k)]);
    if (len < 1e-9 * dz) continue;
    if (len > (1.0 - 1e-9) * dz) len = dz;
    while (near + 1 < dermal.size() &&
           std::abs(dermal[near + 1] - k) < std::abs(dermal[near] - k)) {
      ++near;
    }
    length(dermal[near], len);
  }
}

template <class Visit>
void Engine::for_each_dermal_part(Visit&& visit, std::span<const double> only) const {
  const grid::Grid& g = grid();
  const DermalMatrix dm(*this);
  std::vector<int> dermal;  // scratch of dermal_lengths
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      if (!only.empty() && !(only[static_cast<std::size_t>(i + j * g.nx)] > 0.0)) continue;
      const std::size_t column = static_cast<std::size_t>(i + j * g.nx);
      dermal_lengths(column, dermal, [&](int from, double len) {
        DermalPart part;
        if (!dm.part(i, j, from, part)) return;
        part.length = len;
        visit(column, part);
      });
    }
}

std::vector<double> Engine::column_matrix() const {
  const grid::Grid& g = grid();
  std::vector<double> out(static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny), 0.0);
  for_each_dermal_part([&](std::size_t column, const DermalPart& p) {
    out[column] += (matrix_volume(p.matrix, p.set, p.packing) - 1.0) * p.length;
  });
  return out;
}

double Engine::region_rise(std::span<const double> weight, double area) const {
  return region_rise(rise_region(weight, area));
}

Engine::RiseRegion Engine::rise_region(std::span<const double> weight, double area) const {
  const grid::Grid& g = grid();
  if (weight.size() != static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny))
    throw std::invalid_argument("Engine::region_rise: one weight per column");
  RiseRegion r;
  double total = 0.0;
  std::vector<std::size_t> cols;  // the region's columns, in order
  for (std::size_t c = 0; c < weight.size(); ++c) {
    total += weight[c];
    r.start += weight[c] * start_matrix_[c];
    if (weight[c] > 0.0) cols.push_back(c);
  }
  if (!(area > 0.0)) area = total;
  if (!(area > 0.0)) return r;
  r.area = area;
  // The parts for_each_dermal_part visits, in the order that fills each sum as it does: a sum
  // (the level a part takes its matrix from, its layer) takes its parts column by column and,
  // within a column, top down; here the levels go outermost, so that the fields are read a
  // plane at a time (row after row) rather than down each column.
  const auto nz = static_cast<std::size_t>(g.nz);
  const auto nx = static_cast<std::size_t>(g.nx);
  // Per column and source level `from`: the lengths taking their matrix from it, top down
  // (dermal_lengths gives them top down, `from` never moving up): lengths[first[q nz + f]] up to
  // lengths[first[q nz + f + 1]].
  std::vector<std::uint32_t> first(cols.size() * nz + 1, 0);
  std::vector<int> dermal;  // scratch of dermal_lengths
  for (std::size_t q = 0; q < cols.size(); ++q) {
    std::size_t opened = 0;  // the levels whose first entry is set
    auto open_to = [&](std::size_t f) {
      for (; opened <= f; ++opened)
        first[q * nz + opened] = static_cast<std::uint32_t>(r.lengths.size());
    };
    dermal_lengths(cols[q], dermal, [&](int from, double len) {
      open_to(static_cast<std::size_t>(from));
      r.lengths.push_back(len);
    });
    open_to(nz - 1);
  }
  first[cols.size() * nz] = static_cast<std::uint32_t>(r.lengths.size());
  for (std::size_t f = 0; f < nz; ++f)
    for (std::size_t q = 0; q < cols.size(); ++q) {
      const std::uint32_t a = first[q * nz + f], b = first[q * nz + f + 1];
      if (a == b) continue;
      RiseRegion::Source src;
      src.i = static_cast<int>(cols[q] % nx);
      src.j = static_cast<int>(cols[q] / nx);
      src.k = static_cast<int>(f);
      src.layer = layer_of_[static_cast<std::size_t>(g.at(src.i, src.j, src.k))];
      const Baseline& base = base_[static_cast<std::size_t>(src.layer - 1)];
      src.m0 = base.collagen1 + base.collagen3 + base.elastin;
      if (!(src.m0 > 0.0)) continue;
      src.weight = weight[cols[q]];
      src.first = a;
      src.last = b;
      r.sources.push_back(src);
    }
  return r;
}

double Engine::region_rise(const RiseRegion& r) const {
  if (!(r.area > 0.0)) return 0.0;
  const grid::Grid& g = grid();
  // Sums per (cell level, layer) of the dermis the region's columns hold there: length, matrix
  // and set point, each weighted by the column's share of the region and the length.
  struct Sum {
    double length = 0.0, matrix = 0.0, set = 0.0, packing = 0.0;
  };
  std::vector<Sum> sums(static_cast<std::size_t>(g.nz) * skin::kLayers);
  const DermalMatrix dm(*this);
  for (const RiseRegion::Source& src : r.sources) {
    double matrix = 0.0, set = 1.0;
    dm.mean_at(src.i, src.j, src.k, src.layer, matrix, set);
    matrix /= src.m0;
    const double packing = p_.packing_density / src.m0;
    Sum& s = sums[static_cast<std::size_t>(src.k) * skin::kLayers + (src.layer - 1u)];
    for (std::uint32_t e = src.first; e < src.last; ++e) {
      const double w = src.weight * r.lengths[e];
      s.length += w;
      s.matrix += w * matrix;
      s.set += w * set;
      s.packing = packing;
    }
  }
  double volume = 0.0;
  for (const Sum& s : sums)
    if (s.length > 0.0)
      volume += (matrix_volume(s.matrix / s.length, s.set / s.length, s.packing) - 1.0) * s.length;
  return (volume - r.start) / r.area;
}

void Engine::index_dermis() {
  const grid::Grid& g = grid();
  const std::size_t top = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const std::size_t bottom = static_cast<std::size_t>(skin::layer_index(skin::Layer::Hypodermis));
  dermis_z_.assign(2 * static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny), 0.0);
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const auto z = tissue_.patch.interfaces(g.xc(i), g.yc(j));
      const std::size_t c = static_cast<std::size_t>(i + j * g.nx);
      dermis_z_[2 * c] = z[top];
      dermis_z_[2 * c + 1] = z[bottom];
    }
}

}  // namespace mnsim::healing
