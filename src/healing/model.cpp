#include "healing/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "core/kernel.hpp"
#include "healing/team.hpp"

namespace mnsim::healing {

Baseline Baseline::from_profile(const skin::SkinProfile& prof, skin::Layer l) {
  Baseline b;
  b.layer = l;
  const auto& c = prof.composition[static_cast<std::size_t>(skin::layer_index(l))];
  b.collagen1 = c.collagen1;  // kg/m^3 == mg/mL
  b.collagen3 = c.collagen3;
  b.elastin = c.elastin;
  b.fibroblasts = c.fibroblasts * 1e-9;  // cells/m^3 -> cells/mm^3
  b.vascular = c.vascular;
  b.melanocyte_activity = prof.melanocyte_activity;
  return b;
}

Baselines baselines_from_profile(const skin::SkinProfile& prof) {
  Baselines out;
  for (int i = 0; i < skin::kLayers; ++i) {
    out[static_cast<std::size_t>(i)] = Baseline::from_profile(prof, skin::layer_from_index(i));
  }
  return out;
}

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::None:
      return "none";
    case Transport::Diffusion:
      return "diffusion";
    case Transport::CapacityMotility:
      return "capacity motility";
  }
  return "?";
}

double resolve(const Coefficient& c, const Params& p) {
  if (c.param.empty()) return c.value;
  for (const ParamInfo& pi : param_registry()) {
    if (pi.key == c.param) return p.*pi.member;
  }
  throw std::invalid_argument(
      fmt::format("healing model: no parameter '{}' in data/healing.toml", c.param));
}

namespace {
bool has_coefficient(const Coefficient& c) {
  return !c.param.empty() || c.value != 0.0;
}
}  // namespace

int Model::add_field(FieldDef f) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("healing model: field '{}': {}", f.name, why));
  };
  if (f.name.empty()) fail("a field needs a name");
  if (find(f.name) >= 0) fail("already registered");
  if (fields_.size() >= kMaxFields) fail(fmt::format("more than {} fields", kMaxFields));
  if (f.transport != Transport::None) {
    if (!has_coefficient(f.diffusivity)) fail("a transported field needs a diffusivity");
    if (std::none_of(f.layers.begin(), f.layers.end(), [](bool b) { return b; })) {
      fail("a transported field needs the layers it moves in");
    }
  }
  if (f.transport == Transport::CapacityMotility && has_coefficient(f.decay)) {
    fail("capacity motility is for resident cells, without a decay of their own");
  }
  if (!f.attractant.empty()) {
    if (f.transport == Transport::None) fail("chemotaxis needs a moving field");
    if (find(f.attractant) < 0) fail("attractant '" + f.attractant + "' is not registered");
  }
  fields_.push_back(std::move(f));
  return static_cast<int>(fields_.size()) - 1;
}

void Model::add_process(ProcessDef p) {
  if (p.name.empty() || !p.bind) {
    throw std::invalid_argument("healing model: a process needs a name and a bind function");
  }
  for (const auto* list : {&p.reads, &p.updates}) {
    for (const std::string& f : *list) {
      if (find(f) < 0) {
        throw std::invalid_argument(fmt::format(
            "healing model: process '{}' declares field '{}', which is not registered", p.name, f));
      }
    }
  }
  processes_.push_back(std::move(p));
}

int Model::find(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Model::slot(std::string_view name) const {
  const int s = find(name);
  if (s < 0) {
    throw std::invalid_argument(fmt::format("healing model: no field '{}'", name));
  }
  return s;
}

int Binding::slot(std::string_view field) const {
  const ProcessDef& p = model_.processes()[process_];
  const bool declared = std::find(p.reads.begin(), p.reads.end(), field) != p.reads.end() ||
                        std::find(p.updates.begin(), p.updates.end(), field) != p.updates.end();
  if (!declared) {
    throw std::invalid_argument(fmt::format(
        "healing model: process '{}' uses field '{}' without declaring it", p.name, field));
  }
  return model_.slot(field);
}

int Binding::start_slot(std::string_view field) const {
  const int s = slot(field);
  if (start_fields_ != nullptr) (*start_fields_)[static_cast<std::size_t>(s)] = 1;
  return s;
}

std::vector<FieldSpec> field_specs(const Model& m, const Params& p) {
  std::vector<FieldSpec> out;
  out.reserve(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const FieldDef& f = m.fields()[i];
    FieldSpec s;
    s.slot = static_cast<int>(i);
    s.name = f.name;
    s.unit = f.unit;
    s.transport = f.transport;
    if (f.transport != Transport::None) {
      const double d = resolve(f.diffusivity, p);
      for (std::size_t l = 0; l < skin::kLayers; ++l) s.diffusivity[l] = f.layers[l] ? d : 0.0;
    }
    if (!f.attractant.empty()) {
      s.chemoattractant = m.slot(f.attractant);
      s.chemotaxis = resolve(f.chemotaxis, p);
    }
    s.decay = resolve(f.decay, p);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<FieldSpec> field_specs(const Params& p) {
  return field_specs(healing_model(), p);
}

State baseline_state(const Baseline& b, const Model& m) {
  State s{};
  for (std::size_t i = 0; i < m.size(); ++i) {
    const auto fn = m.fields()[i].baseline;
    s[i] = fn != nullptr ? fn(b) : 0.0;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reactor: the processes over runs of cells. The state of a run is held per field (one array of
// kBlock doubles per slot) so that each process loops over the cells with its fields' slots
// resolved once; the cells of a run share one layer (a grid row's cells are grouped by layer), so
// that a process branches on the layer once per run and its loop over the cells vectorises. Every
// cell sees the same operations in the same order as one voxel advanced alone.

namespace {
constexpr std::size_t kBlock = 64;  // cells per run: 2 x 19 x 64 doubles stay in L1
static_assert(kBlock % kCellLanes == 0, "a run padded to kCellLanes fits the block");
constexpr std::size_t kFloatsPerLine = 16;  // a 64-byte cache line
constexpr auto kLayerCount = static_cast<std::size_t>(skin::kLayers);
}  // namespace

/// Scratch of one run of cells (one per thread), and the cells of a block grouped by layer.
struct Reactor::Scratch {
  std::vector<double> now, start;
  std::vector<double*> now_p;
  std::vector<const double*> start_p;
  /// react_fields: the block's cells of each layer as segments of consecutive cells (kBlock per
  /// layer: the first cell's padded index and the length), in x order.
  struct Segment {
    std::ptrdiff_t cell = 0;
    std::size_t n = 0;
  };
  std::vector<Segment> segment;
  std::array<std::size_t, skin::kLayers> segments{}, count{};
  std::array<State*, kBlock> state{};  // react_groups: the run's states
  std::vector<double*> ext;            // react_soa: the run's cells in the caller's storage
  /// start: kBlock values for each field of `starts` (slots), the others without (nullptr).
  Scratch(std::size_t nf, const std::vector<std::size_t>& starts)
      : now(nf * kBlock),
        start(nf * kBlock),
        now_p(nf),
        start_p(nf, nullptr),
        segment(kLayerCount * kBlock),
        ext(nf) {
    for (std::size_t f = 0; f < nf; ++f) now_p[f] = now.data() + f * kBlock;
    for (const std::size_t f : starts) start_p[f] = start.data() + f * kBlock;
  }
  /// The run of the first n lanes, padded to a multiple of kCellLanes (Cells::padded) with
  /// copies of the last cell (now and start values; n > 0).
  Cells cells(std::size_t n, double dt, const Baseline& b) {
    const std::size_t padded = (n + kCellLanes - 1) / kCellLanes * kCellLanes;
    for (double* x : now_p) {
      for (std::size_t q = n; q < padded; ++q) x[q] = x[n - 1];
    }
    for (std::size_t f = 0; f < start_p.size(); ++f) {
      if (start_p[f] == nullptr) continue;
      double* x = start.data() + f * kBlock;
      for (std::size_t q = n; q < padded; ++q) x[q] = x[n - 1];
    }
    Cells c{n, dt, now_p.data(), start_p.data(), &b};
    c.padded = padded;
    return c;
  }
  const Segment* segments_of(std::size_t layer) const { return segment.data() + layer * kBlock; }
};

Reactor::Reactor(const Model& m, const Params& p) {
  for (const FieldDef& f : m.fields()) names_.push_back(f.name);
  std::vector<std::uint8_t> starts(names_.size(), 0);
  for (std::size_t i = 0; i < m.processes().size(); ++i) {
    const Binding binding(m, i, p, &starts);
    std::unique_ptr<BoundProcess> r = m.processes()[i].bind(binding);
    if (!r) {
      throw std::invalid_argument("healing model: process '" + m.processes()[i].name +
                                  "' bound to nothing");
    }
    reactions_.push_back(std::move(r));
  }
  for (std::size_t f = 0; f < starts.size(); ++f) {
    if (starts[f] != 0) start_fields_.push_back(f);
  }
  scratch_ = std::make_unique<Scratch>(names_.size(), start_fields_);
}

Reactor::~Reactor() = default;

void Reactor::prepare(double dt) {
  if (dt == prepared_dt_) return;
  for (auto& r : reactions_) r->prepare(dt);
  prepared_dt_ = dt;
}

void Reactor::apply(const Cells& c) const {
  for (const auto& r : reactions_) r->apply(c);
}

void Reactor::react(const Baseline& b, State& s, double dt) {
  const std::size_t layer = 0;
  Baselines base{};
  base[0] = b;
  react_states(base, std::span<const std::size_t>(&layer, 1), std::span<State>(&s, 1), dt);
}

void Reactor::react_states(const Baselines& base, std::span<const std::size_t> layer,
                           std::span<State> states, double dt) {
  const StateGroup one{&base, layer, states};
  react_groups(std::span<const StateGroup>(&one, 1), dt);
}

MNSIM_REACTION_KERNEL void Reactor::react_groups(std::span<const StateGroup> groups, double dt) {
  for (const StateGroup& g : groups) {
    if (g.layer.size() != g.states.size()) {
      throw std::invalid_argument("react_states: one layer per state");
    }
    if (std::any_of(g.layer.begin(), g.layer.end(),
                    [](std::size_t l) { return l >= kLayerCount; })) {
      throw std::invalid_argument("react_states: layer index out of range");
    }
  }
  if (!(dt > 0.0)) return;
  prepare(dt);
  const std::size_t nf = names_.size();
  Scratch& w = *scratch_;
  // The states of one layer, kBlock at a time (cells are independent: the order does not matter).
  auto run = [&](const Baseline& b, std::size_t n) {
    // Only the n lanes in use (the processes run over n cells), the start values with them (one
    // pass: a copy per field was a library call per field for the reduced driver's few cells).
    // Field by field: contiguous writes, the states' rows read in step.
    State* const* st = w.state.data();
    for (std::size_t f = 0; f < nf; ++f) {
      double* __restrict now = w.now.data() + f * kBlock;
      for (std::size_t q = 0; q < n; ++q) now[q] = (*st[q])[f];
    }
    for (const std::size_t f : start_fields_) {
      double* __restrict start = w.start.data() + f * kBlock;
      for (std::size_t q = 0; q < n; ++q) start[q] = (*st[q])[f];
    }
    apply(w.cells(n, dt, b));
    for (std::size_t f = 0; f < nf; ++f) {
      const double* __restrict now = w.now.data() + f * kBlock;
      for (std::size_t q = 0; q < n; ++q) (*st[q])[f] = now[q];
    }
  };
  for (std::size_t l = 0; l < kLayerCount; ++l) {
    std::size_t n = 0;
    const Baseline* block = nullptr;  // the baseline of the run being filled
    for (const StateGroup& g : groups) {
      const Baseline& b = (*g.base)[l];
      for (std::size_t i = 0; i < g.states.size(); ++i) {
        if (g.layer[i] != l) continue;
        if (n > 0 && !(*block == b)) {  // another baseline: a run of its own
          run(*block, n);
          n = 0;
        }
        block = &b;
        w.state[n++] = &g.states[i];
        if (n == kBlock) {
          run(b, n);
          n = 0;
        }
      }
    }
    if (n > 0) run(*block, n);
  }
}

MNSIM_REACTION_KERNEL void Reactor::react_soa(const Baseline& b, std::span<double* const> fields,
                                              std::size_t n, double dt) {
  const std::size_t nf = names_.size();
  if (fields.size() != nf) throw std::invalid_argument("react_soa: one pointer per field");
  if (!(dt > 0.0) || n == 0) return;
  prepare(dt);
  Scratch& w = *scratch_;
  // The processes work on the cells in place, kBlock at a time, with the start values copied.
  for (std::size_t q0 = 0; q0 < n; q0 += kBlock) {
    const std::size_t m = std::min(kBlock, n - q0);
    for (std::size_t f = 0; f < nf; ++f) w.ext[f] = fields[f] + q0;
    for (const std::size_t f : start_fields_) {
      // A plain loop, not memcpy (inlined as `rep movsq`, whose start-up cost dominated these
      // copies of a few dozen values: 70% of react_soa's time).
      const double* __restrict from = w.ext[f];
      double* __restrict to = w.start.data() + f * kBlock;
      for (std::size_t q = 0; q < m; ++q) to[q] = from[q];
    }
    apply(Cells{m, dt, w.ext.data(), w.start_p.data(), &b});
  }
}

MNSIM_REACTION_KERNEL void Reactor::react_fields(const Baselines& base,
                                                 std::span<const std::uint8_t> layer_of,
                                                 grid::FieldSet& fs, double dt,
                                                 std::span<float* const> out,
                                                 const ReactionScreen& screen) {
  const std::size_t nf = names_.size();
  std::vector<float*> ptr(nf), dst(nf);
  for (std::size_t f = 0; f < nf; ++f) {
    const int i = fs.index(names_[f]);
    if (i < 0) throw std::invalid_argument("react_fields: missing field " + names_[f]);
    ptr[f] = fs.view(i).data;
    dst[f] = out.empty() ? ptr[f] : out[static_cast<std::size_t>(i)];
  }
  const grid::Grid& g = fs.grid();
  if (layer_of.size() != g.padded_size()) {
    throw std::invalid_argument("react_fields: layer_of must cover the padded grid");
  }
  if (!out.empty() && out.size() != static_cast<std::size_t>(fs.size())) {
    throw std::invalid_argument("react_fields: one output buffer per field");
  }
  // The screened fields where this call leaves them (ReactionScreen).
  std::vector<const float*> screened;
  for (const int id : screen.fields) {
    if (id < 0 || id >= fs.size() || screen.flags == nullptr) {
      throw std::invalid_argument("react_fields: screen of a field not in the set");
    }
    screened.push_back(out.empty() ? fs.view(id).data : out[static_cast<std::size_t>(id)]);
  }
  const bool react = dt > 0.0;
  if (!react && out.empty() && screened.empty()) return;
  // On a team (healing/team.hpp) every member calls this: the first to come prepares the
  // processes for dt, the others find them prepared (no barrier).
  const bool team = in_team();
  if (react && team) {
#pragma omp critical(mnsim_reactor_prepare)
    prepare(dt);
  } else if (react) {
    prepare(dt);
  }
  std::vector<int> others;  // fields of fs the model does not have (copied when out is given)
  if (!out.empty()) {
    for (int id = 0; id < fs.size(); ++id) {
      if (std::find(names_.begin(), names_.end(), fs.name(id)) == names_.end()) {
        others.push_back(id);
      }
    }
  }
  // The last cell a block's prefetch may start from (its kBlock cells inside the buffer).
  const auto prefetch_end =
      static_cast<std::ptrdiff_t>(g.padded_size()) - static_cast<std::ptrdiff_t>(kBlock);
  // Rows taken a few at a time as threads come free: the cost of a row depends on its layers
  // (air, epidermis, dermis), so equal shares of the planes were unequal work. Inlined into both
  // callers below, so that it is compiled into each version of this kernel (core/kernel.hpp).
  const auto rows = [&]() __attribute__((always_inline)) {
    Scratch w(nf, start_fields_);
    // The health screen of the block's cells [i0, i1) of a row of plane k, as Stepper::scan_plane
    // screens a plane (NaN, infinite or negative), read back from the cache right after the
    // block is written: the stepper then scans only the planes flagged (ReactionScreen).
    const auto screen_block = [&](std::ptrdiff_t row, int i0, int i1, int k)
        __attribute__((always_inline)) {
      for (std::size_t s = 0; s < screened.size(); ++s) {
        const float* v = screened[s] + row;
        // Two float reductions (an int one of flags went through the stack): the least value
        // (a negative one, or minus infinity), and the sum of v * 0, NaN for a NaN or an
        // infinite value and +-0 otherwise.
        float lo = 0.0f, z = 0.0f;
#pragma omp simd reduction(min : lo) reduction(+ : z)
        for (int i = i0; i < i1; ++i) {
          const float x = v[i];
          lo = x < lo ? x : lo;
          z += x * 0.0f;
        }
        if (lo < 0.0f || z != z) {
          const auto at =
              static_cast<std::size_t>(screen.fields[s]) * static_cast<std::size_t>(g.nz) +
              static_cast<std::size_t>(k);
          std::atomic_ref<std::uint8_t> flag(screen.flags[at]);
          if (flag.load(std::memory_order_relaxed) == 0) flag.store(1, std::memory_order_relaxed);
        }
      }
    };
#pragma omp for collapse(2) schedule(dynamic, 4)
    for (int k = 0; k < g.nz; ++k) {
      for (int j = 0; j < g.ny; ++j) {
        const std::ptrdiff_t row = g.at(0, j, k);
        // Written into other buffers: the fields the model does not have are copied whole, the
        // model's fields block by block where a block has cells that do not react (air).
        for (int id : others) {
          std::memcpy(out[static_cast<std::size_t>(id)] + row, fs.view(id).data + row,
                      static_cast<std::size_t>(g.nx) * sizeof(float));
        }
        for (int i0 = 0; i0 < g.nx; i0 += static_cast<int>(kBlock)) {
          const int i1 = std::min(g.nx, i0 + static_cast<int>(kBlock));
          // The block's skin cells, grouped by layer (in x order within a layer), as segments of
          // consecutive cells of one layer: mostly a row's cells of one layer are consecutive
          // (one segment); where layers alternate along the row, each segment is still copied
          // with plain (vectorised) loops instead of a gather and a scatter per cell.
          w.count.fill(0);
          w.segments.fill(0);
          std::size_t skin = 0;
          for (int i = i0; i < i1;) {
            const int l = layer_of[static_cast<std::size_t>(row + i)];
            int e = i + 1;
            while (e < i1 && layer_of[static_cast<std::size_t>(row + e)] == l) ++e;
            if (l >= 1 && l <= skin::kLayers) {
              const auto li = static_cast<std::size_t>(l - 1);
              const auto len = static_cast<std::size_t>(e - i);
              w.segment[li * kBlock + w.segments[li]++] = {row + i, len};
              w.count[li] += len;
              skin += len;
            }
            i = e;
          }
          if (!out.empty() && (!react || skin < static_cast<std::size_t>(i1 - i0))) {
            for (std::size_t f = 0; f < nf; ++f) {
              std::memcpy(dst[f] + row + i0, ptr[f] + row + i0,
                          static_cast<std::size_t>(i1 - i0) * sizeof(float));
            }
          }
          if (!react) {
            screen_block(row, i0, i1, k);
            continue;
          }
          // The next block's cells (the rest of the row, or the next row's first cells): asked
          // for while this block reacts, so that its copy finds them in the cache. In the engine
          // the transport between two reaction steps has evicted the fields, and without it the
          // copies waited on memory (engine_bench: about 1.5 ms of a 13 ms step; docs/numerics.md,
          // "Reactions in AVX-512, prefetched").
          if (row + i1 <= prefetch_end) {
            for (std::size_t f = 0; f < nf; ++f) {
              const float* next = ptr[f] + row + i1;
              for (std::size_t line = 0; line < kBlock; line += kFloatsPerLine) {
                __builtin_prefetch(next + line, 0, 3);
              }
            }
          }
          for (std::size_t li = 0; li < kLayerCount; ++li) {
            const std::size_t n = w.count[li];
            if (n == 0) continue;
            const Scratch::Segment* seg = w.segments_of(li);
            const std::size_t segs = w.segments[li];
            for (std::size_t f = 0; f < nf; ++f) {
              const float* src = ptr[f];
              double* now = w.now_p[f];
              for (std::size_t s = 0; s < segs; ++s) {
                const float* from = src + seg[s].cell;
                for (std::size_t q = 0; q < seg[s].n; ++q) now[q] = from[q];
                now += seg[s].n;
              }
            }
            for (const std::size_t f : start_fields_) {  // the start values, where read
              const double* now = w.now_p[f];
              double* start = w.start.data() + f * kBlock;
              for (std::size_t q = 0; q < n; ++q) start[q] = now[q];
            }
            Cells cells = w.cells(n, dt, base[li]);
            cells.volume = g.dx * g.dx * g.dz(k);
            apply(cells);
            for (std::size_t f = 0; f < nf; ++f) {
              float* to = dst[f];
              const double* now = w.now_p[f];
              for (std::size_t s = 0; s < segs; ++s) {
                float* into = to + seg[s].cell;
                for (std::size_t q = 0; q < seg[s].n; ++q) into[q] = static_cast<float>(now[q]);
                now += seg[s].n;
              }
            }
          }
          screen_block(row, i0, i1, k);
        }
      }
    }
  };
  if (team) {
    rows();  // the team's loop, with its barrier
  } else {
#pragma omp parallel
    rows();
  }
}

}  // namespace mnsim::healing
