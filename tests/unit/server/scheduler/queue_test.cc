// The scheduling queue: order, back-off, parking and moving unschedulable pods, gates.
#include <gtest/gtest.h>

#include "server/scheduler/queue.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::MakePod;
using Clock = SchedulingQueue::Clock;
using Where = SchedulingQueue::Where;

std::string PopKey(SchedulingQueue& q, Clock::time_point now) {
  const auto* e = q.Pop(now);
  return e ? e->pod->key : "";
}

TEST(SchedulerQueue, PriorityThenArrival) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("low-early", "", "", R"({"priority": 1})"), t0);
  q.AddOrUpdate(MakePod("high", "", "", R"({"priority": 10})"), t0 + 1ms);
  q.AddOrUpdate(MakePod("low-late", "", "", R"({"priority": 1})"), t0 + 2ms);
  EXPECT_EQ(PopKey(q, t0), "default/high");
  EXPECT_EQ(PopKey(q, t0), "default/low-early");
  EXPECT_EQ(PopKey(q, t0), "default/low-late");
  EXPECT_EQ(PopKey(q, t0), "");
}

TEST(SchedulerQueue, BackoffDoublesToTenSeconds) {
  SchedulingQueue q;
  EXPECT_EQ(q.Backoff(1), 1s);
  EXPECT_EQ(q.Backoff(2), 2s);
  EXPECT_EQ(q.Backoff(3), 4s);
  EXPECT_EQ(q.Backoff(4), 8s);
  EXPECT_EQ(q.Backoff(5), 10s);
  EXPECT_EQ(q.Backoff(30), 10s);
}

TEST(SchedulerQueue, ErrorsBackOffThenReturn) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("p"), t0);
  ASSERT_EQ(PopKey(q, t0), "default/p");
  q.Requeue("default/p", 0, /*error=*/true, t0);
  EXPECT_EQ(q.Get("default/p")->where, Where::kBackoff);
  q.FlushBackoff(t0 + 999ms);
  EXPECT_EQ(PopKey(q, t0), "");
  EXPECT_EQ(q.NextBackoffExpiry(), t0 + 1s);
  q.FlushBackoff(t0 + 1s);
  EXPECT_EQ(PopKey(q, t0 + 1s), "default/p");
  q.Requeue("default/p", 0, true, t0 + 1s);
  EXPECT_EQ(q.NextBackoffExpiry(), t0 + 3s);  // second attempt: 2 s
}

TEST(SchedulerQueue, UnschedulablePodsWaitForAHelpfulEvent) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("fit"), t0);
  q.AddOrUpdate(MakePod("taint"), t0);
  PopKey(q, t0);
  PopKey(q, t0);
  q.Requeue("default/fit", PluginBit(Plugin::kNodeResourcesFit), false, t0);
  q.Requeue("default/taint", PluginBit(Plugin::kTaintToleration), false, t0);
  EXPECT_EQ(q.Size(Where::kUnschedulable), 2u);
  // A node label change helps neither.
  q.MoveAll(PluginBit(Plugin::kNodeAffinity), t0 + 20s);
  EXPECT_EQ(q.Size(Where::kUnschedulable), 2u);
  // A deleted pod frees resources: "fit" moves (its back-off is over).
  q.MoveAll(PluginBit(Plugin::kNodeResourcesFit), t0 + 20s);
  EXPECT_EQ(q.Get("default/fit")->where, Where::kActive);
  EXPECT_EQ(q.Get("default/taint")->where, Where::kUnschedulable);
  // Moved while still backing off: to backoffQ.
  PopKey(q, t0 + 20s);
  q.Requeue("default/fit", PluginBit(Plugin::kNodeResourcesFit), false, t0 + 20s);
  q.MoveAll(PluginBit(Plugin::kNodeResourcesFit), t0 + 20s + 100ms);
  EXPECT_EQ(q.Get("default/fit")->where, Where::kBackoff);
  // After five minutes everything is retried.
  q.FlushUnschedulable(t0 + 5min);
  EXPECT_EQ(q.Get("default/taint")->where, Where::kActive);
}

TEST(SchedulerQueue, SpecChangeMovesButStatusChangeDoesNot) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("p", "1"), t0);
  PopKey(q, t0);
  q.Requeue("default/p", PluginBit(Plugin::kNodeResourcesFit), false, t0);
  // The scheduler's own status patch: same spec and labels.
  auto obj = testing::PodObject("p", "1");
  obj["status"] = boost::json::object{{"conditions", boost::json::array{boost::json::object{{"type", "PodScheduled"}}}}};
  q.AddOrUpdate(ParsePod(std::make_shared<const boost::json::object>(obj), {}), t0 + 20s);
  EXPECT_EQ(q.Get("default/p")->where, Where::kUnschedulable);
  q.AddOrUpdate(MakePod("p", "500m"), t0 + 20s);
  EXPECT_EQ(q.Get("default/p")->where, Where::kActive);
}

TEST(SchedulerQueue, GatedPodsWaitForTheirGates) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("g", "", "", R"({"schedulingGates": [{"name": "example.com/wait"}]})"), t0);
  EXPECT_EQ(PopKey(q, t0), "");
  EXPECT_EQ(q.Get("default/g")->where, Where::kGated);
  q.AddOrUpdate(MakePod("g"), t0);
  EXPECT_EQ(PopKey(q, t0), "default/g");
}

TEST(SchedulerQueue, DeletedWhileInFlightIsNotRequeued) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  q.AddOrUpdate(MakePod("p"), t0);
  PopKey(q, t0);
  q.Delete("default/p");
  q.Requeue("default/p", 0, true, t0);
  EXPECT_EQ(q.Get("default/p"), nullptr);
  EXPECT_EQ(q.Size(), 0u);
}

TEST(SchedulerQueue, Nominations) {
  SchedulingQueue q;
  const auto t0 = Clock::now();
  auto obj = testing::PodObject("p");
  obj["status"] = boost::json::object{{"nominatedNodeName", "n1"}};
  q.AddOrUpdate(ParsePod(std::make_shared<const boost::json::object>(obj), {}), t0);
  ASSERT_EQ(q.nominated().count("n1"), 1u);
  q.SetNomination("default/p", "n2");
  EXPECT_EQ(q.nominated().count("n1"), 0u);
  EXPECT_EQ(q.nominated().at("n2").size(), 1u);
  q.Delete("default/p");
  EXPECT_TRUE(q.nominated().empty());
}

}  // namespace
}  // namespace kite::scheduler
