#include "server/apiserver/apiserver.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <stdexcept>
#include <mutex>
#include <thread>

#include "base/https_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "api/json_text.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/certs.h"
#include "server/apiserver/discovery/discovery.h"
#include "server/apiserver/crds/crds.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/filters/inflight.h"
#include "server/apiserver/local_transport.h"
#include "server/apiserver/storage/store_await.h"
#include "server/apiserver/discovery/openapi.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/filters/request_info.h"
#include "server/apiserver/handlers/watch_handler.h"
#include "server/apiserver/status.h"
#include "server/apiserver/printers/tables.h"

namespace kite::apiserver {
namespace {

namespace asio = boost::asio;

struct RequestMetrics {
  prometheus::Family<prometheus::Counter>& total;
  prometheus::Family<prometheus::Histogram>& duration;
  static RequestMetrics& Get() {
    auto& r = metrics::Default();
    static RequestMetrics m{
        prometheus::BuildCounter().Name("apiserver_request_total")
            .Help("Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.")
            .Register(r),
        prometheus::BuildHistogram().Name("apiserver_request_duration_seconds")
            .Help("Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.")
            .Register(r),
    };
    return m;
  }
};

std::string VersionJson() {
  boost::json::object v;
  v["major"] = "1";
  v["minor"] = "32";
  v["gitVersion"] = std::string(kKubernetesVersion) + "+kite";
  v["gitCommit"] = "0000000000000000000000000000000000000000";
  v["gitTreeState"] = "clean";
  v["buildDate"] = __DATE__;  // NOLINT: informational only
  v["goVersion"] = "none";
  v["compiler"] = "g++";
#if defined(__aarch64__)
  v["platform"] = "linux/arm64";
#elif defined(__arm__)
  v["platform"] = "linux/arm";
#else
  v["platform"] = "linux/amd64";
#endif
  return boost::json::serialize(v);
}

class ApiServerImpl final : public ApiServer {
 public:
  ApiServerImpl(datastore::Store* store, Authenticator authn, const ApiServerOptions& o)
      : store_(store), authn_(std::move(authn)), authz_(o.always_allow), inflight_(o.inflight), watch_cache_(store), crds_(store), handlers_(store, &authz_, &authn_, &crds_),
        https_([this](HttpsRequest& req, HttpsResponder& res) { return Handle(req, res); }),
        local_([this](HttpsRequest& req, HttpsResponder& res) { return Handle(req, res); },
               static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u))) {}

  Status Start(const ApiServerOptions& o, const ClusterCerts& certs) {
    crds_.Reload();
    HttpsServerOptions h;
    h.bind_address = o.bind_address;
    h.port = o.port;
    h.cert_pem = certs.serving.cert_pem + certs.server_ca.cert_pem;
    h.key_pem = certs.serving.key_pem;
    h.client_ca_pem = certs.client_ca.cert_pem;
    h.max_connections = o.max_connections;
    return https_.Start(h);
  }
  int port() const override { return https_.port(); }
  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(counter_mu_);
      stopping_ = true;
    }
    counter_cv_.notify_all();
    if (counter_.joinable()) counter_.join();
    local_.Stop();
    https_.Stop();
  }
  std::shared_ptr<client::Transport> LocalTransport(const std::string& user, std::vector<std::string> groups) override {
    return local_.TransportFor(user, std::move(groups));
  }
  ~ApiServerImpl() override { Stop(); }

  // apiserver_storage_objects{resource="pods"}: objects per resource, recounted every 10 s
  // (a count-only range per resource; no objects are read).
  void StartStorageCounter() {
    counter_ = std::thread([this] {
      auto& family = prometheus::BuildGauge()
                         .Name("apiserver_storage_objects")
                         .Help("Number of stored objects at the time of last check split by kind.")
                         .Register(metrics::Default());
      std::unique_lock<std::mutex> lock(counter_mu_);
      while (!stopping_) {
        lock.unlock();
        auto set = crds_.Snapshot();
        for (const auto& r : set->resources) {
          if (std::find(r.verbs.begin(), r.verbs.end(), "list") == r.verbs.end()) continue;
          datastore::RangeRequest q;
          q.key = StoragePrefix(r, "");
          q.range_end = q.key;
          q.range_end.back()++;
          q.count_only = true;
          auto res = store_->Range(q);
          if (res.ok()) {
            family.Add({{"resource", QualifiedResource(r)}}).Set(static_cast<double>(res->count));
            inflight_.SetStoredObjects(QualifiedResource(r), res->count);
          }
        }
        lock.lock();
        counter_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return stopping_; });
      }
    });
  }

 private:
  asio::awaitable<void> Reply(HttpsResponder& res, const RequestAttributes& a, int code, std::string type,
                              std::string body, std::chrono::steady_clock::time_point t0,
                              HttpsResponder::Headers headers = {}) {
    auto& m = RequestMetrics::Get();
    std::map<std::string, std::string> labels = {
        {"verb", a.verb.empty() ? "GET" : a.verb}, {"code", std::to_string(code)}, {"group", a.api_group},
        {"version", a.api_version}, {"resource", a.resource}, {"subresource", a.subresource},
        {"scope", a.resource_request ? (a.namespace_.empty() ? "cluster" : "namespace") : ""},
        {"component", "apiserver"}, {"dry_run", ""}};
    m.total.Add(labels).Increment();
    labels.erase("code");
    m.duration.Add(labels, metrics::ExponentialBuckets(0.005, 2, 14))
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    co_await res.Send(code, std::move(type), std::move(body), std::move(headers));
  }

  // `e` by value, so no temporary stays bound to a reference across the suspension (see the
  // g++ 12 note in base/https_server.cc).
  asio::awaitable<void> Fail(HttpsResponder& res, const RequestAttributes& a, ApiError e,
                             std::chrono::steady_clock::time_point t0) {
    HttpsResponder::Headers headers;
    if (e.retry_after_seconds > 0) headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    co_await Reply(res, a, e.code, "application/json", StatusJson(e), t0, std::move(headers));
  }

  asio::awaitable<void> Handle(HttpsRequest& req, HttpsResponder& res) {
    const auto t0 = std::chrono::steady_clock::now();
    if (fault_injection_) InjectFault(req.Header("x-kite-fault"));
    RequestInfo info = ParseRequestInfo(req.method, req.path, QueryBool(req, "watch"));
    RequestAttributes attrs;
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
    if (!user.ok()) co_return co_await Fail(res, attrs, Unauthorized(), t0);
    attrs.user = *user;
    // Bounded before authorization, as upstream's filter chain does.
    std::optional<InflightLimiter::Seats> seats;
    if (!IsLongRunning(info)) {
      int n = 1;
      if (info.resource_request && info.verb == "list") {
        // A bad limit is refused later, with its own message; here it counts as none.
        auto parsed = QueryInt(req, "limit");
        const int64_t limit = parsed.ok() ? parsed.value().value_or(0) : 0;
        const std::string qualified = info.api_group.empty() ? info.resource : info.resource + "." + info.api_group;
        n = ListSeats(inflight_.StoredObjects(qualified), limit);
      }
      seats = inflight_.TryAcquire(IsMutating(info.verb), n);
      // A super-admin (and kite's in-process components) always gets an answer.
      if (!seats && !attrs.user.InGroup("system:masters")) co_return co_await Fail(res, attrs, TooManyRequests(), t0);
    }
    auto decision = authz_.Authorize(attrs);
    if (!decision.allowed) {
      // Anonymous callers are told to authenticate; known users are told they may not.
      if (attrs.user.anonymous()) co_return co_await Fail(res, attrs, Unauthorized(), t0);
      co_return co_await Fail(res, attrs, Forbidden(ForbiddenMessage(attrs)), t0);
    }
    if (info.resource_request) co_return co_await HandleResource(req, res, info, attrs, t0);
    if (req.path == "/version" || req.path == "/version/") {
      co_return co_await Reply(res, attrs, 200, "application/json", VersionJson(), t0);
    }
    if (req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") {
      // Ready means the datastore answers a read; /livez only that the process serves.
      datastore::RangeRequest probe;
      probe.key = "/registry/health";
      bool store_ok = store_->Range(probe).ok();
      bool ok = req.path == "/livez" || store_ok;
      std::string body = ok ? "ok" : "[-]etcd failed: reason withheld\nhealthz check failed";
      if (req.HasQuery("verbose")) {
        body = std::string("[+]ping ok\n") + (store_ok ? "[+]etcd ok\n" : "[-]etcd failed: reason withheld\n") +
               (ok ? req.path.substr(1) + " check passed\n" : req.path.substr(1) + " check failed\n");
      }
      co_return co_await Reply(res, attrs, ok ? 200 : 500, "text/plain; charset=utf-8", body, t0);
    }
    if (req.method == "GET" && req.path.rfind("/openapi/v3", 0) == 0) {
      if (auto doc = OpenApiV3(*crds_.Snapshot(), req.path, req.HasQuery("hash")); doc) {
        HttpsResponder::Headers headers;
        if (doc->immutable) headers.emplace_back("Cache-Control", "public, immutable");
        else headers.emplace_back("Cache-Control", "no-cache, private");
        co_return co_await Reply(res, attrs, 200, "application/json", std::move(doc->body), t0, std::move(headers));
      }
    }
    if (req.method == "GET") {
      if (auto doc = Discovery(req); doc) {
        co_return co_await Reply(res, attrs, 200, std::move(doc->first), std::move(doc->second), t0);
      }
    }
    co_await Fail(res, attrs, NotFoundPath(), t0);
  }

  // Resource requests: resolve the resource, then the verb handlers (handlers.h); watches stream.
  asio::awaitable<void> HandleResource(HttpsRequest& req, HttpsResponder& res, const RequestInfo& info,
                                       const RequestAttributes& a, std::chrono::steady_clock::time_point t0) {
    const auto served = crds_.Snapshot();
    const api::ResourceInfo* r = served->Find(info.api_group, info.api_version, info.resource);
    if (!r || (!r->namespaced && !info.namespace_.empty() && info.resource != "namespaces")) {
      co_return co_await Fail(res, a, NotFoundPath(), t0);
    }
    const std::string ns = r->namespaced ? info.namespace_ : "";
    if (r->namespaced && ns.empty() && info.verb != "list" && info.verb != "watch" &&
        !(info.verb == "create" && r->group.rfind("authorization.k8s.io", 0) == 0 && r->resource != "localsubjectaccessreviews") &&
        !(r->group == "authentication.k8s.io")) {
      co_return co_await Fail(res, a, NotFoundPath(), t0);
    }
    WatchFormat format;
    format.table_version = WantedTableVersion(req.Header("accept"));
    if (!IsValidIncludeObject(req.Query("includeObject"))) {
      co_return co_await Fail(res, a, BadRequest("unrecognized includeObject value: \"" + req.Query("includeObject") + "\""), t0);
    }
    format.include = ParseIncludeObject(req.Query("includeObject"));
    if (info.verb == "watch") {
      auto opts = ParseListOptions(req, *r);
      if (!opts.ok()) co_return co_await Fail(res, a, opts.error(), t0);
      co_return co_await ServeWatch(req, res, store_, &watch_cache_, *r, ns, std::move(opts.value()), format);
    }
    if ((info.subresource == "exec" || info.subresource == "attach") && WantsWebSocket(req)) {
      co_return co_await ServeRemoteCommand(req, res, a, *r, ns, info, t0);
    }
    auto out = co_await handlers_.Handle(req, info, *r, a);
    if (r->resource == "customresourcedefinitions" && info.verb != "get" && info.verb != "list") {
      co_await CrdWritten(*r, info, out.ok());
    }
    if (!out.ok()) co_return co_await Fail(res, a, out.error(), t0);
    ApiResponse& resp = out.value();
    if (!format.table_version.empty() && (info.verb == "get" || info.verb == "list") && info.subresource.empty() &&
        resp.body.contains("metadata")) {
      if (r->custom) {
        resp.body = CustomResourceTable(*r, resp.body, format.include == IncludeObject::kObject,
                                        format.include == IncludeObject::kNone, format.table_version);
      } else {
        resp.body = ToTable(*r, resp.body, format.include, format.table_version, std::chrono::system_clock::now());
      }
    }
    HttpsResponder::Headers headers;
    for (const auto& w : resp.warnings) {
      std::string text;
      for (char ch : w) {
        if (ch == '"' || ch == '\\') text += '\\';
        text += ch;
      }
      headers.emplace_back("Warning", "299 - \"" + text + "\"");
    }
    // An in-process caller that ignores the body gets none. (A named local, not a ?: temporary in
    // the co_await expression: g++ 12 frees such a temporary twice.)
    std::string body;
    if (!req.body_unused || resp.code >= 300) body = boost::json::serialize(resp.body);
    co_await Reply(res, a, resp.code, "application/json", std::move(body), t0, std::move(headers));
  }

  // A test seam: with KITE_FAULT_INJECTION=1 in the environment at start, a request carrying
  // `X-Kite-Fault: bad_alloc` or `exception` throws from inside the handler, so the tests can show
  // that what a handler throws ends that request with a 500 and never the process.
  static void InjectFault(const std::string& kind) {
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "exception") throw std::runtime_error("injected fault");
  }
  const bool fault_injection_ = [] {
    const char* v = std::getenv("KITE_FAULT_INJECTION");
    return v && std::string(v) == "1";
  }();

  static bool WantsWebSocket(const HttpsRequest& req) {
    std::string up = req.Header("upgrade");
    for (char& ch : up) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return up.find("websocket") != std::string::npos;
  }

  // exec/attach over WebSocket (kubectl 1.32's default): the remote-command channel protocol
  // (v5.channel.k8s.io, or the older ones the client offers). The stream itself is the
  // kubelet's to serve; until a kubelet is connected the route upgrades, reports why on the
  // error channel (3) as a Status, and closes, which kubectl prints as the command's error.
  asio::awaitable<void> ServeRemoteCommand(HttpsRequest& req, HttpsResponder& res, const RequestAttributes& a,
                                           const api::ResourceInfo& r, const std::string& ns, const RequestInfo& info,
                                           std::chrono::steady_clock::time_point t0) {
    auto stream = co_await NodeStream(handlers_.registry(), r, ns, info.name, info.subresource);
    ApiError e = stream.ok() ? InternalError("no stream") : stream.error();
    if (e.code == 404) co_return co_await Fail(res, a, e, t0);
    const std::string offered = req.Header("sec-websocket-protocol");
    std::string protocol;
    for (const char* p : {"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                          "channel.k8s.io"}) {
      if (offered.find(p) != std::string::npos) {
        protocol = p;
        break;
      }
    }
    if (protocol.empty()) co_return co_await Fail(res, a, BadRequest("no supported remote command protocol offered"), t0);
    auto ws = co_await res.AcceptWebSocket(protocol);
    if (!ws) co_return co_await Fail(res, a, e, t0);
    std::string message(1, '\x03');
    message += StatusJson(e);
    co_await ws->WriteBinary(std::move(message));
    co_await ws->Close();
  }

  // A CRD was written: serve the new set; a CRD that is gone takes its objects with it.
  asio::awaitable<void> CrdWritten(const api::ResourceInfo& r, const RequestInfo& info, bool ok) {
    if (!ok) co_return;
    const auto before = crds_.Snapshot();
    crds_.Reload();
    if (info.verb != "delete" && info.verb != "deletecollection") co_return;
    const auto after = crds_.Snapshot();
    for (const auto& old : before->resources) {
      if (!old.custom || after->Find(old.group, old.version, old.resource)) continue;
      datastore::DeleteRangeRequest del;
      del.key = StoragePrefix(old, "");
      del.range_end = del.key;
      del.range_end.back()++;
      datastore::TxnRequest t;
      t.success.push_back(datastore::RequestOp{std::move(del)});
      co_await AsyncTxn(store_, std::move(t));
    }
    (void)r;
  }

  // Discovery documents for /api, /apis, /api/v1, /apis/<group>, /apis/<group>/<version>.
  std::optional<std::pair<std::string, std::string>> Discovery(const HttpsRequest& req) {
    const std::string& p = req.path;
    if (p == "/api" || p == "/apis" || p == "/api/" || p == "/apis/") {
      bool core = p.rfind("/api", 0) == 0 && p.rfind("/apis", 0) != 0;
      auto f = NegotiateDiscovery(req.Header("accept"));
      const auto set = crds_.Snapshot();
      if (f != DiscoveryFormat::kLegacy) return std::make_pair(DiscoveryContentType(f), AggregatedDiscovery(*set, core, f));
      std::string host = req.Header("host");
      return std::make_pair(std::string("application/json"), core ? LegacyApiVersions(host) : LegacyApiGroupList(*set));
    }
    std::vector<std::string> parts;
    for (size_t i = 1; i <= p.size();) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      if (j > i) parts.push_back(p.substr(i, j - i));
      i = j + 1;
    }
    std::optional<std::string> doc;
    const auto set = crds_.Snapshot();
    if (parts.size() == 2 && parts[0] == "api") doc = LegacyApiResourceList(*set, "", parts[1]);
    else if (parts.size() == 2 && parts[0] == "apis") doc = LegacyApiGroup(*set, parts[1]);
    else if (parts.size() == 3 && parts[0] == "apis") doc = LegacyApiResourceList(*set, parts[1], parts[2]);
    if (!doc) return std::nullopt;
    return std::make_pair(std::string("application/json"), std::move(*doc));
  }

  datastore::Store* store_;
  Authenticator authn_;
  MastersAuthorizer authz_;
  InflightLimiter inflight_;
  WatchCache watch_cache_;
  std::thread counter_;
  std::mutex counter_mu_;
  std::condition_variable counter_cv_;
  bool stopping_ = false;
  CustomResources crds_;
  ResourceHandlers handlers_;
  HttpsServer https_;
  LocalDispatcher local_;
};

// Creates `obj` at `key` unless something is there already.
Status CreateIfMissing(datastore::Store* store, const std::string& key, boost::json::object obj) {
  datastore::TxnRequest t;
  datastore::Compare c;
  c.key = key;
  c.target = datastore::Compare::Target::kMod;
  t.compare.push_back(c);
  obj["metadata"].as_object()["uid"] = NewUid();
  obj["metadata"].as_object()["creationTimestamp"] = NowRfc3339();
  datastore::PutRequest put;
  put.key = key;
  put.value = std::make_shared<const std::string>(boost::json::serialize(obj));
  t.success.push_back(datastore::RequestOp{std::move(put)});
  auto r = store->TxnSync(std::move(t));
  return r.ok() ? Status::Ok() : r.status();
}

// The namespaces every cluster starts with (created once; kept if they exist).
Status EnsureSystemNamespaces(datastore::Store* store) {
  const api::ResourceInfo* nsr = api::FindResource("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    boost::json::object obj{{"apiVersion", "v1"}, {"kind", "Namespace"},
                            {"metadata", boost::json::object{{"name", name}, {"labels", boost::json::object{{"kubernetes.io/metadata.name", name}}}}},
                            {"spec", boost::json::object{{"finalizers", boost::json::array{"kubernetes"}}}},
                            {"status", boost::json::object{{"phase", "Active"}}}};
    if (auto s = CreateIfMissing(store, StorageKey(*nsr, "", name), std::move(obj)); !s.ok()) return s;
  }
  return Status::Ok();
}

// The two PriorityClasses every cluster has (upstream's apiserver creates them at start), so
// that add-ons naming them are admitted.
Status EnsureSystemPriorityClasses(datastore::Store* store) {
  const api::ResourceInfo* pcr = api::FindResource("scheduling.k8s.io", "v1", "priorityclasses");
  struct Builtin {
    const char* name;
    int64_t value;
    const char* description;
  };
  for (const Builtin& b : {Builtin{"system-node-critical", 2000001000,
                                   "Used for system critical pods that must not be moved from their current node."},
                           Builtin{"system-cluster-critical", 2000000000,
                                   "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."}}) {
    boost::json::object obj{{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"},
                            {"metadata", boost::json::object{{"name", b.name}}},
                            {"value", b.value}, {"globalDefault", false}, {"description", b.description},
                            {"preemptionPolicy", "PreemptLowerPriority"}};
    if (auto s = CreateIfMissing(store, StorageKey(*pcr, "", b.name), std::move(obj)); !s.ok()) return s;
  }
  return Status::Ok();
}

// The `kubernetes` Service (10.43.0.1:443) and its Endpoints (this server), which in-cluster
// clients and `kubectl cluster-info` look for. The endpoint port follows the serving port.
Status EnsureKubernetesService(datastore::Store* store, const std::string& ip, int port) {
  namespace json = boost::json;
  const api::ResourceInfo* svc = api::FindResource("", "v1", "services");
  const api::ResourceInfo* eps = api::FindResource("", "v1", "endpoints");
  json::object labels{{"component", "apiserver"}, {"provider", "kubernetes"}};
  json::object service{
      {"apiVersion", "v1"}, {"kind", "Service"},
      {"metadata", json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"spec", json::object{{"type", "ClusterIP"}, {"clusterIP", "10.43.0.1"}, {"clusterIPs", json::array{"10.43.0.1"}},
                            {"ports", json::array{json::object{{"name", "https"}, {"port", 443}, {"protocol", "TCP"},
                                                               {"targetPort", 6443}}}},
                            {"sessionAffinity", "None"}, {"ipFamilies", json::array{"IPv4"}},
                            {"ipFamilyPolicy", "SingleStack"}, {"internalTrafficPolicy", "Cluster"}}},
      {"status", json::object{{"loadBalancer", json::object()}}}};
  if (auto s = CreateIfMissing(store, StorageKey(*svc, "default", "kubernetes"), std::move(service)); !s.ok()) return s;
  json::object endpoints{
      {"apiVersion", "v1"}, {"kind", "Endpoints"},
      {"metadata", json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", json::object{{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
      {"subsets", json::array{json::object{
                      {"addresses", json::array{json::object{{"ip", ip}}}},
                      {"ports", json::array{json::object{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}}}};
  return CreateIfMissing(store, StorageKey(*eps, "default", "kubernetes"), std::move(endpoints));
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& o, datastore::Store* store) {
  if (auto s = EnsureSystemNamespaces(store); !s.ok()) return s;
  if (auto s = EnsureSystemPriorityClasses(store); !s.ok()) return s;
  auto certs = LoadOrCreateCerts(o.tls_dir, WantedSans(o.tls_sans));
  if (!certs.ok()) return certs.status();
  auto authn = Authenticator::Create(o.token_auth_file);
  if (!authn.ok()) return authn.status();
  auto server = std::make_unique<ApiServerImpl>(store, std::move(authn.value()), o);
  if (auto s = server->Start(o, *certs); !s.ok()) return s;
  server->StartStorageCounter();
  {
    std::string ip = o.bind_address == "0.0.0.0" || o.bind_address == "::" || o.bind_address.empty() ? "127.0.0.1" : o.bind_address;
    if (auto s = EnsureKubernetesService(store, ip, server->port()); !s.ok()) return s;
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
