// The datastore when space runs out (the quota; a failed commit is undone in memory), the
// history window automatic compaction keeps, and the modes of its files. A really full disk is
// shown by tests/integration/full_disk.sh (it mounts a small tmpfs, which needs root).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "base/testing/fake_clock.h"
#include "datastore/errors.h"
#include "datastore/lessor.h"
#include "datastore/mvcc.h"
#include "datastore/sqlite/sqlite_store.h"
#include "datastore/store.h"
#include "datastore/writer.h"
#include "tests/unit/datastore/test_util.h"
#include "tests/unit/eventually.h"

namespace kite::datastore {
namespace {

using namespace testing;
namespace fs = std::filesystem;

TxnRequest PutTxn(const std::string& k, const std::string& v, int64_t lease = 0) {
  TxnRequest t;
  t.success.push_back(PutOp(k, v, lease));
  return t;
}

TxnRequest DelTxn(const std::string& k) {
  TxnRequest t;
  t.success.push_back(DelOp(k));
  return t;
}

// Everything a reader can observe of an Mvcc, as text.
std::string Dump(const Mvcc& m, Lessor& lessor) {
  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  std::string out = "rev " + std::to_string(m.visible_revision()) + " keys " + std::to_string(m.live_keys()) +
                    " hash " + std::to_string(m.Hash(m.visible_revision())) + "\n";
  const auto range = m.Range(all);
  for (const auto& kv : range->kvs) {
    out += kv.key + "=" + kv.value_or_empty() + " c" + std::to_string(kv.create_revision) + " m" +
           std::to_string(kv.mod_revision) + " v" + std::to_string(kv.version) + " l" + std::to_string(kv.lease) + "\n";
  }
  for (int64_t id : lessor.List()) {
    out += "lease " + std::to_string(id) + ":";
    const auto info = lessor.TimeToLive(id, true);
    for (const auto& k : info->keys) out += " " + k;
    out += "\n";
  }
  return out;
}

TEST(MvccRollback, UndoesEveryUnpublishedChange) {
  Lessor lessor;
  Mvcc m(&lessor);
  lessor.Add(7, 60);
  lessor.Add(8, 60);
  std::vector<LogRow> rows;
  {
    Mvcc::WriteBatch wb(m);
    ASSERT_TRUE(wb.Txn(PutTxn("a", "1", 7), &rows).ok());
    ASSERT_TRUE(wb.Txn(PutTxn("b", "1"), &rows).ok());
    ASSERT_TRUE(wb.Txn(PutTxn("c", "1", 8), &rows).ok());
    ASSERT_TRUE(wb.Txn(PutTxn("a", "2", 7), &rows).ok());
  }
  m.Publish();
  const std::string before = Dump(m, lessor);
  const int64_t visible = m.visible_revision();

  {
    // A batch like one whose commit fails: overwrites with and without a lease change, a
    // delete of a leased key, a new key, a key written twice, and a compaction started.
    Mvcc::WriteBatch wb(m);
    const int64_t compact = m.compact_revision(), prune = m.prune_to();
    TxnRequest t = PutTxn("a", "3", 8);
    t.success.push_back(DelOp("b"));
    t.success.push_back(PutOp("d", "1", 7));
    ASSERT_TRUE(wb.Txn(t, &rows).ok());
    ASSERT_TRUE(wb.Txn(DelTxn("c"), &rows).ok());
    ASSERT_TRUE(wb.Txn(PutTxn("d", "2"), &rows).ok());
    ASSERT_TRUE(wb.Txn(PutTxn("b", "again"), &rows).ok());
    wb.StartCompact(visible);
    EXPECT_EQ(wb.head(), visible + 4);
    wb.Rollback();
    wb.RestoreCompaction(compact, prune);
  }
  EXPECT_EQ(Dump(m, lessor), before);
  EXPECT_EQ(m.compact_revision(), 0);
  EXPECT_FALSE(m.prune_pending());
  EXPECT_EQ(m.head(), visible);

  // The next write takes the next revision, as if the failed batch never happened.
  {
    Mvcc::WriteBatch wb(m);
    auto r = wb.Txn(PutTxn("e", "1"), &rows);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->revision, visible + 1);
  }
  m.Publish();
  EXPECT_EQ(m.live_keys(), 4);
}

struct SpaceStore {
  std::string dir = TempDir();
  std::unique_ptr<Store> store;
  explicit SpaceStore(int64_t quota) {
    StoreOptions o;
    o.data_dir = dir;
    o.compaction_interval_ms = 0;
    o.quota_bytes = quota;
    store = std::move(OpenSqliteStore(o).value());
  }
  ~SpaceStore() {
    store.reset();
    fs::remove_all(dir);
  }
};

TEST(StoreQuota, RefusesWhatAddsDataPastTheQuotaAndResumesOnItsOwn) {
  // The quota a fresh store starts well under (the WAL of its first writes counts too).
  SpaceStore s(/*quota=*/1 << 20);
  const std::string value(16 << 10, 'q');
  std::vector<std::string> stored;
  Status refused;
  for (int i = 0; i < 200 && refused.ok(); ++i) {
    auto r = s.store->Put("/q/" + std::to_string(i), value);
    if (r.ok()) stored.push_back("/q/" + std::to_string(i));
    else refused = r.status();
  }
  ASSERT_FALSE(refused.ok()) << "1 MiB quota never reached";
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_EQ(refused.message(), "etcdserver: mvcc: database space exceeded");
  EXPECT_TRUE(s.store->NoSpaceAlarm());
  EXPECT_TRUE(s.store->Status().nospace_alarm);
  const int64_t rev = s.store->CurrentRevision();

  // Further puts and lease grants are refused and change nothing; reads go on.
  EXPECT_EQ(s.store->Put("/q/more", "x").status().code(), Code::kResourceExhausted);
  EXPECT_EQ(s.store->LeaseGrantSync(0, 60).status().code(), Code::kResourceExhausted);
  EXPECT_EQ(s.store->CurrentRevision(), rev);
  EXPECT_EQ(Get(*s.store, "/q/", Prefix("/q/")).count, static_cast<int64_t>(stored.size()));

  // Deletes and compaction pass (they are how space comes back); once the files shrank, puts
  // are stored again and the alarm clears without anyone disarming it.
  ASSERT_TRUE(s.store->Delete("/q/", Prefix("/q/")).ok());
  ASSERT_TRUE(s.store->CompactSync(s.store->CurrentRevision(), /*physical=*/true).ok());
  ASSERT_TRUE(s.store->Put("/q/after", "x").ok()) << s.store->Status().db_size;
  EXPECT_FALSE(s.store->NoSpaceAlarm());

  // etcd's Alarm ACTIVATE / DEACTIVATE.
  s.store->SetNoSpaceAlarm(true);
  EXPECT_TRUE(s.store->NoSpaceAlarm());
  s.store->SetNoSpaceAlarm(false);
  EXPECT_FALSE(s.store->NoSpaceAlarm());
}

// A backend whose disk is full while `full` is set, with `free` bytes reported free.
class FullDiskBackend : public WriteBackend {
 public:
  std::atomic<bool> full{false};
  std::atomic<int64_t> free{0};
  std::atomic<int> commits_tried{0};

  Status CommitBatch(const std::vector<LogRow>& rows, const std::vector<std::pair<int64_t, int64_t>>&,
                     const std::vector<int64_t>&, bool, size_t) override {
    if (rows.empty()) return Status::Ok();
    ++commits_tried;
    return full ? Status(Code::kResourceExhausted, "COMMIT: database or disk is full") : Status::Ok();
  }
  Status DefragmentFiles() override { return Status::Ok(); }
  int64_t FileBytes() const override { return 0; }
  int64_t FreeBytes() const override { return free; }
  void RowsCompacted(std::vector<int64_t>, bool) override {}
  bool RowsPending() const override { return false; }
  bool AfterBatch(bool) override { return true; }
  void WaitForWork(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                   const std::function<bool()>& has_work, bool) override {
    cv.wait(lock, has_work);
  }
};

Status WriterPut(Writer& w, const std::string& k) {
  std::promise<Status> p;
  w.Txn(PutTxn(k, "v"), [&p](Result<TxnResponse> r) { p.set_value(r.status()); });
  return p.get_future().get();
}

TEST(StoreFullDisk, AlarmStaysUntilTheDiskHasRoomAgain) {
  Lessor lessor;
  Mvcc mvcc(&lessor);
  WatchHub hub(&mvcc);
  FullDiskBackend disk;
  Writer w({}, &mvcc, &lessor, &hub, &disk);
  w.Start();
  ASSERT_TRUE(WriterPut(w, "/a").ok());

  disk.full = true;
  EXPECT_EQ(WriterPut(w, "/b").code(), Code::kResourceExhausted);
  EXPECT_TRUE(w.NoSpaceAlarm());
  EXPECT_EQ(disk.commits_tried, 2);

  // A little room came back (what a failed commit left, say): a small write would fit, but the
  // alarm must not flap, so writes are refused without being tried.
  disk.full = false;
  disk.free = 64 << 10;
  EXPECT_EQ(WriterPut(w, "/c").code(), Code::kResourceExhausted);
  EXPECT_TRUE(w.NoSpaceAlarm());
  EXPECT_EQ(disk.commits_tried, 2);

  // Real room: the next write is stored and clears the alarm.
  disk.free = 64 << 20;
  EXPECT_TRUE(WriterPut(w, "/d").ok());
  EXPECT_FALSE(w.NoSpaceAlarm());

  // Disarming by hand lets writes be tried at once.
  disk.full = true;
  EXPECT_EQ(WriterPut(w, "/e").code(), Code::kResourceExhausted);
  disk.full = false;
  disk.free = 0;
  w.SetNoSpaceAlarm(false);
  EXPECT_TRUE(WriterPut(w, "/f").ok());
  w.Stop();
}

TEST(StoreQuota, NegativeDisablesIt) {
  SpaceStore s(/*quota=*/-1);
  const std::string value(64 << 10, 'n');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(s.store->Put("/n/" + std::to_string(i), value).ok());
  EXPECT_FALSE(s.store->NoSpaceAlarm());
}

TEST(StoreAutoCompaction, KeepsTheLastIntervalOfHistory) {
  // A paged list reads every page at the revision of its first one. Before, a burst of writes
  // past 10 x retain revisions compacted that revision away within a quarter second and the
  // next page failed (a 410 on the Kubernetes API); now nothing younger than the interval goes.
  // The interval runs on the store's clock: a fake one that stands still until the test moves it.
  kite::testing::FakeClock clock;
  auto dir = TempDir();
  const auto interval = std::chrono::milliseconds(3'000);
  auto store = Open(dir, interval.count(), /*retain=*/10, &clock);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(store->Put("/page/" + std::to_string(i), "v").ok());
  RangeRequest page;
  page.key = "/page/";
  page.range_end = Prefix("/page/");
  page.limit = 10;
  auto first = store->Range(page);
  ASSERT_TRUE(first.ok());
  page.revision = first->revision;

  // The burst: 30 x retain revisions in transactions queued at once.
  std::atomic<int> left{300};
  for (int i = 0; i < 300; ++i) {
    store->Txn(PutTxn("/burst/" + std::to_string(i % 20), std::to_string(i)), [&](Result<TxnResponse>) { --left; });
  }
  ASSERT_TRUE(kite::testing::Eventually([&] { return left == 0; }));
  // A few background passes (run here; the store's thread makes one every 250 ms of real time)
  // while no time passes on the store's clock: history is 30 x retain, so the size trigger
  // fires, but the interval holds the page's revision, and no compaction is queued.
  for (int pass = 0; pass < 3; ++pass) EXPECT_EQ(RunBackgroundPass(*store), 0);
  for (int p = 1; p < 5; ++p) {
    page.key = "/page/" + std::to_string(p);  // any later page
    auto next = store->Range(page);
    ASSERT_TRUE(next.ok()) << next.status().message();
  }
  EXPECT_LE(store->Status().compact_revision, page.revision);

  // Once the interval has passed, the history beyond `retain` goes at the next pass (this one,
  // or the store thread's if it came first).
  clock.Advance(interval);
  RunBackgroundPass(*store);
  EXPECT_TRUE(kite::testing::Eventually([&] { return store->Status().compact_revision > page.revision; }));
  EXPECT_EQ(store->Range(page).status().message(), errors::Compacted().message());
  store.reset();
  fs::remove_all(dir);
}

mode_t Mode(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(StoreFiles, ArePrivateToTheUser) {
  // Whatever the process umask (0022 here, as a shell's): an existing data dir is tightened
  // and the files the store creates get no group or other bits.
  auto dir = TempDir();
  fs::permissions(dir, fs::perms(0755));
  fs::create_directories(fs::path(dir) / "old");
  std::ofstream(fs::path(dir) / "old" / "left-over") << "x";
  fs::permissions(fs::path(dir) / "old" / "left-over", fs::perms(0644));
  const mode_t old_umask = ::umask(022);
  auto store = Open(dir);
  ASSERT_TRUE(store->Put("/secret", "s").ok());
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EXPECT_EQ(Mode(e.path()) & 077, 0u) << e.path() << " mode " << std::oct << Mode(e.path());
  }
  EXPECT_EQ(Mode(dir) & 077, 0u);
  EXPECT_TRUE(fs::exists(fs::path(dir) / "state.db-wal"));
  store.reset();
  ::umask(old_umask);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kite::datastore
