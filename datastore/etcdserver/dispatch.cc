#include "datastore/etcdserver/dispatch.h"

#include <memory>
#include <utility>

#include "datastore/errors.h"

namespace kite::datastore::etcdserver {

Dispatcher::Dispatcher(Store* store, Poster post) : store_(store), post_(std::move(post)) {
  StoreStatus s = store_->Status();
  cluster_id_ = s.cluster_id;
  member_id_ = s.member_id;
}

int64_t Dispatcher::CurrentRevision() const { return store_->CurrentRevision(); }

void Dispatcher::FillHeader(pb::ResponseHeader* h, int64_t revision) const {
  h->set_cluster_id(cluster_id_);
  h->set_member_id(member_id_);
  h->set_revision(revision);
  h->set_raft_term(kRaftTerm);
}

kite::Status Dispatcher::CheckSize(const google::protobuf::Message& m) {
  if (m.ByteSizeLong() > static_cast<size_t>(kMaxRequestBytes)) return errors::RequestTooLarge();
  return kite::Status::Ok();
}

Result<pb::RangeResponse> Dispatcher::Range(const pb::RangeRequest& req) const {
  if (auto s = CheckSize(req); !s.ok()) return s;
  auto r = FromProto(req);
  if (!r.ok()) return r.status();
  auto res = store_->Range(*r);
  if (!res.ok()) return res.status();
  pb::RangeResponse out;
  ToProto(*res, &out);
  FillHeader(out.mutable_header(), res->revision);
  return out;
}

void Dispatcher::Put(const pb::PutRequest& req, Done<pb::PutResponse> done) const {
  if (auto s = CheckSize(req); !s.ok()) return done(s);
  store_->Txn(SingleOpTxn(RequestOp{FromProto(req)}), [this, done = std::move(done)](Result<TxnResponse> r) {
    if (!r.ok()) return done(r.status());
    pb::PutResponse out;
    if (!r->responses.empty()) {
      if (auto* p = std::get_if<PutResponse>(&r->responses.front().op)) ToProto(*p, &out);
    }
    FillHeader(out.mutable_header(), r->revision);
    done(std::move(out));
  });
}

void Dispatcher::DeleteRange(const pb::DeleteRangeRequest& req, Done<pb::DeleteRangeResponse> done) const {
  if (auto s = CheckSize(req); !s.ok()) return done(s);
  store_->Txn(SingleOpTxn(RequestOp{FromProto(req)}), [this, done = std::move(done)](Result<TxnResponse> r) {
    if (!r.ok()) return done(r.status());
    pb::DeleteRangeResponse out;
    if (!r->responses.empty()) {
      if (auto* d = std::get_if<DeleteRangeResponse>(&r->responses.front().op)) ToProto(*d, &out);
    }
    FillHeader(out.mutable_header(), r->revision);
    done(std::move(out));
  });
}

void Dispatcher::Txn(const pb::TxnRequest& req, Done<pb::TxnResponse> done) const {
  if (auto s = CheckSize(req); !s.ok()) return done(s);
  auto t = FromProto(req);
  if (!t.ok()) return done(t.status());
  store_->Txn(std::move(t).value(), [this, done = std::move(done)](Result<TxnResponse> r) {
    if (!r.ok()) return done(r.status());
    pb::TxnResponse out;
    ToProto(*r, &out);
    FillHeader(out.mutable_header(), r->revision);
    done(std::move(out));
  });
}

void Dispatcher::Compact(const pb::CompactionRequest& req, Done<pb::CompactionResponse> done) const {
  store_->Compact(req.revision(), req.physical(), [this, done = std::move(done)](Result<int64_t> r) mutable {
    if (!r.ok()) return done(r.status());
    // The header carries the current revision: read it off the writer thread.
    post_([this, done = std::move(done)] {
      pb::CompactionResponse out;
      FillHeader(out.mutable_header(), CurrentRevision());
      done(std::move(out));
    });
  });
}

void Dispatcher::LeaseGrant(const pb::LeaseGrantRequest& req, Done<pb::LeaseGrantResponse> done) const {
  store_->LeaseGrant(req.id(), req.ttl(), [this, done = std::move(done)](Result<LeaseInfo> r) mutable {
    // etcd reports grant failures as gRPC errors; the response's `error` field stays empty.
    if (!r.ok()) return done(r.status());
    post_([this, info = std::move(r).value(), done = std::move(done)] {
      pb::LeaseGrantResponse out;
      out.set_id(info.id);
      out.set_ttl(info.ttl);
      FillHeader(out.mutable_header(), CurrentRevision());
      done(std::move(out));
    });
  });
}

void Dispatcher::LeaseRevoke(const pb::LeaseRevokeRequest& req, Done<pb::LeaseRevokeResponse> done) const {
  store_->LeaseRevoke(req.id(), [this, done = std::move(done)](Result<int64_t> r) {
    if (!r.ok()) return done(r.status());
    pb::LeaseRevokeResponse out;
    FillHeader(out.mutable_header(), *r);  // the revoke's revision (the store's head after it)
    done(std::move(out));
  });
}

Result<pb::LeaseKeepAliveResponse> Dispatcher::LeaseKeepAlive(const pb::LeaseKeepAliveRequest& req) const {
  pb::LeaseKeepAliveResponse out;
  out.set_id(req.id());
  // The revision is read before the renewal, as etcd does: a client must never see a keep-alive
  // succeed at a revision after the one that revoked the lease.
  FillHeader(out.mutable_header(), CurrentRevision());
  auto r = store_->LeaseKeepAlive(req.id());
  if (r.ok()) {
    out.set_ttl(r->granted_ttl > 0 ? r->granted_ttl : r->ttl);
  } else if (r.status() == errors::LeaseNotFound()) {
    out.set_ttl(0);  // etcd (v3rpc/lease.go): not found is TTL 0 on the stream, not an error
  } else {
    return r.status();
  }
  return out;
}

Result<pb::LeaseTimeToLiveResponse> Dispatcher::LeaseTimeToLive(const pb::LeaseTimeToLiveRequest& req) const {
  pb::LeaseTimeToLiveResponse out;
  out.set_id(req.id());
  auto r = store_->LeaseTimeToLive(req.id(), req.keys());
  if (r.ok()) {
    out.set_ttl(r->ttl);
    out.set_grantedttl(r->granted_ttl);
    for (const auto& k : r->keys) out.add_keys(k);
  } else if (r.status() == errors::LeaseNotFound()) {
    out.set_ttl(-1);  // etcd (v3rpc/lease.go): TTL -1 for a lease that does not exist
  } else {
    return r.status();
  }
  FillHeader(out.mutable_header(), CurrentRevision());
  return out;
}

pb::LeaseLeasesResponse Dispatcher::LeaseLeases() const {
  pb::LeaseLeasesResponse out;
  for (int64_t id : store_->Leases()) out.add_leases()->set_id(id);
  FillHeader(out.mutable_header(), CurrentRevision());
  return out;
}

}  // namespace kite::datastore::etcdserver
