// history_copy: replays one server's history (revisions 2..current, from a watch) into another,
// empty server, one transaction per revision, so that both then hold the same keys at the same
// revisions. etcd_compat uses it to give the reference etcd whatever kite-server wrote at start
// (e.g. the namespaces its API server creates), so one deterministic script yields the same
// revisions on both. Keys attached to leases cannot be copied (lease ids differ): an error.
//
// usage: history_copy --from HOST:PORT --to HOST:PORT
// Prints the copied revision; exit status 1 on any mismatch.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace {

int64_t CurrentRevision(etcdserverpb::KV::Stub& kv) {
  etcdserverpb::RangeRequest req;
  req.set_key("history-copy-probe");
  etcdserverpb::RangeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status st = kv.Range(&ctx, req, &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "history_copy: Range failed: %s\n", st.error_message().c_str());
    return -1;
  }
  return resp.header().revision();
}

}  // namespace

int main(int argc, char** argv) {
  std::string from, to;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--from") from = argv[i + 1];
    else if (a == "--to") to = argv[i + 1];
  }
  if (from.empty() || to.empty()) {
    std::fprintf(stderr, "usage: history_copy --from HOST:PORT --to HOST:PORT\n");
    return 2;
  }
  auto src_ch = grpc::CreateChannel(from, grpc::InsecureChannelCredentials());
  auto dst_ch = grpc::CreateChannel(to, grpc::InsecureChannelCredentials());
  auto src = etcdserverpb::KV::NewStub(src_ch);
  auto dst = etcdserverpb::KV::NewStub(dst_ch);
  auto watch = etcdserverpb::Watch::NewStub(src_ch);

  const int64_t target = CurrentRevision(*src);
  const int64_t start = CurrentRevision(*dst);
  if (target < 0 || start < 0) return 1;
  if (start != 1) {
    std::fprintf(stderr, "history_copy: destination is not empty (revision %lld)\n", static_cast<long long>(start));
    return 1;
  }
  // Events of revisions 2..target, grouped by revision.
  std::map<int64_t, std::vector<mvccpb::Event>> by_rev;
  if (target > 1) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = watch->Watch(&ctx);
    etcdserverpb::WatchRequest req;
    auto* c = req.mutable_create_request();
    c->set_key(std::string(1, '\0'));
    c->set_range_end(std::string(1, '\0'));
    c->set_start_revision(2);
    stream->Write(req);
    etcdserverpb::WatchResponse resp;
    int64_t last = 1;
    while (last < target && stream->Read(&resp)) {
      if (resp.canceled()) {
        std::fprintf(stderr, "history_copy: watch canceled (compact revision %lld)\n",
                     static_cast<long long>(resp.compact_revision()));
        return 1;
      }
      for (const auto& ev : resp.events()) {
        last = ev.kv().mod_revision();
        if (last <= target) by_rev[last].push_back(ev);
      }
    }
    ctx.TryCancel();
    if (last < target) {
      std::fprintf(stderr, "history_copy: history ended at %lld of %lld\n", static_cast<long long>(last),
                   static_cast<long long>(target));
      return 1;
    }
  }
  int64_t expect = 2;
  for (const auto& [rev, events] : by_rev) {
    if (rev != expect) {
      std::fprintf(stderr, "history_copy: source history has a gap at %lld\n", static_cast<long long>(expect));
      return 1;
    }
    etcdserverpb::TxnRequest txn;
    for (const auto& ev : events) {
      if (ev.kv().lease() != 0) {
        std::fprintf(stderr, "history_copy: key %s has a lease; cannot copy\n", ev.kv().key().c_str());
        return 1;
      }
      if (ev.type() == mvccpb::Event::PUT) {
        auto* put = txn.add_success()->mutable_request_put();
        put->set_key(ev.kv().key());
        put->set_value(ev.kv().value());
      } else {
        txn.add_success()->mutable_request_delete_range()->set_key(ev.kv().key());
      }
    }
    etcdserverpb::TxnResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status st = dst->Txn(&ctx, txn, &resp);
    if (!st.ok() || resp.header().revision() != rev) {
      std::fprintf(stderr, "history_copy: replaying revision %lld gave revision %lld (%s)\n",
                   static_cast<long long>(rev), static_cast<long long>(resp.header().revision()),
                   st.error_message().c_str());
      return 1;
    }
    expect = rev + 1;
  }
  if (CurrentRevision(*dst) != target) {
    std::fprintf(stderr, "history_copy: destination did not reach revision %lld\n", static_cast<long long>(target));
    return 1;
  }
  std::printf("%lld\n", static_cast<long long>(target));
  return 0;
}
