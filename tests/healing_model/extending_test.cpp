// A field and its reaction process registered from outside the healing model's own files
// (docs/extending.md, "A healing field"): everything below is this test file; the engine runs the
// test field with its transport and process, and leaves the healing cascade exactly as it is.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "core/scenario.hpp"
#include "devices/puncture.hpp"
#include "healing/engine.hpp"
#include "healing/kinetics.hpp"
#include "healing/model.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "test_tissue.hpp"

namespace mnsim::healing {
namespace {

// A tracer released by destroyed tissue, dT/dt = k D - lambda T, diffusing in the dermis (its
// coefficients are this module's own: no key of data/healing.toml).
constexpr double kRelease = 0.8;  // 1/h
constexpr double kDecay = 0.25;   // 1/h

class TracerRelease final : public BoundProcess {
 public:
  explicit TracerRelease(const Binding& b)
      : damage_(b.start_slot("damage")), tracer_(b.slot("test_tracer")) {}
  void prepare(double dt) override { e_ = std::exp(-kDecay * dt); }
  void apply(const Cells& c) const override {
    const double* D = c.start[damage_];
    double* T = c.now[tracer_];
    for (std::size_t i = 0; i < c.n; ++i) T[i] = T[i] * e_ + kRelease * D[i] * (1.0 - e_) / kDecay;
  }

 private:
  int damage_, tracer_;
  double e_ = 1.0;
};

/// The module's registration: one field, one process.
void register_tracer(Model& m) {
  m.add_field({.name = "test_tracer",
               .unit = "1",
               .transport = Transport::Diffusion,
               .layers = {false, false, true, true, true},  // dermis and hypodermis
               .diffusivity = {.value = 2.0e4, .source = "extending_test.cpp"},
               .decay = {.value = kDecay, .source = "extending_test.cpp"}});
  m.add_process({"test_tracer_release", {"damage"}, {"test_tracer"}, [](const Binding& b) {
                   return std::unique_ptr<BoundProcess>(std::make_unique<TracerRelease>(b));
                 }});
}

TEST(HealingExtending, ATestFieldRunsInTheEngineWithItsOwnProcess) {
  Model m = healing_model();
  register_tracer(m);
  ASSERT_EQ(m.size(), healing_model().size() + 1);
  const int tracer = m.slot("test_tracer");
  // after the healing model's fields, whose slots do not move
  EXPECT_EQ(tracer, static_cast<int>(healing_model().size()));

  const skin::Tissue tissue = testing::small_cheek_tissue("extending_test.toml");
  const Params p = load_default_params().p;
  Engine plain(tissue, p);
  Engine with(tissue, p, {}, m);
  ASSERT_EQ(with.fields().size(), plain.fields().size() + 1);
  EXPECT_EQ(with.fields().index("test_tracer"), tracer);
  EXPECT_EQ(with.specs()[static_cast<std::size_t>(tracer)].decay, kDecay);
  const devices::Punctures two_channels =
      testing::bleeding_channels({0.4e-3, 0.8e-3}, 0.6e-3, 0.9e-3, 0.1e-3);
  plain.apply_session(two_channels);
  with.apply_session(two_channels);
  plain.stepper().advance_to(8.0 * 3600.0);
  with.stepper().advance_to(8.0 * 3600.0);
  EXPECT_EQ(with.stepper().stats().accepted, plain.stepper().stats().accepted);

  // The healing cascade is exactly what it is without the test field.
  const grid::Grid& g = with.grid();
  for (int f = 0; f < plain.fields().size(); ++f) {
    const float* a = plain.fields().view(f).data;
    const float* b = with.fields().view(f).data;
    for (std::size_t c = 0; c < g.padded_size(); ++c) {
      ASSERT_EQ(a[c], b[c]) << plain.fields().name(f) << " cell " << c;
    }
  }
  // The tracer was released where the channels destroyed tissue, and spread by diffusion in the
  // dermis only (nothing moves into the epidermis, where its process releases none: D = 0 there
  // except in the channels).
  const grid::ConstFieldView T = with.fields().view(tracer);
  const grid::ConstFieldView D = with.fields().view("damage");
  const int kd = g.k_of_depth(0.4e-3);
  const int i_axis = static_cast<int>(0.4e-3 / g.dx), j_axis = static_cast<int>(0.6e-3 / g.dx);
  EXPECT_GT(T(i_axis, j_axis, kd), 0.1f);
  bool spread = false;  // tracer in a voxel the injury never reached
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      const std::size_t c = static_cast<std::size_t>(g.at(i, j, kd));
      if (D(i, j, kd) == 0.0f && with.layer_of()[c] != 0 && T(i, j, kd) > 1e-6f) spread = true;
      EXPECT_GE(T(i, j, kd), 0.0f);
    }
  }
  EXPECT_TRUE(spread);
  const LayerMeans means = with.layer_means();
  const auto pd = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  EXPECT_GT(means[pd][static_cast<std::size_t>(tracer)], 0.0);

  // The catalog names the field, its transport and its process.
  const std::string cat = catalog_text(load_default_params(), m);
  EXPECT_NE(cat.find("test_tracer"), std::string::npos);
  EXPECT_NE(cat.find("diffusivity um^2/h 20000 (extending_test.cpp)"), std::string::npos);
  EXPECT_NE(cat.find("test_tracer_release updates test_tracer; reads damage"), std::string::npos);
}

}  // namespace
}  // namespace mnsim::healing
