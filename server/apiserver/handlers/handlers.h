// Resource requests after routing and authorization: the verbs (get, list, create, update,
// patch, delete, deletecollection), the auth reviews (reviews.h) and the subresources each kind
// serves (status, scale, eviction, binding, namespaces/finalize, …: the table in routes.h says
// which handler answers which kind's subresource and verb) over the Registry.
//
// Request bodies: JSON (also without Content-Type), YAML, and Kubernetes protobuf. Before a
// create or update, the body is checked against the kind's schema (unknown fields dropped, and
// rejected or warned about per fieldValidation=Strict|Warn|Ignore; wrong JSON types are 400),
// then defaulted. Patches: JSON patch, merge patch, strategic merge patch and apply
// (server-side apply). Responses are JSON objects (Tables are converted by the caller).
// A watch streams its events (watch_handler.h), and exec/attach over WebSocket upgrades the
// connection (remote_stream.cc); both answer on the connection themselves and return `streamed`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "base/https_server.h"
#include "datastore/store.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/crds/crds.h"
#include "server/apiserver/handlers/response.h"
#include "server/apiserver/handlers/reviews.h"
#include "server/apiserver/admission/webhooks.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/storage/watch_cache.h"
#include "server/apiserver/filters/request_info.h"
#include "server/apiserver/rbac/node_authorizer.h"
#include "server/apiserver/rbac/rbac_authorizer.h"
#include "server/apiserver/service_network.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

class KubeletClient;
enum class RouteHandler;  // routes.h

class ResourceHandlers {
 public:
  // `watch_cache` feeds watches; none of the pointers is owned.
  ResourceHandlers(datastore::Store* store, const Authorizer* authz, const Authenticator* authn,
                   CustomResources* crds, WatchCache* watch_cache)
      : store_(store), authz_(authz), authn_(authn), crds_(crds), watch_cache_(watch_cache), registry_(store) {}

  // `res` is written only by handlers that answer `streamed` (watch, WebSocket exec/attach).
  boost::asio::awaitable<Result<ApiResponse>> Handle(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                                    const api::ResourceInfo& r, const RequestAttributes& a);

  Registry& registry() { return registry_; }
  // Before serving: how pods/log and nodes/proxy reach kubelets (not owned; none: those answer
  // that the kubelet is not reachable).
  void SetKubeletClient(KubeletClient* k) { kubelet_ = k; }
  // The RBAC authorizer, for escalation checks on RBAC writes and rules reviews (none: no
  // checks, every rules review answers from the authorizer alone). Set once, before requests.
  void SetRbac(rbac::RbacAuthorizer* rbac) { rbac_ = rbac; }
  // The Node authorizer's graph, for NodeRestriction on writes. Set once, before requests.
  void SetNodeGraph(const rbac::NodeAuthorizer* graph) { node_graph_ = graph; }
  // Where Services' cluster IPs and node ports come from. Set once, before requests.
  void SetServiceNetwork(const ServiceNetwork& n) { service_network_ = n; }
  // Admission webhooks (admission/webhooks.h): told when their configurations are written.
  WebhookAdmission& webhooks() { return webhooks_; }

 private:
  struct Call;  // one request's parsed pieces (handlers_internal.h)

  // Calls the handler a route names (routes.h); the table in routes.cc says which one.
  boost::asio::awaitable<Result<ApiResponse>> Dispatch(RouteHandler handler, Call& c);
  boost::asio::awaitable<Result<ApiResponse>> Watch(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> RemoteCommand(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> PodLog(Call& c);     // kubelet_proxy.cc
  boost::asio::awaitable<Result<ApiResponse>> NodeProxy(Call& c);  // kubelet_proxy.cc
  boost::asio::awaitable<Result<ApiResponse>> Create(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> Update(Call& c, UpdateOptions::Scope scope);
  boost::asio::awaitable<Result<ApiResponse>> Patch(Call& c, UpdateOptions::Scope scope);
  boost::asio::awaitable<Result<ApiResponse>> Delete(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> DeleteCollection(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> Scale(Call& c);
  boost::asio::awaitable<Result<ApiResponse>> Eviction(Call& c);
  boost::asio::awaitable<Result<int64_t>> CheckEvictionBudget(const api::ResourceInfo& pdbr, const std::string& ns,
                                                             boost::json::object& pod, bool dry_run);
  boost::asio::awaitable<Result<ApiResponse>> Binding(Call& c, const std::string& pod_name);
  // A review resource (reviews.h): the body decoded, `answer` gives the status.
  boost::asio::awaitable<Result<ApiResponse>> Review(Call& c, ReviewAnswer answer);
  // serviceaccounts/token (token_request.cc).
  boost::asio::awaitable<Result<ApiResponse>> TokenRequest(Call& c);
  // Admission that needs the requester: NodeRestriction, RBAC escalation, the CSR plugins.
  Status Escalation(Call& c, boost::json::object& obj, const boost::json::object* old);
  // Create-time admission (admission.cc): DefaultTolerationSeconds, RuntimeClass and Priority for pods,
  // address allocation for Services. `hold` (a Service's) keeps the addresses handed out until
  // it is destroyed: the caller keeps it until its write returned.
  boost::asio::awaitable<Result<int64_t>> AdmitCreate(const api::ResourceInfo& r, const std::string& ns, boost::json::object& obj,
                                                     ServiceAddressHolds::Hold* hold);
  // Update-time admission: a Service keeps the addresses `old` had and gets any new ones
  // (AllocateServiceAddresses: admission/service_addresses.cc); `hold` as for AdmitCreate.
  boost::asio::awaitable<Result<int64_t>> AdmitUpdate(const api::ResourceInfo& r, boost::json::object& obj,
                                                     const boost::json::object& old, ServiceAddressHolds::Hold* hold);
  boost::asio::awaitable<Result<int64_t>> AdmitPodPriority(boost::json::object& pod);
  boost::asio::awaitable<Status> AdmitPodRuntimeClass(boost::json::object& pod);
  boost::asio::awaitable<Result<int64_t>> AllocateServiceAddresses(boost::json::object& svc, const std::string& ns,
                                                                  const boost::json::object* old,
                                                                  ServiceAddressHolds::Hold* hold);
  // The webhooks' part of a write's admission: the mutating ones on `obj` (validated again when
  // one patched it), then the validating ones. `old`: the stored object (UPDATE, DELETE).
  // `warnings`, when given, gets the webhooks' warnings; `kind` names the object's kind when it
  // is not the resource's (CONNECT's options).
  boost::asio::awaitable<Status> AdmitByWebhooks(Call& c, const char* operation, boost::json::object* obj,
                                                 const boost::json::object* old, const std::string& name,
                                                 std::vector<std::string>* warnings = nullptr,
                                                 const std::string& kind = "");

  datastore::Store* store_;
  const Authorizer* authz_;
  const Authenticator* authn_;
  CustomResources* crds_;
  WatchCache* watch_cache_;
  rbac::RbacAuthorizer* rbac_ = nullptr;
  const rbac::NodeAuthorizer* node_graph_ = nullptr;
  Registry registry_;
  WebhookAdmission webhooks_{&registry_};
  KubeletClient* kubelet_ = nullptr;
  ServiceNetwork service_network_;
  ServiceAddressHolds address_holds_;
};

// Whether the client asks to upgrade to a WebSocket (exec/attach's transport in kubectl 1.30+).
bool WantsWebSocket(const HttpsRequest& req);

// Parses a request body for resource r: JSON (the default, also without Content-Type), YAML,
// or the Kubernetes protobuf envelope. apiVersion/kind, when present, must match r (or `kind`).
Result<boost::json::object> DecodeBody(const HttpsRequest& req, const api::ResourceInfo& r,
                                      const std::string& kind = "", const std::string& group_version = "");

}  // namespace kite::apiserver
