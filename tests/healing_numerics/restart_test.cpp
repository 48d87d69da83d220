// Checkpoint/restart of the stepper: state taken in the observer of an accepted step (as
// `mnsim run` does), restored into a freshly built stepper with the same events scheduled,
// continues to bit-identical fields and statistics.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/rng.hpp"
#include "healing/stepper.hpp"

namespace mnsim::healing {
namespace {

struct Model {
  grid::FieldSet fs{grid::Grid::uniform(12, 10, 8, 1e-5)};
  std::unique_ptr<Stepper> st;
  int s = -1, c = -1;
  std::size_t events = 0;
};

/// Two fields (implicit diffusion, nonlinear reaction), events at 50 s, twice at 100 s, 250 s.
std::unique_ptr<Model> build() {
  auto m = std::make_unique<Model>();
  m->s = m->fs.add("signal");
  m->c = m->fs.add("cells", 0.1f);
  Rng rng(3, 1);
  const grid::Grid& g = m->fs.grid();
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) m->fs.view(m->s)(i, j, k) = static_cast<float>(rng.uniform());
  StepControl ctl;
  ctl.dt_initial = 2.0;
  ctl.dt_after_event = 0.5;
  m->st = std::make_unique<Stepper>(m->fs, ctl);
  m->st->set_field(
      m->s,
      TransportSpec{
          TransportMode::Implicit, DiffusionSpec{{1e-10}, {}, 1e-3, 0.0, {}}, 1e-2, {}, true});
  m->st->set_field(m->c, TransportSpec{TransportMode::None, DiffusionSpec{}, 1e-2, {}, true});
  const int s = m->s, c = m->c;
  m->st->set_reaction([s, c](double, double dt, grid::FieldSet& f) {
    const grid::Grid& gg = f.grid();
    for (int k = 0; k < gg.nz; ++k)
      for (int j = 0; j < gg.ny; ++j)
        for (int i = 0; i < gg.nx; ++i) {
          const double sv = f.view(s)(i, j, k), cv = f.view(c)(i, j, k);
          f.view(c)(i, j, k) = static_cast<float>(cv + dt * 2e-3 * sv * cv * (1.0 - cv));
        }
  });
  for (const double t : {50.0, 100.0, 100.0, 250.0}) {
    const float bump = static_cast<float>(t / 100.0);
    m->st->add_event(t, [s, bump](double, grid::FieldSet& f) { f.view(s)(5, 4, 0) += bump; });
    ++m->events;
  }
  return m;
}

std::vector<float> bytes(const Model& m) {
  std::vector<float> out;
  for (int id : {m.s, m.c}) {
    const float* d = m.fs.view(id).data;
    out.insert(out.end(), d, d + m.fs.grid().padded_size());
  }
  return out;
}

struct Saved {
  double t = 0, dt = 0;
  StepStats stats;
  std::size_t done = 0;
  std::vector<float> fields;
};

struct Killed {};

TEST(StepperRestart, RestoredRunContinuesBitForBit) {
  auto ref = build();
  ref->st->advance_to(400.0);
  const std::vector<float> expect = bytes(*ref);

  // Checkpoints at the first accepted step at or after 100 s (events at 100 s still due) and
  // after 200 s; the run is "killed" at the second.
  for (const double at : {100.0, 200.0}) {
    auto run = build();
    Saved saved;
    run->st->set_observer([&](double t, double) {
      if (t < at) return;
      saved = {run->st->time(), run->st->dt(), run->st->stats(),
               run->events - run->st->pending_events(), bytes(*run)};
      throw Killed{};
    });
    EXPECT_THROW(run->st->advance_to(400.0), Killed);

    auto resumed = build();
    const std::size_t n = resumed->fs.grid().padded_size();
    std::memcpy(resumed->fs.view(resumed->s).data, saved.fields.data(), n * sizeof(float));
    std::memcpy(resumed->fs.view(resumed->c).data, saved.fields.data() + n, n * sizeof(float));
    resumed->st->restore(saved.t, saved.dt, saved.stats);
    resumed->st->discard_events(saved.done);
    EXPECT_EQ(resumed->st->pending_events(), resumed->events - saved.done);
    resumed->st->advance_to(400.0);
    const std::vector<float> got = bytes(*resumed);
    ASSERT_EQ(got.size(), expect.size());
    EXPECT_EQ(std::memcmp(got.data(), expect.data(), got.size() * sizeof(float)), 0) << at;
    EXPECT_EQ(resumed->st->stats().accepted, ref->st->stats().accepted) << at;
    EXPECT_EQ(resumed->st->stats().rejected, ref->st->stats().rejected) << at;
    EXPECT_EQ(resumed->st->stats().dt_smallest, ref->st->stats().dt_smallest) << at;
    EXPECT_EQ(resumed->st->dt(), ref->st->dt()) << at;
  }
}

TEST(StepperRestart, DiscardingMoreEventsThanPendingIsAnError) {
  auto m = build();
  EXPECT_THROW(m->st->discard_events(5), std::out_of_range);
  m->st->discard_events(4);
  EXPECT_EQ(m->st->pending_events(), 0u);
  EXPECT_THROW(m->st->restore(0.0, 0.0, {}), std::invalid_argument);
}

}  // namespace
}  // namespace mnsim::healing
