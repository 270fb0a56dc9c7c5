#include "server/apiserver/apiserver.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <chrono>

#include "base/https_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "server/apiserver/authn.h"
#include "server/apiserver/authz.h"
#include "server/apiserver/certs.h"
#include "server/apiserver/status.h"

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
  ApiServerImpl(datastore::Store* store, Authenticator authn)
      : store_(store), authn_(std::move(authn)),
        https_([this](HttpsRequest& req, HttpsResponder& res) { return Handle(req, res); }) {}

  Status Start(const ApiServerOptions& o, const ClusterCerts& certs) {
    HttpsServerOptions h;
    h.bind_address = o.bind_address;
    h.port = o.port;
    h.cert_pem = certs.serving.cert_pem + certs.server_ca.cert_pem;
    h.key_pem = certs.serving.key_pem;
    h.client_ca_pem = certs.client_ca.cert_pem;
    return https_.Start(h);
  }
  int port() const override { return https_.port(); }
  void Stop() override { https_.Stop(); }

 private:
  asio::awaitable<void> Reply(HttpsResponder& res, const RequestAttributes& a, int code, std::string type,
                              std::string body, std::chrono::steady_clock::time_point t0) {
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
    co_await res.Send(code, std::move(type), std::move(body));
  }

  asio::awaitable<void> Fail(HttpsResponder& res, const RequestAttributes& a, const ApiError& e,
                             std::chrono::steady_clock::time_point t0) {
    co_await Reply(res, a, e.code, "application/json", StatusJson(e), t0);
  }

  asio::awaitable<void> Handle(HttpsRequest& req, HttpsResponder& res) {
    const auto t0 = std::chrono::steady_clock::now();
    RequestAttributes attrs;
    attrs.path = req.path;
    attrs.verb = req.method == "GET" ? "get" : req.method == "POST" ? "create" : req.method == "PUT" ? "update"
                 : req.method == "PATCH" ? "patch" : req.method == "DELETE" ? "delete" : "unknown";
    auto user = authn_.Authenticate(req);
    if (!user.ok()) co_return co_await Fail(res, attrs, Unauthorized(), t0);
    attrs.user = *user;
    auto decision = authz_.Authorize(attrs);
    if (!decision.allowed) {
      // Anonymous callers are told to authenticate; known users are told they may not.
      if (attrs.user.anonymous()) co_return co_await Fail(res, attrs, Unauthorized(), t0);
      co_return co_await Fail(res, attrs, Forbidden(ForbiddenMessage(attrs)), t0);
    }
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
    co_await Fail(res, attrs, NotFoundPath(), t0);
  }

  datastore::Store* store_;
  Authenticator authn_;
  MastersAuthorizer authz_;
  HttpsServer https_;
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& o, datastore::Store* store) {
  auto certs = LoadOrCreateCerts(o.tls_dir, WantedSans(o.tls_sans));
  if (!certs.ok()) return certs.status();
  auto authn = Authenticator::Create(o.token_auth_file);
  if (!authn.ok()) return authn.status();
  auto server = std::make_unique<ApiServerImpl>(store, std::move(authn.value()));
  if (auto s = server->Start(o, *certs); !s.ok()) return s;
  if (!o.kubeconfig_path.empty()) {
    std::string host = o.bind_address == "0.0.0.0" || o.bind_address == "::" ? "127.0.0.1" : o.bind_address;
    if (auto s = WriteKubeconfig(o.kubeconfig_path, *certs, host, server->port(), o.kubeconfig_mode); !s.ok()) {
      return s;
    }
  }
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace kite::apiserver
