#include "datastore/etcdserver/kv_service.h"

#include "datastore/etcdserver/unary.h"

namespace kite::datastore::etcdserver {
namespace {
constexpr char kKvService[] = "etcdserverpb.KV";
}  // namespace

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx, const pb::RangeRequest* req,
                                           pb::RangeResponse* resp) {
  // Reads are served from the store's memory: answer inline.
  auto* reactor = ctx->DefaultReactor();
  FinishUnary(reactor, kKvService, "Range", d_->Range(*req), resp);
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx, const pb::PutRequest* req,
                                         pb::PutResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->Put(*req, [this, reactor, resp](Result<pb::PutResponse> r) {
    FinishUnaryOn(finisher_, reactor, kKvService, "Put", std::move(r), resp);
  });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* ctx, const pb::DeleteRangeRequest* req,
                                                 pb::DeleteRangeResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->DeleteRange(*req, [this, reactor, resp](Result<pb::DeleteRangeResponse> r) {
    FinishUnaryOn(finisher_, reactor, kKvService, "DeleteRange", std::move(r), resp);
  });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* ctx, const pb::TxnRequest* req,
                                         pb::TxnResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->Txn(*req, [this, reactor, resp](Result<pb::TxnResponse> r) {
    FinishUnaryOn(finisher_, reactor, kKvService, "Txn", std::move(r), resp);
  });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* ctx, const pb::CompactionRequest* req,
                                             pb::CompactionResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  d_->Compact(*req, [reactor, resp](Result<pb::CompactionResponse> r) {
    FinishUnary(reactor, kKvService, "Compact", std::move(r), resp);
  });
  return reactor;
}

}  // namespace kite::datastore::etcdserver
