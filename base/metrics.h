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

// Prometheus text format (version 0.0.4) of everything registered, then the process_* families
// (base/process_metrics.h).
std::string Serialize();

// Exponential buckets: start, start*factor, ... (count of them), as client_golang's helper.
prometheus::Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count);

}  // namespace kite::metrics
