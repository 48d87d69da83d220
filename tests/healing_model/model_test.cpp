// The field and process registry (healing/model.hpp): what it refuses, and that every process of
// the healing model reads and changes exactly the fields it declares.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include "healing/kinetics.hpp"
#include "healing/model.hpp"
#include "test_profile.hpp"

namespace mnsim::healing {
namespace {

const Params& P() {
  static const Params p = load_default_params().p;
  return p;
}

/// A process that leaves everything as it is (for registry tests).
class Idle final : public BoundProcess {
 public:
  explicit Idle(const Binding&) {}
  void apply(const Cells&) const override {}
};

ProcessDef idle(std::string name, std::vector<std::string> reads,
                std::vector<std::string> updates) {
  return {std::move(name), std::move(reads), std::move(updates), [](const Binding& b) {
            return std::unique_ptr<BoundProcess>(std::make_unique<Idle>(b));
          }};
}

TEST(HealingModel, RefusesInconsistentFields) {
  Model m;
  EXPECT_EQ(m.add_field({.name = "a", .unit = "1"}), 0);
  EXPECT_THROW(m.add_field({.name = "a", .unit = "1"}), std::invalid_argument);  // duplicate
  EXPECT_THROW(m.add_field({.name = ""}), std::invalid_argument);
  // A transported field needs a diffusivity and layers to move in.
  EXPECT_THROW(m.add_field({.name = "b",
                            .transport = Transport::Diffusion,
                            .layers = {false, false, true, true, true}}),
               std::invalid_argument);
  EXPECT_THROW(m.add_field({.name = "b",
                            .transport = Transport::Diffusion,
                            .diffusivity = {.param = "gf_diffusivity"}}),
               std::invalid_argument);
  // Capacity motility is for resident cells without a decay of their own.
  EXPECT_THROW(m.add_field({.name = "b",
                            .transport = Transport::CapacityMotility,
                            .layers = {false, false, true, true, true},
                            .diffusivity = {.value = 10.0},
                            .decay = {.param = "gf_decay"}}),
               std::invalid_argument);
  // Chemotaxis up a field registered before, for a moving field.
  EXPECT_THROW(m.add_field({.name = "b",
                            .transport = Transport::Diffusion,
                            .layers = {false, false, true, true, true},
                            .diffusivity = {.value = 10.0},
                            .attractant = "later"}),
               std::invalid_argument);
  EXPECT_THROW(m.add_field({.name = "b", .attractant = "a"}), std::invalid_argument);
  EXPECT_EQ(m.add_field({.name = "b",
                         .transport = Transport::Diffusion,
                         .layers = {false, false, true, true, true},
                         .diffusivity = {.value = 10.0},
                         .attractant = "a",
                         .chemotaxis = {.value = 3.0}}),
            1);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.find("b"), 1);
  EXPECT_EQ(m.find("c"), -1);
  EXPECT_THROW(m.slot("c"), std::invalid_argument);
  for (std::size_t i = m.size(); i < kMaxFields; ++i) m.add_field({.name = fmt::format("f{}", i)});
  EXPECT_THROW(m.add_field({.name = "one_too_many"}), std::invalid_argument);
  const auto specs = field_specs(m, P());
  EXPECT_EQ(specs[1].chemoattractant, 0);
  EXPECT_EQ(specs[1].chemotaxis, 3.0);
  EXPECT_EQ(specs[1].diffusivity[1], 0.0);
  EXPECT_EQ(specs[1].diffusivity[2], 10.0);
}

TEST(HealingModel, CoefficientsComeFromNamedParameters) {
  EXPECT_EQ(resolve({.param = "vegf_decay"}, P()), P().vegf_decay);
  EXPECT_EQ(resolve({.value = 2.5, .source = "elsewhere.toml"}, P()), 2.5);
  EXPECT_THROW(resolve({.param = "no_such_parameter"}, P()), std::invalid_argument);
  Model m;
  m.add_field({.name = "x", .decay = {.param = "no_such_parameter"}});
  EXPECT_THROW(field_specs(m, P()), std::invalid_argument);
  // Every parameter the healing model names exists (field_specs resolves them all), and keys are
  // unique across the sections of data/healing.toml, so a key names one parameter.
  EXPECT_EQ(field_specs(P()).size(), healing_model().size());
  std::set<std::string> keys;
  for (const ParamInfo& pi : param_registry()) {
    EXPECT_TRUE(keys.insert(std::string(pi.key)).second) << pi.key;
  }
}

TEST(HealingModel, ProcessesDeclareTheirFields) {
  Model m;
  m.add_field({.name = "a"});
  m.add_field({.name = "b"});
  EXPECT_THROW(m.add_process(idle("p", {"a"}, {"missing"})), std::invalid_argument);
  EXPECT_THROW(m.add_process({"q", {}, {"a"}, nullptr}), std::invalid_argument);
  // Binding a slot the process did not declare fails at set-up, not per voxel.
  m.add_process({"sneaky", {"a"}, {}, [](const Binding& b) {
                   (void)b.slot("b");
                   return std::unique_ptr<BoundProcess>(std::make_unique<Idle>(b));
                 }});
  EXPECT_THROW({ Reactor r(m, P()); }, std::invalid_argument);
}

TEST(HealingModel, HealingProcessesInTheirOrder) {
  const Model& m = healing_model();
  std::vector<std::string> names;
  for (const auto& p : m.processes()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"inflammation", "growth_factors", "fibroblasts",
                                             "matrix", "vessels", "epidermis", "thermal_injury"}));
  // Every field is updated by some process.
  for (const FieldDef& f : m.fields()) {
    bool updated = false;
    for (const auto& p : m.processes()) {
      updated |= std::find(p.updates.begin(), p.updates.end(), f.name) != p.updates.end();
    }
    EXPECT_TRUE(updated) << f.name;
  }
}

/// A model with the healing model's fields and its process `k` alone.
Model only_process(std::size_t k) {
  Model m;
  for (const FieldDef& f : healing_model().fields()) m.add_field(f);
  m.add_process(healing_model().processes()[k]);
  return m;
}

// Each process, run alone from random states in every layer: the fields it does not declare as
// updated stay exactly as they were, each field it updates changes in some state, and changing a
// field it does not declare (read or updated) changes nothing it computes.
TEST(HealingModel, EachProcessReadsAndUpdatesWhatItDeclares) {
  const Model& full = healing_model();
  const Baselines base = baselines_from_profile(testing::cheek_profile());
  const std::size_t nf = full.size();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t k = 0; k < full.processes().size(); ++k) {
    const ProcessDef& def = full.processes()[k];
    const Model m = only_process(k);
    Reactor r(m, P());
    auto declared = [&](const std::vector<std::string>& list, std::size_t f) {
      return std::find(list.begin(), list.end(), full.fields()[f].name) != list.end();
    };
    std::vector<char> changed(nf, 0);
    for (int trial = 0; trial < 200; ++trial) {
      const Baseline& b = base[static_cast<std::size_t>(trial % skin::kLayers)];
      State s = baseline_state(b);
      for (std::size_t f = 0; f < nf; ++f) s[f] = (1.0 + 2.0 * s[f]) * u(rng);
      const double dt = std::pow(10.0, -2.0 + 3.0 * u(rng));
      State a = s;
      r.react(b, a, dt);
      for (std::size_t f = 0; f < nf; ++f) {
        if (a[f] != s[f]) changed[f] = 1;
        if (!declared(def.updates, f)) {
          ASSERT_EQ(a[f], s[f]) << def.name << " changed " << full.fields()[f].name;
        }
      }
      // Perturb one undeclared field: the result is the same.
      for (std::size_t f = 0; f < nf; ++f) {
        if (declared(def.updates, f) || declared(def.reads, f)) continue;
        State t = s;
        t[f] = 3.0 * s[f] + 0.5;
        r.react(b, t, dt);
        for (std::size_t g = 0; g < nf; ++g) {
          if (g == f) continue;
          ASSERT_EQ(t[g], a[g]) << def.name << " depends on undeclared " << full.fields()[f].name;
        }
      }
    }
    for (std::size_t f = 0; f < nf; ++f) {
      if (declared(def.updates, f)) {
        EXPECT_TRUE(changed[f]) << def.name << " never changed " << full.fields()[f].name;
      }
    }
  }
}

// Many states at once (runs of up to 64 cells, mixed layers) give bit for bit what each state
// gives alone.
TEST(HealingModel, ReactStatesEqualsReactBitForBit) {
  const Model& full = healing_model();
  const Baselines base = baselines_from_profile(testing::cheek_profile());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<State> states;
  std::vector<std::size_t> layer;
  for (int i = 0; i < 150; ++i) {  // more than one run of cells
    const auto l = static_cast<std::size_t>(i % skin::kLayers);
    State s = baseline_state(base[l]);
    for (std::size_t f = 0; f < full.size(); ++f) s[f] = (1.0 + 2.0 * s[f]) * u(rng);
    states.push_back(s);
    layer.push_back(l);
  }
  std::vector<State> together = states;
  react_states(P(), base, layer, together, 0.7);
  for (std::size_t i = 0; i < states.size(); ++i) {
    State one = states[i];
    react(P(), base[layer[i]], one, 0.7);
    ASSERT_EQ(one, together[i]) << "state " << i;
  }
}

}  // namespace
}  // namespace mnsim::healing

namespace mnsim::healing {
namespace {

// Written into other buffers (Stepper::set_reaction_into), the reaction step gives bit for bit
// what it gives in place, copies the cells that do not react (air) and the fields the model does
// not have, and leaves its input as it was.
TEST(HealingModel, ReactFieldsIntoOtherBuffersEqualsInPlace) {
  const Model& full = healing_model();
  const Baselines base = baselines_from_profile(testing::cheek_profile());
  const grid::Grid g = grid::Grid::uniform(70, 3, 6, 50e-6);  // a row longer than one block
  grid::FieldSet fs(g);
  std::vector<std::uint8_t> layer_of(g.padded_size(), 0);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)  // air in some cells of every row, mixed layers
        layer_of[static_cast<std::size_t>(g.at(i, j, k))] =
            (i + 3 * j + k) % 9 == 0 ? 0 : static_cast<std::uint8_t>(1 + (i / 7 + k) % 5);
  init_fields(base, layer_of, fs, full);
  const int extra = fs.add("not_a_model_field");
  for (int f = 0; f < fs.size(); ++f) {
    float* d = fs.view(f).data;
    for (std::size_t c = 0; c < g.padded_size(); ++c)
      d[c] = static_cast<float>((1.0 + 2.0 * d[c]) * u(rng));
  }
  grid::FieldSet in_place(g);
  std::vector<grid::AlignedBuffer> out;
  std::vector<float*> out_ptr;
  for (int f = 0; f < fs.size(); ++f) {
    in_place.add(fs.name(f));
    std::copy_n(fs.view(f).data, g.padded_size(), in_place.view(f).data);
    out.emplace_back(g.padded_size(), -1.0f);
    out_ptr.push_back(out.back().data());
  }
  Reactor r(full, P());
  r.react_fields(base, layer_of, in_place, 0.3);
  grid::FieldSet before(g);
  for (int f = 0; f < fs.size(); ++f) {
    before.add(fs.name(f));
    std::copy_n(fs.view(f).data, g.padded_size(), before.view(f).data);
  }
  r.react_fields(base, layer_of, fs, 0.3, out_ptr);
  for (int f = 0; f < fs.size(); ++f)
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const std::ptrdiff_t c = g.at(i, j, k);
          ASSERT_EQ(out[static_cast<std::size_t>(f)].data()[c], in_place.view(f).data[c])
              << fs.name(f) << " cell " << i << "," << j << "," << k;
          ASSERT_EQ(fs.view(f).data[c], before.view(f).data[c]) << "input changed";
        }
  // Something reacted, and the extra field was copied.
  bool moved = false;
  for (int f = 0; f < fs.size() && !moved; ++f)
    for (std::size_t c = 0; c < g.padded_size() && !moved; ++c)
      moved = layer_of[c] != 0 && in_place.view(f).data[c] != before.view(f).data[c];
  EXPECT_TRUE(moved);
  EXPECT_EQ(out[static_cast<std::size_t>(extra)].data()[g.at(3, 1, 2)],
            before.view(extra).data[g.at(3, 1, 2)]);
}

}  // namespace
}  // namespace mnsim::healing
