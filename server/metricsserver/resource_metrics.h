// The kubelet's resource metrics (`/metrics/resource`, Prometheus text format), decoded into
// the samples the metrics server keeps: the node's and each container's cumulative CPU seconds
// and working-set memory, with the kubelet's timestamps. Upstream's metric names:
//   node_cpu_usage_seconds_total, node_memory_working_set_bytes,
//   container_cpu_usage_seconds_total{container,pod,namespace},
//   container_memory_working_set_bytes{...}, container_start_time_seconds{...}.
// Every other family is skipped. The text comes from a kubelet over the network: untrusted.
// Any malformed line fails the whole scrape (as metrics-server's decoder does), with the line
// number; nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "base/status.h"

namespace kite::metricsserver {

// One point of a node or a container. A container appears only when both its CPU and memory
// samples are present (metrics-server's rule), a node likewise.
struct MetricPoint {
  double cpu_seconds = 0;      // cumulative CPU time, core-seconds
  int64_t timestamp_ms = 0;    // of the CPU sample (the scrape time when the kubelet gave none)
  double memory_bytes = 0;     // working set
  double start_time_s = 0;     // container_start_time_seconds; 0 when absent
};

struct ContainerKey {
  std::string namespace_, pod, container;
  auto operator<=>(const ContainerKey&) const = default;
};

struct NodeResourceMetrics {
  std::optional<MetricPoint> node;
  std::map<ContainerKey, MetricPoint> containers;
};

// Decodes `text`; samples without a timestamp get `scrape_time_ms`. Negative, NaN or infinite
// values are refused (InvalidArgument), as are lines that are not the text format.
Result<NodeResourceMetrics> ParseResourceMetrics(std::string_view text, int64_t scrape_time_ms);

}  // namespace kite::metricsserver
