// Global mass balance of the 3D engine (issue 17, item 5): for collagen I and III, elastin and
// the cell populations, the change of a field's volume integral over four days of healing equals
// what the reactions made of it (production minus loss, summed over every cell and step).
// Transport (diffusion, capacity-form motility, upwind chemotaxis; zero flux at the patch
// edges and into the air) moves matter and must create none; the health checks' clamping of
// small negatives and the float32 storage may add rounding only.
//
// The ledger is a process appended after the healing model's own: it sees, in every cell, the
// value at the start of the step (Cells::start) and after all reactions (Cells::now), and adds
// (now - start) times the cell volume. With the change-based step measure and a large tolerance
// every trial step is one reaction call and none is rejected, so every call counts.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "devices/puncture.hpp"
#include "healing/diffusion.hpp"
#include "healing/engine.hpp"
#include "healing/model.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "test_tissue.hpp"

namespace mnsim::healing {
namespace {

const std::vector<std::string> kTracked = {"collagen1",   "collagen3",   "elastin", "fibroblasts",
                                           "macrophages", "neutrophils", "vascular"};

struct Books {
  std::mutex mu;
  std::vector<double> net = std::vector<double>(kTracked.size(), 0.0);    // sum (now - start) dV
  std::vector<double> gross = std::vector<double>(kTracked.size(), 0.0);  // sum |now - start| dV
};

class Ledger final : public BoundProcess {
 public:
  Ledger(const Binding& b, Books* books) : books_(books) {
    for (const auto& n : kTracked) slots_.push_back(b.start_slot(n));
  }
  void apply(const Cells& c) const override {
    std::vector<double> net(slots_.size(), 0.0), gross(slots_.size(), 0.0);
    for (std::size_t f = 0; f < slots_.size(); ++f) {
      const double* now = c.now[slots_[f]];
      const double* start = c.start[slots_[f]];
      for (std::size_t i = 0; i < c.n; ++i) {
        // What the engine stores is the float of `now`.
        const double d = static_cast<double>(static_cast<float>(now[i])) - start[i];
        net[f] += d * c.volume;
        gross[f] += std::fabs(d) * c.volume;
      }
    }
    std::lock_guard<std::mutex> lock(books_->mu);
    for (std::size_t f = 0; f < slots_.size(); ++f) {
      books_->net[f] += net[f];
      books_->gross[f] += gross[f];
    }
  }

 private:
  Books* books_;
  std::vector<int> slots_;
};

TEST(MassBalance, ChangeOfEveryIntegralIsWhatTheReactionsMade) {
  Books books;
  Model m = healing_model();
  std::vector<std::string> reads = kTracked;
  m.add_process({"test_ledger", reads, {}, [&books](const Binding& b) {
                   return std::unique_ptr<BoundProcess>(std::make_unique<Ledger>(b, &books));
                 }});
  const skin::Tissue t = testing::small_cheek_tissue("mass_balance_test.toml");
  EngineOptions opt;
  opt.step_doubling = false;
  opt.rtol = 1e6;  // no rejected step: every reaction call is part of the result
  opt.dt_max = 3600.0;
  Engine e(t, load_default_params().p, opt, m);
  // The injury itself is not a reaction: counted from here.
  e.apply_session(testing::bleeding_channels({0.3e-3, 0.7e-3, 1.0e-3}, 0.5e-3, 0.8e-3, 0.08e-3));
  std::vector<double> before;
  for (const auto& n : kTracked) before.push_back(integral(e.fields().view(n)));
  e.stepper().advance_to(4.0 * 86400.0);
  ASSERT_EQ(e.stepper().stats().rejected, 0);
  for (std::size_t f = 0; f < kTracked.size(); ++f) {
    const double after = integral(e.fields().view(kTracked[f]));
    const double change = after - before[f];
    const double residual = change - books.net[f];
    const double scale = std::max(std::fabs(before[f]), books.gross[f]);
    std::printf(
        "  %-12s integral %.6e -> %.6e: change %+.4e, reactions %+.4e (gross %.3e), "
        "residual %.2e of the scale\n",
        kTracked[f].c_str(), before[f], after, change, books.net[f], books.gross[f],
        std::fabs(residual) / scale);
    // Transport neither creates nor destroys: what is left is float32 rounding (about 6e-8 of a
    // value per step and stage, a few hundred steps; measured at most 1e-5, on macrophages).
    EXPECT_LT(std::fabs(residual), 5e-5 * scale) << kTracked[f];
    // And the balance is not trivially met: the reactions changed the field by much more.
    EXPECT_GT(books.gross[f], 1e3 * std::fabs(residual)) << kTracked[f];
  }
}

}  // namespace
}  // namespace mnsim::healing
