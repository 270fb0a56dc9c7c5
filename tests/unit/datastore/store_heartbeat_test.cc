// Heartbeats (StoreOptions::heartbeat_prefixes): answered at once, stored late, never a user's
// write late, revisions never reused after a power loss. A power loss is simulated by copying the
// database files while the store runs: the copy holds what was committed, nothing else.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "datastore/store.h"
#include "tests/unit/datastore/test_util.h"
#include "tests/unit/eventually.h"

namespace kite::datastore {
namespace {

namespace fs = std::filesystem;
using namespace testing;

std::unique_ptr<Store> OpenWithHeartbeats(const std::string& dir, int64_t flush_ms) {
  StoreOptions o;
  o.data_dir = dir;
  o.compaction_interval_ms = 0;
  o.heartbeat_prefixes = {"/registry/leases/"};
  o.heartbeat_flush_ms = flush_ms;
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s.value());
}

// What a power loss now would leave on disk, as a store opened on a copy of the files.
std::string PowerLossCopy(const std::string& dir) {
  std::string copy = TempDir();
  for (const char* f : {"state.db", "state.db-wal"}) {
    if (fs::exists(fs::path(dir) / f)) fs::copy_file(fs::path(dir) / f, fs::path(copy) / f);
  }
  return copy;
}

class HeartbeatTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempDir(); }
  void TearDown() override {
    for (const auto& d : dirs_) fs::remove_all(d);
    fs::remove_all(dir_);
  }
  std::string Copy() {
    dirs_.push_back(PowerLossCopy(dir_));
    return dirs_.back();
  }
  std::string dir_;
  std::vector<std::string> dirs_;
};

TEST_F(HeartbeatTest, VisibleAtOnceStoredWithTheNextUserWrite) {
  auto store = OpenWithHeartbeats(dir_, 3'600'000);
  ASSERT_TRUE(store->Put("/registry/pods/a", "user").ok());
  // The first heartbeat is stored at once, with the mark that the next ones may wait.
  ASSERT_TRUE(store->Put("/registry/leases/kube-node-lease/n1", "beat-0").ok());
  auto hb = store->Put("/registry/leases/kube-node-lease/n1", "beat-1");
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(*Get(*store, "/registry/leases/kube-node-lease/n1").kvs[0].value, "beat-1");  // visible at once
  {
    auto lost = Open(Copy());  // a power loss now: the newest heartbeat is not on disk, the pod is
    EXPECT_EQ(Get(*lost, "/registry/pods/a").kvs.size(), 1u);
    EXPECT_EQ(*Get(*lost, "/registry/leases/kube-node-lease/n1").kvs[0].value, "beat-0");
    // No revision is handed out twice: the next write lands past the lost heartbeat's.
    EXPECT_GT(lost->Put("/registry/pods/b", "x")->revision, hb->revision);
  }
  ASSERT_TRUE(store->Put("/registry/pods/b", "user").ok());  // a user write takes it along
  auto kept = Open(Copy());
  auto got = Get(*kept, "/registry/leases/kube-node-lease/n1");
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(*got.kvs[0].value, "beat-1");
  EXPECT_EQ(got.kvs[0].mod_revision, hb->revision);
  EXPECT_EQ(kept->Status().revision, store->Status().revision);  // nothing was waiting: no jump
}

TEST_F(HeartbeatTest, NoRevisionJumpWhenNothingWaited) {
  int64_t rev = 0;
  std::string lost_dir;
  {
    auto store = OpenWithHeartbeats(dir_, 3'600'000);
    for (int i = 0; i < 5; ++i) rev = store->Put("/registry/pods/p" + std::to_string(i), "user")->revision;
    lost_dir = Copy();  // no heartbeat ever: a power loss loses nothing and moves nothing
  }
  auto lost = OpenWithHeartbeats(lost_dir, 3'600'000);
  EXPECT_EQ(lost->Status().revision, rev);
}

TEST_F(HeartbeatTest, StoredByTheFlushDeadlineAlone) {
  auto store = OpenWithHeartbeats(dir_, 100);
  ASSERT_TRUE(store->Put("/registry/leases/kube-system/kube-scheduler", "beat-0").ok());
  ASSERT_TRUE(store->Put("/registry/leases/kube-system/kube-scheduler", "beat-1").ok());
  EXPECT_TRUE(kite::testing::Eventually([&] {
    auto copy = Open(Copy());
    auto got = Get(*copy, "/registry/leases/kube-system/kube-scheduler");
    return got.kvs.size() == 1 && *got.kvs[0].value == "beat-1";
  }));
}

TEST_F(HeartbeatTest, NewestPerKeySurvivesACleanStop) {
  int64_t last = 0;
  {
    auto store = OpenWithHeartbeats(dir_, 3'600'000);
    for (int i = 1; i <= 50; ++i) last = store->Put("/registry/leases/ns/l", "beat-" + std::to_string(i))->revision;
  }
  auto store = OpenWithHeartbeats(dir_, 3'600'000);
  auto got = Get(*store, "/registry/leases/ns/l");
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(*got.kvs[0].value, "beat-50");
  EXPECT_EQ(got.kvs[0].mod_revision, last);
  EXPECT_EQ(got.kvs[0].version, 50);
  EXPECT_EQ(store->Status().revision, last);  // a clean stop moves no revision on
}

TEST_F(HeartbeatTest, MixedTransactionsAndOtherKeysAreDurableAtOnce) {
  auto store = OpenWithHeartbeats(dir_, 3'600'000);
  TxnRequest t;
  t.success = {PutOp("/registry/leases/ns/l", "beat"), PutOp("/registry/configmaps/ns/c", "user")};
  ASSERT_TRUE(store->TxnSync(t).ok());
  ASSERT_TRUE(store->Put("/registry/leasesX/ns/l", "not a lease prefix").ok());
  auto copy = Open(Copy());
  EXPECT_EQ(Get(*copy, "/registry/leases/ns/l").kvs.size(), 1u);
  EXPECT_EQ(Get(*copy, "/registry/configmaps/ns/c").kvs.size(), 1u);
  EXPECT_EQ(Get(*copy, "/registry/leasesX/ns/l").kvs.size(), 1u);
}

TEST_F(HeartbeatTest, AfterALossRevisionsMoveOnAndStayThere) {
  int64_t answered = 0;
  std::string lost_dir;
  {
    auto store = OpenWithHeartbeats(dir_, 3'600'000);
    for (int i = 0; i < 20; ++i) answered = store->Put("/registry/leases/ns/l", "b")->revision;
    lost_dir = Copy();
  }
  int64_t moved = 0;
  {
    auto lost = OpenWithHeartbeats(lost_dir, 3'600'000);
    moved = lost->Status().revision;
    EXPECT_GT(moved, answered);
  }
  auto again = OpenWithHeartbeats(lost_dir, 3'600'000);  // a clean restart keeps the moved revision
  EXPECT_EQ(again->Status().revision, moved);
}

}  // namespace
}  // namespace kite::datastore
