// Where the metrics server reads a node's resource metrics: the seam between the scrape loop
// and the network, so unit tests hand it canned text. NewKubeletClientSource is the real one:
// GET https://<node>:<kubelet port>/metrics/resource through the API server's KubeletClient
// (server/apiserver/kubelet/kubelet_client.h: its kubelet-client certificate, the kubelet's serving
// certificate checked against the cluster's server CA), the one way kite-server calls a kubelet.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace kite::apiserver {
class KubeletClient;
}

namespace kite::metricsserver {

struct NodeTarget {
  std::string name;
  std::string host;  // status.addresses: InternalIP, else ExternalIP
  int port = 10250;  // status.daemonEndpoints.kubeletEndpoint.Port (10250 when unset)
};

// The address to scrape a Node at (apiserver::KubeletEndpointOf); nullopt when it has none.
std::optional<NodeTarget> TargetOf(const boost::json::object& node);

class KubeletSource {
 public:
  virtual ~KubeletSource() = default;
  // The body of the node's /metrics/resource. Blocks the calling thread; gives up by
  // `deadline`. Called from several threads at once.
  virtual Result<std::string> Fetch(const NodeTarget& node, std::chrono::steady_clock::time_point deadline) = 0;
};

// `client` outlives the source. Each Fetch runs its request on its own io_context in the
// calling thread, bounded by the deadline.
std::unique_ptr<KubeletSource> NewKubeletClientSource(const apiserver::KubeletClient* client);

}  // namespace kite::metricsserver
