// client/event_recorder.cc on the fake API with a FakeClock: timestamps from the given clock,
// repeats folded into one Event, the asynchronous mode (bounded queue, one or several writers).
#include "client/event_recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/object.h"
#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"

namespace kite::client {
namespace {

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

// RunAsync with one writer: Record returns while the API is slow; one thread writes in order,
// stamped with the time of recording; beyond the queue's bound Events are dropped and counted.
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
  recorder.RunAsync({.max_queued = 3});
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

// An object for the recorder's Events: pod `name` in "ns" with uid "uid-<name>".
boost::json::object RecorderTestPod(const std::string& name) {
  return boost::json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", boost::json::object{{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}}}};
}

// Several writers (the scheduler's thousands of Events a second each wait for a commit): as many
// Events are in flight at once as there are writers, and every one is stored.
TEST(EventRecorderTest, SeveralWritersWriteAtOnce) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, peak = 0;
  bool open = false;
  fake->PrependReactor("create", "events", [&](const testing::Action&) -> std::optional<Response> {
    std::unique_lock<std::mutex> lock(mu);
    peak = std::max(peak, ++inside);
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    --inside;
    return std::nullopt;
  });
  EventRecorder recorder(&client, "default-scheduler", "", &clock);
  recorder.RunAsync({.writers = 4});
  for (int i = 0; i < 10; ++i) recorder.Normal(RecorderTestPod("p" + std::to_string(i)), "Scheduled", "assigned");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return inside == 4; });  // four writes blocked at once: four writers
    open = true;
  }
  cv.notify_all();
  recorder.Flush();
  EXPECT_EQ(peak, 4);
  std::set<std::string> names;
  for (const auto& a : fake->Writes("create", "events")) names.insert(api::GetString(a.object, {"involvedObject", "name"}));
  EXPECT_EQ(names.size(), 10u);
  EXPECT_EQ(recorder.dropped(), 0u);
}

// Stop: the write under way finishes, the queued Events are dropped, later ones too.
TEST(EventRecorderTest, StopDropsWhatIsQueued) {
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
    return std::nullopt;
  });
  EventRecorder recorder(&client, "default-scheduler", "", &clock);
  recorder.RunAsync();
  recorder.Normal(RecorderTestPod("first"), "Scheduled", "assigned");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  recorder.Normal(RecorderTestPod("queued"), "Scheduled", "assigned");
  // Flush returns only once Stop has begun (a write is under way): then the API answers.
  std::thread opener([&] {
    recorder.Flush();
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  });
  recorder.Stop();  // waits for the write under way
  opener.join();
  recorder.Normal(RecorderTestPod("late"), "Scheduled", "assigned");
  recorder.Flush();
  auto created = fake->Writes("create", "events");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(api::GetString(created[0].object, {"involvedObject", "name"}), "first");
}

}  // namespace
}  // namespace kite::client
