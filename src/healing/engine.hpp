// The 3D healing engine: the kinetics (healing/kinetics.hpp) on the voxel tissue
// (skin/tissue.hpp), advanced by the operator-splitting stepper (healing/stepper.hpp) with
// implicit diffusion for every transported field and upwind chemotaxis inside the reaction step.
//
// Units at this boundary: SI time (s) for the stepper, healing working units (h, um) inside the
// kinetics; the conversion is done here and nowhere else.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "devices/puncture.hpp"
#include "grid/grid.hpp"
#include "healing/chemotaxis.hpp"
#include "healing/kinetics.hpp"
#include "healing/params.hpp"
#include "healing/stepper.hpp"
#include "skin/tissue.hpp"

namespace mnsim::healing {

struct EngineOptions {
  double dt_initial = 60.0;      // s
  double dt_after_event = 60.0;  // s, first step after a session
  double dt_max = 6 * 3600.0;    // s, largest step during remodelling
  /// Local error tolerance of the slow fields (step doubling, relative to |u| + 2% of the
  /// field's scale, in the norm below); docs/numerics.md, "Step control" and "The error norm".
  double rtol = 1e-3;
  int check_every = 16;  // the error is measured on every 16th step (and whenever steps grow)
  /// false: the change-based measure instead of step doubling (budget tests: every trial step
  /// is then one reaction call, and with a large rtol none is rejected).
  bool step_doubling = true;
  double max_growth = 2.0;  // largest step growth factor
  /// StepControl::grow_measured: 0, the steps grow once per check_every steps. Measuring the
  /// growth (2 = max_growth) saved 11% of example 01's solves at 100 µm but was less accurate
  /// at the same rtol and no better than a larger rtol at equal solves (docs/numerics.md,
  /// "Measured growth after a session").
  double grow_measured = 0.0;
  /// How the cells' errors make the step's error (StepControl::norm): root mean squares per
  /// field over each lesion's footprint and the normal skin, layer by layer, with the worst cell
  /// allowed cell_factor times the tolerance (docs/numerics.md, "The error norm").
  ErrorNorm norm = ErrorNorm::Rms;
  double cell_factor = 10.0;
};

/// Per-layer means of every field (cell-volume weighted, by slot), working units.
using LayerMeans = std::array<State, skin::kLayers>;

class Engine {
 public:
  /// The tissue must outlive the engine. Fields start at the homeostatic baseline of each layer,
  /// except under lesions: there the dermis starts with the lesion's collagen deficit (collagen
  /// I + III and elastin at 1 - d of the baseline), held by scar matrix (field scar_matrix = d,
  /// when the model has it) and maintained by fibroblasts of the scar phenotype (field
  /// scar_fibroblasts = Params::scar_phenotype_share).
  /// The model gives the fields (FieldSet index = slot) and the reaction processes: the healing
  /// model, or a copy to which another module added its own (docs/extending.md).
  Engine(const skin::Tissue& tissue, const Params& params, EngineOptions opt = {},
         const Model& model = healing_model());

  grid::FieldSet& fields() { return fields_; }
  const grid::FieldSet& fields() const { return fields_; }
  const grid::Grid& grid() const { return fields_.grid(); }
  std::span<const std::uint8_t> layer_of() const { return layer_of_; }
  /// Per column (i + j nx): 1 for normal skin, 0 under a lesion's footprint or beside a step of
  /// the surface (a scar's wall); layer_means(true) sums the columns marked 1.
  std::span<const std::uint8_t> normal_columns() const { return normal_; }
  const Baselines& baselines() const { return base_; }
  const Model& model() const { return model_; }
  /// The transport of every field, in slot order.
  const std::vector<FieldSpec>& specs() const { return specs_; }
  Stepper& stepper() { return *stepper_; }
  const Stepper& stepper() const { return *stepper_; }
  double time() const { return stepper_->time(); }

  /// Deposits one session's punctures (channels start at the local, possibly depressed surface).
  InjuryTally apply_session(const devices::Punctures& punctures);

  /// Cell-volume-weighted means of every field per tissue layer; with `outside_lesions`, over the
  /// columns outside every lesion's footprint only (the normal skin of the patch; all columns if
  /// lesions cover it all).
  LayerMeans layer_means(bool outside_lesions = false) const;

  /// Rise of each column's surface since the start (m, index i + j nx): the change of the
  /// integral over the papillary and reticular dermis of the matrix volume (healing::
  /// matrix_volume of collagen I + III + elastin over the layer's baseline and the scar set
  /// point); the 3D counterpart of the reduced model's column rise (docs/model.md, "Scar
  /// remodelling").
  std::vector<double> column_rise() const;
  /// Mean rise (m) since the start of a region of columns, each weighted by `weight` (one per
  /// column, i + j nx: its area share in the region): the growth law applied to the region's
  /// mean matrix and set point at each cell level and layer, not cell by cell. A scar's depth
  /// is a mean over its footprint and its rim, regions much wider than a needle channel, whose
  /// packed matrix closes the channels' deficits there (docs/model.md, "Scar remodelling" 4);
  /// cell by cell the reading fell as the grid resolved the channels better (docs/numerics.md,
  /// "Convergence of example 01"). Equal to the weighted mean of column_rise() wherever the law
  /// is linear over the region (every cell below its set point, or none above it and none below).
  /// With `area` > 0 the region's volume change is divided by it instead of the sum of the
  /// weights (the columns' amounts over the area they belong to: a scar's footprint).
  double region_rise(std::span<const double> weight, double area = 0.0) const;
  /// A region of region_rise with its dermal parts found once (the cells' layers never change):
  /// the cells whose matrix it reads and the lengths that take it, in the order that fills its
  /// sums. A run's scars read the same two regions at every sample (run/assess.hpp).
  struct RiseRegion {
    struct Source {
      int i = 0, j = 0, k = 0;            // the cell whose matrix its lengths take
      std::uint8_t layer = 0;             // its layer (skin::layer_index + 1)
      double m0 = 0.0;                    // the layer's baseline matrix
      double weight = 0.0;                // its column's weight
      std::uint32_t first = 0, last = 0;  // its lengths, lengths[first] to lengths[last - 1]
    };
    std::vector<Source> sources;
    std::vector<double> lengths;  // m
    double start = 0.0;           // the weighted start matrix integral
    double area = 0.0;            // what the volume change is divided by; 0: no region
  };
  RiseRegion rise_region(std::span<const double> weight, double area = 0.0) const;
  /// The same as region_rise(weight, area) for the region prepared from them.
  double region_rise(const RiseRegion& r) const;

  /// A run of cells of one layer along x (layer_means): first padded index, length, layer index
  /// (skin::layer_index) and cell volume (m^3).
  struct LayerRun {
    std::ptrdiff_t at = 0;
    int n = 0;
    int layer = 0;
    double dv = 0.0;
  };

 private:
  void react(double dt_s);
  /// What the reactions screen for the stepper's health checks (Stepper::set_screened).
  ReactionScreen screen();
  /// The regions of the step control's root mean squares (Stepper::set_norm_regions): each
  /// lesion's footprint and the normal skin, each tissue layer apart; not the air.
  std::vector<std::uint16_t> norm_regions() const;
  /// The dermis under each lesion: its collagen deficit, held by scar matrix.
  void seed_lesions();
  /// Cell motility and chemotaxis over dt (s), after the mediators' own transport: cells climb
  /// the transported (smooth) attractant, not the one a reaction step has just produced.
  void move_cells(double dt_s);

  const skin::Tissue& tissue_;
  Params p_;
  Model model_;
  Reactor reactor_;
  int collagen1_ = 0, collagen3_ = 0, elastin_ = 0;  // slots (column_rise)
  Baselines base_;
  grid::FieldSet fields_;
  std::vector<std::uint8_t> layer_of_;  // padded, skin::Layer per cell
  std::vector<double> surface_;         // local surface depth per column, m
  std::vector<double> start_matrix_;    // column matrix integral at the start (column_rise)
  /// Per column (i + j nx): the depths (m) of the top and the bottom of its dermis
  /// (SkinPatch::interfaces), [2 c] and [2 c + 1]; static, read by column_matrix.
  std::vector<double> dermis_z_;
  void index_dermis();
  std::vector<std::uint8_t> normal_;  // per column: 1 normal skin (normal_columns)
  /// The skin cells in (k, j, i) order as runs of one layer, and each layer's volume (m^3): of
  /// all columns ([0]) and of the columns outside every lesion ([1]); layer_means sums over them.
  struct LayerRuns {
    std::vector<LayerRun> runs;
    std::array<double, skin::kLayers> vol{};
  };
  std::array<LayerRuns, 2> layer_runs_;
  void index_layer_runs();
  /// The column integral over the dermis of the matrix volume less the reference volume,
  /// sum (matrix_volume - 1) dz.
  std::vector<double> column_matrix() const;
  /// A length of a column's dermis and the cell whose matrix it takes (column_matrix): matrix
  /// and set point over the layer's baseline (averaged over growth_law_width), the packing
  /// limit over the baseline.
  struct DermalPart {
    int k = 0;
    std::uint8_t layer = 0;  // skin::layer_index + 1
    double length = 0.0;     // m
    double matrix = 0.0, set = 1.0, packing = 1.0;
  };
  /// Every dermal part of every column (of the columns with `only` > 0 when it is given), in
  /// column order and top down: visit(column, part). Defined in engine.cpp (its only callers):
  /// the visit is inlined, where a std::function call per part was most of a scar's sample.
  template <class Visit>
  void for_each_dermal_part(Visit&& visit, std::span<const double> only = {}) const;
  /// Column `column`'s dermal lengths top down: length(from, m) per level with dermis in it,
  /// `from` the dermal cell level whose matrix it takes (never moving up); nothing for a column
  /// without a dermal cell. `dermal` is scratch (the column's dermal cell levels, top down).
  /// Defined in engine.cpp.
  template <class Length>
  void dermal_lengths(std::size_t column, std::vector<int>& dermal, Length&& length) const;
  /// Reads a cell's matrix and set point into a DermalPart (engine.cpp).
  struct DermalMatrix;
  /// Cell motility and chemotaxis per field (null: the field does not move that way), with
  /// their static terms computed once.
  std::vector<std::unique_ptr<ChemotaxisOperator>> movers_;
  std::vector<FieldSpec> specs_;
  grid::FieldSet permeability_;  // transport masks, one per distinct pattern
  std::unique_ptr<Stepper> stepper_;
};

}  // namespace mnsim::healing
