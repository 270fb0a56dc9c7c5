// The scheduling queue: order, back-off, parking and moving unschedulable pods, gates. Time is
// a FakeClock's, moved by hand.
#include <gtest/gtest.h>

#include "base/testing/fake_clock.h"
#include "server/scheduler/queue.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::MakePod;
using Where = SchedulingQueue::Where;

std::string PopKey(SchedulingQueue& q) {
  const auto* e = q.Pop();
  return e ? e->pod->key : "";
}

class SchedulerQueue : public ::testing::Test {
 protected:
  kite::testing::FakeClock clock_;
  SchedulingQueue q{QueueOptions{}, &clock_};
  const SchedulingQueue::TimePoint t0 = clock_.SteadyNow();
  // Moves the clock to t0 + d (never back).
  void At(SchedulingQueue::Duration d) { clock_.Advance(t0 + d - clock_.SteadyNow()); }
};

TEST_F(SchedulerQueue, PriorityThenArrival) {
  q.AddOrUpdate(MakePod("low-early", "", "", R"({"priority": 1})"));
  At(1ms);
  q.AddOrUpdate(MakePod("high", "", "", R"({"priority": 10})"));
  At(2ms);
  q.AddOrUpdate(MakePod("low-late", "", "", R"({"priority": 1})"));
  EXPECT_EQ(PopKey(q), "default/high");
  EXPECT_EQ(PopKey(q), "default/low-early");
  EXPECT_EQ(PopKey(q), "default/low-late");
  EXPECT_EQ(PopKey(q), "");
}

TEST_F(SchedulerQueue, BackoffDoublesToTenSeconds) {
  EXPECT_EQ(q.Backoff(1), 1s);
  EXPECT_EQ(q.Backoff(2), 2s);
  EXPECT_EQ(q.Backoff(3), 4s);
  EXPECT_EQ(q.Backoff(4), 8s);
  EXPECT_EQ(q.Backoff(5), 10s);
  EXPECT_EQ(q.Backoff(30), 10s);
}

TEST_F(SchedulerQueue, ErrorsBackOffThenReturn) {
  q.AddOrUpdate(MakePod("p"));
  ASSERT_EQ(PopKey(q), "default/p");
  q.Requeue("default/p", 0, /*error=*/true);
  EXPECT_EQ(q.Get("default/p")->where, Where::kBackoff);
  At(999ms);
  q.FlushBackoff();
  EXPECT_EQ(PopKey(q), "");
  EXPECT_EQ(q.NextBackoffExpiry(), t0 + 1s);
  At(1s);
  q.FlushBackoff();
  EXPECT_EQ(PopKey(q), "default/p");
  q.Requeue("default/p", 0, true);
  EXPECT_EQ(q.NextBackoffExpiry(), t0 + 3s);  // second attempt: 2 s
}

// Back-off on the queue's clock: each failed attempt doubles the wait (1 s, 2 s, 4 s, 8 s, then
// 10 s), counted from the failure; the pod stays in backoffQ until the clock reaches the expiry,
// not a moment before, whatever flushes or events come in between.
TEST_F(SchedulerQueue, BackoffFollowsTheClockAndDoublesPerAttempt) {
  q.AddOrUpdate(MakePod("p"));
  SchedulingQueue::Duration elapsed{};
  for (auto wait : {1s, 2s, 4s, 8s, 10s, 10s}) {
    ASSERT_EQ(PopKey(q), "default/p");
    q.Requeue("default/p", 0, /*error=*/true);
    ASSERT_EQ(q.Get("default/p")->where, Where::kBackoff);
    EXPECT_EQ(q.NextBackoffExpiry(), t0 + elapsed + wait);
    At(elapsed + wait - 1ms);
    q.FlushBackoff();
    q.MoveAll(~0u);  // an event does not cut a back-off short
    EXPECT_EQ(q.Get("default/p")->where, Where::kBackoff);
    EXPECT_EQ(PopKey(q), "");
    elapsed += wait;
    At(elapsed);
    q.FlushBackoff();
    EXPECT_EQ(q.Get("default/p")->where, Where::kActive);
  }
  // An unschedulable pod moved by a helpful event within its back-off waits out the rest of it.
  ASSERT_EQ(PopKey(q), "default/p");
  q.Requeue("default/p", PluginBit(Plugin::kNodeResourcesFit), false);  // 7th attempt: 10 s
  EXPECT_EQ(q.Get("default/p")->where, Where::kUnschedulable);
  At(elapsed + 3s);
  q.MoveAll(PluginBit(Plugin::kNodeResourcesFit));
  EXPECT_EQ(q.Get("default/p")->where, Where::kBackoff);
  EXPECT_EQ(q.NextBackoffExpiry(), t0 + elapsed + 10s);
  At(elapsed + 10s);
  q.FlushBackoff();
  EXPECT_EQ(PopKey(q), "default/p");
}

TEST_F(SchedulerQueue, UnschedulablePodsWaitForAHelpfulEvent) {
  q.AddOrUpdate(MakePod("fit"));
  q.AddOrUpdate(MakePod("taint"));
  PopKey(q);
  PopKey(q);
  q.Requeue("default/fit", PluginBit(Plugin::kNodeResourcesFit), false);
  q.Requeue("default/taint", PluginBit(Plugin::kTaintToleration), false);
  EXPECT_EQ(q.Size(Where::kUnschedulable), 2u);
  // A node label change helps neither.
  At(20s);
  q.MoveAll(PluginBit(Plugin::kNodeAffinity));
  EXPECT_EQ(q.Size(Where::kUnschedulable), 2u);
  // A deleted pod frees resources: "fit" moves (its back-off is over).
  q.MoveAll(PluginBit(Plugin::kNodeResourcesFit));
  EXPECT_EQ(q.Get("default/fit")->where, Where::kActive);
  EXPECT_EQ(q.Get("default/taint")->where, Where::kUnschedulable);
  // Moved while still backing off: to backoffQ.
  PopKey(q);
  q.Requeue("default/fit", PluginBit(Plugin::kNodeResourcesFit), false);
  At(20s + 100ms);
  q.MoveAll(PluginBit(Plugin::kNodeResourcesFit));
  EXPECT_EQ(q.Get("default/fit")->where, Where::kBackoff);
  // After five minutes everything is retried.
  At(5min);
  q.FlushUnschedulable();
  EXPECT_EQ(q.Get("default/taint")->where, Where::kActive);
}

TEST_F(SchedulerQueue, SpecChangeMovesButStatusChangeDoesNot) {
  q.AddOrUpdate(MakePod("p", "1"));
  PopKey(q);
  q.Requeue("default/p", PluginBit(Plugin::kNodeResourcesFit), false);
  // The scheduler's own status patch: same spec and labels.
  auto obj = testing::PodObject("p", "1");
  obj["status"] = boost::json::object{{"conditions", boost::json::array{boost::json::object{{"type", "PodScheduled"}}}}};
  At(20s);
  q.AddOrUpdate(ParsePod(std::make_shared<const boost::json::object>(obj), {}));
  EXPECT_EQ(q.Get("default/p")->where, Where::kUnschedulable);
  q.AddOrUpdate(MakePod("p", "500m"));
  EXPECT_EQ(q.Get("default/p")->where, Where::kActive);
}

TEST_F(SchedulerQueue, GatedPodsWaitForTheirGates) {
  q.AddOrUpdate(MakePod("g", "", "", R"({"schedulingGates": [{"name": "example.com/wait"}]})"));
  EXPECT_EQ(PopKey(q), "");
  EXPECT_EQ(q.Get("default/g")->where, Where::kGated);
  q.AddOrUpdate(MakePod("g"));
  EXPECT_EQ(PopKey(q), "default/g");
}

TEST_F(SchedulerQueue, DeletedWhileInFlightIsNotRequeued) {
  q.AddOrUpdate(MakePod("p"));
  PopKey(q);
  q.Delete("default/p");
  q.Requeue("default/p", 0, true);
  EXPECT_EQ(q.Get("default/p"), nullptr);
  EXPECT_EQ(q.Size(), 0u);
}

TEST_F(SchedulerQueue, Nominations) {
  auto obj = testing::PodObject("p");
  obj["status"] = boost::json::object{{"nominatedNodeName", "n1"}};
  q.AddOrUpdate(ParsePod(std::make_shared<const boost::json::object>(obj), {}));
  ASSERT_EQ(q.nominated().count("n1"), 1u);
  q.SetNomination("default/p", "n2");
  EXPECT_EQ(q.nominated().count("n1"), 0u);
  EXPECT_EQ(q.nominated().at("n2").size(), 1u);
  q.Delete("default/p");
  EXPECT_TRUE(q.nominated().empty());
}

}  // namespace
}  // namespace kite::scheduler
