// MetricsServer: metrics-server built into kite-server, as k3s bundles it, minus the
// aggregation hop. Every `resolution` it scrapes each Node's kubelet (/metrics/resource through
// a KubeletSource, up to 8 nodes at a time, each bounded by min(resolution, 10 s)) into its
// MetricsStorage, and it answers metrics.k8s.io/v1beta1 requests (NodeMetrics, PodMetrics: get
// and list, namespaces, label selectors, metadata.name/metadata.namespace field selectors) from
// that storage joined with its Node informer's Nodes and, read per request, the Pods (metrics-server
// keeps a pod informer; here that would decode every pod write of the cluster for the occasional
// `kubectl top pods`). The API server routes the group here (apiserver.h, Delegate); the HPA
// controller reads storage() in-process.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "client/client.h"
#include "client/informer.h"
#include "server/metricsserver/kubelet_source.h"
#include "server/metricsserver/storage.h"

namespace kite::metricsserver {

struct MetricsServerOptions {
  // metrics-server's --metric-resolution: how often every node is scraped (and so the window
  // CPU usage is averaged over). Zero: no scrape loop (tests call ScrapeOnce).
  std::chrono::milliseconds resolution{15'000};
};

// One metrics.k8s.io request, as routed by the API server.
struct MetricsRequest {
  std::string verb;      // get or list
  std::string resource;  // nodes or pods
  std::string namespace_, name;
  std::string label_selector, field_selector;
};

class MetricsServer {
 public:
  // Starts the informers and the scrape loop; `transport` acts for the metrics server.
  static std::unique_ptr<MetricsServer> Start(std::shared_ptr<client::Transport> transport,
                                              std::unique_ptr<KubeletSource> source, MetricsServerOptions options);
  ~MetricsServer();  // Stop()
  void Stop();

  // The answer: a NodeMetrics/PodMetrics object or list; errors as the API's (404 NotFound,
  // 400 for a bad selector, 405 for other verbs).
  // Blocks while PodMetrics read their Pods through the transport: not for an io thread.
  Result<boost::json::object> Serve(const MetricsRequest& request) const;

  const MetricsStorage& storage() const { return storage_; }

  // One scrape of every known node, now (the loop's body; for tests).
  void ScrapeOnce();
  // Whether the node informer has synced (tests).
  bool WaitForSync(std::chrono::milliseconds timeout);

 private:
  MetricsServer(std::shared_ptr<client::Transport> transport, std::unique_ptr<KubeletSource> source,
                MetricsServerOptions options);
  void Loop();
  Result<boost::json::object> ServeNodes(const MetricsRequest& r) const;
  Result<boost::json::object> ServePods(const MetricsRequest& r) const;

  const MetricsServerOptions options_;
  client::Client client_;
  std::unique_ptr<KubeletSource> source_;
  MetricsStorage storage_;
  client::InformerFactory informers_;
  client::Informer* nodes_;
  // No pod informer: Pods are read when a PodMetrics request comes (a GET or a LIST), so that
  // the server does not decode every pod write for the rare `kubectl top pods`; the scrape
  // needs only the Nodes.
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread loop_;
};

}  // namespace kite::metricsserver
