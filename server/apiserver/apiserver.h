// ApiServer: the Kubernetes API over HTTPS inside kite-server.
//
// Every request goes: authenticate → authorize → route → respond; failures become a
// metav1.Status in exactly one place (status.h). Today it serves /version, /healthz, /livez and
// /readyz; resources, discovery, watch and the rest land behind the same pipeline.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/join_token.h"
#include "base/pki.h"
#include "base/status.h"
#include "client/transport.h"
#include "datastore/store.h"
#include "server/apiserver/filters/audit_log.h"
#include "server/apiserver/filters/inflight.h"
#include "server/apiserver/service_network.h"

namespace kite {
struct InProcessServer;  // base/upgrade_proxy.h
}

namespace kite::apiserver {

class KubeletClient;

struct ApiServerOptions {
  std::string bind_address = "0.0.0.0";
  // The address the `kubernetes` Service's endpoints name (kube-apiserver's --advertise-address):
  // it must be reachable from pods, so not the loopback. "": the bind address, or 127.0.0.1 when
  // bound to every address.
  std::string advertise_address;
  int port = 6443;  // 0 picks a free port (tests)
  std::vector<std::string> tls_sans;
  std::string cluster_cidr;  // --cluster-cidr: its addresses are not SANs of the serving certificate
  // --service-cidr and --service-node-port-range: where Services' cluster IPs and node ports come
  // from; the `kubernetes` Service has the range's first address (also a certificate SAN).
  ServiceNetwork service_network;
  std::string tls_dir;  // <data-dir>/server/tls
  std::string kubeconfig_path = "/etc/kite/kite.yaml";
  unsigned kubeconfig_mode = 0600;
  std::string token_auth_file;
  // --anonymous-auth: requests without credentials are system:anonymous (false: 401).
  bool anonymous_auth = true;
  InflightOptions inflight;
  size_t max_connections = 0;  // 0: HttpsServer's default, from the open-file limit
  // --authorization-mode=AlwaysAllow: every authenticated request is allowed (upstream's mode of
  // that name; for tests and trusted single-user setups). Otherwise Node, then RBAC decide
  // on resources.
  bool always_allow = false;
  // The join endpoints and token (join/join_endpoints.h): the token file (empty: no join
  // endpoints) and --token.
  std::string join_token_path;
  std::string join_token;
  ClusterSettings join_settings;  // what agents are told at the join (GET /v1-kite/config)
  // The delegated built-ins (Delegate's keys) this process will answer; the others are not
  // served at all (not in discovery: 404), as upstream without that component (kite-server
  // --disable=metrics-server leaves metrics.k8s.io to a metrics-server the user installs).
  std::set<std::string> delegates{"metrics.k8s.io", "/componentstatuses"};
  // The audit log (--audit-log-path and its rotation flags) and --audit-policy-file: both are
  // needed for anything to be audited, as upstream.
  audit::AuditLogOptions audit;
  std::string audit_policy_file;
};

// A get or list of a group served by another component of this process rather than from
// storage (upstream: an aggregated APIService; here metrics.k8s.io by the metrics server).
struct DelegatedRequest {
  std::string verb, version, resource, namespace_, name, label_selector, field_selector;
};
// The object or list to answer, or the error (a Status made with Status::Api). Runs on a thread
// of its own pool, not an io thread: it may block, even on requests to this server.
using DelegatedHandler = std::function<Result<boost::json::object>(const DelegatedRequest&)>;

// A non-resource path another component of this process answers (kite-server's
// /kite/v1/encrypt/*), after authentication and authorization as any non-resource request.
struct PathReply {
  int code = 200;
  std::string content_type = "application/json";
  std::string body;
};
using PathHandler = std::function<PathReply(const std::string& method, const std::string& body)>;

class ApiServer {
 public:
  virtual ~ApiServer() = default;
  // `store` is not owned and must outlive the server.
  static Result<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options, datastore::Store* store);
  virtual int port() const = 0;
  virtual void Stop() = 0;
  // Routes the built-in resources of `group` (metrics.k8s.io), or the one resource
  // "<group>/<resource>" ("/componentstatuses" in the core group), to `handler`, after
  // authentication and authorization; until then (or without it) they answer 503
  // ServiceUnavailable, as an unavailable APIService does. Thread-safe.
  virtual void Delegate(const std::string& group, DelegatedHandler handler) = 0;
  // Answers requests for exactly `path` with `handler` (runs on a request thread: keep it short).
  // Thread-safe.
  virtual void ServePath(const std::string& path, PathHandler handler) = 0;
  // A client transport into this server's request pipeline, acting as `user` in `groups`
  // (local_transport.h). Valid until Stop; requests after Stop fail with code 0.
  virtual std::shared_ptr<client::Transport> LocalTransport(const std::string& user, std::vector<std::string> groups) = 0;
  // For kite-server's embedded kubelet, which does not join over HTTP: a serving certificate for
  // `node` and `ips` (server CA), and the client CA its callers' certificates are signed by.
  struct KubeletCerts {
    pki::KeyPair serving;
    std::string client_ca_pem;
  };
  virtual Result<KubeletCerts> IssueKubeletCerts(const std::string& node, const std::vector<std::string>& ips) = 0;
  // How this server calls kubelets (kubelet_client.h), for the built-in metrics server. Lives as
  // long as the server.
  virtual const KubeletClient* kubelet_client() const = 0;
  // kite-server's embedded kubelet, serving `node`: reached in process rather than over HTTPS
  // (KubeletClient::SetInProcess). An empty `kubelet` ends that (before the kubelet stops).
  virtual void SetInProcessKubelet(const std::string& node, const InProcessServer& kubelet) = 0;
  // Blocks until the start's own objects are written (the aggregator's Local APIServices and
  // extension-apiserver-authentication ConfigMap; /readyz fails until then, as upstream's
  // poststarthook/apiservice-registration-controller does), at most `limit`. Whether they are.
  virtual bool WaitStartHooks(std::chrono::milliseconds limit) = 0;
};

// The version this server reports: kubectl's dispatcher picks its kubectl by `minor`.
inline constexpr const char* kKubernetesVersion = "v1.32.4";

}  // namespace kite::apiserver
