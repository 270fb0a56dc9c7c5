// Admission webhooks (webhooks.h): matching, the AdmissionReview exchange over HTTPS, and what
// its answer does to the write.
#include "server/apiserver/admission/webhooks.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "api/json_patch.h"
#include "api/labels.h"
#include "api/object.h"
#include "base/dial.h"
#include "base/encoding.h"
#include "base/https_client.h"
#include "base/log.h"
#include "base/metrics.h"
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

constexpr std::string_view kGroup = "admissionregistration.k8s.io";
constexpr auto kReload = std::chrono::seconds(1);
// An answer larger than this is not an AdmissionReview anyone means (upstream reads 3 MiB bodies).
constexpr size_t kMaxAnswerBytes = 3 * 1024 * 1024;

bool Lists(const json::object& o, std::string_view key, std::string_view want) {
  for (const auto& v : api::GetArray(o, key)) {
    if (v.is_string() && (v.as_string() == want || v.as_string() == "*")) return true;
  }
  return false;
}

// A webhook's call failed: what failurePolicy Fail answers (upstream's wording).
Status CallFailed(const std::string& hook, const std::string& why) {
  return InternalError("failed calling webhook \"" + hook + "\": " + why);
}

struct Target {
  std::string host, server_name, path;
  int port = 443;
};

// Where clientConfig points: a URL (https only), or a Service's ready endpoint.
asio::awaitable<Result<Target>> Resolve(Registry& registry, const json::object& client) {
  Target t;
  if (const std::string url = api::GetString(client, "url"); !url.empty()) {
    Kubeconfig kc;
    if (Status s = SetServer(url, &kc); !s.ok()) co_return s;
    t.host = t.server_name = kc.host;
    t.port = std::stoi(kc.port);
    const size_t scheme = url.find("://");
    const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    t.path = slash == std::string::npos ? "/" : url.substr(slash);
    co_return t;
  }
  const json::object& svc = api::GetObject(client, "service");
  const std::string ns = api::GetString(svc, "namespace"), name = api::GetString(svc, "name");
  t.server_name = name + "." + ns + ".svc";
  t.path = api::GetString(svc, "path");
  if (t.path.empty()) t.path = "/";
  const int64_t want = api::GetInt(svc, "port", 443);
  static const api::ResourceInfo& services = *api::FindResource("", "v1", "services");
  auto service = co_await registry.Get(services, ns, name);
  if (!service.ok()) co_return Status(Code::kUnavailable, "service \"" + ns + "/" + name + "\" not found");
  const json::object* port = nullptr;
  for (const auto& p : api::GetArray(*service, {"spec", "ports"})) {
    if (p.is_object() && api::GetInt(p.as_object(), "port") == want) port = &p.as_object();
  }
  if (!port) co_return Status(Code::kUnavailable, "service \"" + ns + "/" + name + "\" has no port " + std::to_string(want));
  const std::string port_name = api::GetString(*port, "name");
  auto ep = co_await ReadyServiceEndpoint(registry, ns, name, port_name);
  if (!ep.ok()) co_return Status(Code::kUnavailable, ep.error().message());
  t.host = ep->host;
  t.port = ep->port;
  co_return t;
}

// One POST of `body` to the webhook, bounded by `timeout`; the answer's body.
asio::awaitable<Result<std::string>> Post(const Target& t, const std::string& ca_pem, const std::string& body,
                                          std::chrono::seconds timeout) {
  Kubeconfig kc;
  kc.ca_pem = ca_pem;
  auto tls = MakeTlsContext(kc);
  if (!tls.ok()) co_return Status(Code::kInvalidArgument, "caBundle: " + tls.status().message());
  const std::string url = "https://" + t.server_name + ":" + std::to_string(t.port) + t.path;
  TlsStream s(co_await asio::this_coro::executor, **tls);
  beast::get_lowest_layer(s).expires_after(timeout);
  if (Status d = co_await DialTls(s, t.host, t.port, t.server_name); !d.ok()) {
    co_return Status(Code::kUnavailable, "Post \"" + url + "\": " + d.message());
  }
  http::request<http::string_body> rq{http::verb::post, t.path + (t.path.find('?') == std::string::npos ? "?" : "&") +
                                                            "timeout=" + std::to_string(timeout.count()) + "s", 11};
  rq.set(http::field::host, t.server_name + ":" + std::to_string(t.port));
  rq.set(http::field::content_type, "application/json");
  rq.set(http::field::accept, "application/json");
  rq.set(http::field::user_agent, "kite-apiserver");
  rq.body() = body;
  rq.prepare_payload();
  auto [wec, wn] = co_await http::async_write(s, rq, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return Status(Code::kUnavailable, "Post \"" + url + "\": " + wec.message());
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(kMaxAnswerBytes);
  auto [rec, rn] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
  if (rec == beast::error::timeout) co_return Status(Code::kDeadlineExceeded, "Post \"" + url + "\": context deadline exceeded");
  if (rec) co_return Status(Code::kUnavailable, "Post \"" + url + "\": " + rec.message());
  if (p.get().result_int() != 200) {
    co_return Status(Code::kUnavailable, "expected webhook response status code 200, got " + std::to_string(p.get().result_int()));
  }
  co_return std::move(p.get().body());
}

// Upstream's webhook metrics (k8s.io/apiserver admission metrics), per call of a webhook: type
// "admit" (mutating) or "validate"; `code` the HTTP status of its answer (0: none came). Not
// exported: upstream's apiserver_admission_webhook_rejection_count and _fail_open_count, counters
// whose names `promtool check metrics` refuses (a counter ends in _total, never _count); the
// request total's `rejected` label carries the rejections.
void ObserveWebhook(const std::string& name, bool mutating, const std::string& operation, double seconds, int code,
                    bool rejected) {
  static auto& duration = prometheus::BuildHistogram()
                              .Name("apiserver_admission_webhook_admission_duration_seconds")
                              .Help("Admission webhook latency histogram in seconds, identified by name and broken out "
                                    "for each operation and API resource and type (validate or admit).")
                              .Register(metrics::Default());
  static auto& requests = prometheus::BuildCounter()
                              .Name("apiserver_admission_webhook_request_total")
                              .Help("Admission webhook request total, identified by name and broken out for each "
                                    "admission type (validating or admit) and operation.")
                              .Register(metrics::Default());
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10, 25};
  const std::string type = mutating ? "admit" : "validate";
  const std::string was_rejected = rejected ? "true" : "false";
  duration.Add({{"name", name}, {"type", type}, {"operation", operation}, {"rejected", was_rejected}}, kBuckets)
      .Observe(seconds);
  requests.Add({{"name", name}, {"type", type}, {"operation", operation}, {"code", std::to_string(code)},
                {"rejected", was_rejected}})
      .Increment();
}

json::value UserJson(const UserInfo& u) {
  json::object o{{"username", u.name}};
  if (!u.uid.empty()) o["uid"] = u.uid;
  if (!u.groups.empty()) {
    json::array g;
    for (const auto& x : u.groups) g.push_back(json::string(x));
    o["groups"] = std::move(g);
  }
  if (!u.extra.empty()) {
    json::object extra;
    for (const auto& [k, vs] : u.extra) {
      json::array a;
      for (const auto& v : vs) a.push_back(json::string(v));
      extra[k] = std::move(a);
    }
    o["extra"] = std::move(extra);
  }
  return o;
}

// The AdmissionReview a webhook gets (admission.k8s.io/v1, or v1beta1 for one that lists only it).
json::object Review(const AdmissionAttributes& a, const json::object* obj, const std::string& uid,
                    const std::string& version) {
  const api::ResourceInfo& r = *a.r;
  json::object kind{{"group", r.group}, {"version", r.version}, {"kind", a.kind.empty() ? r.kind : a.kind}};
  json::object resource{{"group", r.group}, {"version", r.version}, {"resource", r.resource}};
  json::object req{{"uid", uid},
                   {"kind", kind},
                   {"resource", resource},
                   {"requestKind", kind},
                   {"requestResource", resource},
                   {"operation", a.operation},
                   {"userInfo", a.user ? UserJson(*a.user) : json::value(json::object())},
                   {"dryRun", a.dry_run}};
  if (!a.subresource.empty()) req["subResource"] = req["requestSubResource"] = a.subresource;
  if (!a.name.empty()) req["name"] = a.name;
  if (!a.ns.empty()) req["namespace"] = a.ns;
  req["object"] = obj ? json::value(*obj) : json::value(nullptr);
  req["oldObject"] = a.old ? json::value(*a.old) : json::value(nullptr);
  if (a.operation != "CONNECT") {  // CONNECT's options are its object
    const char* options = a.operation == "CREATE" ? "CreateOptions" : a.operation == "UPDATE" ? "UpdateOptions" : "DeleteOptions";
    req["options"] = json::object{{"apiVersion", "meta.k8s.io/v1"}, {"kind", options}};
  }
  return json::object{{"apiVersion", "admission.k8s.io/" + version}, {"kind", "AdmissionReview"}, {"request", std::move(req)}};
}

}  // namespace

bool WebhookRuleMatches(const json::object& rule, const AdmissionAttributes& a, bool exact) {
  const api::ResourceInfo& r = *a.r;
  if (!Lists(rule, "operations", a.operation)) return false;
  if (!Lists(rule, "apiGroups", r.group)) return false;
  // Equivalent: the same group and resource at another version is the same object to kite,
  // which serves one version of each.
  if (exact && !Lists(rule, "apiVersions", r.version)) return false;
  const std::string scope = api::GetString(rule, "scope");
  if (scope == "Cluster" && r.namespaced) return false;
  if (scope == "Namespaced" && !r.namespaced) return false;
  for (const auto& v : api::GetArray(rule, "resources")) {
    if (!v.is_string()) continue;
    const std::string_view want = v.as_string();
    const size_t slash = want.find('/');
    const std::string_view res = want.substr(0, slash);
    const std::string_view sub = slash == std::string_view::npos ? "" : want.substr(slash + 1);
    if ((res == "*" || res == r.resource) && (sub == "*" || sub == a.subresource)) return true;
  }
  return false;
}

void WebhookAdmission::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.reset();
}

asio::awaitable<std::shared_ptr<const WebhookAdmission::Configs>> WebhookAdmission::Current() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (configs_ && std::chrono::steady_clock::now() - loaded_ < kReload) co_return configs_;
  }
  auto fresh = std::make_shared<Configs>();
  // Named, not temporaries: g++ 12 may destroy a co_await's temporaries before it resumes.
  const std::string cluster_scoped;
  const ListOptions everything;
  for (const char* resource : {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}) {
    const api::ResourceInfo& kind = *api::FindResource(std::string(kGroup), "v1", resource);
    auto list = co_await registry_->List(kind, cluster_scoped, everything);
    if (!list.ok()) {
      KITE_LOG(0) << "admission webhooks: cannot read " << resource << ": " << list.error().message();
      continue;
    }
    std::vector<Hook>& into = resource[0] == 'm' ? fresh->mutating : fresh->validating;
    std::vector<std::pair<std::string, const json::object*>> configs;
    for (const auto& item : api::GetArray(*list, "items")) {
      if (item.is_object()) configs.emplace_back(api::Name(item.as_object()), &item.as_object());
    }
    std::sort(configs.begin(), configs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [name, cfg] : configs) {
      for (const auto& w : api::GetArray(*cfg, "webhooks")) {
        if (w.is_object()) into.push_back(Hook{name, w.as_object()});
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  configs_ = fresh;
  loaded_ = std::chrono::steady_clock::now();
  co_return fresh;
}

asio::awaitable<Result<bool>> WebhookAdmission::Matches(const Hook& h, const AdmissionAttributes& a,
                                                        const json::object* obj) {
  const bool exact = api::GetString(h.spec, "matchPolicy") == "Exact";
  bool rule = false;
  for (const auto& r : api::GetArray(h.spec, "rules")) {
    if (r.is_object() && WebhookRuleMatches(r.as_object(), a, exact)) rule = true;
  }
  if (!rule) co_return false;
  auto selector = [&](const char* member) -> Result<api::LabelSelector> {
    const json::value* s = h.spec.if_contains(member);
    if (!s || s->is_null()) return api::LabelSelector::Everything();
    return api::LabelSelector::FromLabelSelectorJson(*s);
  };
  auto objects = selector("objectSelector");
  if (!objects.ok()) co_return objects.status();
  if (!objects->Empty()) {
    const bool hit = (obj && objects->Matches(api::GetObject(api::Metadata(*obj), "labels"))) ||
                     (a.old && objects->Matches(api::GetObject(api::Metadata(*a.old), "labels")));
    if (!hit) co_return false;
  }
  auto namespaces = selector("namespaceSelector");
  if (!namespaces.ok()) co_return namespaces.status();
  if (namespaces->Empty()) co_return true;
  if (a.r->group.empty() && a.r->resource == "namespaces") {
    const json::object* self = obj ? obj : a.old;
    co_return self && namespaces->Matches(api::GetObject(api::Metadata(*self), "labels"));
  }
  if (!a.r->namespaced) co_return true;  // upstream: a cluster-scoped object ignores it
  static const api::ResourceInfo& namespaces_kind = *api::FindResource("", "v1", "namespaces");
  const std::string cluster_scoped;
  auto ns = co_await registry_->Get(namespaces_kind, cluster_scoped, a.ns);
  if (!ns.ok()) co_return ns.error().http_code() == 404 ? Result<bool>(false) : Result<bool>(ns.error());
  co_return namespaces->Matches(api::GetObject(api::Metadata(*ns), "labels"));
}

bool WebhookAdmission::AnyFor(const Configs& configs, const AdmissionAttributes& a) {
  if (a.r->group == kGroup) return false;
  for (const auto* list : {&configs.mutating, &configs.validating}) {
    for (const Hook& h : *list) {
      for (const auto& r : api::GetArray(h.spec, "rules")) {
        if (r.is_object() && WebhookRuleMatches(r.as_object(), a, api::GetString(h.spec, "matchPolicy") == "Exact")) {
          return true;
        }
      }
    }
  }
  return false;
}

asio::awaitable<Result<bool>> WebhookAdmission::Mutate(const Configs& configs, const AdmissionAttributes& a,
                                                       json::object* obj) {
  if (configs.mutating.empty()) co_return false;
  bool patched = false;
  std::vector<bool> changed;  // which hook's patch changed the object
  if (Status s = co_await Run(configs.mutating, a, obj, &patched, &changed); !s.ok()) co_return s;
  // reinvocationPolicy IfNeeded: a hook whose object a later hook changed is called once more
  // (upstream's single reinvocation pass, in the same order).
  std::vector<Hook> again;
  bool later_changed = false;
  for (size_t i = configs.mutating.size(); i-- > 0;) {
    const Hook& h = configs.mutating[i];
    if (later_changed && api::GetString(h.spec, "reinvocationPolicy") == "IfNeeded") again.insert(again.begin(), h);
    later_changed = later_changed || (i < changed.size() && changed[i]);
  }
  if (!again.empty()) {
    if (Status s = co_await Run(again, a, obj, &patched, nullptr); !s.ok()) co_return s;
  }
  co_return patched;
}

asio::awaitable<Status> WebhookAdmission::Validate(const Configs& configs, const AdmissionAttributes& a,
                                                   const json::object* obj) {
  if (configs.validating.empty()) co_return Status::Ok();
  Status s = co_await Run(configs.validating, a, obj, nullptr, nullptr);
  co_return s;
}

asio::awaitable<Status> WebhookAdmission::Run(const std::vector<Hook>& hooks, const AdmissionAttributes& a,
                                              const json::object* obj, bool* patched, std::vector<bool>* changed) {
  if (changed) changed->assign(hooks.size(), false);
  size_t index = 0;
  json::object* mutable_obj = patched ? const_cast<json::object*>(obj) : nullptr;  // Mutate's own object
  for (const Hook& h : hooks) {
    const size_t me = index++;
    const std::string name = api::GetString(h.spec, "name");
    const bool ignore = api::GetString(h.spec, "failurePolicy") == "Ignore";
    const auto began = std::chrono::steady_clock::now();
    int answered = 0;  // the HTTP status of its answer, once one came
    auto observe = [&](bool rejected) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
      ObserveWebhook(name, patched != nullptr, a.operation, took.count(), answered, rejected);
    };
    auto fail = [&](const std::string& why) -> Status {
      KITE_LOG(ignore ? 1 : 0) << "admission webhook " << name << " (" << h.config << "): " << why
                               << (ignore ? " (failurePolicy Ignore: skipped)" : "");
      observe(!ignore);
      return ignore ? Status::Ok() : CallFailed(name, why);
    };
    auto match = co_await Matches(h, a, obj);
    if (!match.ok()) {
      if (Status s = fail(match.status().message()); !s.ok()) co_return s;
      continue;
    }
    if (!*match) continue;
    std::string version = "v1";
    const json::array& versions = api::GetArray(h.spec, "admissionReviewVersions");
    if (std::none_of(versions.begin(), versions.end(), [](const json::value& v) { return v == "v1"; })) version = "v1beta1";
    const json::object& client = api::GetObject(h.spec, "clientConfig");
    std::string ca;
    if (const std::string bundle = api::GetString(client, "caBundle"); !bundle.empty()) {
      auto pem = Base64Decode(bundle);
      if (!pem) {
        if (Status s = fail("caBundle is not base64"); !s.ok()) co_return s;
        continue;
      }
      ca = *pem;
    }
    auto target = co_await Resolve(*registry_, client);
    if (!target.ok()) {
      if (Status s = fail("failed to call webhook: " + target.status().message()); !s.ok()) co_return s;
      continue;
    }
    const std::string uid = NewUid();
    const auto timeout = std::chrono::seconds(std::clamp<int64_t>(api::GetInt(h.spec, "timeoutSeconds", 10), 1, 30));
    const std::string review = json::serialize(Review(a, obj, uid, version));
    auto answer = co_await Post(*target, ca, review, timeout);
    if (!answer.ok()) {
      if (Status s = fail("failed to call webhook: " + answer.status().message()); !s.ok()) co_return s;
      continue;
    }
    answered = 200;  // Post returns only a 200's body
    boost::system::error_code ec;
    json::value parsed = json::parse(*answer, ec);
    const json::object* response =
        !ec && parsed.is_object() ? api::FindObject(parsed.as_object(), {"response"}) : nullptr;
    if (!response) {
      if (Status s = fail("received invalid webhook response: no response"); !s.ok()) co_return s;
      continue;
    }
    if (api::GetString(*response, "uid") != uid) {
      if (Status s = fail("received invalid webhook response: expected response.uid=\"" + uid + "\", got \"" +
                          api::GetString(*response, "uid") + "\"");
          !s.ok()) {
        co_return s;
      }
      continue;
    }
    if (a.warnings) {
      for (const auto& w : api::GetArray(*response, "warnings")) {
        if (w.is_string()) a.warnings->emplace_back(w.as_string());
      }
    }
    if (!api::GetBool(*response, "allowed")) {
      const json::object& st = api::GetObject(*response, "status");
      int64_t code = api::GetInt(st, "code", 400);
      if (code < 400) code = 400;
      answered = static_cast<int>(code);
      observe(true);
      const std::string denied = "admission webhook \"" + name + "\" denied the request";
      const std::string msg = api::GetString(st, "message"), reason = api::GetString(st, "reason");
      co_return Status::Api(static_cast<int>(code), reason,
                            !msg.empty() ? denied + ": " + msg : !reason.empty() ? denied + ": " + reason
                                                                                 : denied + " without explanation");
    }
    const std::string patch = api::GetString(*response, "patch");
    if (!mutable_obj || patch.empty()) {
      observe(false);
      continue;
    }
    if (const std::string type = api::GetString(*response, "patchType"); type != "JSONPatch") {
      if (Status s = fail("unsupported patch type \"" + type + "\""); !s.ok()) co_return s;
      continue;
    }
    auto ops = Base64Decode(patch);
    auto applied = ops ? api::ApplyJsonPatch(json::value(*mutable_obj), *ops)
                       : Result<json::value>(Status(Code::kInvalidArgument, "not base64"));
    if (!applied.ok() || !applied->is_object()) {
      const std::string why = applied.ok() ? std::string("not an object") : applied.status().message();
      if (Status s = fail("the patch could not be applied: " + why); !s.ok()) co_return s;
      continue;
    }
    if (changed && *applied != json::value(*mutable_obj)) (*changed)[me] = true;
    *mutable_obj = std::move(applied->as_object());
    *patched = true;
    observe(false);
  }
  co_return Status::Ok();
}

}  // namespace kite::apiserver
