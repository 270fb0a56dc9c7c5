// Where the metrics server reads a node's resource metrics: the seam between the scrape loop
// and the network, so unit tests hand it canned text. NewHttpsKubeletSource is the real one:
// GET https://<node>:<kubelet port>/metrics/resource with the API server's kubelet-client
// certificate, the kubelet's serving certificate checked against the cluster's server CA (as
// k3s configures kube-apiserver and metrics-server).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace kite::metricsserver {

struct NodeTarget {
  std::string name;
  std::string host;  // status.addresses: InternalIP, else ExternalIP, else Hostname
  int port = 10250;  // status.daemonEndpoints.kubeletEndpoint.Port (10250 when unset)
};

// The address to scrape a Node at; nullopt when it has none.
std::optional<NodeTarget> TargetOf(const boost::json::object& node);

class KubeletSource {
 public:
  virtual ~KubeletSource() = default;
  // The body of the node's /metrics/resource. Blocks the calling thread; gives up by
  // `deadline`. Called from several threads at once.
  virtual Result<std::string> Fetch(const NodeTarget& node, std::chrono::steady_clock::time_point deadline) = 0;
};

// Fails on malformed PEM.
Result<std::unique_ptr<KubeletSource>> NewHttpsKubeletSource(const std::string& server_ca_pem,
                                                             const std::string& client_cert_pem,
                                                             const std::string& client_key_pem);

}  // namespace kite::metricsserver
