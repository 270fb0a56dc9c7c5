#include "datastore/etcdserver/convert.h"

#include <memory>
#include <utility>

#include "datastore/errors.h"

namespace kite::datastore::etcdserver {
namespace {

// Not in errors.h: only the wire layer can see an enum value outside the proto's range. etcd
// answers the same text for a bad sort option (api/v3rpc/rpctypes).
Status InvalidSortOption() { return Status(Code::kInvalidArgument, "etcdserver: invalid sort option"); }
Status InvalidCompare() { return Status(Code::kInvalidArgument, "etcdserver: invalid compare"); }

Result<RequestOp> OpFromProto(const pb::RequestOp& op) {
  RequestOp out;
  switch (op.request_case()) {
    case pb::RequestOp::kRequestRange: {
      auto r = FromProto(op.request_range());
      if (!r.ok()) return r.status();
      out.op = std::move(r).value();
      return out;
    }
    case pb::RequestOp::kRequestPut:
      out.op = FromProto(op.request_put());
      return out;
    case pb::RequestOp::kRequestDeleteRange:
      out.op = FromProto(op.request_delete_range());
      return out;
    case pb::RequestOp::kRequestTxn: {
      auto t = FromProto(op.request_txn());
      if (!t.ok()) return t.status();
      out.op = std::make_shared<TxnRequest>(std::move(t).value());
      return out;
    }
    case pb::RequestOp::REQUEST_NOT_SET:
      break;
  }
  // etcd (v3rpc/key.go checkRequestOp): an op with nothing set is "key not found".
  return errors::KeyNotFound();
}

Result<std::vector<RequestOp>> OpsFromProto(const google::protobuf::RepeatedPtrField<pb::RequestOp>& ops) {
  std::vector<RequestOp> out;
  out.reserve(ops.size());
  for (const auto& op : ops) {
    auto r = OpFromProto(op);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  return out;
}

// Responses nested in a txn carry a header with only the revision, as etcd's do.
void OpToProto(const ResponseOp& op, int64_t txn_rev, pb::ResponseOp* out) {
  auto fill = [txn_rev](pb::ResponseHeader* h, int64_t rev) { h->set_revision(rev > 0 ? rev : txn_rev); };
  if (auto* r = std::get_if<RangeResponse>(&op.op)) {
    auto* rr = out->mutable_response_range();
    ToProto(*r, rr);
    fill(rr->mutable_header(), r->revision);
  } else if (auto* p = std::get_if<PutResponse>(&op.op)) {
    auto* pr = out->mutable_response_put();
    ToProto(*p, pr);
    fill(pr->mutable_header(), p->revision);
  } else if (auto* d = std::get_if<DeleteRangeResponse>(&op.op)) {
    auto* dr = out->mutable_response_delete_range();
    ToProto(*d, dr);
    fill(dr->mutable_header(), d->revision);
  } else if (auto* t = std::get_if<std::shared_ptr<TxnResponse>>(&op.op)) {
    if (*t) {
      auto* tr = out->mutable_response_txn();
      fill(tr->mutable_header(), (*t)->revision);
      ToProto(**t, tr);
    }
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const kite::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(s.code())), s.message());
}

Result<RangeRequest> FromProto(const pb::RangeRequest& r) {
  if (!pb::RangeRequest_SortOrder_IsValid(r.sort_order()) ||
      !pb::RangeRequest_SortTarget_IsValid(r.sort_target())) {
    return InvalidSortOption();
  }
  RangeRequest out;
  out.key = r.key();
  out.range_end = r.range_end();
  out.limit = r.limit();
  out.revision = r.revision();
  out.sort_order = static_cast<SortOrder>(r.sort_order());
  out.sort_target = static_cast<SortTarget>(r.sort_target());
  out.serializable = r.serializable();
  out.keys_only = r.keys_only();
  out.count_only = r.count_only();
  out.min_mod_revision = r.min_mod_revision();
  out.max_mod_revision = r.max_mod_revision();
  out.min_create_revision = r.min_create_revision();
  out.max_create_revision = r.max_create_revision();
  return out;
}

PutRequest FromProto(const pb::PutRequest& r) {
  PutRequest out;
  out.key = r.key();
  // A null Value means empty; sharing one empty value for ignore_value puts saves nothing worth
  // the branch, so every put gets its own immutable copy.
  out.value = std::make_shared<const std::string>(r.value());
  out.lease = r.lease();
  out.prev_kv = r.prev_kv();
  out.ignore_value = r.ignore_value();
  out.ignore_lease = r.ignore_lease();
  return out;
}

DeleteRangeRequest FromProto(const pb::DeleteRangeRequest& r) {
  DeleteRangeRequest out;
  out.key = r.key();
  out.range_end = r.range_end();
  out.prev_kv = r.prev_kv();
  return out;
}

Result<Compare> FromProto(const pb::Compare& c) {
  if (!pb::Compare_CompareResult_IsValid(c.result()) || !pb::Compare_CompareTarget_IsValid(c.target())) {
    return InvalidCompare();
  }
  Compare out;
  out.result = static_cast<Compare::Result>(c.result());
  out.target = static_cast<Compare::Target>(c.target());
  out.key = c.key();
  out.range_end = c.range_end();
  // etcd reads the union member that matches the target; a mismatched or unset member reads as
  // its zero value, which is what the proto getters return here.
  switch (c.target()) {
    case pb::Compare::VERSION: out.number = c.version(); break;
    case pb::Compare::CREATE: out.number = c.create_revision(); break;
    case pb::Compare::MOD: out.number = c.mod_revision(); break;
    case pb::Compare::LEASE: out.number = c.lease(); break;
    case pb::Compare::VALUE: out.value = c.value(); break;
    default: break;
  }
  return out;
}

Result<TxnRequest> FromProto(const pb::TxnRequest& r) {
  TxnRequest out;
  out.compare.reserve(r.compare_size());
  for (const auto& c : r.compare()) {
    auto cc = FromProto(c);
    if (!cc.ok()) return cc.status();
    out.compare.push_back(std::move(cc).value());
  }
  auto success = OpsFromProto(r.success());
  if (!success.ok()) return success.status();
  auto failure = OpsFromProto(r.failure());
  if (!failure.ok()) return failure.status();
  out.success = std::move(success).value();
  out.failure = std::move(failure).value();
  return out;
}

TxnRequest SingleOpTxn(RequestOp op) {
  TxnRequest t;
  t.success.push_back(std::move(op));
  return t;
}

WatchOptions FromProto(const pb::WatchCreateRequest& r) {
  WatchOptions out;
  // etcd watches from the smallest key "\0" when no key is given (v3rpc/watch.go).
  out.key = r.key().empty() ? std::string(1, '\0') : r.key();
  out.range_end = r.range_end();
  out.start_revision = r.start_revision();
  out.prev_kv = r.prev_kv();
  for (int f : r.filters()) {
    // Unknown filter values are ignored, as etcd does.
    if (f == pb::WatchCreateRequest::NOPUT) out.no_put = true;
    if (f == pb::WatchCreateRequest::NODELETE) out.no_delete = true;
  }
  return out;
}

void ToProto(const KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  if (kv.value) out->set_value(*kv.value);
  out->set_lease(kv.lease);
}

void ToProto(const Event& ev, mvccpb::Event* out) {
  out->set_type(ev.type == Event::Type::kDelete ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
  ToProto(ev.kv, out->mutable_kv());
  if (ev.prev_kv) ToProto(*ev.prev_kv, out->mutable_prev_kv());
}

void ToProto(const RangeResponse& r, pb::RangeResponse* out) {
  out->mutable_kvs()->Reserve(static_cast<int>(r.kvs.size()));
  for (const auto& kv : r.kvs) ToProto(kv, out->add_kvs());
  out->set_more(r.more);
  out->set_count(r.count);
}

void ToProto(const PutResponse& r, pb::PutResponse* out) {
  if (r.prev_kv) ToProto(*r.prev_kv, out->mutable_prev_kv());
}

void ToProto(const DeleteRangeResponse& r, pb::DeleteRangeResponse* out) {
  out->set_deleted(r.deleted);
  for (const auto& kv : r.prev_kvs) ToProto(kv, out->add_prev_kvs());
}

void ToProto(const TxnResponse& r, pb::TxnResponse* out) {
  out->set_succeeded(r.succeeded);
  for (const auto& op : r.responses) OpToProto(op, r.revision, out->add_responses());
}

}  // namespace kite::datastore::etcdserver
