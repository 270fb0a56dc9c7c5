// FinishUnary: the one way every unary etcd handler completes: move the value into the response,
// map kite::Status to grpc::Status (same code, same message), count grpc_server_handled_total.
#pragma once

#include <utility>

#include <grpcpp/support/server_callback.h>

#include "base/status.h"
#include "datastore/etcd/convert.h"
#include "datastore/etcd/service_metrics.h"

namespace kite::datastore::etcd {

template <typename T>
void FinishUnary(grpc::ServerUnaryReactor* reactor, const char* service, const char* method, Result<T> r,
                 T* resp) {
  grpc::Status status = ToGrpcStatus(r.status());
  if (r.ok()) *resp = std::move(r).value();
  CountHandled("unary", service, method, status.error_code());
  reactor->Finish(status);
}

}  // namespace kite::datastore::etcd
