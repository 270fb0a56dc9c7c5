#include "datastore/etcdserver/lease_service.h"

#include <vector>

#include "datastore/errors.h"
#include "datastore/etcdserver/unary.h"

namespace kite::datastore::etcdserver {
namespace {
constexpr char kLeaseService[] = "etcdserverpb.Lease";
}  // namespace

class KeepAliveReactor final
    : public grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveReactor(LeaseService* svc) : svc_(svc) {}

  void Start() { StartRead(&req_); }

  // Records the stop; true if the caller must call Finish now (no write in flight). Until then
  // OnDone cannot run, so the caller's pointer stays valid.
  bool PrepareStop(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    if (stop_requested_) return false;
    stop_requested_ = true;
    status_ = status;
    if (writing_) return false;  // OnWriteDone finishes
    finished_ = true;
    return true;
  }
  void FinishNow() {
    grpc::Status st;
    {
      std::lock_guard lock(mu_);
      st = status_;
    }
    Finish(st);
  }
  void Stop(const grpc::Status& status) {
    if (PrepareStop(status)) FinishNow();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Stop(grpc::Status::OK);  // half-close (or cancel): etcd returns nil
    Result<pb::LeaseKeepAliveResponse> r = svc_->d_->LeaseKeepAlive(req_);
    if (!r.ok()) return Stop(ToGrpcStatus(r.status()));
    {
      std::lock_guard lock(mu_);
      if (stop_requested_) return;
      resp_ = std::move(r).value();
      writing_ = true;
    }
    StartWrite(&resp_);
  }

  void OnWriteDone(bool ok) override {
    bool finish = false, read = false;
    grpc::Status st;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok && !stop_requested_) {
        stop_requested_ = true;
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "keepalive stream broken");
      }
      if (!stop_requested_) {
        read = true;  // ping-pong: the next request is read once this answer went out
      } else if (!finished_) {
        finished_ = true;
        finish = true;
        st = status_;
      }
    }
    if (finish) Finish(st);
    if (read) StartRead(&req_);
  }

  void OnCancel() override { Stop(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled")); }

  void OnDone() override {
    grpc::StatusCode code;
    {
      std::lock_guard lock(mu_);
      code = status_.error_code();
    }
    CountHandled("bidi_stream", kLeaseService, "LeaseKeepAlive", code);
    svc_->Remove(this);
    delete this;
  }

 private:
  LeaseService* const svc_;
  std::mutex mu_;
  pb::LeaseKeepAliveRequest req_;
  pb::LeaseKeepAliveResponse resp_;
  bool writing_ = false;         // guarded by mu_
  bool stop_requested_ = false;  // guarded by mu_
  bool finished_ = false;        // guarded by mu_
  grpc::Status status_;          // guarded by mu_
};

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* ctx, const pb::LeaseGrantRequest* req,
                                                   pb::LeaseGrantResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->LeaseGrant(*req, [reactor, resp](Result<pb::LeaseGrantResponse> r) {
    FinishUnary(reactor, kLeaseService, "LeaseGrant", std::move(r), resp);
  });
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* ctx,
                                                    const pb::LeaseRevokeRequest* req, pb::LeaseRevokeResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->LeaseRevoke(*req, [reactor, resp](Result<pb::LeaseRevokeResponse> r) {
    FinishUnary(reactor, kLeaseService, "LeaseRevoke", std::move(r), resp);
  });
  return reactor;
}

grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>* LeaseService::LeaseKeepAlive(
    grpc::CallbackServerContext* ctx) {
  auto* r = new KeepAliveReactor(this);
  bool stopping;
  {
    std::lock_guard lock(mu_);
    streams_.insert(r);
    stopping = shutting_down_;
  }
  r->Start();
  if (stopping) r->Stop(ToGrpcStatus(errors::Stopped()));
  return r;
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(grpc::CallbackServerContext* ctx,
                                                        const pb::LeaseTimeToLiveRequest* req,
                                                        pb::LeaseTimeToLiveResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  FinishUnary(reactor, kLeaseService, "LeaseTimeToLive", d_->LeaseTimeToLive(*req), resp);
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(grpc::CallbackServerContext* ctx, const pb::LeaseLeasesRequest*,
                                                    pb::LeaseLeasesResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  FinishUnary(reactor, kLeaseService, "LeaseLeases", Result<pb::LeaseLeasesResponse>(d_->LeaseLeases()), resp);
  return reactor;
}

void LeaseService::Remove(KeepAliveReactor* r) {
  std::lock_guard lock(mu_);
  streams_.erase(r);
  cv_.notify_all();
}

void LeaseService::StopAll() {
  std::vector<KeepAliveReactor*> finish;
  {
    // Under mu_ no stream can leave (Remove needs mu_); the ones collected cannot run OnDone
    // before we call Finish on them, so the pointers stay valid after unlocking. Finish itself
    // is called unlocked: gRPC may run OnDone inline, and OnDone takes mu_.
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    for (auto* r : streams_) {
      if (r->PrepareStop(ToGrpcStatus(errors::Stopped()))) finish.push_back(r);
    }
  }
  for (auto* r : finish) r->FinishNow();
}

void LeaseService::WaitAllDone() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return streams_.empty(); });
}

}  // namespace kite::datastore::etcdserver
