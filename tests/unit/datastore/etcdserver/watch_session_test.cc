// WatchSession (the etcd Watch stream without gRPC) and TaskRunner, on a real store: fan-out of
// one event to many watchers of one stream, the look-ahead promise the transport relies on to
// buffer writes, fairness, cancel and compaction, and bounded queueing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "datastore/etcdserver/dispatch.h"
#include "datastore/etcdserver/task_runner.h"
#include "datastore/etcdserver/watch_session.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::datastore {
namespace {

using namespace testing;
namespace pb = ::etcdserverpb;

class WatchSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    store_ = Open(dir_);
    dispatcher_ = std::make_unique<etcdserver::Dispatcher>(store_.get(), [](std::function<void()> f) { f(); });
    session_ = std::make_unique<etcdserver::WatchSession>(dispatcher_.get(), [this] { kicks_.fetch_add(1); });
  }
  void TearDown() override {
    session_.reset();
    dispatcher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Create(const std::string& key, int64_t id = 0, int64_t start = 0, const std::string& end = "",
              bool fragment = false) {
    pb::WatchRequest r;
    auto* c = r.mutable_create_request();
    c->set_key(key);
    c->set_range_end(end);
    c->set_watch_id(id);
    c->set_start_revision(start);
    c->set_fragment(fragment);
    session_->Handle(r);
  }
  void Cancel(int64_t id) {
    pb::WatchRequest r;
    r.mutable_cancel_request()->set_watch_id(id);
    session_->Handle(r);
  }

  // Everything the session has to send now, checking the look-ahead promise on the way: a
  // response announced with more=true must be there on the next call.
  std::vector<pb::WatchResponse> Drain(size_t max_queued = SIZE_MAX) {
    std::vector<pb::WatchResponse> out;
    pb::WatchResponse r;
    bool more = false;
    for (;;) {
      bool promised = more;
      bool got = session_->Next(&r, &more);
      if (promised) {
        EXPECT_TRUE(got) << "more=true but nothing followed";
      }
      if (!got) {
        EXPECT_FALSE(more);
        break;
      }
      EXPECT_LE(session_->queued(), max_queued);
      out.push_back(r);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<etcdserver::Dispatcher> dispatcher_;
  std::unique_ptr<etcdserver::WatchSession> session_;
  std::atomic<int> kicks_{0};
};

TEST_F(WatchSessionTest, OneEventReachesEveryWatcherOfTheStreamWithOneKick) {
  constexpr int kWatchers = 200;
  for (int i = 0; i < kWatchers; ++i) Create("/hot");
  auto created = Drain();
  ASSERT_EQ(created.size(), static_cast<size_t>(kWatchers));
  for (int i = 0; i < kWatchers; ++i) {
    EXPECT_TRUE(created[i].created());
    EXPECT_EQ(created[i].watch_id(), i);
  }
  kicks_ = 0;
  auto put = store_->Put("/hot", "v1");
  ASSERT_TRUE(put.ok());
  // Every watcher was woken, but the stream is kicked once.
  EXPECT_EQ(kicks_.load(), 1);
  auto got = Drain();
  ASSERT_EQ(got.size(), static_cast<size_t>(kWatchers));
  std::map<int64_t, int> per_id;
  for (const auto& r : got) {
    ASSERT_EQ(r.events_size(), 1);
    EXPECT_EQ(r.events(0).kv().value(), "v1");
    EXPECT_EQ(r.events(0).kv().mod_revision(), put->revision);
    EXPECT_GE(r.header().revision(), put->revision);
    ++per_id[r.watch_id()];
  }
  EXPECT_EQ(per_id.size(), static_cast<size_t>(kWatchers));
  for (auto& [id, n] : per_id) EXPECT_EQ(n, 1) << id;

  // A second event: again one kick, again once per watcher, and nothing left over.
  kicks_ = 0;
  ASSERT_TRUE(store_->Put("/hot", "v2").ok());
  EXPECT_EQ(kicks_.load(), 1);
  EXPECT_EQ(Drain().size(), static_cast<size_t>(kWatchers));
  EXPECT_TRUE(Drain().empty());
}

TEST_F(WatchSessionTest, LongHistoryComesInOrderInBatchesWithoutStarvingOthers) {
  constexpr int kPuts = 600;  // > 2 * kMaxEventsPerPull
  for (int i = 0; i < kPuts; ++i) ASSERT_TRUE(store_->Put("/long", std::to_string(i)).ok());
  ASSERT_TRUE(store_->Put("/short", "s").ok());
  Create("/long", 0, 1);   // id 0: the whole history
  Create("/short", 0, 1);  // id 1: one event
  auto got = Drain(2);     // pulling is one batch at a time: the queue stays small
  int64_t last_rev = 0;
  int long_events = 0;
  int batches_before_short = -1, long_batches = 0;
  for (const auto& r : got) {
    if (r.created()) continue;
    if (r.watch_id() == 1) {
      ASSERT_EQ(r.events_size(), 1);
      batches_before_short = long_batches;
      continue;
    }
    ASSERT_EQ(r.watch_id(), 0);
    ++long_batches;
    EXPECT_LE(r.events_size(), static_cast<int>(etcdserver::kMaxEventsPerPull));
    for (const auto& ev : r.events()) {
      EXPECT_GT(ev.kv().mod_revision(), last_rev);
      last_rev = ev.kv().mod_revision();
      ++long_events;
    }
  }
  EXPECT_EQ(long_events, kPuts);
  EXPECT_GE(long_batches, 3);
  // Round-robin: the short watcher is served after at most one batch of the long one.
  EXPECT_GE(batches_before_short, 0);
  EXPECT_LE(batches_before_short, 1);
}

TEST_F(WatchSessionTest, CancelledWatcherGetsNothingMoreAndItsIdCanBeReused) {
  Create("/k", 7);
  Create("/k", 8);
  Drain();
  ASSERT_TRUE(store_->Put("/k", "a").ok());  // both woken, not yet pulled
  Cancel(7);
  Create("/k", 7);  // same id, a new watcher from now on
  auto got = Drain();
  int events_7 = 0, events_8 = 0, canceled_7 = 0, created_7 = 0;
  for (const auto& r : got) {
    if (r.watch_id() == 7) {
      events_7 += r.events_size();
      canceled_7 += r.canceled();
      created_7 += r.created();
    }
    if (r.watch_id() == 8) events_8 += r.events_size();
  }
  EXPECT_EQ(canceled_7, 1);
  EXPECT_EQ(created_7, 1);
  EXPECT_EQ(events_7, 0);  // the old 7 was cancelled before its event was pulled
  EXPECT_EQ(events_8, 1);
  ASSERT_TRUE(store_->Put("/k", "b").ok());
  got = Drain();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& r : got) EXPECT_EQ(r.events_size(), 1);
}

TEST_F(WatchSessionTest, CompactedStartIsCancelledWithTheCompactRevision) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Put("/c", std::to_string(i)).ok());  // 2..6
  ASSERT_TRUE(store_->CompactSync(5).ok());
  Create("/c", 0, 3);
  Create("/c", 0, 5);
  auto got = Drain();
  int canceled = 0, events = 0;
  for (const auto& r : got) {
    if (r.watch_id() == 0 && r.canceled()) {
      ++canceled;
      EXPECT_EQ(r.compact_revision(), 5);
    }
    if (r.watch_id() == 1) events += r.events_size();
  }
  EXPECT_EQ(canceled, 1);
  EXPECT_EQ(events, 2);  // revisions 5 and 6
  EXPECT_EQ(session_->watchers(), 1u);
}

TEST_F(WatchSessionTest, LargeResponsesAreFragmented) {
  const std::string big(600 * 1024, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->Put("/big", big).ok());
  Create("/big", 0, 1, "", /*fragment=*/true);
  auto got = Drain();
  int events = 0, fragments = 0;
  for (const auto& r : got) {
    if (r.created()) continue;
    events += r.events_size();
    fragments += r.fragment();
    EXPECT_LE(r.ByteSizeLong(), static_cast<size_t>(kMaxRequestBytes));
  }
  EXPECT_EQ(events, 4);
  EXPECT_GE(fragments, 1);
  EXPECT_FALSE(got.back().fragment());  // the last part closes the response
}

TEST_F(WatchSessionTest, ProgressRequestFollowsTheEventsItVouchesFor) {
  Create("/p");
  Drain();
  ASSERT_TRUE(store_->Put("/p", "1").ok());
  pb::WatchRequest progress;
  progress.mutable_progress_request();
  session_->Handle(progress);
  auto got = Drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].events_size(), 1);
  EXPECT_EQ(got[1].watch_id(), -1);
  EXPECT_EQ(got[1].events_size(), 0);
  EXPECT_EQ(got[1].header().revision(), got[0].events(0).kv().mod_revision());
}

TEST_F(WatchSessionTest, CloseDropsEverything) {
  for (int i = 0; i < 10; ++i) Create("/x");
  ASSERT_TRUE(store_->Put("/x", "1").ok());
  session_->Close();
  EXPECT_EQ(session_->watchers(), 0u);
  EXPECT_EQ(session_->queued(), 0u);
  pb::WatchResponse r;
  EXPECT_FALSE(session_->Next(&r));
  ASSERT_TRUE(store_->Put("/x", "2").ok());  // no watcher left to wake
  EXPECT_FALSE(session_->Next(&r));
}

TEST(TaskRunnerTest, SeveralThreadsRunTasksInParallel) {
  etcdserver::TaskRunner pool(2);
  std::atomic<int> arrived{0};
  std::atomic<bool> both{false};
  // Each task waits (bounded) for the other: only two threads can finish both in time.
  auto task = [&] {
    arrived.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (arrived.load() >= 2) both = true;
  };
  pool.Post(task);
  pool.Post(task);
  pool.Stop();
  EXPECT_TRUE(both.load());
}

TEST(TaskRunnerTest, StopRunsWhatIsQueuedAndWhatItPosts) {
  etcdserver::TaskRunner pool(3);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    pool.Post([&] {
      ran.fetch_add(1);
      pool.Post([&] { ran.fetch_add(1); });
    });
  }
  pool.Stop();
  EXPECT_EQ(ran.load(), 200);
  pool.Post([&] { ran.fetch_add(1); });  // dropped after Stop
  EXPECT_EQ(ran.load(), 200);
}

TEST(TaskRunnerTest, PeriodicTaskNeverOverlapsItself) {
  etcdserver::TaskRunner pool(3);
  std::atomic<int> inside{0}, runs{0};
  std::atomic<bool> overlap{false};
  pool.SetPeriodic([] { return std::chrono::milliseconds(1); },
                   [&] {
                     if (inside.fetch_add(1) != 0) overlap = true;
                     std::this_thread::sleep_for(std::chrono::milliseconds(3));
                     inside.fetch_sub(1);
                     runs.fetch_add(1);
                   });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runs.load() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pool.Stop();
  EXPECT_GE(runs.load(), 5);
  EXPECT_FALSE(overlap.load());
}

}  // namespace
}  // namespace kite::datastore
