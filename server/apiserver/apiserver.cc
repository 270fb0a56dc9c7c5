// The router: each request through the stages in order (filters/ → crds/ resolve → handlers/ →
// printers/), each stage's work in its folder; and ApiServer::Start, which assembles them.
#include "server/apiserver/apiserver.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/https_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "server/apiserver/aggregator/aggregator.h"
#include "server/apiserver/bootstrap.h"
#include "server/apiserver/certs.h"
#include "server/apiserver/kubelet/kubelet_client.h"
#include "server/apiserver/handlers/list_workers.h"
#include "server/apiserver/crds/crds.h"
#include "server/apiserver/discovery/discovery.h"
#include "server/apiserver/discovery/oidc.h"
#include "server/apiserver/filters/serviceaccount_authn.h"
#include "server/apiserver/filters/serviceaccount_cache.h"
#include "server/apiserver/discovery/openapi.h"
#include "server/apiserver/filters/audit.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/filters/fault_injection.h"
#include "server/apiserver/filters/impersonation.h"
#include "server/apiserver/filters/inflight.h"
#include "server/apiserver/filters/request_info.h"
#include "server/apiserver/filters/request_metrics.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/health.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/handlers/response.h"
#include "server/apiserver/join/join_endpoints.h"
#include "server/apiserver/local_transport.h"
#include "server/apiserver/printers/table_request.h"
#include "server/apiserver/rbac/bootstrap_policy.h"
#include "server/apiserver/rbac/node_authorizer.h"
#include "server/apiserver/rbac/node_restriction.h"
#include "server/apiserver/rbac/rbac_authorizer.h"
#include "server/apiserver/status.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/storage/storage_objects_counter.h"
#include "server/apiserver/storage/watch_cache.h"
#include "server/apiserver/strategy/strategy.h"

namespace kite::apiserver {
namespace {

namespace asio = boost::asio;

// A delegated handler's call, on the pool's thread (the handler and request held by value: the
// coroutine outlives its caller's temporaries).
asio::awaitable<Result<boost::json::object>> CallDelegated(std::shared_ptr<const DelegatedHandler> handler,
                                                         DelegatedRequest request) {
  co_return (*handler)(request);
}

class ApiServerImpl final : public ApiServer {
 public:
  ApiServerImpl(datastore::Store* store, Authenticator authn, const ApiServerOptions& o)
      : store_(store), authn_(std::move(authn)), anonymous_auth_(o.anonymous_auth),
        node_(std::make_unique<rbac::NodeAuthorizer>(store)), rbac_(std::make_unique<rbac::RbacAuthorizer>(store)),
        authz_(o.always_allow, {node_.get(), rbac_.get()}), inflight_(o.inflight), watch_cache_(store), crds_(store),
        storage_counter_(store, [this] { return crds_.Snapshot(); },
                         [this](const std::string& resource, int64_t n) { inflight_.SetStoredObjects(resource, n); }),
        handlers_(store, &authz_, &authn_, &crds_, &watch_cache_),
        https_([this](HttpsRequest& req, HttpsResponder& res) { return Handle(req, res); }),
        local_([this](HttpsRequest& req, HttpsResponder& res) { return Handle(req, res); },
               static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u))) {
    handlers_.SetRbac(rbac_.get());
    handlers_.SetNodeGraph(node_.get());
    handlers_.SetServiceNetwork(o.service_network);
    crds_.SetDelegates(o.delegates);
  }

  Status Start(const ApiServerOptions& o, const ClusterCerts& certs) {
    certs_ = certs;
    auto kubelet = KubeletClient::Create(certs.server_ca.cert_pem, certs.kubelet_client);
    if (!kubelet.ok()) return kubelet.status();
    kubelet_ = std::move(*kubelet);
    handlers_.SetKubeletClient(kubelet_.get());
    crds_.Reload();
    HttpsServerOptions h;
    h.bind_address = o.bind_address;
    h.port = o.port;
    h.cert_pem = certs.serving.cert_pem + certs.server_ca.cert_pem;
    h.key_pem = certs.serving.key_pem;
    h.client_ca_pem = certs.client_ca.cert_pem;
    h.max_connections = o.max_connections;
    aggregator_ = std::make_unique<Aggregator>(
        store_, &crds_, Aggregator::Certs{certs.auth_proxy, certs.client_ca.cert_pem, certs.request_header_ca.cert_pem});
    return https_.Start(h);
  }
  int port() const override { return https_.port(); }
  // Before Start: the host /.well-known/openid-configuration names for the JWK set.
  void SetJwksHost(std::string host) { jwks_host_ = std::move(host); }
  // Before Start: the audit log (filters/audit.h); none: nothing is audited.
  void SetAuditor(std::unique_ptr<audit::Auditor> a) { auditor_ = std::move(a); }
  // Before Start: the cache behind the service-account authenticator (stopped with the server).
  void SetServiceAccountObjects(std::shared_ptr<ServiceAccountObjectCache> c) { sa_objects_ = std::move(c); }
  // Before Start: the join routes, served ahead of authentication.
  void SetJoin(std::unique_ptr<join::JoinEndpoints> join) { join_ = std::move(join); }
  void Stop() override {
    if (aggregator_) aggregator_->Stop();
    storage_counter_.Stop();
    local_.Stop();
    https_.Stop();
    delegated_workers_.join();  // what runs there fails fast now: the local transport is stopped
    // The authorizers' followers watch the store, which main closes after Stop.
    node_->Stop();
    rbac_->Stop();
    if (sa_objects_) sa_objects_->Stop();
  }
  void Delegate(const std::string& group, DelegatedHandler handler) override {
    std::lock_guard<std::mutex> lock(delegated_mu_);
    delegated_[group] = std::make_shared<const DelegatedHandler>(std::move(handler));
  }
  void ServePath(const std::string& path, PathHandler handler) override {
    std::lock_guard<std::mutex> lock(delegated_mu_);
    paths_[path] = std::make_shared<const PathHandler>(std::move(handler));
  }
  const KubeletClient* kubelet_client() const override { return kubelet_.get(); }
  void SetInProcessKubelet(const std::string& node, const InProcessServer& kubelet) override {
    if (kubelet_) kubelet_->SetInProcess(node, kubelet);
  }
  std::shared_ptr<client::Transport> LocalTransport(const std::string& user, std::vector<std::string> groups) override {
    return local_.TransportFor(user, std::move(groups));
  }
  Result<KubeletCerts> IssueKubeletCerts(const std::string& node, const std::vector<std::string>& ips) override {
    auto serving = IssueKubeletServingCert(certs_, node, ips);
    if (!serving.ok()) return serving.status();
    return KubeletCerts{std::move(*serving), certs_.client_ca.cert_pem};
  }
  ~ApiServerImpl() override { Stop(); }

  void StartStorageCounter() { storage_counter_.Start(); }
  void StartAggregator() { aggregator_->Start(); }
  bool WaitStartHooks(std::chrono::milliseconds limit) override { return aggregator_->WaitRegistered(limit); }

 private:
  asio::awaitable<void> Reply(HttpsResponder& res, const RequestAttributes& a, int code, std::string type,
                              std::string body, std::chrono::steady_clock::time_point t0,
                              HttpsResponder::Headers headers = {}) {
    ObserveRequest(a, code, t0);
    co_await res.Send(code, std::move(type), std::move(body), std::move(headers));
  }

  // `e` by value, so no temporary stays bound to a reference across the suspension (see the
  // g++ 12 note in base/https_server.cc).
  asio::awaitable<void> Fail(HttpsResponder& res, const RequestAttributes& a, Status e,
                             std::chrono::steady_clock::time_point t0) {
    HttpsResponder::Headers headers;
    const int retry_after = e.details().retry_after_seconds;
    if (retry_after > 0) headers.emplace_back("Retry-After", std::to_string(retry_after));
    co_await Reply(res, a, e.http_code(), "application/json", StatusJson(e), t0, std::move(headers));
  }

  // 401 for credentials that did not authenticate, audited as such (filters/audit.h).
  asio::awaitable<void> FailAuthentication(const HttpsRequest& req, HttpsResponder& res, const RequestAttributes& a,
                                           std::chrono::steady_clock::time_point t0) {
    HttpsResponder::Headers headers;
    if (auditor_) {
      if (std::string id = auditor_->FailedAuthentication(req, a); !id.empty()) headers.emplace_back("Audit-ID", id);
    }
    Status e = Unauthorized();
    std::string body = StatusJson(e);
    co_await Reply(res, a, e.http_code(), "application/json", std::move(body), t0, std::move(headers));
  }

  asio::awaitable<void> Handle(HttpsRequest& req, HttpsResponder& res) {
    const auto t0 = std::chrono::steady_clock::now();
    if (fault_injection_) InjectFault(req.Header("x-kite-fault"));
    RequestInfo info = ParseRequestInfo(req.method, req.path, QueryBool(req, "watch"));
    RequestAttributes attrs;
    // The join routes authenticate with the join token themselves (k3s serves them in front of
    // the API server's authentication too).
    if (join_ && join::JoinEndpoints::Owns(req.path)) {
      attrs.path = req.path;
      attrs.verb = "get";
      RawResponse raw = join_->Serve(req);
      co_return co_await Reply(res, attrs, raw.code, std::move(raw.content_type), std::move(raw.body), t0);
    }
    attrs.path = req.path;
    attrs.verb = info.verb;
    attrs.resource_request = info.resource_request;
    attrs.api_group = info.api_group;
    attrs.api_version = info.api_version;
    attrs.resource = info.resource;
    attrs.subresource = info.subresource;
    attrs.namespace_ = info.namespace_;
    attrs.name = info.name;
    auto user = authn_.Authenticate(req);
    // --anonymous-auth=false: a request without credentials is refused before anything else.
    if (!user.ok() || (user->anonymous() && !anonymous_auth_)) co_return co_await FailAuthentication(req, res, attrs, t0);
    attrs.user = *user;
    // Audited with the authenticated user, before impersonation (upstream's filter order).
    std::unique_ptr<audit::RequestAudit> audit = auditor_ ? auditor_->Begin(req, attrs) : nullptr;
    if (!audit) co_return co_await HandleAuthenticated(req, res, info, std::move(attrs), t0, nullptr);
    audit::AuditingResponder audited(res, *audit);
    co_await HandleAuthenticated(req, audited, info, std::move(attrs), t0, audit.get());
    audited.Finish();
  }

  // Everything after authentication: impersonation, max in flight, authorization, the handlers.
  asio::awaitable<void> HandleAuthenticated(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                            RequestAttributes attrs, std::chrono::steady_clock::time_point t0,
                                            audit::RequestAudit* audit) {
    if (auto as = Impersonate(req, attrs.user, authz_); !as.ok()) {
      co_return co_await Fail(res, attrs, as.status(), t0);
    } else if (*as) {
      attrs.user = std::move(**as);
      if (audit) audit->Impersonated(attrs.user);
    }
    // Bounded before authorization, as upstream's filter chain does.
    std::optional<InflightLimiter::Seats> seats;
    bool wide_list = false;  // a LIST of more than one seat: prepared on the list workers
    if (!IsLongRunning(info)) {
      int n = 1;
      if (info.resource_request && info.verb == "list") {
        // A bad limit is refused later, with its own message; here it counts as none.
        auto parsed = QueryInt(req, "limit");
        const int64_t limit = parsed.ok() ? parsed.value().value_or(0) : 0;
        const std::string qualified = info.api_group.empty() ? info.resource : info.resource + "." + info.api_group;
        n = ListSeats(inflight_.StoredObjects(qualified), limit);
        wide_list = n > 1;
      }
      seats = inflight_.TryAcquire(IsMutating(info.verb), n);
      // A super-admin always gets an answer (upstream), and so do kite's in-process components
      // (the local transport's requests): they run under their upstream identities, not
      // system:masters, but their concurrency is bounded by their own design (the scheduler
      // keeps up to 1,024 bindings in flight, far beyond the mutating budget), and a 429 there
      // only turns into a retry a second later (a binding rejected so waits out its backoff).
      if (!seats && !attrs.user.InGroup("system:masters") && req.remote != kLocalRemote) {
        co_return co_await Fail(res, attrs, TooManyRequests(), t0);
      }
    }
    RequestAttributes asked;
    const Decision decision = AuthorizeRequest(authz_, attrs, &asked);
    if (audit) audit->Authorized(decision);
    if (!decision.allowed) {
      // Anonymous callers are told to authenticate; known users are told they may not.
      if (attrs.user.anonymous()) co_return co_await Fail(res, attrs, Unauthorized(), t0);
      std::string message = ForbiddenMessage(asked);
      if (!decision.reason.empty()) message += ": " + decision.reason;
      co_return co_await Fail(res, attrs, Forbidden(message), t0);
    }
    if (auto s = rbac::NodeRestrictionByName(*node_, attrs); !s.ok()) co_return co_await Fail(res, attrs, s, t0);
    // A group/version another API server answers (an APIService with a service).
    if (auto remote = aggregator_->For(req.path)) {
      const int code = co_await aggregator_->Proxy(std::move(remote), req, res, attrs.user);
      ObserveRequest(attrs, code, t0);
      co_return;
    }
    if (info.resource_request) co_return co_await HandleResource(req, res, info, attrs, wide_list, t0);
    std::shared_ptr<const PathHandler> path_handler;
    {
      std::lock_guard<std::mutex> lock(delegated_mu_);
      if (auto it = paths_.find(req.path); it != paths_.end()) path_handler = it->second;
    }
    if (path_handler) {
      PathReply reply = (*path_handler)(req.method, req.body);
      co_return co_await Reply(res, attrs, reply.code, std::move(reply.content_type), std::move(reply.body), t0);
    }
    std::optional<RawResponse> raw = ServeHealth(req, store_, aggregator_->Registered());
    // The process's metrics, as kube-apiserver serves them on its secure port (authorized above
    // as the non-resource path /metrics, as upstream's system:monitoring role grants it).
    if (!raw && req.method == "GET" && req.path == "/metrics") {
      raw = RawResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics::Serialize(), {}};
    }
    if (!raw && authn_.service_accounts()) {
      const std::string jwks_uri = "https://" + jwks_host_ + ":" + std::to_string(port()) + "/openid/v1/jwks";
      raw = ServeIssuerDiscovery(req, authn_.service_accounts()->keys(), jwks_uri);
    }
    if (!raw && req.method == "GET") {
      const auto served = crds_.Snapshot();
      raw = ServeOpenApi(req, *served);
      if (!raw) raw = ServeDiscovery(req, *served);
    }
    if (!raw) co_return co_await Fail(res, attrs, NotFoundPath(), t0);
    co_await Reply(res, attrs, raw->code, std::move(raw->content_type), std::move(raw->body), t0, std::move(raw->headers));
  }

  // Resource requests: resolve the resource, then the verb handlers (handlers.h); watches stream,
  // and so do LISTs of objects shown as stored (handlers/list_stream.h).
  asio::awaitable<void> HandleResource(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                       const RequestAttributes& a, bool wide_list,
                                       std::chrono::steady_clock::time_point t0) {
    const auto served = crds_.Snapshot();
    const api::ResourceInfo* r = served->Find(info.api_group, info.api_version, info.resource);
    if (!r || (!r->namespaced && !info.namespace_.empty() && info.resource != "namespaces")) {
      co_return co_await Fail(res, a, NotFoundPath(), t0);
    }
    const std::string ns = r->namespaced ? info.namespace_ : "";
    // A namespaced resource is named with its namespace, except for lists and watches across all
    // (the cluster-scoped reviews never get here: they are not namespaced).
    if (r->namespaced && ns.empty() && info.verb != "list" && info.verb != "watch") {
      co_return co_await Fail(res, a, NotFoundPath(), t0);
    }
    auto table = ParseTableRequest(req.Header("accept"), req.Query("includeObject"));
    if (!table.ok()) co_return co_await Fail(res, a, table.error(), t0);
    if (r->delegated) co_return co_await HandleDelegated(req, res, info, *r, a, *table, t0);
    Prepared p;
    if (info.verb == "list" && wide_list) {
      // A big LIST scans (or decodes and serialises) every object it returns: milliseconds to
      // tens of ms of CPU. That runs on the list workers, at a lower CPU priority, so a burst of
      // big LISTs holds neither the io threads every other request needs nor their CPU (issue
      // 15 item 4); what it writes goes out on this connection's executor.
      auto connection = co_await asio::this_coro::executor;
      ConnectionResponder bound(res, connection);
      auto workers = list_workers_.executor();
      auto work = Prepare(req, bound, info, *r, a, *table);
      auto op = asio::co_spawn(workers, std::move(work), asio::use_awaitable);
      p = co_await std::move(op);
    } else {
      p = co_await Prepare(req, res, info, *r, a, *table);
    }
    if (p.streamed) {
      if (info.verb == "list") ObserveRequest(a, p.code, t0);  // a streamed LIST is done once written
      co_return;
    }
    const bool writes = info.verb != "get" && info.verb != "list";
    if (StrategyFor(*r).ChangesServedResources() && writes) {
      co_await crds_.Written(info.verb, !p.error);
      aggregator_->Invalidate();  // the custom resources' Local APIServices
    }
    if (StrategyFor(*r).ChangesAdmission() && writes) handlers_.webhooks().Invalidate();
    if (StrategyFor(*r).ChangesAggregation() && writes && !p.error) aggregator_->Invalidate();
    if (p.error) co_return co_await Fail(res, a, *p.error, t0);
    co_await Reply(res, a, p.code, "application/json", std::move(p.body), t0, std::move(p.headers));
  }

  // A resource request's answer, serialised: what HandleResource writes.
  struct Prepared {
    bool streamed = false;
    std::optional<Status> error;
    int code = 200;
    std::string body;
    HttpsResponder::Headers headers;
  };
  asio::awaitable<Prepared> Prepare(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                    const api::ResourceInfo& r, const RequestAttributes& a, const TableRequest& table) {
    Prepared p;
    auto out = co_await handlers_.Handle(req, res, info, r, a);
    if (!out.ok()) {
      p.error = out.error();
      co_return p;
    }
    ApiResponse& resp = out.value();
    if (resp.streamed) {
      p.streamed = true;
      p.code = resp.code;
      co_return p;
    }
    if ((info.verb == "get" || info.verb == "list") && info.subresource.empty()) TableIfWanted(table, r, resp.body);
    p.headers = WarningHeaders(resp.warnings);
    p.code = resp.code;
    // An in-process caller that ignores the body gets none.
    if (!req.body_unused || resp.code >= 300) p.body = boost::json::serialize(resp.body);
    co_return p;
  }

  // A group another component serves (Delegate): get and list, answered whole.
  asio::awaitable<void> HandleDelegated(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                        const api::ResourceInfo& r, const RequestAttributes& a,
                                        const TableRequest& table, std::chrono::steady_clock::time_point t0) {
    std::shared_ptr<const DelegatedHandler> handler;
    {
      std::lock_guard<std::mutex> lock(delegated_mu_);
      auto it = delegated_.find(r.group + "/" + r.resource);
      if (it == delegated_.end()) it = delegated_.find(r.group);
      if (it != delegated_.end()) handler = it->second;
    }
    if (!handler) {
      co_return co_await Fail(res, a, Status::Api(503, "ServiceUnavailable", "the server is currently unable to handle the request"), t0);
    }
    if (info.verb != "get" && info.verb != "list") {
      co_return co_await Fail(res, a, MethodNotSupported(info.verb, r.resource + "." + r.group), t0);
    }
    DelegatedRequest d{info.verb, r.version, r.resource, info.namespace_, info.name,
                       req.Query("labelSelector"), req.Query("fieldSelector")};
    auto pool = delegated_workers_.get_executor();
    auto out = co_await asio::co_spawn(pool, CallDelegated(std::move(handler), std::move(d)), asio::use_awaitable);
    if (!out.ok()) co_return co_await Fail(res, a, out.status(), t0);
    boost::json::object body = std::move(out.value());
    TableIfWanted(table, r, body);
    std::string text = boost::json::serialize(body);
    HttpsResponder::Headers headers;
    if (!r.deprecation.empty()) headers = WarningHeaders({r.deprecation});
    co_await Reply(res, a, 200, "application/json", std::move(text), t0, std::move(headers));
  }

  const bool fault_injection_ = FaultInjectionEnabled();  // filters/fault_injection.h

  // Delegated handlers run here: they may block on this server's own requests (the metrics
  // server reads Pods per request), which the io threads and list workers must stay free to serve.
  asio::thread_pool delegated_workers_{2};
  std::mutex delegated_mu_;  // guards delegated_
  std::map<std::string, std::shared_ptr<const DelegatedHandler>> delegated_;
  std::map<std::string, std::shared_ptr<const PathHandler>> paths_;  // guarded by delegated_mu_
  std::shared_ptr<ServiceAccountObjectCache> sa_objects_;  // set once, before the first request
  std::unique_ptr<audit::Auditor> auditor_;                // set once, before the first request
  std::unique_ptr<join::JoinEndpoints> join_;  // set once by SetJoin, before the first request
  std::string jwks_host_;                       // set once by SetJwksHost, before the first request
  datastore::Store* store_;
  Authenticator authn_;
  bool anonymous_auth_;
  std::unique_ptr<rbac::NodeAuthorizer> node_;
  std::unique_ptr<rbac::RbacAuthorizer> rbac_;
  ChainAuthorizer authz_;
  InflightLimiter inflight_;
  WatchCache watch_cache_;
  CustomResources crds_;
  StorageObjectsCounter storage_counter_;  // stopped first (Stop), as it reads crds_ and inflight_
  ClusterCerts certs_;
  std::unique_ptr<KubeletClient> kubelet_;
  std::unique_ptr<Aggregator> aggregator_;  // made by Start, before the first request
  ResourceHandlers handlers_;
  HttpsServer https_;
  LocalDispatcher local_;
  // Where wide LISTs are answered (HandleResource), at nice +10; first to stop.
  ListWorkers list_workers_{static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)), 10};
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& o, datastore::Store* store) {
  if (auto s = EnsureSystemNamespaces(store); !s.ok()) return s;
  if (auto s = EnsureSystemPriorityClasses(store); !s.ok()) return s;
  if (auto s = rbac::ReconcileBootstrapPolicy(store); !s.ok()) return s;
  auto certs = LoadOrCreateCerts(o.tls_dir, WantedSans(o.tls_sans, o.cluster_cidr, o.service_network.KubernetesServiceIp()));
  if (!certs.ok()) return certs.status();
  // Service-account tokens: the keys beside the certificates (k3s's files), objects read as the
  // registry reads them.
  auto sa_keys = serviceaccount::LoadOrCreateKeys(o.tls_dir);
  if (!sa_keys.ok()) return sa_keys.status();
  // The objects a token is checked against come from memory (serviceaccount_cache.h); a key the
  // cache does not hold yet is read as the registry reads it.
  auto sa_objects = std::make_shared<ServiceAccountObjectCache>(
      store, [store](const std::string& resource, const std::string& ns, const std::string& name) {
        const api::ResourceInfo* r = api::FindResource("", "v1", resource);
        if (!r) return Result<boost::json::object>(Status(Code::kInvalidArgument, "unknown resource " + resource));
        return Registry(store).Read(*r, ns, name);
      });
  auto sa_authn = std::make_shared<const ServiceAccountAuthenticator>(
      std::move(*sa_keys), [objects = sa_objects.get()](const std::string& resource, const std::string& ns,
                                                        const std::string& name) { return objects->Get(resource, ns, name); });
  auto authn = Authenticator::Create(o.token_auth_file, std::move(sa_authn));
  if (!authn.ok()) return authn.status();
  auto server = std::make_unique<ApiServerImpl>(store, std::move(authn.value()), o);
  server->SetServiceAccountObjects(std::move(sa_objects));
  if (!o.audit.path.empty() && !o.audit_policy_file.empty()) {
    auto policy = audit::LoadPolicy(o.audit_policy_file);
    if (!policy.ok()) return policy.status();
    auto log = audit::AuditLog::Open(o.audit);
    if (!log.ok()) return log.status();
    server->SetAuditor(std::make_unique<audit::Auditor>(std::move(*policy), std::move(*log)));
  }
  if (!o.join_token_path.empty()) {
    // Node passwords are Secrets in kube-system, written as the API server itself.
    auto join = join::JoinEndpoints::Create({o.join_token_path, o.join_token, o.join_settings}, *certs,
                                            server->LocalTransport("system:apiserver", {"system:masters"}));
    if (!join.ok()) return join.status();
    server->SetJoin(std::move(join.value()));
  }
  {
    std::string host = o.bind_address == "0.0.0.0" || o.bind_address.empty() ? "127.0.0.1" : o.bind_address == "::" ? "::1" : o.bind_address;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    server->SetJwksHost(host);
  }
  if (auto s = server->Start(o, *certs); !s.ok()) return s;
  server->StartStorageCounter();
  server->StartAggregator();
  {
    std::string ip = !o.advertise_address.empty() ? o.advertise_address
                     : o.bind_address == "0.0.0.0" || o.bind_address == "::" || o.bind_address.empty() ? "127.0.0.1"
                                                                                                      : o.bind_address;
    if (auto s = EnsureKubernetesService(store, o.service_network.KubernetesServiceIp(), ip, server->port()); !s.ok()) return s;
  }
  if (!o.kubeconfig_path.empty()) {
    std::string host = o.bind_address == "0.0.0.0" || o.bind_address == "::" ? "127.0.0.1" : o.bind_address;
    if (auto s = WriteKubeconfig(o.kubeconfig_path, *certs, host, server->port(), o.kubeconfig_mode); !s.ok()) {
      return s;
    }
  }
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace kite::apiserver
