// The work queue's contract on its own: one key never to two workers, dirty requeue, rate-limited
// back-off on the queue's clock.
#include "client/workqueue.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/testing/fake_clock.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {
using namespace std::chrono_literals;

using kite::testing::Eventually;

TEST(WorkQueueTest, OneKeyNeverToTwoWorkersAndDirtyRequeue) {
  WorkQueue q("t");
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Len(), 2u);
  auto k = q.TryGet();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "a");
  q.Add("a");  // while processing: dirty, not handed out
  auto k2 = q.TryGet();
  ASSERT_TRUE(k2);
  EXPECT_EQ(*k2, "b");
  EXPECT_FALSE(q.TryGet());
  q.Done("a");
  auto k3 = q.TryGet();
  ASSERT_TRUE(k3);
  EXPECT_EQ(*k3, "a");
}

TEST(WorkQueueTest, RateLimitedBackOffGrowsAndForgetResets) {
  WorkQueue q("t", 20ms, 1s);
  q.AddRateLimited("x");
  EXPECT_FALSE(q.TryGet());
  EXPECT_TRUE(q.NextDelayed().has_value());
  EXPECT_TRUE(Eventually([&] { return q.TryGet().has_value(); }, 500ms));
  q.Done("x");
  EXPECT_EQ(q.NumRequeues("x"), 1);
  q.AddRateLimited("x");
  EXPECT_EQ(q.NumRequeues("x"), 2);
  q.Forget("x");
  EXPECT_EQ(q.NumRequeues("x"), 0);
}

TEST(WorkQueueTest, DelaysAreMeasuredOnTheQueuesClock) {
  kite::testing::FakeClock clock;
  WorkQueue q("t", 5ms, 40ms, &clock);
  // Back-off 5 ms, 10 ms, 20 ms, then capped at 40 ms.
  for (auto want : {5ms, 10ms, 20ms, 40ms, 40ms}) {
    q.AddRateLimited("x");
    ASSERT_TRUE(q.NextDelayed().has_value());
    EXPECT_EQ(*q.NextDelayed() - clock.SteadyNow(), want);
    EXPECT_FALSE(q.TryGet()) << "ready before its delay";
    clock.Advance(want - 1ms);
    EXPECT_FALSE(q.TryGet());
    clock.Advance(1ms);
    auto k = q.TryGet();
    ASSERT_TRUE(k);
    q.Done(*k);
  }
  // AddAfter keeps the earlier of two delays for one key.
  q.AddAfter("y", 1h);
  q.AddAfter("y", 1s);
  clock.Advance(1s);
  EXPECT_EQ(q.TryGet(), std::optional<std::string>("y"));
}

}  // namespace
}  // namespace kite::client
