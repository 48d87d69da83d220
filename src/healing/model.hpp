// The healing model as an open registry (docs/model.md, "Fields and processes"; how to add a
// field: docs/extending.md).
//
// A Model is an ordered list of fields and an ordered list of reaction processes. A field is a
// descriptor: its name (in the FieldSet, fields.h5 and timeseries.csv), unit, how it is
// transported, and where its diffusivity, decay and chemotactic sensitivity come from (a key of
// data/healing.toml, or a value the registering module read from its own data). A process is a
// group of reaction terms (inflammation, growth factors, ...) that declares the fields it reads
// and the fields it updates; bound to a parameter set, it advances a run of cells by one step.
// The reaction step applies the processes one after the other in registration order.
//
// healing_model() registers the healing cascade's 22 fields and seven processes (in
// healing/processes.cpp). Another module copies it and adds its own fields and processes; the
// 3D engine (healing/engine.hpp) takes any such model. Field slots (the index of a field in the
// model, its FieldSet index in the engine, its index in a State) are resolved by name once at
// set-up, never per voxel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grid/grid.hpp"
#include "healing/params.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// Baseline (unwounded, homeostatic) state of one tissue layer, working units.
struct Baseline {
  skin::Layer layer = skin::Layer::Outside;
  double collagen1 = 0, collagen3 = 0, elastin = 0;  // mg/mL
  double fibroblasts = 0;                            // cells/mm^3
  double vascular = 0;                               // 1
  double melanocyte_activity = 1;                    // 1 (viable epidermis only)
  bool epidermal() const { return layer == skin::Layer::ViableEpidermis; }
  bool cornified() const { return layer == skin::Layer::StratumCorneum; }

  /// From a skin profile layer (converts kg/m^3 -> mg/mL (same), cells/m^3 -> cells/mm^3).
  static Baseline from_profile(const skin::SkinProfile& prof, skin::Layer l);
  bool operator==(const Baseline&) const = default;
};
using Baselines = std::array<Baseline, skin::kLayers>;
Baselines baselines_from_profile(const skin::SkinProfile& prof);

/// Most fields a model may hold (the size of a State).
inline constexpr std::size_t kMaxFields = 32;
/// One voxel's (or compartment's) value of every field, by slot; slots past the model's size
/// are unused.
using State = std::array<double, kMaxFields>;

/// How a field moves (docs/model.md section 5). Chemotaxis (FieldDef::attractant) comes on top
/// of Diffusion or CapacityMotility.
enum class Transport {
  None,              // stays where it is
  Diffusion,         // implicit diffusion, coupled to the field's decay (mediators, cells)
  CapacityMotility,  // random motility toward a uniform ratio to the layer baselines (resident
                     // cells whose baseline differs between layers: fibroblasts, vessels)
};
std::string_view transport_name(Transport t);

/// Where a coefficient comes from: a parameter of data/healing.toml (by key), or a value that the
/// registering module read from its own data file (`source` says which, for the catalog).
struct Coefficient {
  std::string param{};  // key in data/healing.toml, e.g. "signal_decay"; empty: `value`
  double value = 0.0;
  std::string source{};
};
/// The value of a coefficient for a parameter set. Throws std::invalid_argument for a key that
/// data/healing.toml does not have.
double resolve(const Coefficient& c, const Params& p);

/// Layers a field moves in, by skin::layer_index (SC, VE, PD, RD, HD).
using LayerSet = std::array<bool, skin::kLayers>;

/// A field of the model.
struct FieldDef {
  std::string name{};  // FieldSet / fields.h5 / timeseries.csv name
  std::string unit{};  // working unit (healing/params.hpp)
  Transport transport = Transport::None;
  LayerSet layers{};          // where it moves (transport != None); no flux into other layers
  Coefficient diffusivity{};  // um^2/h, in every layer of `layers`
  /// Linear decay (1/h) that the field's process applies everywhere (its least clearance): the
  /// field's diffusion over a step dt runs over (1 - e^{-decay dt}) / decay
  /// (healing/diffusion.hpp, coupled_diffusion_time). Empty: none.
  Coefficient decay{};
  std::string attractant{};  // chemotaxis up the gradient of this (earlier registered) field
  Coefficient chemotaxis{};  // chi, um^2/h per unit of the attractant
  bool slow = false;         // the engine's step control follows it (tissue state, not mediators)
  /// Homeostatic value in a layer (the unwounded state every process leaves at rest);
  /// nullptr: 0 everywhere.
  double (*baseline)(const Baseline&) = nullptr;
};

/// A run of cells of one tissue layer that a process advances by one step (up to 64 skin voxels
/// of a grid row, or compartments of a reduced driver). Per slot, `now` holds every cell's value,
/// updated in place by one process after the other; `start` holds the values at the start of the
/// step (read only): the diffusing mediators act with them (docs/model.md, "Numerical scheme").
/// Every cell of a run lies in the layer of `baseline` (the Reactor groups cells by layer), so a
/// process branches on the layer once per run and its loop over the cells vectorises.
struct Cells {
  std::size_t n = 0;
  double dt = 0.0;               // h
  double* const* now = nullptr;  // now[slot][i]
  /// start[slot][i], for the fields some process of the model reads at the start of the step
  /// (Binding::start_slot); nullptr for every other slot.
  const double* const* start = nullptr;
  const Baseline* baseline = nullptr;  // the baseline of the run's layer
  /// Volume of each cell of the run (m^3; the 3D engine's runs lie in one z plane), 0 where the
  /// driver has no volume (reduced drivers, single states). For budgets (mass-balance tests).
  double volume = 0.0;
  /// Cells a process may advance: n, or more where the driver's per-slot arrays hold padding
  /// past the run (the Reactor's runs: n rounded up to a multiple of kCellLanes, the padding
  /// a copy of the last cell, its results discarded), so that a vector loop over lanes() has no
  /// scalar remainder. Budgets and tests of the run's contents take n.
  std::size_t padded = 0;
  std::size_t lanes() const { return padded > n ? padded : n; }
};
/// The multiple the Reactor pads its runs to (Cells::padded): 8 doubles, one AVX-512 vector.
inline constexpr std::size_t kCellLanes = 8;

/// A process bound to a model's slots and a parameter set.
class BoundProcess {
 public:
  virtual ~BoundProcess() = default;
  /// Step constants for steps of dt (h); called before apply() whenever dt changes.
  virtual void prepare(double dt) { (void)dt; }
  /// Advances the process's fields in every cell by the prepared dt. Must keep every field
  /// non-negative and finite for any dt and leave the baseline state at rest. Called from several
  /// threads at once (on different cells), inside a parallel loop: it must not throw.
  virtual void apply(const Cells& cells) const = 0;
};

class Model;

/// What a process binds to: the slots of the fields it declared, and the parameters.
class Binding {
 public:
  /// `start_fields` (one flag per field of the model, or nullptr): where start_slot records the
  /// fields whose start values the process reads.
  Binding(const Model& model, std::size_t process, const Params& p,
          std::vector<std::uint8_t>* start_fields = nullptr)
      : model_(model), process_(process), p_(p), start_fields_(start_fields) {}
  /// Slot of a field the process declared (reads or updates); throws std::invalid_argument for
  /// a field it did not declare.
  int slot(std::string_view field) const;
  /// slot(field), for a field whose values at the start of the step the process reads
  /// (Cells::start[slot]): only such fields are kept at their start values, a copy per cell.
  int start_slot(std::string_view field) const;
  /// The parameters, valid while binding (a process keeps a copy of what it uses).
  const Params& params() const { return p_; }

 private:
  const Model& model_;
  std::size_t process_;
  const Params& p_;
  std::vector<std::uint8_t>* start_fields_;
};

/// A group of reaction terms.
struct ProcessDef {
  std::string name{};
  std::vector<std::string> reads{};    // fields it reads and leaves unchanged
  std::vector<std::string> updates{};  // fields it changes
  /// Binds the process (once, at set-up: resolve slots, keep parameters).
  std::function<std::unique_ptr<BoundProcess>(const Binding&)> bind{};
};

class Model {
 public:
  /// Adds a field at the next slot and returns the slot. Throws std::invalid_argument on a name
  /// already registered, an attractant not registered before, a missing diffusivity for a
  /// transported field, capacity motility with a decay, or more than kMaxFields fields.
  int add_field(FieldDef f);
  /// Adds a process, applied after every process added before. Throws std::invalid_argument if
  /// it declares a field that is not registered, or has no bind function.
  void add_process(ProcessDef p);

  std::size_t size() const { return fields_.size(); }
  const std::vector<FieldDef>& fields() const { return fields_; }
  const FieldDef& field(int slot) const { return fields_[static_cast<std::size_t>(slot)]; }
  const std::vector<ProcessDef>& processes() const { return processes_; }
  /// Slot of a field, -1 if absent.
  int find(std::string_view name) const;
  /// Slot of a field; throws std::invalid_argument if absent.
  int slot(std::string_view name) const;

 private:
  std::vector<FieldDef> fields_;
  std::vector<ProcessDef> processes_;
};

/// The healing cascade: 22 fields (damage ... scar_fibroblasts, denatured_collagen, docs/model.md
/// section 2) and seven processes: inflammation, growth_factors, fibroblasts, matrix, vessels,
/// epidermis, thermal_injury.
const Model& healing_model();

/// A field's transport, resolved for a parameter set. Diffusivity per tissue layer (index
/// skin::layer_index), um^2/h; 0 = not transported in that layer (and no flux across faces to
/// it).
struct FieldSpec {
  int slot = 0;
  std::string name, unit;
  Transport transport = Transport::None;
  std::array<double, skin::kLayers> diffusivity{};
  int chemoattractant = -1;  // slot of the field whose gradient the field climbs, -1 = none
  double chemotaxis = 0.0;   // chi, um^2/h per unit of the attractant
  double decay = 0.0;        // 1/h (FieldDef::decay)
};

/// The transport of every field of a model for a parameter set, in slot order.
std::vector<FieldSpec> field_specs(const Model& m, const Params& p);
/// field_specs(healing_model(), p).
std::vector<FieldSpec> field_specs(const Params& p);

/// Homeostatic state of a layer: every process is at rest there.
State baseline_state(const Baseline& b, const Model& m = healing_model());

/// The health screen a reaction fuses into its writes (Reactor::react_fields,
/// Stepper::set_screened): for each listed field (FieldSet id) of a grid with nz planes, the flag
/// flags[id * nz + k] is set (non-zero) when some interior cell of plane k holds a NaN, an
/// infinite or a negative value after the call; flags of clean planes are left as they were.
struct ReactionScreen {
  std::span<const int> fields;
  std::uint8_t* flags = nullptr;
};

/// A model's processes bound to a parameter set: the reaction step. Not thread-safe (one per
/// driver); react_fields parallelises over the grid itself.
class Reactor {
 public:
  Reactor(const Model& m, const Params& p);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  std::size_t fields() const { return names_.size(); }

  /// Advances one state by dt (h).
  void react(const Baseline& b, State& s, double dt);
  /// Advances states[i], with the baseline base[layer[i]] (a skin::layer_index), by dt (h).
  /// Throws std::invalid_argument for a layer index out of range.
  void react_states(const Baselines& base, std::span<const std::size_t> layer,
                    std::span<State> states, double dt);
  /// Several groups of states, each with its own baselines (the reduced model's columns of one
  /// patient), advanced by dt (h) together: each state gets exactly what react_states on its
  /// group gives (cells are independent), but the cells of every group whose baseline of a layer
  /// is the same share the runs of that layer, so a process's loop runs over more cells at once.
  struct StateGroup {
    const Baselines* base = nullptr;
    std::span<const std::size_t> layer;
    std::span<State> states;
  };
  void react_groups(std::span<const StateGroup> groups, double dt);
  /// n cells of one layer (baseline b) stored field by field: fields[slot][i] is cell i's value
  /// of that field (one pointer per field of the model, in slot order), advanced by dt (h) in
  /// place, each cell exactly as react_states would advance it.
  void react_soa(const Baseline& b, std::span<double* const> fields, std::size_t n, double dt);
  /// Advances every skin voxel of a FieldSet (fields found by name) by dt (h). `layer_of` gives,
  /// for every padded cell index (grid.at), the skin::Layer value (0 = outside, skipped).
  /// Deterministic and independent of the thread count (cells are independent).
  /// With `out` (one pointer per field of fs, by FieldSet index, each to a buffer of the padded
  /// size): the result is written there instead, every interior cell of every field (reacted, or
  /// copied when it is not a skin voxel or not a model field), and fs is left as it was
  /// (Stepper::set_reaction_into). Called by every member of a team (healing/team.hpp), its
  /// loop over the rows is the team's (ending with a barrier).
  /// With `screen`, every interior cell of its fields is screened where the call writes it (or
  /// leaves it, outside the skin), from the cache (ReactionScreen), also when dt is 0.
  void react_fields(const Baselines& base, std::span<const std::uint8_t> layer_of,
                    grid::FieldSet& fs, double dt, std::span<float* const> out = {},
                    const ReactionScreen& screen = {});

 private:
  struct Scratch;
  void prepare(double dt);
  void apply(const Cells& c) const;

  std::vector<std::string> names_;
  std::vector<std::size_t> start_fields_;  // the slots some process reads at their start values
  std::vector<std::unique_ptr<BoundProcess>> reactions_;
  double prepared_dt_ = -1.0;
  std::unique_ptr<Scratch> scratch_;  // of react_states
};

}  // namespace mnsim::healing
