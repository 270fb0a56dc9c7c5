// MetricsStorage: the metrics server's memory, metrics-server's rules. For each node and each
// container it keeps the last two points a scrape brought; usage is CPU as the rate between
// them (nanocores over the window between their timestamps) and memory as the latest working
// set. A node or container with one point has no usage yet, except a container that started
// after the previous scrape of its node: its start time and zero CPU stand for the earlier point. A point
// whose cumulative CPU went down (a restarted container or kubelet) replaces both. Each scrape
// of a node replaces that node's containers (containers gone from it are forgotten).
// Thread-safe: the scraper stores while API requests and the HPA read.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/metricsserver/resource_metrics.h"

namespace kite::metricsserver {

struct Usage {
  int64_t cpu_nanocores = 0;
  int64_t memory_bytes = 0;
};

struct NodeUsage {
  int64_t timestamp_ms = 0;  // the newer point's
  int64_t window_ms = 0;     // between the two points
  Usage usage;
};

struct ContainerUsage {
  std::string name;
  Usage usage;
};

struct PodUsage {
  int64_t timestamp_ms = 0;  // the newest container point's
  int64_t window_ms = 0;     // that container's window
  std::vector<ContainerUsage> containers;  // by name
};

class MetricsStorage {
 public:
  // A scrape of `node` (its whole /metrics/resource).
  void Store(const std::string& node, const NodeResourceMetrics& scraped);
  // Forgets every node not in `nodes` (deleted nodes) with their containers.
  void Retain(const std::set<std::string>& nodes);

  std::optional<NodeUsage> Node(const std::string& node) const;
  // Only when every container of the pod in the newest scrape has usage (metrics-server's rule:
  // a pod's sum is never computed from part of its containers).
  std::optional<PodUsage> Pod(const std::string& ns, const std::string& pod) const;

 private:
  struct Series {
    MetricPoint last;
    std::optional<MetricPoint> prev;
    // Started (or restarted) between the previous scrape of its node and `last`: its start
    // time and zero CPU may stand in for `prev`.
    bool started_since_previous_scrape = false;
  };
  static std::optional<Usage> UsageOf(const Series& s, int64_t* window_ms);
  static void Push(Series& s, const MetricPoint& p);

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Series> nodes_;
  struct PodKey {
    std::string ns, pod;
    auto operator<=>(const PodKey&) const = default;
  };
  struct PodSeries {
    std::string node;
    std::map<std::string, Series> containers;  // by container name
  };
  std::map<PodKey, PodSeries> pods_;
};

}  // namespace kite::metricsserver
