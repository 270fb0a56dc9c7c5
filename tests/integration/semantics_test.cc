// semantics: what the kube-apiserver and client libraries rely on but etcdctl does not show —
// watch stream details (created/progress/cancel responses, filters, compaction), range
// options, nested and range-compare transactions, lease keep-alive. The same binary runs
// against kite-server and a real etcd (KITE_ETCD_ENDPOINT=host:port); every expectation below
// is what etcd does. Each test uses its own key prefix, so the tests share one server; the
// compaction in WatchFromCompactedRevision runs after the tests that read history.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace {

using etcdserverpb::Compare;

std::chrono::system_clock::time_point Deadline(int seconds = 10) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

std::string PrefixEnd(std::string p) {
  p.back()++;
  return p;
}

class Semantics : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ep = std::getenv("KITE_ETCD_ENDPOINT");
    ASSERT_NE(ep, nullptr) << "set KITE_ETCD_ENDPOINT=host:port";
    channel_ = grpc::CreateChannel(ep, grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    p_ = std::string("sem/") + info->name() + "/";
  }

  int64_t Put(const std::string& key, const std::string& value, int64_t lease = 0) {
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_lease(lease);
    etcdserverpb::PutResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Put(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.header().revision();
  }
  int64_t Delete(const std::string& key, const std::string& end = "") {
    etcdserverpb::DeleteRangeRequest req;
    req.set_key(key);
    req.set_range_end(end);
    etcdserverpb::DeleteRangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->DeleteRange(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.header().revision();
  }
  etcdserverpb::RangeResponse Range(etcdserverpb::RangeRequest req) {
    etcdserverpb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Range(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    return resp;
  }
  etcdserverpb::RangeRequest Prefix() {
    etcdserverpb::RangeRequest req;
    req.set_key(p_);
    req.set_range_end(PrefixEnd(p_));
    return req;
  }
  int64_t Revision() {
    etcdserverpb::RangeRequest req;
    req.set_key("sem/");
    return Range(req).header().revision();
  }
  etcdserverpb::TxnResponse Txn(const etcdserverpb::TxnRequest& req) {
    etcdserverpb::TxnResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Txn(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    return resp;
  }
  int64_t Compact(int64_t rev) {
    etcdserverpb::CompactionRequest req;
    req.set_revision(rev);
    req.set_physical(true);
    etcdserverpb::CompactionResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Compact(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.header().revision();
  }

  // A watch stream with a deadline; Read() fails the test when nothing arrives in time.
  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> rw;
    ~Stream() {
      ctx.TryCancel();
      if (rw) rw->Finish();
    }
  };
  std::unique_ptr<Stream> OpenWatch() {
    auto s = std::make_unique<Stream>();
    s->ctx.set_deadline(Deadline(20));
    s->rw = watch_->Watch(&s->ctx);
    return s;
  }
  static etcdserverpb::WatchRequest Create(const std::string& key, const std::string& end, int64_t start,
                                           bool prev_kv = false) {
    etcdserverpb::WatchRequest req;
    auto* c = req.mutable_create_request();
    c->set_key(key);
    c->set_range_end(end);
    c->set_start_revision(start);
    c->set_prev_kv(prev_kv);
    return req;
  }
  static etcdserverpb::WatchResponse Read(Stream& s) {
    etcdserverpb::WatchResponse resp;
    EXPECT_TRUE(s.rw->Read(&resp)) << "watch stream ended or timed out";
    return resp;
  }
  // Reads responses until `n` events were collected (skipping non-event responses).
  static std::vector<mvccpb::Event> ReadEvents(Stream& s, size_t n) {
    std::vector<mvccpb::Event> out;
    while (out.size() < n) {
      etcdserverpb::WatchResponse r;
      if (!s.rw->Read(&r)) {
        ADD_FAILURE() << "watch ended after " << out.size() << " of " << n << " events";
        break;
      }
      for (const auto& e : r.events()) out.push_back(e);
    }
    return out;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::string p_;  // this test's key prefix
};

TEST_F(Semantics, HeadersCarryClusterMemberAndRevision) {
  const int64_t rev = Put(p_ + "a", "1");
  etcdserverpb::RangeRequest req;
  req.set_key(p_ + "a");
  auto r = Range(req);
  EXPECT_NE(r.header().cluster_id(), 0u);
  EXPECT_NE(r.header().member_id(), 0u);
  EXPECT_EQ(r.header().revision(), rev);
  etcdserverpb::StatusRequest sreq;
  etcdserverpb::StatusResponse sresp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto maint = etcdserverpb::Maintenance::NewStub(channel_);
  ASSERT_TRUE(maint->Status(&ctx, sreq, &sresp).ok());
  EXPECT_EQ(sresp.header().cluster_id(), r.header().cluster_id());
  EXPECT_EQ(sresp.header().member_id(), r.header().member_id());
  EXPECT_EQ(sresp.leader(), r.header().member_id());
  EXPECT_EQ(sresp.header().revision(), rev);
}

TEST_F(Semantics, PutPrevKvAndRevisions) {
  etcdserverpb::PutRequest req;
  req.set_key(p_ + "k");
  req.set_value("1");
  req.set_prev_kv(true);
  etcdserverpb::PutResponse first;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(kv_->Put(&ctx, req, &first).ok());
  }
  EXPECT_FALSE(first.has_prev_kv()) << "a new key has no previous value";
  req.set_value("2");
  etcdserverpb::PutResponse second;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(kv_->Put(&ctx, req, &second).ok());
  }
  ASSERT_TRUE(second.has_prev_kv());
  EXPECT_EQ(second.prev_kv().value(), "1");
  EXPECT_EQ(second.prev_kv().mod_revision(), first.header().revision());
  EXPECT_EQ(second.prev_kv().create_revision(), first.header().revision());
  EXPECT_EQ(second.prev_kv().version(), 1);
  EXPECT_EQ(second.header().revision(), first.header().revision() + 1);
}

TEST_F(Semantics, RangeOptions) {
  const int64_t r1 = Put(p_ + "a", "3");
  const int64_t r2 = Put(p_ + "b", "1");
  const int64_t r3 = Put(p_ + "c", "2");
  Put(p_ + "a", "4");  // a: version 2, mod r4
  auto all = Prefix();
  auto r = Range(all);
  ASSERT_EQ(r.kvs_size(), 3);
  EXPECT_EQ(r.count(), 3);
  EXPECT_FALSE(r.more());

  auto limited = Prefix();
  limited.set_limit(2);
  r = Range(limited);
  EXPECT_EQ(r.kvs_size(), 2);
  EXPECT_EQ(r.count(), 3);
  EXPECT_TRUE(r.more());

  auto count = Prefix();
  count.set_count_only(true);
  r = Range(count);
  EXPECT_EQ(r.kvs_size(), 0);
  EXPECT_EQ(r.count(), 3);

  auto keys = Prefix();
  keys.set_keys_only(true);
  r = Range(keys);
  ASSERT_EQ(r.kvs_size(), 3);
  EXPECT_EQ(r.kvs(0).value(), "");
  EXPECT_EQ(r.kvs(0).version(), 2);

  auto by_value = Prefix();
  by_value.set_sort_target(etcdserverpb::RangeRequest::VALUE);
  by_value.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  by_value.set_limit(2);
  r = Range(by_value);
  ASSERT_EQ(r.kvs_size(), 2);
  EXPECT_EQ(r.kvs(0).key(), p_ + "a");
  EXPECT_EQ(r.kvs(1).key(), p_ + "c");
  EXPECT_TRUE(r.more());
  EXPECT_EQ(r.count(), 3);

  // Revision filters (applied before limit and count, as etcd does).
  auto created_late = Prefix();
  created_late.set_min_create_revision(r2);
  r = Range(created_late);
  ASSERT_EQ(r.kvs_size(), 2);
  EXPECT_EQ(r.kvs(0).key(), p_ + "b");
  auto modified_early = Prefix();
  modified_early.set_max_mod_revision(r3);
  r = Range(modified_early);
  ASSERT_EQ(r.kvs_size(), 2);
  EXPECT_EQ(r.kvs(0).key(), p_ + "b");

  // A historical read sees the old value and the key set of that revision.
  auto old = Prefix();
  old.set_revision(r1);
  r = Range(old);
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "3");
  EXPECT_EQ(r.count(), 1);

  auto serializable = Prefix();
  serializable.set_serializable(true);
  EXPECT_EQ(Range(serializable).count(), 3);
}

TEST_F(Semantics, FromKeyAndAllKeys) {
  Put(p_ + "x", "1");
  etcdserverpb::RangeRequest req;
  req.set_key(p_ + "x");
  req.set_range_end(std::string(1, '\0'));  // every key >= key
  req.set_count_only(true);
  auto r = Range(req);
  EXPECT_GE(r.count(), 1);
  etcdserverpb::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));  // every key
  all.set_count_only(true);
  EXPECT_GE(Range(all).count(), r.count());
}

TEST_F(Semantics, DeletePrevKvsAndTombstones) {
  Put(p_ + "a", "1");
  Put(p_ + "b", "2");
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(p_);
  req.set_range_end(PrefixEnd(p_));
  req.set_prev_kv(true);
  etcdserverpb::DeleteRangeResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(kv_->DeleteRange(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.deleted(), 2);
  ASSERT_EQ(resp.prev_kvs_size(), 2);
  EXPECT_EQ(resp.prev_kvs(0).key(), p_ + "a");
  EXPECT_EQ(resp.prev_kvs(1).value(), "2");
  // Re-creating restarts version at 1 with a new create revision.
  const int64_t rev = Put(p_ + "a", "again");
  etcdserverpb::RangeRequest get;
  get.set_key(p_ + "a");
  auto r = Range(get);
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).version(), 1);
  EXPECT_EQ(r.kvs(0).create_revision(), rev);
}

TEST_F(Semantics, TxnCompareTargetsAndNested) {
  const int64_t rev = Put(p_ + "a", "v");
  etcdserverpb::TxnRequest req;
  auto add_cmp = [&](Compare::CompareTarget t, Compare::CompareResult res) {
    auto* c = req.add_compare();
    c->set_key(p_ + "a");
    c->set_target(t);
    c->set_result(res);
    return c;
  };
  add_cmp(Compare::VERSION, Compare::EQUAL)->set_version(1);
  add_cmp(Compare::CREATE, Compare::EQUAL)->set_create_revision(rev);
  add_cmp(Compare::MOD, Compare::LESS)->set_mod_revision(rev + 1);
  add_cmp(Compare::VALUE, Compare::NOT_EQUAL)->set_value("w");
  add_cmp(Compare::LEASE, Compare::EQUAL)->set_lease(0);
  // A nested txn in the success branch.
  auto* nested = req.add_success()->mutable_request_txn();
  auto* nc = nested->add_compare();
  nc->set_key(p_ + "missing");
  nc->set_target(Compare::VERSION);
  nc->set_version(0);
  auto* np = nested->add_success()->mutable_request_put();
  np->set_key(p_ + "b");
  np->set_value("from-nested");
  req.add_success()->mutable_request_range()->set_key(p_ + "a");
  auto resp = Txn(req);
  ASSERT_TRUE(resp.succeeded());
  ASSERT_EQ(resp.responses_size(), 2);
  ASSERT_TRUE(resp.responses(0).has_response_txn());
  EXPECT_TRUE(resp.responses(0).response_txn().succeeded());
  // (The nested response's header differs between etcd versions: not checked.)
  ASSERT_EQ(resp.responses(1).response_range().kvs_size(), 1);
  EXPECT_EQ(resp.header().revision(), rev + 1);

  // A compare over a key range holds for every key in it (missing keys compare as zero).
  etcdserverpb::TxnRequest ranged;
  auto* rc = ranged.add_compare();
  rc->set_key(p_);
  rc->set_range_end(PrefixEnd(p_));
  rc->set_target(Compare::VERSION);
  rc->set_result(Compare::GREATER);
  rc->set_version(0);
  ranged.add_failure()->mutable_request_range()->set_key(p_ + "b");
  EXPECT_TRUE(Txn(ranged).succeeded());
  rc->set_version(1);  // b and a are both at version 1: not greater
  EXPECT_FALSE(Txn(ranged).succeeded());
}

TEST_F(Semantics, ReadOnlyAndFailedTxnKeepRevision) {
  const int64_t rev = Put(p_ + "a", "v");
  etcdserverpb::TxnRequest req;
  auto* c = req.add_compare();
  c->set_key(p_ + "a");
  c->set_target(Compare::VALUE);
  c->set_value("other");
  auto resp = Txn(req);
  EXPECT_FALSE(resp.succeeded());
  EXPECT_EQ(resp.header().revision(), rev);
  // A delete of nothing does not create a revision either.
  EXPECT_EQ(Delete(p_ + "nothing"), rev);
  EXPECT_EQ(Revision(), rev);
}

TEST_F(Semantics, WatchCreatedCarriesCurrentRevision) {
  const int64_t rev = Put(p_ + "a", "1");
  auto s = OpenWatch();
  ASSERT_TRUE(s->rw->Write(Create(p_, PrefixEnd(p_), 0)));
  auto created = Read(*s);
  EXPECT_TRUE(created.created());
  EXPECT_EQ(created.events_size(), 0);
  EXPECT_GE(created.header().revision(), rev) << "the created response carries the store revision";
  const int64_t r2 = Put(p_ + "b", "2");
  auto ev = Read(*s);
  EXPECT_EQ(ev.watch_id(), created.watch_id());
  ASSERT_EQ(ev.events_size(), 1);
  EXPECT_EQ(ev.events(0).kv().key(), p_ + "b");
  EXPECT_EQ(ev.events(0).kv().mod_revision(), r2);
  EXPECT_EQ(ev.header().revision(), r2);
}

TEST_F(Semantics, WatchHistoryWithPrevKvAndDeletes) {
  const int64_t r1 = Put(p_ + "a", "1");
  Put(p_ + "a", "2");
  const int64_t r3 = Delete(p_ + "a");
  auto s = OpenWatch();
  ASSERT_TRUE(s->rw->Write(Create(p_ + "a", "", r1, /*prev_kv=*/true)));
  EXPECT_TRUE(Read(*s).created());
  auto evs = ReadEvents(*s, 3);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].type(), mvccpb::Event::PUT);
  EXPECT_FALSE(evs[0].has_prev_kv());
  EXPECT_EQ(evs[1].kv().version(), 2);
  ASSERT_TRUE(evs[1].has_prev_kv());
  EXPECT_EQ(evs[1].prev_kv().value(), "1");
  EXPECT_EQ(evs[2].type(), mvccpb::Event::DELETE);
  EXPECT_EQ(evs[2].kv().mod_revision(), r3);
  EXPECT_EQ(evs[2].kv().version(), 0);
  EXPECT_EQ(evs[2].kv().value(), "");
  ASSERT_TRUE(evs[2].has_prev_kv());
  EXPECT_EQ(evs[2].prev_kv().value(), "2");
}

TEST_F(Semantics, WatchFilters) {
  const int64_t start = Put(p_ + "a", "1");
  Delete(p_ + "a");
  Put(p_ + "a", "2");
  auto s = OpenWatch();
  auto noput = Create(p_, PrefixEnd(p_), start);
  noput.mutable_create_request()->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  ASSERT_TRUE(s->rw->Write(noput));
  EXPECT_TRUE(Read(*s).created());
  auto evs = ReadEvents(*s, 1);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].type(), mvccpb::Event::DELETE);
  auto s2 = OpenWatch();
  auto nodel = Create(p_, PrefixEnd(p_), start);
  nodel.mutable_create_request()->add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  ASSERT_TRUE(s2->rw->Write(nodel));
  EXPECT_TRUE(Read(*s2).created());
  evs = ReadEvents(*s2, 2);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].type(), mvccpb::Event::PUT);
  EXPECT_EQ(evs[1].type(), mvccpb::Event::PUT);
  EXPECT_EQ(evs[1].kv().value(), "2");
}

TEST_F(Semantics, WatchProgressRequest) {
  const int64_t rev = Put(p_ + "a", "1");
  auto s = OpenWatch();
  ASSERT_TRUE(s->rw->Write(Create(p_, PrefixEnd(p_), 0)));
  EXPECT_TRUE(Read(*s).created());
  etcdserverpb::WatchRequest progress;
  progress.mutable_progress_request();
  ASSERT_TRUE(s->rw->Write(progress));
  auto p = Read(*s);
  // A progress notification: no events, not created or canceled, the current revision.
  EXPECT_EQ(p.events_size(), 0);
  EXPECT_FALSE(p.created());
  EXPECT_FALSE(p.canceled());
  EXPECT_EQ(p.compact_revision(), 0);
  EXPECT_GE(p.header().revision(), rev);
  EXPECT_EQ(p.watch_id(), -1) << "etcd broadcasts progress with watch id -1";
}

TEST_F(Semantics, WatchCancel) {
  auto s = OpenWatch();
  ASSERT_TRUE(s->rw->Write(Create(p_ + "a", "", 0)));
  auto first = Read(*s);
  ASSERT_TRUE(first.created());
  ASSERT_TRUE(s->rw->Write(Create(p_ + "b", "", 0)));
  auto second = Read(*s);
  ASSERT_TRUE(second.created());
  EXPECT_NE(first.watch_id(), second.watch_id());
  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(first.watch_id());
  ASSERT_TRUE(s->rw->Write(cancel));
  auto c = Read(*s);
  EXPECT_TRUE(c.canceled());
  EXPECT_EQ(c.watch_id(), first.watch_id());
  // The other watch on the stream keeps working; the cancelled one is silent.
  Put(p_ + "a", "1");
  const int64_t rb = Put(p_ + "b", "1");
  auto ev = Read(*s);
  EXPECT_EQ(ev.watch_id(), second.watch_id());
  ASSERT_EQ(ev.events_size(), 1);
  EXPECT_EQ(ev.events(0).kv().mod_revision(), rb);
}

TEST_F(Semantics, WatchFromCompactedRevision) {
  const int64_t r1 = Put(p_ + "a", "1");
  Put(p_ + "a", "2");
  const int64_t r3 = Put(p_ + "a", "3");
  ASSERT_EQ(Compact(r3), r3) << "compaction does not create a revision";
  auto s = OpenWatch();
  ASSERT_TRUE(s->rw->Write(Create(p_ + "a", "", r1)));
  // etcd: a created response, then a cancel carrying the compact revision (possibly combined).
  bool created = false, canceled = false;
  int64_t compact = 0;
  for (int i = 0; i < 2 && !canceled; ++i) {
    auto r = Read(*s);
    created = created || r.created();
    canceled = r.canceled();
    compact = r.compact_revision();
    EXPECT_EQ(r.events_size(), 0);
  }
  EXPECT_TRUE(created);
  EXPECT_TRUE(canceled);
  EXPECT_EQ(compact, r3);
  // Watching from the compaction revision itself still works.
  auto s2 = OpenWatch();
  ASSERT_TRUE(s2->rw->Write(Create(p_ + "a", "", r3)));
  EXPECT_TRUE(Read(*s2).created());
  auto evs = ReadEvents(*s2, 1);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kv().value(), "3");
}

TEST_F(Semantics, LeaseLifecycle) {
  etcdserverpb::LeaseGrantRequest g;
  g.set_ttl(30);
  etcdserverpb::LeaseGrantResponse gr;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(lease_->LeaseGrant(&ctx, g, &gr).ok());
  }
  ASSERT_GT(gr.id(), 0);
  EXPECT_EQ(gr.ttl(), 30);
  EXPECT_EQ(gr.error(), "");
  Put(p_ + "a", "1", gr.id());
  Put(p_ + "b", "1", gr.id());

  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    auto ka = lease_->LeaseKeepAlive(&ctx);
    etcdserverpb::LeaseKeepAliveRequest kreq;
    kreq.set_id(gr.id());
    ASSERT_TRUE(ka->Write(kreq));
    etcdserverpb::LeaseKeepAliveResponse kresp;
    ASSERT_TRUE(ka->Read(&kresp));
    EXPECT_EQ(kresp.id(), gr.id());
    EXPECT_EQ(kresp.ttl(), 30);
    ka->WritesDone();
    EXPECT_TRUE(ka->Finish().ok());
  }
  {
    etcdserverpb::LeaseTimeToLiveRequest t;
    t.set_id(gr.id());
    t.set_keys(true);
    etcdserverpb::LeaseTimeToLiveResponse tr;
    grpc::ClientContext ctx;
    ASSERT_TRUE(lease_->LeaseTimeToLive(&ctx, t, &tr).ok());
    EXPECT_EQ(tr.grantedttl(), 30);
    EXPECT_GE(tr.ttl(), 28);
    EXPECT_LE(tr.ttl(), 30);
    // etcd lists the keys in no particular order.
    std::set<std::string> keys(tr.keys().begin(), tr.keys().end());
    EXPECT_EQ(keys, (std::set<std::string>{p_ + "a", p_ + "b"}));
    EXPECT_EQ(tr.keys_size(), 2);
  }
  {
    etcdserverpb::LeaseLeasesRequest l;
    etcdserverpb::LeaseLeasesResponse lr;
    grpc::ClientContext ctx;
    ASSERT_TRUE(lease_->LeaseLeases(&ctx, l, &lr).ok());
    bool found = false;
    for (const auto& st : lr.leases()) found = found || st.id() == gr.id();
    EXPECT_TRUE(found);
  }
  const int64_t before = Revision();
  {
    etcdserverpb::LeaseRevokeRequest r;
    r.set_id(gr.id());
    etcdserverpb::LeaseRevokeResponse rr;
    grpc::ClientContext ctx;
    ASSERT_TRUE(lease_->LeaseRevoke(&ctx, r, &rr).ok());
    EXPECT_EQ(rr.header().revision(), before + 1) << "both keys go in one revision";
  }
  EXPECT_EQ(Range(Prefix()).count(), 0);
}

TEST_F(Semantics, ClientChosenLeaseId) {
  etcdserverpb::LeaseGrantRequest g;
  g.set_ttl(30);
  g.set_id(0x5e3a11);
  etcdserverpb::LeaseGrantResponse gr;
  grpc::ClientContext ctx;
  ASSERT_TRUE(lease_->LeaseGrant(&ctx, g, &gr).ok());
  EXPECT_EQ(gr.id(), 0x5e3a11);
  etcdserverpb::LeaseRevokeRequest r;
  r.set_id(gr.id());
  etcdserverpb::LeaseRevokeResponse rr;
  grpc::ClientContext ctx2;
  EXPECT_TRUE(lease_->LeaseRevoke(&ctx2, r, &rr).ok());
}

}  // namespace
