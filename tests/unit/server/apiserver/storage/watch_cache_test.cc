// The watch cache's reader bookkeeping (server/apiserver/watch_cache.h): how far behind a
// reader is (what the watch handler cuts slow watchers off by), and when its events are gone.
#include "server/apiserver/storage/watch_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/unit/datastore/test_util.h"

namespace kite::apiserver {
namespace {

using datastore::testing::Open;
using datastore::testing::PutOp;
using datastore::testing::TempDir;

class WatchCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    store_ = Open(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t Put(const std::string& key) {
    datastore::TxnRequest t;
    t.success.push_back(PutOp(key, R"({"metadata":{"name":"x","labels":{"a":"b"}}})"));
    auto r = store_->TxnSync(std::move(t));
    EXPECT_TRUE(r.ok());
    return r->revision;
  }
  static void WaitFor(const WatchCache& c, int64_t rev) {
    for (int i = 0; i < 500 && c.revision() < rev; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(c.revision(), rev);
  }
  std::string dir_;
  std::unique_ptr<datastore::Store> store_;
};

TEST_F(WatchCacheTest, CountsUnreadEventsOfAPrefixOnce) {
  WatchCache cache(store_.get());
  const int64_t start = store_->CurrentRevision() + 1;
  uint64_t cursor = 0;
  std::vector<std::shared_ptr<const CachedEvent>> out;
  int64_t oldest = 0;
  ASSERT_TRUE(cache.Read(start, &cursor, 0, &out, &oldest));  // positions only
  EXPECT_TRUE(out.empty());
  uint64_t scan = cursor;
  Put("/registry/configmaps/default/a");
  Put("/registry/pods/default/p");
  int64_t last = Put("/registry/configmaps/default/b");
  WaitFor(cache, last);
  bool evicted = true;
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/configmaps/", start, &evicted), 2u);
  EXPECT_FALSE(evicted);
  // Counted already: a second look finds nothing new.
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/configmaps/", start, &evicted), 0u);
  last = Put("/registry/configmaps/other/c");
  WaitFor(cache, last);
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/configmaps/default/", start, &evicted), 0u);
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/configmaps/", start, &evicted), 0u);  // scan moved on
  uint64_t fresh_scan = cursor;
  EXPECT_EQ(cache.CountUnread(cursor, &fresh_scan, "/registry/configmaps/", start, &evicted), 3u);
  // Revisions before the reader's start are not its events.
  fresh_scan = cursor;
  EXPECT_EQ(cache.CountUnread(cursor, &fresh_scan, "/registry/configmaps/", last, &evicted), 1u);
  // Reading them moves the cursor past them.
  ASSERT_TRUE(cache.Read(start, &cursor, 16, &out, &oldest));
  EXPECT_EQ(out.size(), 4u);
  fresh_scan = 0;
  EXPECT_EQ(cache.CountUnread(cursor, &fresh_scan, "/registry/", start, &evicted), 0u);
}

TEST_F(WatchCacheTest, ReportsAReaderWhoseEventsWereEvicted) {
  WatchCache cache(store_.get(), 4);
  const int64_t start = store_->CurrentRevision() + 1;
  uint64_t cursor = 0;
  std::vector<std::shared_ptr<const CachedEvent>> out;
  int64_t oldest = 0;
  ASSERT_TRUE(cache.Read(start, &cursor, 0, &out, &oldest));
  int64_t last = 0;
  for (int i = 0; i < 3; ++i) last = Put("/registry/configmaps/default/k" + std::to_string(i));
  WaitFor(cache, last);
  uint64_t scan = cursor;
  bool evicted = true;
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/", start, &evicted), 3u);
  EXPECT_FALSE(evicted);
  for (int i = 3; i < 8; ++i) last = Put("/registry/configmaps/default/k" + std::to_string(i));
  WaitFor(cache, last);
  EXPECT_EQ(cache.CountUnread(cursor, &scan, "/registry/", start, &evicted), 4u);  // what is left of the 5 new
  EXPECT_TRUE(evicted);
  EXPECT_FALSE(cache.Read(start, &cursor, 16, &out, &oldest));  // that reader gets 410
}

std::string Shown(const std::string& stored, int64_t rv) {
  auto shown = ShowStored(stored, rv);
  return shown ? shown->Text(stored) : "(none)";
}

TEST(WatchCacheText, ShowsStoredObjectsWithTheirResourceVersion) {
  const std::string stored = R"({"metadata":{"name":"a"},"data":{"k":"v"}})";
  EXPECT_EQ(Shown(stored, 7), R"({"metadata":{"name":"a","resourceVersion":"7"},"data":{"k":"v"}})");
  auto shown = ShowStored(stored, 7);
  ASSERT_TRUE(shown && shown->splice);  // the encoder's form: an edit of the stored text
  // Not in the encoder's form: decoded and re-encoded, same result.
  EXPECT_EQ(Shown(R"({ "metadata" : {"name":"a"},"data":{"k":"v"} })", 7), Shown(stored, 7));
  EXPECT_FALSE(ShowStored(R"({ "metadata" : {"name":"a"} })", 7)->splice);
  EXPECT_EQ(Shown("[1]", 7), "(none)");
  std::shared_ptr<const boost::json::object> labels;
  ASSERT_TRUE(ShowStored(R"({"metadata":{"labels":{"app":"x"}}})", 3, &labels));
  EXPECT_EQ(labels->at("app").as_string(), "x");
  EXPECT_EQ(LabelsOfStored(R"({"metadata":{"labels":{"app":"x"}}})")->at("app").as_string(), "x");
  EXPECT_TRUE(LabelsOfStored("not json")->empty());
}

}  // namespace
}  // namespace kite::apiserver
