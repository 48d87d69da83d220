// core/ranks.hpp without mpirun (one rank): the round-robin split, map_items in item order with
// the lowest failing item's error, agree, and the exit code and line of each error kind. The
// same code over 1, 2 and 3 MPI ranks: tests/mpi/mpi_test.sh (the mpi preset).
#include "core/ranks.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <new>
#include <set>
#include <stdexcept>
#include <string>

#include "core/cancel.hpp"
#include "core/error.hpp"

namespace {

using mnsim::Deliver;
using mnsim::Ranks;

TEST(Ranks, RoundRobinSplitCoversEveryItemOnce) {
  for (int size : {1, 2, 3, 7}) {
    for (std::size_t n : {0u, 1u, 5u, 100u}) {
      std::multiset<std::size_t> seen;
      for (int r = 0; r < size; ++r) {
        const auto items = mnsim::rank_items(n, r, size);
        for (std::size_t i : items) {
          EXPECT_EQ(static_cast<int>(i % static_cast<std::size_t>(size)), r);
          seen.insert(i);
        }
      }
      ASSERT_EQ(seen.size(), n) << size << " ranks, " << n << " items";
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen.count(i), 1u);
    }
  }
  EXPECT_TRUE(mnsim::rank_items(5, 3, 3).empty());
}

TEST(Ranks, WorldWithoutMpirunIsOneRank) {
  const Ranks& w = Ranks::world();
  EXPECT_EQ(w.size(), 1);
  EXPECT_EQ(w.rank(), 0);
  EXPECT_TRUE(w.root());
  EXPECT_FALSE(w.several());
  EXPECT_EQ(w.all_gather("abc"), std::vector<std::string>{"abc"});
  EXPECT_EQ(w.gather("x"), std::vector<std::string>{"x"});
}

TEST(Ranks, MapItemsReturnsResultsInItemOrderForAnyThreads) {
  for (int threads : {1, 3}) {
    for (Deliver d : {Deliver::Root, Deliver::Everyone}) {
      const auto r = mnsim::map_items(
          Ranks::single(), 50, [](std::size_t i) { return std::to_string(i * i); }, d, threads);
      ASSERT_EQ(r.size(), 50u);
      for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], std::to_string(i * i));
    }
  }
}

TEST(Ranks, MapItemsThrowsTheLowestFailingItemsError) {
  for (int threads : {1, 4}) {
    try {
      (void)mnsim::map_items(
          Ranks::single(), 40,
          [](std::size_t i) -> std::string {
            if (i == 7 || i == 23 || i == 31)
              throw mnsim::NumericalError("item " + std::to_string(i));
            return {};
          },
          Deliver::Root, threads);
      FAIL() << "no exception";
    } catch (const mnsim::NumericalError& e) {
      // One rank: the item's own exception, not a RankError.
      EXPECT_STREQ(e.what(), "item 7");
    }
  }
}

TEST(Ranks, AgreeWithOneRankPassesTheExceptionThrough) {
  int calls = 0;
  mnsim::agree(Ranks::single(), [&] { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(mnsim::agree(Ranks::single(),
                            [] {
                              throw mnsim::InputError({"f.toml", 2, 3}, "k", "bad");
                            }),
               mnsim::InputError);
}

TEST(Ranks, ErrorExitGivesTheDriversCodeAndLine) {
  auto of = [](auto e) { return mnsim::error_exit(std::make_exception_ptr(e)); };
  const auto in = of(mnsim::InputError({"f.toml", 2, 3}, "key", "is wrong", "right"));
  EXPECT_EQ(in.code, 2);
  EXPECT_EQ(in.line, "f.toml:2:3: key: is wrong (right)");
  const auto num = of(mnsim::NumericalError("NaN in\nfield"));
  EXPECT_EQ(num.code, 1);
  EXPECT_EQ(num.line, "numerical failure: NaN in field");
  EXPECT_EQ(of(mnsim::OutputError("disk full")).line, "disk full");
  EXPECT_EQ(of(mnsim::Interrupted(SIGTERM, "stopped")).code, 143);
  EXPECT_EQ(of(mnsim::Interrupted(SIGINT, "stopped")).line, "interrupted by SIGINT: stopped");
  EXPECT_EQ(of(std::bad_alloc()).code, 1);
  EXPECT_EQ(of(std::runtime_error("x")).line, "internal error: x (please report this)");
  const auto agreed = of(mnsim::RankError(2, "f.toml:1:1: k: bad"));
  EXPECT_EQ(agreed.code, 2);
  EXPECT_EQ(agreed.line, "f.toml:1:1: k: bad");
}

}  // namespace
