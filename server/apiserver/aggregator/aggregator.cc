// The availability checks and the proxy of aggregator.h; the objects written at start are in
// local_apiservices.cc.
#include "server/apiserver/aggregator/aggregator.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "api/object.h"
#include "api/time.h"
#include "base/dial.h"
#include "base/encoding.h"
#include "base/https_client.h"
#include "base/log.h"
#include "base/metrics.h"
#include "server/apiserver/aggregator/discovery_document.h"
#include "server/apiserver/crds/crds.h"
#include "server/apiserver/handlers/http_relay.h"
#include "server/apiserver/handlers/service_proxy.h"
#include "server/apiserver/status.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

// How often every APIService is checked when nothing asks sooner.
constexpr auto kResync = std::chrono::seconds(5);
// A discovery check's whole exchange.
constexpr auto kCheckTimeout = std::chrono::seconds(5);

const api::ResourceInfo& ApiServices() {
  static const api::ResourceInfo& r = *api::FindResource("apiregistration.k8s.io", "v1", "apiservices");
  return r;
}

prometheus::Family<prometheus::Gauge>& UnavailableGauge() {
  static auto& family = prometheus::BuildGauge()
                            .Name("aggregator_unavailable_apiservice")
                            .Help("Gauge of APIServices which are marked as unavailable broken down by APIService name.")
                            .Register(metrics::Default());
  return family;
}

prometheus::Family<prometheus::Counter>& UnavailableCounter() {
  static auto& family = prometheus::BuildCounter()
                            .Name("aggregator_unavailable_apiservice_total")
                            .Help("Counter of APIServices which are marked as unavailable broken down by APIService name and reason.")
                            .Register(metrics::Default());
  return family;
}

// The group and version of /apis/<group>/<version>[/...]; empty when `path` is not one.
std::pair<std::string_view, std::string_view> GroupVersionOf(std::string_view path) {
  if (path.rfind("/apis/", 0) != 0) return {};
  path.remove_prefix(6);
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  std::string_view group = path.substr(0, slash);
  std::string_view rest = path.substr(slash + 1);
  std::string_view version = rest.substr(0, rest.find('/'));
  if (version.empty()) return {};
  return {group, version};
}

// Whether `a` and `b` serve the same resources (every field discovery shows).
bool SameResources(const std::vector<api::ResourceInfo>& a, const std::vector<api::ResourceInfo>& b) {
  auto fields = [](const api::ResourceInfo& r) {
    return std::tie(r.group, r.version, r.resource, r.kind, r.singular, r.namespaced, r.verbs, r.short_names, r.categories);
  };
  auto sub = [](const api::SubresourceInfo& s) { return std::tie(s.name, s.group, s.version, s.kind, s.verbs); };
  auto same_sub = [&](const api::SubresourceInfo& x, const api::SubresourceInfo& y) { return sub(x) == sub(y); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](const api::ResourceInfo& x, const api::ResourceInfo& y) {
    return fields(x) == fields(y) &&
           std::equal(x.subresources.begin(), x.subresources.end(), y.subresources.begin(), y.subresources.end(), same_sub);
  });
}

// The proxy's TLS towards one APIService: its caBundle (or none checked), our front-proxy
// client certificate.
Result<std::shared_ptr<asio::ssl::context>> TlsFor(const json::object& spec, const pki::KeyPair& client) {
  Kubeconfig kc;
  kc.insecure_skip_tls_verify = api::GetBool(spec, "insecureSkipTLSVerify");
  if (const std::string bundle = api::GetString(spec, "caBundle"); !bundle.empty()) {
    auto pem = Base64Decode(bundle);
    if (!pem) return Status(Code::kInvalidArgument, "caBundle is not base64");
    kc.ca_pem = *pem;
  }
  kc.cert_pem = client.cert_pem;
  kc.key_pem = client.key_pem;
  return MakeTlsContext(kc);
}

// The name `remote`'s serving certificate is checked for (and the Host it is sent).
std::string ServerName(const RemoteApiService& remote) {
  return remote.service_name + "." + remote.service_namespace + ".svc";
}

// X-Remote-Extra-<key>: the key percent-encoded where a header name cannot carry it.
std::string ExtraHeader(const std::string& key) { return "X-Remote-Extra-" + PercentEncode(key); }

// Upstream's proxy errors: 503 with the text alone (http.Error), which kubectl shows as
// "the server is currently unable to handle the request".
asio::awaitable<int> SendUnavailable(HttpsResponder& res, std::string text) {
  std::string type = "text/plain; charset=utf-8";
  HttpsResponder::Headers headers{{"X-Content-Type-Options", "nosniff"}};
  text += "\n";
  co_await res.Send(503, std::move(type), std::move(text), std::move(headers));
  co_return 503;
}

// What the extension server is told of the request besides its body: the user (X-Remote-*) and,
// as Go's reverse proxy in upstream's aggregator appends it, the client's address to any
// X-Forwarded-For the request came with.
HttpsResponder::Headers ProxiedHeaders(const HttpsRequest& req, const UserInfo& user) {
  HttpsResponder::Headers h{{"X-Remote-User", user.name}};
  for (const auto& g : user.groups) h.emplace_back("X-Remote-Group", g);
  for (const auto& [k, values] : user.extra) {
    for (const auto& v : values) h.emplace_back(ExtraHeader(k), v);
  }
  if (const std::string client = req.RemoteIp(); !client.empty()) {
    const std::string prior = req.Header("x-forwarded-for");
    h.emplace_back("X-Forwarded-For", prior.empty() ? client : prior + ", " + client);
  }
  return h;
}

}  // namespace

// One APIService's check: the Available condition it earns, and what its server serves.
struct Aggregator::Checked {
  bool available = false;
  std::string reason, message;
  std::optional<std::vector<api::ResourceInfo>> resources;  // set when discovery answered
};

Aggregator::Aggregator(datastore::Store* store, CustomResources* served, Certs certs)
    : store_(store), served_(served), certs_(std::move(certs)) {}

Aggregator::~Aggregator() { Stop(); }

void Aggregator::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Aggregator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Aggregator::Invalidate() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const RemoteApiService> Aggregator::For(std::string_view path) const {
  if (!any_remote_.load(std::memory_order_acquire)) return nullptr;  // the usual case: no lock taken
  auto [group, version] = GroupVersionOf(path);
  if (group.empty()) return nullptr;
  std::string key;
  key.reserve(group.size() + version.size() + 1);
  key.append(group).append("/").append(version);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_group_version_.find(key);
  return it == by_group_version_.end() ? nullptr : it->second;
}

void Aggregator::Run() {
  asio::io_context ioc;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!dirty_) wake_.wait_for(lock, kResync, [this] { return stopping_ || dirty_; });
    if (stopping_) break;
    dirty_ = false;
    lock.unlock();
    asio::co_spawn(ioc, CheckAll(), asio::detached);
    ioc.run();
    ioc.restart();
    lock.lock();
    if (started_ && !registered_.load(std::memory_order_relaxed)) {
      registered_.store(true, std::memory_order_release);
      wake_.notify_all();
    }
  }
}

bool Aggregator::WaitRegistered(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mu_);
  return wake_.wait_for(lock, limit, [this] { return stopping_ || registered_.load(std::memory_order_acquire); }) &&
         registered_.load(std::memory_order_acquire);
}

asio::awaitable<void> Aggregator::CheckAll() {
  // Every argument a named object: g++ 12 may free a temporary bound to a coroutine's reference
  // parameter before the coroutine is done with it.
  Registry registry(store_);
  const std::string cluster_scope;
  const ListOptions all;
  auto listed = co_await registry.List(ApiServices(), cluster_scope, all);
  if (!listed.ok()) co_return;
  if (!started_) {
    Status s = co_await EnsureAuthenticationConfigMap(registry, certs_.client_ca_pem, certs_.request_header_ca_pem);
    if (!s.ok()) KITE_LOG(0) << "extension-apiserver-authentication: " << s.message();
  }
  const auto served = served_->Snapshot();
  const bool builtins = !started_;
  started_ = true;
  if (co_await SyncLocalApiServices(registry, api::GetArray(listed.value(), "items"), *served, builtins)) {
    listed = co_await registry.List(ApiServices(), cluster_scope, all);
    if (!listed.ok()) co_return;
  }
  std::map<std::string, std::shared_ptr<const RemoteApiService>> remotes;
  std::vector<api::ResourceInfo> aggregated;
  std::set<std::string> names;
  for (auto& item : api::GetArray(listed.value(), "items")) {
    if (!item.is_object()) continue;
    json::object obj = item.as_object();
    const std::string name = api::Name(obj);
    const json::object& spec = api::GetObject(obj, "spec");
    const json::object* svc = api::FindObject(spec, {"service"});
    names.insert(name);
    Checked c;
    auto remote = std::make_shared<RemoteApiService>();
    remote->name = name;
    remote->group = api::GetString(spec, "group");
    remote->version = api::GetString(spec, "version");
    if (!svc) {
      c.available = true;
      c.reason = "Local";
      c.message = "Local APIServices are always available";
    } else {
      remote->service_namespace = api::GetString(*svc, "namespace");
      remote->service_name = api::GetString(*svc, "name");
      remote->port = static_cast<int>(api::GetInt(*svc, "port", 443));
      auto tls = TlsFor(spec, certs_.auth_proxy);
      if (tls.ok()) remote->tls = *tls;
      Status tls_status = tls.ok() ? Status::Ok() : tls.status();
      c = co_await Check(*remote, registry, tls_status);
      remote->available = c.available;
      if (c.resources) discovered_[name] = std::move(*c.resources);
      if (auto it = discovered_.find(name); it != discovered_.end()) {
        aggregated.insert(aggregated.end(), it->second.begin(), it->second.end());
      }
      remotes[remote->group + "/" + remote->version] = remote;
    }
    UnavailableGauge().Add({{"name", name}}).Set(c.available ? 0 : 1);
    co_await WriteCondition(registry, obj, c);
  }
  for (auto it = discovered_.begin(); it != discovered_.end();) {
    it = names.count(it->first) ? std::next(it) : discovered_.erase(it);
  }
  for (const auto& gone : reported_) {
    if (!names.count(gone)) UnavailableGauge().Remove(&UnavailableGauge().Add({{"name", gone}}));
  }
  reported_ = std::move(names);
  {
    std::lock_guard<std::mutex> lock(mu_);
    any_remote_.store(!remotes.empty(), std::memory_order_release);
    by_group_version_ = std::move(remotes);
  }
  // Only a change is published: a new served set rebuilds what hangs off it.
  if (!SameResources(aggregated, published_)) {
    published_ = aggregated;
    served_->SetAggregated(std::move(aggregated));
  }
}

asio::awaitable<Aggregator::Checked> Aggregator::Check(RemoteApiService& remote, Registry& registry, Status tls) {
  Checked c;
  const std::string& ns = remote.service_namespace;
  const std::string& name = remote.service_name;
  auto failed = [&](const char* reason, std::string message) {
    c.available = false;
    c.reason = reason;
    c.message = std::move(message);
    return c;
  };
  static const api::ResourceInfo& services = *api::FindResource("", "v1", "services");
  auto service = co_await registry.Get(services, ns, name);
  if (!service.ok()) co_return failed("ServiceNotFound", "service/" + name + " in \"" + ns + "\" is not present");
  const json::object* port = nullptr;
  for (const auto& p : api::GetArray(*service, {"spec", "ports"})) {
    if (p.is_object() && api::GetInt(p.as_object(), "port") == remote.port) port = &p.as_object();
  }
  if (!port) {
    co_return failed("ServicePortError",
                     "service/" + name + " in \"" + ns + "\" is not listening on port " + std::to_string(remote.port));
  }
  remote.port_name = api::GetString(*port, "name");
  auto ep = co_await ReadyServiceEndpoint(registry, ns, name, remote.port_name);
  if (!ep.ok()) {
    co_return failed("MissingEndpoints", "endpoints for service/" + name + " in \"" + ns +
                                             "\" have no addresses with port name \"" + remote.port_name + "\"");
  }
  const std::string path = "/apis/" + remote.group + "/" + remote.version;
  const std::string url = "https://" + ep->host + ":" + std::to_string(ep->port) + path;
  auto discovery = [&](const std::string& why) {
    return failed("FailedDiscoveryCheck", "failing or missing response from " + url + ": " + why);
  };
  if (!tls.ok()) co_return discovery(tls.message());
  auto executor = co_await asio::this_coro::executor;
  TlsStream s(executor, *remote.tls);
  beast::get_lowest_layer(s).expires_after(kCheckTimeout);
  const std::string server_name = ServerName(remote);
  if (Status st = co_await DialTls(s, ep->host, ep->port, server_name); !st.ok()) co_return discovery(st.message());
  http::request<http::empty_body> rq{http::verb::get, path, 11};
  rq.set(http::field::host, server_name + ":" + std::to_string(ep->port));
  rq.set(http::field::accept, "application/json");
  rq.set(http::field::user_agent, "kite-apiserver");
  rq.set("X-Remote-User", "system:kube-aggregator");
  rq.set("X-Remote-Group", "system:masters");
  auto [wec, wn] = co_await http::async_write(s, rq, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return discovery(wec.message());
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(kMaxDiscoveryDocumentBytes);
  auto [rec, rn] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
  beast::get_lowest_layer(s).close();
  if (rec == beast::error::timeout) co_return discovery("context deadline exceeded");
  if (rec) co_return discovery(rec.message());
  const int code = static_cast<int>(p.get().result_int());
  if (code < 200 || code >= 300) co_return discovery("bad status from " + url + ": " + std::to_string(code));
  auto resources = ParseApiResourceList(p.get().body(), remote.group, remote.version);
  if (!resources.ok()) co_return discovery(resources.status().message());
  c.resources = std::move(*resources);
  c.available = true;
  c.reason = "Passed";
  c.message = "all checks passed";
  co_return c;
}

// The Available condition of `obj` made to say `c`, written when it says something else.
asio::awaitable<void> Aggregator::WriteCondition(Registry& registry, json::object& obj, const Checked& c) {
  const std::string status = c.available ? "True" : "False";
  json::array conditions;
  json::object available{{"type", "Available"}, {"status", status}, {"lastTransitionTime", api::NowTime()},
                         {"reason", c.reason}, {"message", c.message}};
  bool same = false;
  for (const auto& cond : api::GetArray(obj, {"status", "conditions"})) {
    if (!cond.is_object()) continue;
    const json::object& o = cond.as_object();
    if (api::GetString(o, "type") != "Available") {
      conditions.push_back(o);
      continue;
    }
    same = api::GetString(o, "status") == status && api::GetString(o, "reason") == c.reason &&
           api::GetString(o, "message") == c.message;
    if (api::GetString(o, "status") == status) available["lastTransitionTime"] = api::GetString(o, "lastTransitionTime");
  }
  if (same) co_return;
  if (!c.available) {
    UnavailableCounter().Add({{"name", api::Name(obj)}, {"reason", c.reason.empty() ? "UnknownReason" : c.reason}}).Increment();
    KITE_LOG(0) << "APIService " << api::Name(obj) << " unavailable: " << c.reason << ": " << c.message;
  }
  conditions.push_back(std::move(available));
  obj["status"] = json::object{{"conditions", std::move(conditions)}};
  const std::string name = api::Name(obj);
  UpdateOptions o;
  o.scope = UpdateOptions::Scope::kStatus;
  o.current = nullptr;
  // A conflict (someone wrote it meanwhile) is left to the next round.
  const std::string cluster_scope;
  auto written = co_await registry.Update(ApiServices(), cluster_scope, name, std::move(obj), o);
  (void)written;
}

asio::awaitable<int> Aggregator::Proxy(std::shared_ptr<const RemoteApiService> remote, const HttpsRequest& req,
                                       HttpsResponder& res, const UserInfo& user) {
  std::optional<std::string> error;
  int code = 0;
  Registry registry(store_);
  auto ep = co_await ReadyServiceEndpoint(registry, remote->service_namespace, remote->service_name, remote->port_name);
  if (!remote->available || !remote->tls || !ep.ok()) {
    error = "service unavailable";  // what could not be resolved is in the APIService's condition
  } else {
    auto executor = co_await asio::this_coro::executor;
    TlsStream s(executor, *remote->tls);
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(30));
    const std::string server_name = ServerName(*remote);
    Status connected = co_await DialTls(s, ep->host, ep->port, server_name);
    if (!connected.ok()) {
      error = "error trying to reach service: " + connected.message();
    } else {
      const HttpsResponder::Headers who = ProxiedHeaders(req, user);
      auto drop = [](const std::string& h) {
        return h.rfind("x-remote-", 0) == 0 || h.rfind("impersonate-", 0) == 0 || h == "x-forwarded-for";
      };
      const std::string host = server_name + ":" + std::to_string(ep->port);
      const std::string& target = req.target;
      Status relayed = co_await RelayExchange(s, req, target, host, who, drop, res, &code);
      if (!relayed.ok()) error = relayed.message();
    }
  }
  if (error) code = co_await SendUnavailable(res, std::move(*error));
  co_return code;
}

}  // namespace kite::apiserver
