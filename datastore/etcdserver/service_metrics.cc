#include "datastore/etcdserver/service_metrics.h"

#include <prometheus/counter.h>

#include "base/metrics.h"

namespace kite::datastore::etcdserver {
namespace {

// grpc-go's codes.Code.String(), which go-grpc-prometheus puts in grpc_code.
const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",           "Canceled",         "Unknown",           "InvalidArgument",
                                       "DeadlineExceeded", "NotFound",     "AlreadyExists",     "PermissionDenied",
                                       "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
                                       "Unimplemented", "Internal",        "Unavailable",       "DataLoss",
                                       "Unauthenticated"};
  int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "Unknown";
}

prometheus::Family<prometheus::Counter>& HandledFamily() {
  static auto& f = prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("Total number of RPCs completed on the server, regardless of success or failure.")
                       .Register(kite::metrics::Default());
  return f;
}

}  // namespace

void CountHandled(const char* type, const char* service, const char* method, grpc::StatusCode code) {
  HandledFamily()
      .Add({{"grpc_type", type}, {"grpc_service", service}, {"grpc_method", method}, {"grpc_code", CodeName(code)}})
      .Increment();
}

prometheus::Gauge& WatcherGauge() {
  static auto& g = prometheus::BuildGauge()
                       .Name("etcd_debugging_mvcc_watcher")
                       .Help("Total number of watchers.")
                       .Register(kite::metrics::Default())
                       .Add({});
  return g;
}

prometheus::Gauge& WatchStreamGauge() {
  static auto& g = prometheus::BuildGauge()
                       .Name("etcd_debugging_mvcc_watch_stream")
                       .Help("Total number of watch streams.")
                       .Register(kite::metrics::Default())
                       .Add({});
  return g;
}

}  // namespace kite::datastore::etcdserver
