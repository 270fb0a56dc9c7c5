// The kube-aggregator's part of kite-server: APIServices (apiregistration.k8s.io/v1) name which
// server answers each group/version. Those without `spec.service` are this server's own ("Local",
// always available); the others are extension API servers (metrics-server, custom metrics
// adapters, the sample "wardle" server) that kite reaches through a Service's ready endpoint:
//
// - the availability check: every APIService's Available condition kept as upstream's
//   controller sets it (Local / ServiceNotFound / ServicePortError / MissingEndpoints /
//   FailedDiscoveryCheck / Passed), checked at start, after every APIService write through this
//   server and every few seconds, by a GET of /apis/<group>/<version> on the endpoint; that
//   answer (an APIResourceList) is also what discovery then serves for the group/version, so
//   `kubectl get <their resource>` and `kubectl api-resources` know it (kept while the server is
//   unavailable, as upstream keeps a stale discovery document);
// - the proxy: after kite's own authentication and authorization, every request under
//   /apis/<group>/<version> of a non-local APIService is relayed to it over HTTPS (its caBundle,
//   or insecureSkipTLSVerify; the name <service>.<namespace>.svc verified), with the front-proxy
//   client certificate (client-auth-proxy, CN system:auth-proxy, request-header CA) and the user
//   in X-Remote-User / X-Remote-Group / X-Remote-Extra-*; the caller's credentials are not sent.
//   An unavailable APIService answers 503.
//
// The extension servers learn whom to trust from the ConfigMap
// kube-system/extension-apiserver-authentication, written at start (EnsureAuthenticationConfigMap).
// Upgrades (exec-like subresources of an extension API) are not relayed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/resources.h"
#include "base/https_server.h"
#include "base/pki.h"
#include "datastore/store.h"
#include "base/status.h"
#include "server/apiserver/filters/authn.h"

namespace kite::apiserver {

class CustomResources;
class Registry;

// One non-local APIService as the proxy uses it.
struct RemoteApiService {
  std::string name;  // <version>.<group>
  std::string group, version;
  std::string service_namespace, service_name;
  std::string port_name;  // the Service's port named by spec.service.port ("" when unnamed)
  int port = 443;
  bool available = false;
  std::shared_ptr<boost::asio::ssl::context> tls;  // caBundle or insecure; the proxy client certificate
};

class Aggregator {
 public:
  struct Certs {
    pki::KeyPair auth_proxy;          // the front-proxy client certificate
    std::string client_ca_pem;        // for the ConfigMap: the client CA
    std::string request_header_ca_pem;  // and the CA that signed auth_proxy
  };
  // `served` gets the aggregated resources (CustomResources::SetAggregated) and tells the custom
  // resources' group/versions; both outlive this.
  Aggregator(datastore::Store* store, CustomResources* served, Certs certs);
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // Starts the availability checks (a thread of their own). Stop ends them; both once.
  void Start();
  void Stop();
  // An APIService was written through this server: check them all again now.
  void Invalidate();
  // Whether the first round wrote the start's objects (the Local APIServices, the ConfigMap):
  // upstream's poststarthook/apiservice-registration-controller. Wait blocks until then, at most
  // `limit`, so that the server says it is ready only when its start-up writes are done.
  bool Registered() const { return registered_.load(std::memory_order_acquire); }
  bool WaitRegistered(std::chrono::milliseconds limit);

  // The non-local APIService serving `path` (/apis/<group>/<version>[/...]), or null when this
  // server answers it. Thread-safe, no I/O.
  std::shared_ptr<const RemoteApiService> For(std::string_view path) const;

  // Relays `req` to `remote` as `user` and streams the answer to `res`; an unavailable one or an
  // unreachable endpoint is answered 503 here. The HTTP status the client got.
  boost::asio::awaitable<int> Proxy(std::shared_ptr<const RemoteApiService> remote, const HttpsRequest& req,
                                     HttpsResponder& res, const UserInfo& user);

 private:
  struct Checked;
  void Run();
  boost::asio::awaitable<void> CheckAll();
  // One non-local APIService's check (sets remote.port_name); `tls`: whether its TLS was built.
  boost::asio::awaitable<Checked> Check(RemoteApiService& remote, Registry& registry, Status tls);
  boost::asio::awaitable<void> WriteCondition(Registry& registry, boost::json::object& obj, const Checked& c);

  datastore::Store* store_;
  CustomResources* served_;
  Certs certs_;
  bool started_ = false;  // the checking thread only: the start's objects are written

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool dirty_ = true;      // guarded by mu_: check again without waiting
  std::map<std::string, std::shared_ptr<const RemoteApiService>> by_group_version_;  // "<group>/<version>"; mu_
  std::atomic<bool> any_remote_{false};  // !by_group_version_.empty()
  std::atomic<bool> registered_{false};  // set once, under mu_ (wake_ tells the waiters)
  // Per APIService name: its last discovery document's resources (kept while unavailable).
  std::map<std::string, std::vector<api::ResourceInfo>> discovered_;  // the checking thread only
  std::set<std::string> reported_;  // names with a gauge series; the checking thread only
  std::vector<api::ResourceInfo> published_;  // what SetAggregated was last given; the same
  std::thread thread_;
};

// What aggregator.cc writes besides conditions (local_apiservices.cc):
//
// The ConfigMap kube-system/extension-apiserver-authentication (client-ca-file and the
// requestheader-* keys naming the request-header CA, system:auth-proxy and the X-Remote-*
// headers), from which extension servers learn whom to trust: created, or updated when a CA
// changed.
boost::asio::awaitable<Status> EnsureAuthenticationConfigMap(Registry& registry, const std::string& client_ca_pem,
                                                             const std::string& request_header_ca_pem);

// The Local APIServices of the group/versions `served` holds, given the stored ones (`listed`):
// the built-ins' (labelled kube-aggregator.kubernetes.io/automanaged=onstart, when `builtins`)
// and the custom resources' (=true) created when missing; those =true of group/versions no
// longer served deleted. Whether it wrote anything.
boost::asio::awaitable<bool> SyncLocalApiServices(Registry& registry, const boost::json::array& listed,
                                                  const api::ResourceSet& served, bool builtins);

}  // namespace kite::apiserver
