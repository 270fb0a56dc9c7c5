// Prometheus metrics of the etcd endpoint, under etcd's and go-grpc-prometheus' names so
// existing dashboards work: grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code},
// etcd_debugging_mvcc_watcher, etcd_debugging_mvcc_watch_stream (etcd's gauges end in _total,
// which Prometheus reserves for counters; `promtool check metrics` must report nothing).
// Registered in kite::metrics::Default() on first use; thread-safe.
#pragma once

#include <grpcpp/support/status.h>
#include <prometheus/gauge.h>

namespace kite::datastore::etcdserver {

// grpc_type is one of "unary", "server_stream", "bidi_stream" (go-grpc-prometheus' values).
void CountHandled(const char* type, const char* service, const char* method, grpc::StatusCode code);
prometheus::Gauge& WatcherGauge();
prometheus::Gauge& WatchStreamGauge();

}  // namespace kite::datastore::etcdserver
