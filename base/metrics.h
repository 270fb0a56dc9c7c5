// The process-wide Prometheus metrics registry (prometheus-cpp) and its text exposition.
// Components register families under upstream metric names (etcd_*, apiserver_*, kubelet_*)
// at construction; /metrics on the local HTTP port serves Serialize().
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace kite::metrics {

// The registry every component adds its families to. Never null; lives for the process.
prometheus::Registry& Default();

// The families the kubelet serves at /metrics on its own port (10250), apart from Default(): in
// kite-server with its embedded agent the kubelet's /metrics carries the kubelet's families, not
// the API server's. Never null; lives for the process (one kubelet per process).
prometheus::Registry& Kubelet();

// Prometheus text format (version 0.0.4) of everything registered in `registry` (Default()'s
// unless named), then the process_* families (base/process_metrics.h).
std::string Serialize();
std::string Serialize(const prometheus::Registry& registry);

// Exponential buckets: start, start*factor, ... (count of them), as client_golang's helper.
prometheus::Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count);

}  // namespace kite::metrics
