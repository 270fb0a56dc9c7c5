// The scheduler's ApiWriter on the fake API with a FakeClock: the timestamps it writes (the
// PodScheduled and DisruptionTarget conditions' lastTransitionTime, events) are the scheduler's
// clock's, and a PodScheduled condition that stays False keeps its transition time.
#include "server/scheduler/api_writer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "api/conditions.h"
#include "api/object.h"
#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {
namespace json = boost::json;
using testing::PodObject;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

class ApiWriterTest : public ::testing::Test {
 protected:
  ApiWriterTest() : fake_(std::make_shared<client::testing::FakeTransport>(&clock_)), client_(fake_) {}

  // Stores `obj` and returns the scheduler's view of what was stored.
  PodInfoPtr Seed(json::object obj) {
    return ParsePod(std::make_shared<const json::object>(fake_->Add(std::move(obj))), {});
  }
  json::object PodScheduled(const std::string& name) {
    auto pod = fake_->Get(Pods(), "default", name);
    EXPECT_TRUE(pod.has_value()) << name;
    if (!pod) return {};
    const json::object* c = api::FindCondition(api::GetObject(*pod, "status"), "PodScheduled");
    return c ? *c : json::object();
  }

  kite::testing::FakeClock clock_;  // 2026-01-01T00:00:00Z
  std::shared_ptr<client::testing::FakeTransport> fake_;
  client::Client client_;
};

TEST_F(ApiWriterTest, ConditionTimesComeFromTheSchedulersClock) {
  PodInfoPtr fresh = Seed(PodObject("fresh"));
  json::object pending = PodObject("pending");
  pending["status"] = json::parse(R"({"conditions":[{"type":"PodScheduled","status":"False",
      "reason":"Unschedulable","message":"old","lastTransitionTime":"2025-06-01T00:00:00Z"}]})");
  PodInfoPtr waiting = Seed(std::move(pending));
  PodInfoPtr victim = Seed(PodObject("victim"));
  PodInfoPtr preemptor = Seed(PodObject("preemptor"));

  clock_.Advance(std::chrono::hours(1));
  ApiWriter writer(&client_, 2, "default-scheduler", "test", &clock_);
  writer.UpdatePodStatus(fresh, "Unschedulable", "0/1 nodes are available", std::nullopt);
  writer.UpdatePodStatus(waiting, "Unschedulable", "new", std::string("n1"));
  writer.Preempt(victim, preemptor, "n1");
  writer.Stop();  // finishes the patches and the deletion

  EXPECT_EQ(api::GetString(PodScheduled("fresh"), "lastTransitionTime"), "2026-01-01T01:00:00Z");
  // Still False: the transition time stays (upstream's UpdatePodCondition), the message moves.
  EXPECT_EQ(api::GetString(PodScheduled("pending"), "lastTransitionTime"), "2025-06-01T00:00:00Z");
  EXPECT_EQ(api::GetString(PodScheduled("pending"), "message"), "new");

  bool saw_disruption = false;
  for (const auto& a : fake_->Writes("patch", "pods", "status")) {
    if (a.name != "victim") continue;
    const json::object* c = api::FindCondition(api::GetObject(a.body.as_object(), "status"), "DisruptionTarget");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(api::GetString(*c, "lastTransitionTime"), "2026-01-01T01:00:00Z");
    saw_disruption = true;
  }
  EXPECT_TRUE(saw_disruption);
  EXPECT_FALSE(fake_->Get(Pods(), "default", "victim").has_value());
}

TEST_F(ApiWriterTest, EventsAreStampedByTheSchedulersClock) {
  PodInfoPtr pod = Seed(PodObject("p"));
  clock_.Advance(std::chrono::minutes(30));
  ApiWriter writer(&client_, 1, "default-scheduler", "test", &clock_);
  writer.Event(*pod, "Warning", "FailedScheduling", "Scheduling", "0/1 nodes are available");
  // Events are best effort and Stop drops queued ones: wait for this one to be written.
  writer.FlushEvents();
  writer.Stop();
  auto created = fake_->Writes("create", "events");
  ASSERT_EQ(created.size(), 1u);
  const json::object& e = created[0].body.as_object();
  EXPECT_EQ(api::GetString(e, "reason"), "FailedScheduling");
  EXPECT_EQ(api::GetString(e, "firstTimestamp"), "2026-01-01T00:30:00Z");
  EXPECT_EQ(api::GetString(e, "lastTimestamp"), "2026-01-01T00:30:00Z");
}

}  // namespace
}  // namespace kite::scheduler
