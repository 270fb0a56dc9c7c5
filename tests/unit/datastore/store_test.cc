// Behaviour of the SQLite-backed store against etcd's semantics.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "base/testing/fake_clock.h"
#include "datastore/errors.h"
#include "datastore/store.h"
#include "tests/unit/datastore/test_util.h"
#include "tests/unit/eventually.h"

namespace kite::datastore {
namespace {

using namespace testing;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    store_ = Open(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    store_ = Open(dir_);
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, RevisionsStartAtOneAndCountWrites) {
  EXPECT_EQ(store_->Status().revision, 1);
  EXPECT_EQ(store_->Put("/a", "1")->revision, 2);
  EXPECT_EQ(store_->Put("/a", "2")->revision, 3);
  EXPECT_EQ(store_->Put("/b", "1")->revision, 4);
  auto a = Get(*store_, "/a");
  ASSERT_EQ(a.kvs.size(), 1u);
  EXPECT_EQ(*a.kvs[0].value, "2");
  EXPECT_EQ(a.kvs[0].create_revision, 2);
  EXPECT_EQ(a.kvs[0].mod_revision, 3);
  EXPECT_EQ(a.kvs[0].version, 2);
  EXPECT_EQ(a.revision, 4);
  // Deleting nothing does not bump the revision; deleting something does.
  EXPECT_EQ(store_->Delete("/zzz")->deleted, 0);
  EXPECT_EQ(store_->Status().revision, 4);
  EXPECT_EQ(store_->Delete("/a")->deleted, 1);
  EXPECT_EQ(store_->Status().revision, 5);
  // Re-creating a deleted key starts a new generation.
  ASSERT_TRUE(store_->Put("/a", "again").ok());
  auto again = Get(*store_, "/a");
  EXPECT_EQ(again.kvs[0].version, 1);
  EXPECT_EQ(again.kvs[0].create_revision, 6);
}

TEST_F(StoreTest, ReadsAtOldRevisionsAndErrors) {
  ASSERT_TRUE(store_->Put("/k", "v1").ok());  // 2
  ASSERT_TRUE(store_->Put("/k", "v2").ok());  // 3
  ASSERT_TRUE(store_->Delete("/k").ok());     // 4
  EXPECT_EQ(*Get(*store_, "/k", "", 2).kvs.at(0).value, "v1");
  EXPECT_EQ(*Get(*store_, "/k", "", 3).kvs.at(0).value, "v2");
  EXPECT_TRUE(Get(*store_, "/k", "", 4).kvs.empty());
  RangeRequest r;
  r.key = "/k";
  r.revision = 99;
  EXPECT_EQ(store_->Range(r).status(), errors::FutureRev());
  r.key = "";
  r.revision = 0;
  EXPECT_EQ(store_->Range(r).status(), errors::EmptyKey());
}

TEST_F(StoreTest, RangeLimitCountSortAndFilters) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->Put("/p/" + std::to_string(i), std::string(1, char('j' - i))).ok());
  ASSERT_TRUE(store_->Put("/q", "x").ok());
  RangeRequest r;
  r.key = "/p/";
  r.range_end = Prefix("/p/");
  r.limit = 3;
  auto res = store_->Range(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->kvs.size(), 3u);
  EXPECT_TRUE(res->more);
  EXPECT_EQ(res->count, 10);
  EXPECT_EQ(res->kvs[0].key, "/p/0");
  r.sort_order = SortOrder::kDescend;
  res = store_->Range(r);
  EXPECT_EQ(res->kvs[0].key, "/p/9");
  r.sort_target = SortTarget::kValue;
  r.sort_order = SortOrder::kAscend;
  r.limit = 1;
  res = store_->Range(r);
  EXPECT_EQ(*res->kvs[0].value, "a");  // "/p/9" holds 'a'
  r = RangeRequest{};
  r.key = "/p/";
  r.range_end = Prefix("/p/");
  r.count_only = true;
  res = store_->Range(r);
  EXPECT_EQ(res->count, 10);
  EXPECT_TRUE(res->kvs.empty());
  r.count_only = false;
  r.keys_only = true;
  r.min_mod_revision = 10;
  res = store_->Range(r);
  EXPECT_EQ(res->kvs.size(), 2u);  // revisions 10 and 11
  EXPECT_FALSE(res->kvs[0].value);
  // "from key": key "\0" with range_end "\0" is everything.
  r = RangeRequest{};
  r.key = std::string(1, '\0');
  r.range_end = std::string(1, '\0');
  EXPECT_EQ(store_->Range(r)->count, 11);
}

TEST_F(StoreTest, TxnCompareAndSwapConflicts) {
  auto created = store_->Put("/obj", "v1");
  int64_t rev = created->revision;
  TxnRequest update;
  update.compare.push_back(ModEquals("/obj", rev));
  update.success.push_back(PutOp("/obj", "v2"));
  update.failure.push_back(GetOp("/obj"));
  auto r1 = store_->TxnSync(update);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1->succeeded);
  // The same update again must fail: the object moved on (optimistic concurrency).
  auto r2 = store_->TxnSync(update);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->succeeded);
  auto& got = std::get<RangeResponse>(r2->responses.at(0).op);
  EXPECT_EQ(*got.kvs.at(0).value, "v2");
  // Create-if-absent: MOD == 0 on a missing key succeeds exactly once.
  TxnRequest create;
  create.compare.push_back(ModEquals("/new", 0));
  create.success.push_back(PutOp("/new", "x"));
  EXPECT_TRUE(store_->TxnSync(create)->succeeded);
  EXPECT_FALSE(store_->TxnSync(create)->succeeded);
}

TEST_F(StoreTest, TxnAllOpsShareOneRevisionAndNestedTxns) {
  ASSERT_TRUE(store_->Put("/a", "0").ok());
  TxnRequest t;
  t.success.push_back(PutOp("/x", "1"));
  t.success.push_back(PutOp("/y", "1"));
  auto inner = std::make_shared<TxnRequest>();
  inner->compare.push_back(ModEquals("/a", 0));  // false: /a exists
  inner->success.push_back(PutOp("/z", "then"));
  inner->failure.push_back(PutOp("/z", "else"));  // same key in the other branch is allowed
  t.success.push_back(RequestOp{inner});
  t.success.push_back(GetOp("/x"));  // reads see the txn's own earlier writes
  auto r = store_->TxnSync(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->revision, 3);
  auto nested = std::get<std::shared_ptr<TxnResponse>>(r->responses.at(2).op);
  EXPECT_FALSE(nested->succeeded);
  EXPECT_EQ(*Get(*store_, "/z").kvs.at(0).value, "else");
  EXPECT_EQ(std::get<RangeResponse>(r->responses.at(3).op).kvs.at(0).mod_revision, 3);
  for (auto k : {"/x", "/y", "/z"}) EXPECT_EQ(Get(*store_, k).kvs.at(0).mod_revision, 3);
}

TEST_F(StoreTest, TxnValidationErrorsChangeNothing) {
  ASSERT_TRUE(store_->Put("/a", "0").ok());
  int64_t before = store_->Status().revision;
  TxnRequest dup;
  dup.success.push_back(PutOp("/d", "1"));
  dup.success.push_back(PutOp("/d", "2"));
  EXPECT_EQ(store_->TxnSync(dup).status(), errors::DuplicateKey());
  TxnRequest put_in_deleted;
  put_in_deleted.success.push_back(DelOp("/c", "/e"));
  put_in_deleted.success.push_back(PutOp("/d", "2"));
  EXPECT_EQ(store_->TxnSync(put_in_deleted).status(), errors::DuplicateKey());
  TxnRequest many;
  for (int i = 0; i < 129; ++i) many.success.push_back(PutOp("/m" + std::to_string(i), "v"));
  EXPECT_EQ(store_->TxnSync(many).status(), errors::TooManyOps());
  TxnRequest bad_lease;
  bad_lease.success.push_back(PutOp("/l1", "v"));
  bad_lease.success.push_back(PutOp("/l2", "v", 12345));
  EXPECT_EQ(store_->TxnSync(bad_lease).status(), errors::LeaseNotFound());
  PutRequest ignore;
  ignore.key = "/missing";
  ignore.ignore_value = true;
  TxnRequest iv;
  iv.success.push_back(RequestOp{ignore});
  EXPECT_EQ(store_->TxnSync(iv).status(), errors::KeyNotFound());
  EXPECT_EQ(store_->Status().revision, before);
  EXPECT_TRUE(Get(*store_, "/l1").kvs.empty());
}

TEST_F(StoreTest, IgnoreValueAndIgnoreLeaseKeepOldFields) {
  auto lease = store_->LeaseGrantSync(0, 60);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store_->Put("/k", "keep", lease->id).ok());
  PutRequest p;
  p.key = "/k";
  p.ignore_value = true;
  p.ignore_lease = true;
  p.prev_kv = true;
  TxnRequest t;
  t.success.push_back(RequestOp{p});
  auto r = store_->TxnSync(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto kv = Get(*store_, "/k").kvs.at(0);
  EXPECT_EQ(*kv.value, "keep");
  EXPECT_EQ(kv.lease, lease->id);
  EXPECT_EQ(kv.version, 2);
  EXPECT_EQ(*std::get<PutResponse>(r->responses[0].op).prev_kv->value, "keep");
}

// Collects watch events on a background-free loop: Next() until empty, waiting on wake.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  std::function<void()> Wake() {
    return [this] {
      std::lock_guard l(mu);
      woken = true;
      cv.notify_all();
    };
  }
  std::vector<Event> Take(Watcher& w, size_t want, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::vector<Event> got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.size() < want) {
      auto b = w.Next(100);
      if (b.compact_revision) break;
      if (!b.events.empty()) {
        got.insert(got.end(), b.events.begin(), b.events.end());
        continue;
      }
      std::unique_lock l(mu);
      if (!cv.wait_until(l, deadline, [&] { return woken; })) break;
      woken = false;
    }
    return got;
  }
};

TEST_F(StoreTest, WatchDeliversInOrderWithPrevKvAndFilters) {
  Collector c;
  WatchOptions o;
  o.key = "/w/";
  o.range_end = Prefix("/w/");
  o.prev_kv = true;
  auto w = store_->Watch(o, c.Wake());
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(store_->Put("/w/" + std::to_string(i % 5), std::to_string(i)).ok());
    ASSERT_TRUE(store_->Put("/other", "x").ok());
    ASSERT_TRUE(store_->Delete("/w/", Prefix("/w/")).ok());
  });
  auto events = c.Take(*w, 55);
  writer.join();
  ASSERT_EQ(events.size(), 55u);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GE(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
  }
  EXPECT_EQ(*events[7].kv.value, "7");
  EXPECT_EQ(*events[7].prev_kv->value, "2");
  EXPECT_EQ(events[54].type, Event::Type::kDelete);
  // The five deletes share one revision.
  EXPECT_EQ(events[50].kv.mod_revision, events[54].kv.mod_revision);

  WatchOptions only_deletes = o;
  only_deletes.start_revision = 2;
  only_deletes.no_put = true;
  Collector c2;
  auto w2 = store_->Watch(only_deletes, c2.Wake());
  auto dels = c2.Take(*w2, 5);
  ASSERT_EQ(dels.size(), 5u);
  for (auto& e : dels) EXPECT_EQ(e.type, Event::Type::kDelete);
}

TEST_F(StoreTest, WatchResumesFromRevisionAndReportsCompaction) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->Put("/r", std::to_string(i)).ok());  // revisions 2..11
  Collector c;
  WatchOptions o;
  o.key = "/r";
  o.start_revision = 5;
  auto w = store_->Watch(o, c.Wake());
  auto events = c.Take(*w, 7);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events.front().kv.mod_revision, 5);
  EXPECT_EQ(events.back().kv.mod_revision, 11);
  EXPECT_EQ(w->next_revision(), 12);

  ASSERT_TRUE(store_->CompactSync(8).ok());
  o.start_revision = 7;  // below the compaction: the watch learns it was compacted
  auto old = store_->Watch(o, [] {});
  auto b = old->Next(10);
  EXPECT_EQ(b.compact_revision, 8);
  o.start_revision = 8;  // at the compaction revision is still readable
  auto at = store_->Watch(o, [] {});
  EXPECT_EQ(at->Next(10).events.size(), 4u);
  // A future start revision waits for it.
  o.start_revision = 13;
  Collector cf;
  auto fut = store_->Watch(o, cf.Wake());
  EXPECT_TRUE(fut->Next(10).events.empty());
  ASSERT_TRUE(store_->Put("/r", "12").ok());  // revision 12: not delivered
  ASSERT_TRUE(store_->Put("/r", "13").ok());  // revision 13
  auto f = cf.Take(*fut, 1);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kv.mod_revision, 13);
}

TEST_F(StoreTest, CompactionKeepsLatestAndRejectsOldReads) {
  ASSERT_TRUE(store_->Put("/c", "1").ok());  // 2
  ASSERT_TRUE(store_->Put("/c", "2").ok());  // 3
  ASSERT_TRUE(store_->Put("/gone", "x").ok());  // 4
  ASSERT_TRUE(store_->Delete("/gone").ok());  // 5
  ASSERT_TRUE(store_->Put("/c", "3").ok());  // 6
  ASSERT_TRUE(store_->CompactSync(5, true).ok());
  RangeRequest r;
  r.key = "/c";
  r.revision = 4;
  EXPECT_EQ(store_->Range(r).status(), errors::Compacted());
  EXPECT_EQ(*Get(*store_, "/c", "", 5).kvs.at(0).value, "2");
  EXPECT_EQ(*Get(*store_, "/c").kvs.at(0).value, "3");
  EXPECT_EQ(store_->CompactSync(5).status(), errors::Compacted());
  EXPECT_EQ(store_->CompactSync(100).status(), errors::FutureRev());
  Reopen();  // compaction is durable, and history above it survives
  EXPECT_EQ(store_->Status().compact_revision, 5);
  EXPECT_EQ(*Get(*store_, "/c", "", 5).kvs.at(0).value, "2");
  EXPECT_EQ(store_->Status().revision, 6);
}

TEST_F(StoreTest, RepeatedCompactionsDropEverySupersededRow) {
  // Compaction visits only keys written since the previous one; a version written before it and
  // superseded after it must still go, and a key untouched since keeps its only version.
  ASSERT_TRUE(store_->Put("/a", "1").ok());     // 2
  ASSERT_TRUE(store_->Put("/b", "1").ok());     // 3
  ASSERT_TRUE(store_->Put("/gone", "x").ok());  // 4
  ASSERT_TRUE(store_->CompactSync(4, true).ok());
  ASSERT_TRUE(store_->Put("/a", "2").ok());     // 5
  ASSERT_TRUE(store_->Delete("/gone").ok());    // 6
  ASSERT_TRUE(store_->Put("/c", "1").ok());     // 7
  ASSERT_TRUE(store_->CompactSync(7, true).ok());
  EXPECT_EQ(*Get(*store_, "/b").kvs.at(0).value, "1");
  EXPECT_EQ(*Get(*store_, "/a").kvs.at(0).value, "2");
  EXPECT_EQ(Get(*store_, "/gone").count, 0);
  // On disk: one row per live key (/a at 5, /b at 3, /c at 7), nothing else.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/state.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st_rows = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT group_concat(rev) FROM (SELECT rev FROM kv_log ORDER BY rev)", -1,
                               &st_rows, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st_rows), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st_rows, 0)), "3,5,7");
  sqlite3_finalize(st_rows);
  sqlite3_close(db);
  Reopen();
  EXPECT_EQ(Get(*store_, "/", Prefix("/")).count, 3);
  EXPECT_EQ(*Get(*store_, "/b").kvs.at(0).value, "1");
  auto st = store_->Status();
  EXPECT_EQ(st.revision, 7);
  EXPECT_EQ(st.compact_revision, 7);
  RangeRequest r;
  r.key = "/a";
  r.revision = 5;
  EXPECT_EQ(store_->Range(r).status(), errors::Compacted());
}

TEST_F(StoreTest, CompactionInStepsDropsWhatOneAtOnceWould) {
  // The writer prunes a compaction's versions in steps of at least 128 revisions (more when
  // idle); 1,000 revisions over 500 keys take several. Until it is done, nothing may differ to
  // a client.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store_->Put("/k/" + std::to_string(i % 500), std::to_string(i)).ok());
  ASSERT_TRUE(store_->Delete("/k/7").ok());  // a tombstone above the first compaction
  ASSERT_TRUE(store_->Delete("/k/8").ok());
  const int64_t head = store_->Status().revision;  // 1003
  ASSERT_TRUE(store_->CompactSync(900).ok());  // answered before the pruning is done
  int64_t hash_rev = 0;
  auto pending = store_->HashKV(0, &hash_rev);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(hash_rev, head);
  EXPECT_EQ(Get(*store_, "/k/", Prefix("/k/"), 900).count, 500);
  Reopen();  // recovery prunes the whole compaction at once
  auto whole = store_->HashKV(0, &hash_rev);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*pending, *whole);

  // Rows left on disk after a physical compaction at 1002: every version above it, and the
  // newest at or below it of each key that was not deleted by then.
  const int64_t at = head - 1;
  ASSERT_TRUE(store_->CompactSync(at, true).ok());
  const int64_t live_at = Get(*store_, "/k/", Prefix("/k/"), at).count;
  EXPECT_EQ(live_at, 499);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/state.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM kv_log", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), live_at + (head - at));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, CompactionShrinksTheDatabase) {
  std::string big(4096, 'x');
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(store_->Put("/big/" + std::to_string(i % 10), big).ok());
  auto before = store_->Status();
  ASSERT_TRUE(store_->CompactSync(before.revision, true).ok());
  auto after = store_->Status();
  EXPECT_LT(after.db_size, before.db_size / 4) << before.db_size << " -> " << after.db_size;
  EXPECT_EQ(Get(*store_, "/big/", Prefix("/big/")).count, 10);
}

TEST(StoreAutoCompaction, BoundsHistoryOnItsOwn) {
  auto dir = TempDir();
  // History older than the interval (1 s here) goes at the latest on the history-size trigger
  // (10 x retain) or the timer; the newest `retain` revisions stay.
  auto store = Open(dir, /*compaction_interval_ms=*/1'000, /*retain=*/20);
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(store->Put("/auto/" + std::to_string(i % 7), std::to_string(i)).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto bounded = [&] {
    auto st = store->Status();
    return st.compact_revision >= st.revision - 20 - 10 * 20;
  };
  while (!bounded() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto st = store->Status();
  EXPECT_GT(st.compact_revision, 1);
  EXPECT_GE(st.compact_revision, st.revision - 20 - 10 * 20);
  EXPECT_EQ(Get(*store, "/auto/", Prefix("/auto/")).count, 7);
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(StoreWal, StaysBoundedUnderSustainedWrites) {
  auto dir = TempDir();
  StoreOptions o;
  o.data_dir = dir;
  o.durability = Durability::kRelaxed;  // same code path, quicker fsyncs for an 80 MB write load
  o.compaction_interval_ms = 100;
  o.compaction_retain_revisions = 100;
  auto store = std::move(OpenSqliteStore(o).value());
  std::string value(4096, 'w');
  int64_t max_wal = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(store->Put("/wal/" + std::to_string(i % 50), value).ok());
    if (i % 1000 == 0) {
      std::error_code ec;
      max_wal = std::max<int64_t>(max_wal, std::filesystem::file_size(dir + "/state.db-wal", ec));
    }
  }
  // 80 MB went through the WAL; checkpoints keep it to a few MiB, and compaction keeps the
  // database near the live data (50 keys x 4 KiB) plus the retained history.
  EXPECT_LT(max_wal, 24 << 20);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Status().db_size > (8 << 20) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(store->Status().db_size, 8 << 20);
  // Once writes have paused after a compaction, the idle writer truncates the WAL file.
  auto wal_size = [&] {
    std::error_code ec;
    auto n = std::filesystem::file_size(dir + "/state.db-wal", ec);
    return ec ? 0 : static_cast<int64_t>(n);
  };
  while (wal_size() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(wal_size(), 0);
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, LeasesExpireTheirKeys) {
  // Lease deadlines run on the store's clock: a fake one expires the lease without waiting its
  // TTL out. When a lease is due is the lessor's decision (lessor_test.cc, no real time); here
  // only that the store's background pass revokes a due lease with its keys, which the test
  // waits for without a fixed sleep (the pass runs every 250 ms).
  kite::testing::FakeClock clock;
  store_.reset();
  store_ = Open(dir_, 0, 1000, &clock);
  auto l = store_->LeaseGrantSync(0, 1);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->ttl, kMinLeaseTtl);  // raised to the minimum, like etcd
  ASSERT_TRUE(store_->Put("/lease/a", "1", l->id).ok());
  ASSERT_TRUE(store_->Put("/lease/b", "1", l->id).ok());
  auto ttl = store_->LeaseTimeToLive(l->id, true);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->keys, (std::vector<std::string>{"/lease/a", "/lease/b"}));
  EXPECT_EQ(ttl->ttl, kMinLeaseTtl);
  // The time left counts down with the clock; a keep-alive restarts the full TTL.
  clock.Advance(std::chrono::seconds(kMinLeaseTtl - 1));
  EXPECT_EQ(store_->LeaseTimeToLive(l->id, false)->ttl, 1);
  EXPECT_EQ(Get(*store_, "/lease/", Prefix("/lease/")).count, 2);
  EXPECT_EQ(store_->LeaseKeepAlive(l->id)->ttl, kMinLeaseTtl);
  clock.Advance(std::chrono::seconds(kMinLeaseTtl - 1));
  EXPECT_EQ(store_->LeaseTimeToLive(l->id, false)->ttl, 1);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(kite::testing::Eventually([&] { return Get(*store_, "/lease/", Prefix("/lease/")).count == 0; }));
  EXPECT_EQ(store_->LeaseTimeToLive(l->id, false).status(), errors::LeaseNotFound());
  EXPECT_EQ(store_->LeaseRevokeSync(l->id).status(), errors::LeaseNotFound());
}

TEST_F(StoreTest, LeaseGrantRevokeKeepAliveAndErrors) {
  auto l = store_->LeaseGrantSync(77, 60);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->id, 77);
  EXPECT_EQ(store_->LeaseGrantSync(77, 60).status(), errors::LeaseExist());
  EXPECT_EQ(store_->LeaseGrantSync(0, kMaxLeaseTtl + 1).status(), errors::LeaseTtlTooLarge());
  EXPECT_EQ(store_->LeaseKeepAlive(77)->ttl, 60);
  EXPECT_EQ(store_->LeaseKeepAlive(78).status(), errors::LeaseNotFound());
  ASSERT_TRUE(store_->Put("/x", "1", 77).ok());
  ASSERT_TRUE(store_->Put("/y", "1", 77).ok());
  int64_t before = store_->Status().revision;
  auto rev = store_->LeaseRevokeSync(77);
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, before + 1);  // both deletions in one revision
  EXPECT_TRUE(Get(*store_, "/x").kvs.empty());
  EXPECT_TRUE(store_->Leases().empty());
}

TEST_F(StoreTest, RecoveryAfterRestartKeepsEverything) {
  auto l = store_->LeaseGrantSync(0, 600);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store_->Put("/rec/" + std::to_string(i % 20), std::to_string(i)).ok());
  ASSERT_TRUE(store_->Put("/rec/leased", "v", l->id).ok());
  ASSERT_TRUE(store_->Delete("/rec/0").ok());
  auto before = store_->Status();
  auto hash_rev = int64_t{0};
  auto hash = store_->HashKV(0, &hash_rev);
  Reopen();
  auto after = store_->Status();
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_EQ(after.cluster_id, before.cluster_id);
  EXPECT_EQ(after.keys, before.keys);
  EXPECT_EQ(*store_->HashKV(0, &hash_rev), *hash);
  EXPECT_EQ(Get(*store_, "/rec/", Prefix("/rec/")).count, 20);
  auto ttl = store_->LeaseTimeToLive(l->id, true);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->keys, std::vector<std::string>{"/rec/leased"});
  // The revision after the last write survives a restart even if that write was a delete
  // that compaction removed (a decreasing revision would break every watcher).
  ASSERT_TRUE(store_->Delete("/rec/", Prefix("/rec/")).ok());
  int64_t rev = store_->Status().revision;
  ASSERT_TRUE(store_->CompactSync(rev, true).ok());
  Reopen();
  EXPECT_EQ(store_->Status().revision, rev);
  EXPECT_EQ(store_->Put("/next", "v")->revision, rev + 1);
}

TEST_F(StoreTest, ConcurrentWritersAreGroupCommittedAndAllDurable) {
  constexpr int kThreads = 16, kPer = 50;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        if (store_->Put("/cc/" + std::to_string(t), std::to_string(i)).ok()) ++ok;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPer);
  EXPECT_EQ(store_->Status().revision, 1 + kThreads * kPer);
  Reopen();
  auto all = Get(*store_, "/cc/", Prefix("/cc/"));
  ASSERT_EQ(all.count, kThreads);
  for (auto& kv : all.kvs) EXPECT_EQ(*kv.value, std::to_string(kPer - 1));
}

TEST_F(StoreTest, SnapshotAndDefragment) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(store_->Put("/s/" + std::to_string(i), "v").ok());
  std::string snap = dir_ + "/snap.db";
  ASSERT_TRUE(store_->Snapshot(snap).ok());
  EXPECT_GT(std::filesystem::file_size(snap), 0u);
  EXPECT_TRUE(store_->Defragment().ok());
  EXPECT_EQ(Get(*store_, "/s/", Prefix("/s/")).count, 50);
}

}  // namespace
}  // namespace kite::datastore
