// client/slow_start.h, client/expectations.h, client/event_recorder.h and SplitKey: the controller
// toolkit's own parts (expectations and the recorder on a FakeClock).
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "api/object.h"
#include "base/testing/fake_clock.h"
#include "client/controller.h"
#include "client/event_recorder.h"
#include "client/expectations.h"
#include "client/slow_start.h"
#include "client/testing/fake_transport.h"

namespace kite::client {
namespace {

TEST(SlowStartBatchTest, StopsAfterTheFirstBatchWithAFailure) {
  std::vector<int> calls;
  Status first;
  // Batches 1, 2, 4: the call with index 4 (in the third batch) fails; the batch still ends.
  int ok = SlowStartBatch(20, 1, [&](int i) {
    calls.push_back(i);
    return i == 4 || i == 5 ? Status(Code::kUnavailable, "no " + std::to_string(i)) : Status::Ok();
  }, &first);
  EXPECT_EQ(calls.size(), 7u);
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(first.message(), "no 4");
  EXPECT_EQ(SlowStartBatch(10, 1, [](int) { return Status::Ok(); }), 10);
  EXPECT_EQ(SlowStartBatch(0, 1, [](int) { return Status(Code::kInternal, "never"); }), 0);
}

TEST(ExpectationsTest, SatisfiedWhenObservedOrForgotten) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 2, 1);
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.CreationObserved("ns/a");
  e.CreationObserved("ns/a");
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.DeletionObserved("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 1, 0);
  e.Delete("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
}

TEST(ExpectationsTest, ExpireAfterFiveMinutesOfTheGivenClock) {
  kite::testing::FakeClock clock;
  Expectations e(&clock);
  e.Expect("ns/a", 1, 0);
  clock.Advance(std::chrono::minutes(5));
  EXPECT_FALSE(e.Satisfied("ns/a"));  // not older than the timeout yet
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(e.Satisfied("ns/a"));  // a lost watch event does not wedge the key
  e.Expect("ns/a", 1, 0);            // a new expectation starts from the clock's now
  EXPECT_FALSE(e.Satisfied("ns/a"));
}

TEST(EventRecorderTest, TimestampsComeFromTheGivenClock) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  EventRecorder recorder(&client, "test-controller", "", &clock);
  const boost::json::object pod{{"apiVersion", "v1"},
                                {"kind", "Pod"},
                                {"metadata", boost::json::object{{"name", "p"}, {"namespace", "ns"}, {"uid", "u1"}}}};
  const api::ResourceInfo& events = *api::FindResource("", "v1", "events");
  recorder.Normal(pod, "Started", "started");
  auto stored = fake->List(events, "ns");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(api::GetString(stored[0], "firstTimestamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(api::GetString(stored[0], "lastTimestamp"), "2026-01-01T00:00:00Z");
  // The repeat folds into the same Event: count 2, lastTimestamp moved with the clock.
  clock.Advance(std::chrono::minutes(3));
  recorder.Normal(pod, "Started", "started");
  stored = fake->List(events, "ns");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(api::GetInt(stored[0], "count"), 2);
  EXPECT_EQ(api::GetString(stored[0], "firstTimestamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(api::GetString(stored[0], "lastTimestamp"), "2026-01-01T00:03:00Z");
}

// RunAsync: Record returns while the API is slow; one thread writes in order, stamped with the
// time of recording; beyond the queue's bound Events are dropped and counted.
TEST(EventRecorderTest, AsyncQueuesWritesInOrderAndDropsBeyondTheBound) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false;
  fake->PrependReactor("create", "events", [&](const testing::Action&) -> std::optional<Response> {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    return std::nullopt;  // then stored as usual
  });
  EventRecorder recorder(&client, "kubelet", "n-0", &clock);
  recorder.RunAsync(3);
  const boost::json::object pod{{"apiVersion", "v1"},
                                {"kind", "Pod"},
                                {"metadata", boost::json::object{{"name", "p"}, {"namespace", "ns"}, {"uid", "u1"}}}};
  recorder.Normal(pod, "Pulled", "present");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });  // the writer holds the first; the queue is empty
  }
  clock.Advance(std::chrono::seconds(5));
  for (const char* reason : {"Created", "Started", "Killing", "Unhealthy"}) recorder.Normal(pod, reason, reason);
  EXPECT_EQ(recorder.dropped(), 1u);  // three queued, the fourth over the bound
  clock.Advance(std::chrono::minutes(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  recorder.Flush();
  std::vector<std::string> reasons;
  for (const auto& a : fake->Writes("create", "events")) {
    reasons.push_back(api::GetString(a.object, "reason"));
    // Stamped when recorded, not when written.
    EXPECT_EQ(api::GetString(a.object, "firstTimestamp"),
              reasons.size() == 1 ? "2026-01-01T00:00:00Z" : "2026-01-01T00:00:05Z");
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"Pulled", "Created", "Started", "Killing"}));
}

TEST(SplitKeyTest, NamespacedAndClusterScoped) {
  EXPECT_EQ(SplitKey("ns/name"), (std::pair<std::string, std::string>{"ns", "name"}));
  EXPECT_EQ(SplitKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
}

}  // namespace
}  // namespace kite::client
