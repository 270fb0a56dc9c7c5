// KubeletClient: how the API server reaches a node's kubelet server (agent/kubelet/server/) for
// pods/log and nodes/proxy, the upgraded sessions of exec, attach and port-forward, and the
// built-in metrics server's scrapes (server/metricsserver/): HTTPS to the Node's
// InternalIP at status.daemonEndpoints.kubeletEndpoint.Port, the kubelet's serving certificate
// verified against the server CA (kite issues it at join), the API server presenting its
// kubelet-client certificate (client-kube-apiserver: system:apiserver in system:masters).
//
// Asynchronous on the caller's executor (asio coroutines): a followed log holds no thread. The
// answer is relayed as it arrives: the kubelet's status and content type, the body chunk by chunk
// (chunked to the client), until the kubelet ends it or the client goes away (a failed write to
// the client closes the kubelet connection).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/byte_stream.h"
#include "base/https_server.h"
#include "base/pki.h"
#include "base/upgrade_proxy.h"
#include "base/status.h"

namespace kite::apiserver {

struct KubeletEndpoint {
  std::string host;  // an IP address
  int port = 0;
  std::string node;  // the Node's name
};

// Where a Node's kubelet listens: its InternalIP (else its first address) and daemon port.
// ServiceUnavailable (upstream's "no preferred addresses found") when it has no address.
Result<KubeletEndpoint> KubeletEndpointOf(const boost::json::object& node);

// "?a=1&b=x%20y" from the decoded query, without the parameters in `drop`; "" when empty.
std::string EncodeQuery(const std::multimap<std::string, std::string>& query,
                        std::initializer_list<std::string_view> drop = {});

class KubeletClient {
 public:
  // `server_ca_pem` verifies kubelets; `client` is the API server's kubelet-client certificate.
  static Result<std::unique_ptr<KubeletClient>> Create(const std::string& server_ca_pem, const pki::KeyPair& client);

  // The kubelet embedded in this process (kite-server's own node): calls for `node` go to
  // `kubelet` directly instead of over HTTPS (ProxyGet, ProxyUpgrade, OpenUpgrade; Get, the
  // metrics server's scrape, stays on HTTPS). An empty `kubelet` ends that: call it before the
  // kubelet stops. Thread-safe; calls in flight keep the one they started with.
  void SetInProcess(const std::string& node, InProcessServer kubelet);

  // GET https://<ep>/<target> relayed to `res`. A failure before anything was sent to the client
  // (cannot connect, TLS refused, a broken answer) is returned as an upstream-like error to
  // answer with; once relaying began, the return is OK whatever happens.
  boost::asio::awaitable<Status> ProxyGet(const KubeletEndpoint& ep, const std::string& target, HttpsResponder& res);

  // GET https://<ep>/<target>, the whole body (at most `limit` bytes) within `timeout`; an
  // error for anything but a 200 (the metrics server's scrape of /metrics/resource).
  boost::asio::awaitable<Result<std::string>> Get(const KubeletEndpoint& ep, const std::string& target,
                                                  std::chrono::steady_clock::duration timeout, size_t limit) const;

  // pods/exec, pods/attach, pods/portforward (kubelet_stream.cc): relays `req`'s upgrade (its
  // method and upgrade headers) to https://<ep>/<target>; when the kubelet answers 101, the
  // client gets the 101 and the session's bytes both ways until either side ends; any other
  // answer is relayed as it came. An error only when nothing was sent to the client (the kubelet
  // unreachable, TLS refused, a broken answer).
  boost::asio::awaitable<Status> ProxyUpgrade(const KubeletEndpoint& ep, const std::string& target,
                                              const HttpsRequest& req, HttpsResponder& res);

  // The kubelet's side of an upgrade the API server speaks itself (stream_translator.h): `req`'s
  // method and upgrade headers sent to https://<ep>/<target>, and the kubelet's answer. On 101
  // `stream` carries the session (answer.data holds its first bytes); otherwise it is closed and
  // answer holds the kubelet's error. An upstream-like error when the kubelet cannot be reached.
  using Upgraded = UpgradedStream;
  boost::asio::awaitable<Result<Upgraded>> OpenUpgrade(const KubeletEndpoint& ep, const std::string& target,
                                                       const HttpsRequest& req);

 private:
  struct Call;
  boost::asio::awaitable<Status> Open(const KubeletEndpoint& ep, const std::string& target,
                                      std::chrono::steady_clock::duration timeout, Call& c) const;
  explicit KubeletClient(std::shared_ptr<boost::asio::ssl::context> tls) : tls_(std::move(tls)) {}
  // The in-process kubelet when `ep` is its node, else null.
  std::shared_ptr<const InProcessServer> InProcessFor(const KubeletEndpoint& ep) const;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  mutable std::mutex mu_;
  std::string in_process_node_;                         // guarded by mu_
  std::shared_ptr<const InProcessServer> in_process_;   // guarded by mu_
};

}  // namespace kite::apiserver
