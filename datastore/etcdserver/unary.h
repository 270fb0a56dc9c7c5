// FinishUnary: the one way every unary etcd handler completes: move the value into the response,
// map kite::Status to grpc::Status (same code, same message), count grpc_server_handled_total.
#pragma once

#include <utility>

#include <grpcpp/support/server_callback.h>

#include "base/status.h"
#include "datastore/etcdserver/convert.h"
#include "datastore/etcdserver/service_metrics.h"
#include "datastore/etcdserver/task_runner.h"

namespace kite::datastore::etcdserver {

template <typename T>
void FinishUnary(grpc::ServerUnaryReactor* reactor, const char* service, const char* method, Result<T> r,
                 T* resp) {
  grpc::Status status = ToGrpcStatus(r.status());
  if (r.ok()) *resp = std::move(r).value();
  CountHandled("unary", service, method, status.error_code());
  reactor->Finish(status);
}

// FinishUnary on `runner` rather than on the calling thread: for writes, which complete on the
// store's writer thread, where sending the answer would hold up the next batch. (Sent there,
// Finish was 35 % of the writer's time under 16-client puts: bench/RESULTS.md, 2026-12-04 20:09.)
template <typename T>
void FinishUnaryOn(TaskRunner* runner, grpc::ServerUnaryReactor* reactor, const char* service, const char* method,
                   Result<T> r, T* resp) {
  runner->Post([reactor, service, method, resp, r = std::move(r)]() mutable {
    FinishUnary(reactor, service, method, std::move(r), resp);
  });
}

}  // namespace kite::datastore::etcdserver
