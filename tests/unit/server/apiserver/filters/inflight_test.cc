// The max-in-flight filter's budgets (filters/inflight.h): wide LISTs have their own.
#include "server/apiserver/filters/inflight.h"

#include <gtest/gtest.h>

#include <vector>

namespace kite::apiserver {
namespace {

TEST(Inflight, WideListsHaveTheirOwnQuarterOfTheReadOnlyBudget) {
  InflightLimiter limiter({200, 100});
  EXPECT_EQ(WideListBudget(200), 50);
  std::vector<InflightLimiter::Seats> held;
  for (int i = 0; i < 5; ++i) {
    auto s = limiter.TryAcquire(false, 10);
    ASSERT_TRUE(s) << i;
    held.push_back(std::move(*s));
  }
  EXPECT_FALSE(limiter.TryAcquire(false, 10)) << "a sixth 1,000-object LIST is refused";
  EXPECT_FALSE(limiter.TryAcquire(false, 2)) << "so is any other wide one";
  for (int i = 0; i < 150; ++i) {
    auto s = limiter.TryAcquire(false, 1);
    ASSERT_TRUE(s) << "small reads keep three quarters: " << i;
    held.push_back(std::move(*s));
  }
  EXPECT_FALSE(limiter.TryAcquire(false, 1)) << "the read-only budget is spent";
  EXPECT_TRUE(limiter.TryAcquire(true, 1)) << "writes have theirs";
  held.erase(held.begin());  // one wide LIST done: its seats are back in both budgets
  auto again = limiter.TryAcquire(false, 10);
  EXPECT_TRUE(again);
  EXPECT_FALSE(limiter.TryAcquire(false, 1));
}

TEST(Inflight, SmallBudgetsStillLetOneWideListRun) {
  EXPECT_EQ(WideListBudget(4), 4);
  EXPECT_EQ(WideListBudget(0), 0);
  InflightLimiter limiter({4, 2});
  auto first = limiter.TryAcquire(false, 10);
  EXPECT_TRUE(first) << "wider than the budget, alone";
  EXPECT_FALSE(limiter.TryAcquire(false, 10));
  EXPECT_FALSE(limiter.TryAcquire(false, 1));
  first.reset();
  EXPECT_TRUE(limiter.TryAcquire(false, 1));
}

}  // namespace
}  // namespace kite::apiserver
