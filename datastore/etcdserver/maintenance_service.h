// The etcd Maintenance and Cluster services on gRPC's callback API, for a single-member "cluster".
//
// - Status reports kEmulatedEtcdVersion (see there), dbSize/dbSizeInUse from the store, the member
//   as its own leader, raftIndex = raftAppliedIndex = the store revision, raftTerm 2.
// - Alarm: the store's NOSPACE alarm (Store::NoSpaceAlarm: a write refused for the quota or a
//   full disk). GET lists it while active, DEACTIVATE clears it (`etcdctl alarm disarm`),
//   ACTIVATE raises it; Status lists it in `errors`. `etcdctl endpoint health` reports an
//   endpoint with an active alarm unhealthy, as with etcd.
// - Snapshot streams a consistent copy of the database in 32 KiB chunks with remaining_bytes, then
//   a last message holding the SHA-256 of everything sent, as etcd does, so `etcdctl snapshot
//   save` works. The copy is the SQLite database, not a bbolt file: `etcdctl snapshot restore`
//   cannot use it.
// - Snapshot and Defragment block on disk work, so they run on a short-lived thread of their own
//   instead of a gRPC callback thread; both are rare administrator calls.
// - MemberList: one member: ID = member id, name, clientURLs ["http://<listen address>"],
//   peerURLs ["http://localhost:2380"].
#pragma once

#include <mutex>
#include <string>

#include "datastore/etcdserver/dispatch.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::datastore::etcdserver {

// The etcd version Status reports. kube-apiserver enables RequestWatchProgress (watch progress
// requests for consistent reads from its cache) only for etcd >= 3.4.31 / >= 3.5.13, and this
// service implements progress requests with 3.5's semantics.
inline constexpr char kEmulatedEtcdVersion[] = "3.5.13";
inline constexpr size_t kSnapshotChunkBytes = 32 * 1024;

class MaintenanceService final : public pb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(const Dispatcher* d) : d_(d) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* ctx, const pb::AlarmRequest* req,
                                  pb::AlarmResponse* resp) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx, const pb::StatusRequest* req,
                                   pb::StatusResponse* resp) override;
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* ctx, const pb::DefragmentRequest* req,
                                       pb::DefragmentResponse* resp) override;
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* ctx, const pb::HashRequest* req,
                                 pb::HashResponse* resp) override;
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* ctx, const pb::HashKVRequest* req,
                                   pb::HashKVResponse* resp) override;
  grpc::ServerWriteReactor<pb::SnapshotResponse>* Snapshot(grpc::CallbackServerContext* ctx,
                                                           const pb::SnapshotRequest* req) override;

 private:
  const Dispatcher* d_;
};

class ClusterService final : public pb::Cluster::CallbackService {
 public:
  // `client_url` as advertised, e.g. "http://127.0.0.1:2379".
  ClusterService(const Dispatcher* d, std::string name, std::string client_url)
      : d_(d), name_(std::move(name)), client_url_(std::move(client_url)) {}

  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* ctx, const pb::MemberListRequest* req,
                                       pb::MemberListResponse* resp) override;
  // Set after the listening port is known (port 0 binds a free one), possibly while serving.
  void set_client_url(std::string url) {
    std::lock_guard lock(mu_);
    client_url_ = std::move(url);
  }

 private:
  const Dispatcher* d_;
  std::string name_;
  std::mutex mu_;
  std::string client_url_;  // guarded by mu_
};

}  // namespace kite::datastore::etcdserver
