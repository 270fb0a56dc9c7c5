// Translation between the etcd v3 wire messages (etcdserverpb / mvccpb) and the datastore's plain
// types (datastore/types.h), plus kite::Status -> grpc::Status.
//
// Contract
// - FromProto functions reject only what the datastore types cannot express (the "wire rules"):
//   an empty RequestOp (no op set) is etcd's "key not found", enum values outside the proto's
//   enums are rejected with InvalidArgument. Every other etcd rule (empty key, too many ops,
//   duplicate keys, ...) is the Store's job, so it is checked once for every client of the store.
// - ToProto functions fill every field except the top ResponseHeader, which the caller fills (it
//   knows the cluster/member ids, see Dispatcher::FillHeader). Responses nested in a txn get a
//   header holding only their revision, as etcd's.
// - Pure functions: no I/O, no locks, safe from any thread.
#pragma once

#include <grpcpp/support/status.h>

#include "base/status.h"
#include "datastore/types.h"
#include "etcd/etcdserverpb/rpc.pb.h"
#include "etcd/mvccpb/kv.pb.h"

namespace kite::datastore::etcdserver {

namespace pb = ::etcdserverpb;

// Same numeric code, same message: clients match etcd errors on both.
grpc::Status ToGrpcStatus(const kite::Status& s);

// ---- requests: wire -> datastore ----
Result<RangeRequest> FromProto(const pb::RangeRequest& r);
PutRequest FromProto(const pb::PutRequest& r);
DeleteRangeRequest FromProto(const pb::DeleteRangeRequest& r);
Result<Compare> FromProto(const pb::Compare& c);
Result<TxnRequest> FromProto(const pb::TxnRequest& r);
// A whole Put/DeleteRange as the single-op Txn the Store executes.
TxnRequest SingleOpTxn(RequestOp op);
WatchOptions FromProto(const pb::WatchCreateRequest& r);

// ---- responses: datastore -> wire ----
void ToProto(const KeyValue& kv, mvccpb::KeyValue* out);
void ToProto(const Event& ev, mvccpb::Event* out);
void ToProto(const RangeResponse& r, pb::RangeResponse* out);
void ToProto(const PutResponse& r, pb::PutResponse* out);
void ToProto(const DeleteRangeResponse& r, pb::DeleteRangeResponse* out);
void ToProto(const TxnResponse& r, pb::TxnResponse* out);

}  // namespace kite::datastore::etcdserver
