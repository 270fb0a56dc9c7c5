// Dispatcher: the request path of the etcd services, without the transport: wire-only checks
// (request size), translation (convert.h), the Store call, translation back, and the response
// header. The gRPC services are thin shells around it, and the fuzz target calls it directly, so
// what is fuzzed is what is served.
//
// Contract
// - Headers: cluster_id and member_id from the store (read once at construction), raft_term 2
//   (what a fresh single-member etcd reports), revision = the response's revision, or the store's
//   current revision where a response has none of its own (leases, maintenance, watch).
// - Completions: `done` of Put/DeleteRange/Txn/LeaseRevoke runs on the store's writer thread
//   (keep it short). Completions that need a store read for their header (Compact, LeaseGrant)
//   are handed to `post`, because the store forbids calls from inside its write callbacks.
// - Errors: the Store's etcd statuses pass through unchanged; the only error made here is
//   RequestTooLarge (and convert.h's wire-only ones).
// - Thread-safe; the Store must outlive the Dispatcher.
#pragma once

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "datastore/etcdserver/convert.h"
#include "datastore/store.h"

namespace kite::datastore::etcdserver {

// What a freshly started single-member etcd reports as its raft term.
inline constexpr uint64_t kRaftTerm = 2;

class Dispatcher {
 public:
  using Poster = std::function<void(std::function<void()>)>;
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  Dispatcher(Store* store, Poster post);

  Store* store() const { return store_; }
  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t member_id() const { return member_id_; }
  int64_t CurrentRevision() const;
  // Stamps ids, term and `revision`; never reads the store (safe in write callbacks).
  void FillHeader(pb::ResponseHeader* h, int64_t revision) const;

  // etcd: a request whose encoding exceeds --max-request-bytes is refused, whatever its kind.
  static kite::Status CheckSize(const google::protobuf::Message& m);

  Result<pb::RangeResponse> Range(const pb::RangeRequest& req) const;
  void Put(const pb::PutRequest& req, Done<pb::PutResponse> done) const;
  void DeleteRange(const pb::DeleteRangeRequest& req, Done<pb::DeleteRangeResponse> done) const;
  void Txn(const pb::TxnRequest& req, Done<pb::TxnResponse> done) const;
  void Compact(const pb::CompactionRequest& req, Done<pb::CompactionResponse> done) const;

  void LeaseGrant(const pb::LeaseGrantRequest& req, Done<pb::LeaseGrantResponse> done) const;
  void LeaseRevoke(const pb::LeaseRevokeRequest& req, Done<pb::LeaseRevokeResponse> done) const;
  // Unknown lease: TTL 0 and no error, as etcd answers on the keep-alive stream.
  Result<pb::LeaseKeepAliveResponse> LeaseKeepAlive(const pb::LeaseKeepAliveRequest& req) const;
  // Unknown lease: TTL -1 and no error, as etcd.
  Result<pb::LeaseTimeToLiveResponse> LeaseTimeToLive(const pb::LeaseTimeToLiveRequest& req) const;
  pb::LeaseLeasesResponse LeaseLeases() const;

 private:
  Store* store_;
  Poster post_;
  uint64_t cluster_id_ = 0;
  uint64_t member_id_ = 0;
};

}  // namespace kite::datastore::etcdserver
