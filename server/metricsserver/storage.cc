#include "server/metricsserver/storage.h"

#include <cmath>

namespace kite::metricsserver {

void MetricsStorage::Push(Series& s, const MetricPoint& p) {
  if (p.timestamp_ms <= s.last.timestamp_ms) {
    // The kubelet answered with the same sample again (its stats cache): keep the newer memory.
    s.last.memory_bytes = p.memory_bytes;
    return;
  }
  if (p.cpu_seconds < s.last.cpu_seconds || (p.start_time_s != 0 && p.start_time_s != s.last.start_time_s)) {
    s.prev.reset();  // a restart: the counter began again
    s.started_since_previous_scrape = p.start_time_s * 1000 > static_cast<double>(s.last.timestamp_ms);
  } else {
    s.prev = s.last;
  }
  s.last = p;
}

std::optional<Usage> MetricsStorage::UsageOf(const Series& s, int64_t* window_ms) {
  MetricPoint prev;
  if (s.prev) {
    prev = *s.prev;
  } else if (s.started_since_previous_scrape && s.last.start_time_s > 0) {
    // Started since the previous scrape: from zero CPU at its start.
    prev.timestamp_ms = static_cast<int64_t>(std::llround(s.last.start_time_s * 1000));
    prev.cpu_seconds = 0;
  } else {
    return std::nullopt;
  }
  const int64_t window = s.last.timestamp_ms - prev.timestamp_ms;
  if (window <= 0) return std::nullopt;
  const double cores = (s.last.cpu_seconds - prev.cpu_seconds) / (static_cast<double>(window) / 1000.0);
  if (!(cores >= 0)) return std::nullopt;
  *window_ms = window;
  return Usage{static_cast<int64_t>(std::llround(cores * 1e9)), static_cast<int64_t>(std::llround(s.last.memory_bytes))};
}

void MetricsStorage::Store(const std::string& node, const NodeResourceMetrics& scraped) {
  std::lock_guard<std::mutex> lock(mu_);
  // When this node was scraped before (-1: never): a container started after it is new.
  double previous_scrape_ms = -1;
  if (auto it = nodes_.find(node); it != nodes_.end()) previous_scrape_ms = static_cast<double>(it->second.last.timestamp_ms);
  if (scraped.node) {
    auto it = nodes_.find(node);
    if (it == nodes_.end()) nodes_.emplace(node, Series{*scraped.node, std::nullopt});
    else Push(it->second, *scraped.node);
  } else {
    nodes_.erase(node);
  }
  // This node's pods now hold exactly the scraped containers.
  std::map<PodKey, PodSeries> fresh;
  for (const auto& [key, point] : scraped.containers) {
    PodKey pk{key.namespace_, key.pod};
    PodSeries& ps = fresh[pk];
    ps.node = node;
    Series series{point, std::nullopt,
                  previous_scrape_ms >= 0 && point.start_time_s * 1000 > previous_scrape_ms};
    if (auto old = pods_.find(pk); old != pods_.end()) {
      if (auto c = old->second.containers.find(key.container); c != old->second.containers.end()) {
        series = c->second;
        Push(series, point);
      }
    }
    ps.containers[key.container] = series;
  }
  std::erase_if(pods_, [&](const auto& kv) { return kv.second.node == node; });
  for (auto& [k, v] : fresh) pods_[k] = std::move(v);
}

void MetricsStorage::Retain(const std::set<std::string>& nodes) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(nodes_, [&](const auto& kv) { return !nodes.count(kv.first); });
  std::erase_if(pods_, [&](const auto& kv) { return !nodes.count(kv.second.node); });
}

std::optional<NodeUsage> MetricsStorage::Node(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.prev) return std::nullopt;  // a node never "just started"
  NodeUsage out;
  auto u = UsageOf(it->second, &out.window_ms);
  if (!u) return std::nullopt;
  out.usage = *u;
  out.timestamp_ms = it->second.last.timestamp_ms;
  return out;
}

std::optional<PodUsage> MetricsStorage::Pod(const std::string& ns, const std::string& pod) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(PodKey{ns, pod});
  if (it == pods_.end()) return std::nullopt;
  PodUsage out;
  for (const auto& [name, series] : it->second.containers) {
    int64_t window = 0;
    auto u = UsageOf(series, &window);
    if (!u) return std::nullopt;
    if (series.last.timestamp_ms >= out.timestamp_ms) {
      out.timestamp_ms = series.last.timestamp_ms;
      out.window_ms = window;
    }
    out.containers.push_back(ContainerUsage{name, *u});
  }
  return out;
}

}  // namespace kite::metricsserver
