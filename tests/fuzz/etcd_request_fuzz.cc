// libFuzzer target for the etcd request path: decode an etcd v3 request from untrusted bytes,
// translate it and dispatch it into a real Store, exactly as the gRPC services do (they are thin
// shells around the same Dispatcher and WatchSession).
//
// Input: the first byte picks the request type (see kTypes), the rest is that protobuf message.
// Inputs that do not parse are dropped, as gRPC would drop them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "datastore/etcdserver/dispatch.h"
#include "datastore/etcdserver/task_runner.h"
#include "datastore/etcdserver/watch_session.h"
#include "datastore/store.h"

namespace {

using namespace kite::datastore;
namespace pb = ::etcdserverpb;

// One store per process: opening SQLite per input would measure nothing but file creation.
// Automatic compaction keeps the in-memory history bounded over millions of writes.
struct Env {
  std::unique_ptr<Store> store;
  std::unique_ptr<etcdserver::TaskRunner> runner;
  std::unique_ptr<etcdserver::Dispatcher> dispatcher;

  Env() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kite-etcd-fuzz-XXXXXX").string();
    const char* dir = mkdtemp(tmpl.data());
    if (!dir) abort();
    StoreOptions o;
    o.data_dir = dir;
    o.durability = Durability::kRelaxed;
    o.compaction_interval_ms = 1000;
    o.compaction_retain_revisions = 1000;
    auto s = OpenSqliteStore(o);
    if (!s.ok()) abort();
    store = std::move(s).value();
    runner = std::make_unique<etcdserver::TaskRunner>();
    dispatcher = std::make_unique<etcdserver::Dispatcher>(store.get(), [r = runner.get()](std::function<void()> f) {
      r->Post(std::move(f));
    });
  }
};

Env& env() {
  static Env* e = new Env();  // never destroyed: libFuzzer exits without running destructors
  return *e;
}

// Runs an asynchronous Dispatcher call and waits for its completion (which runs on the store's
// writer thread or the runner).
template <typename Resp, typename Call>
void Await(Call call) {
  std::promise<void> done;
  call([&done](kite::Result<Resp> r) {
    if (r.ok()) (void)r->ByteSizeLong();  // touch the response like the transport would
    done.set_value();
  });
  done.get_future().wait();
}

template <typename Msg>
bool Parse(const uint8_t* data, size_t size, Msg* m) {
  return m->ParseFromArray(data, static_cast<int>(size));
}

void RunWatch(const pb::WatchRequest& req, const etcdserver::Dispatcher& d) {
  etcdserver::WatchSession session(&d, [] {});
  // A create followed by a write that may match it, then drain: exercises create, history pull,
  // fragmenting, progress and cancel on the same session.
  session.Handle(req);
  pb::PutRequest put;
  put.set_key(req.create_request().key().empty() ? std::string("a") : req.create_request().key());
  put.set_value("v");
  Await<pb::PutResponse>([&](auto done) { d.Put(put, std::move(done)); });
  pb::WatchResponse out;
  for (int i = 0; i < 8 && session.Next(&out); ++i) (void)out.ByteSizeLong();
  pb::WatchRequest progress;
  progress.mutable_progress_request();
  session.Handle(progress);
  session.ProgressTick();
  pb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(req.create_request().watch_id());
  session.Handle(cancel);
  for (int i = 0; i < 8 && session.Next(&out); ++i) (void)out.ByteSizeLong();
  session.Close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const etcdserver::Dispatcher& d = *env().dispatcher;
  const uint8_t type = data[0];
  ++data;
  --size;
  switch (type % 11) {
    case 0: {
      pb::RangeRequest m;
      if (Parse(data, size, &m)) (void)d.Range(m);
      break;
    }
    case 1: {
      pb::PutRequest m;
      if (Parse(data, size, &m)) Await<pb::PutResponse>([&](auto done) { d.Put(m, std::move(done)); });
      break;
    }
    case 2: {
      pb::DeleteRangeRequest m;
      if (Parse(data, size, &m)) Await<pb::DeleteRangeResponse>([&](auto done) { d.DeleteRange(m, std::move(done)); });
      break;
    }
    case 3: {
      pb::TxnRequest m;
      if (Parse(data, size, &m)) Await<pb::TxnResponse>([&](auto done) { d.Txn(m, std::move(done)); });
      break;
    }
    case 4: {
      pb::CompactionRequest m;
      // physical=true waits for the rows to leave the disk; keep it, it is a real path.
      if (Parse(data, size, &m)) Await<pb::CompactionResponse>([&](auto done) { d.Compact(m, std::move(done)); });
      break;
    }
    case 5: {
      pb::LeaseGrantRequest m;
      if (Parse(data, size, &m)) Await<pb::LeaseGrantResponse>([&](auto done) { d.LeaseGrant(m, std::move(done)); });
      break;
    }
    case 6: {
      pb::LeaseRevokeRequest m;
      if (Parse(data, size, &m)) Await<pb::LeaseRevokeResponse>([&](auto done) { d.LeaseRevoke(m, std::move(done)); });
      break;
    }
    case 7: {
      pb::LeaseKeepAliveRequest m;
      if (Parse(data, size, &m)) (void)d.LeaseKeepAlive(m);
      break;
    }
    case 8: {
      pb::LeaseTimeToLiveRequest m;
      if (Parse(data, size, &m)) (void)d.LeaseTimeToLive(m);
      break;
    }
    case 9: {
      pb::WatchRequest m;
      if (Parse(data, size, &m)) RunWatch(m, d);
      break;
    }
    case 10:
      (void)d.LeaseLeases();
      break;
  }
  return 0;
}
