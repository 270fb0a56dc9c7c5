// The etcd KV service on gRPC's callback API. Each handler decodes nothing itself: it hands the
// request to the Dispatcher and finishes the call from the Dispatcher's completion. Writes complete
// on the store's writer thread, so no gRPC thread waits for a disk write; their answers are sent
// from the finisher (sending one took about a third of the writer's time under a 16-client put
// load, time in which the next batch could not start).
#pragma once

#include "datastore/etcdserver/dispatch.h"
#include "datastore/etcdserver/task_runner.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::datastore::etcdserver {

class KvService final : public pb::KV::CallbackService {
 public:
  // `finisher` runs the answers of writes: they complete on the store's writer thread, which
  // should be committing the next batch rather than sending responses.
  KvService(const Dispatcher* d, TaskRunner* finisher) : d_(d), finisher_(finisher) {}

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
  TaskRunner* finisher_;
};

}  // namespace kite::datastore::etcdserver
