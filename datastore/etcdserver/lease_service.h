// The etcd Lease service on gRPC's callback API: unary Grant/Revoke/TimeToLive/Leases and the
// LeaseKeepAlive bidi stream.
//
// KeepAlive: each request gets one response {ID, TTL = the lease's granted TTL}; an unknown lease
// gets TTL 0 and no error (etcd v3rpc/lease.go). The stream ping-pongs (read, answer, read), so
// one write is in flight at most and nothing queues. A client's half-close ends the stream with OK
// as etcd does. StopAll/WaitAllDone end the streams at Shutdown.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>

#include "datastore/etcdserver/dispatch.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::datastore::etcdserver {

class KeepAliveReactor;

class LeaseService final : public pb::Lease::CallbackService {
 public:
  explicit LeaseService(const Dispatcher* d) : d_(d) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* ctx, const pb::LeaseGrantRequest* req,
                                       pb::LeaseGrantResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* ctx, const pb::LeaseRevokeRequest* req,
                                        pb::LeaseRevokeResponse* resp) override;
  grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>* LeaseKeepAlive(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* ctx, const pb::LeaseTimeToLiveRequest* req,
                                            pb::LeaseTimeToLiveResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* ctx, const pb::LeaseLeasesRequest* req,
                                        pb::LeaseLeasesResponse* resp) override;

  void StopAll();
  void WaitAllDone();

 private:
  friend class KeepAliveReactor;
  void Remove(KeepAliveReactor* r);

  const Dispatcher* d_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<KeepAliveReactor*> streams_;  // guarded by mu_; each deletes itself in OnDone
  bool shutting_down_ = false;           // guarded by mu_
};

}  // namespace kite::datastore::etcdserver
