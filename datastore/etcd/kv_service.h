// The etcd KV service on gRPC's callback API. Each handler decodes nothing itself: it hands the
// request to the Dispatcher and finishes the call from the Dispatcher's completion — for writes on
// the store's writer thread, so no gRPC thread waits for a disk write.
#pragma once

#include "datastore/etcd/dispatch.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::datastore::etcd {

class KvService final : public pb::KV::CallbackService {
 public:
  explicit KvService(const Dispatcher* d) : d_(d) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx, const pb::RangeRequest* req,
                                  pb::RangeResponse* resp) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const pb::PutRequest* req,
                                pb::PutResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx, const pb::DeleteRangeRequest* req,
                                        pb::DeleteRangeResponse* resp) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx, const pb::TxnRequest* req,
                                pb::TxnResponse* resp) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx, const pb::CompactionRequest* req,
                                    pb::CompactionResponse* resp) override;

 private:
  const Dispatcher* d_;
};

}  // namespace kite::datastore::etcd
