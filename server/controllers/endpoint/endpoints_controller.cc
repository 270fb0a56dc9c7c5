#include "server/controllers/endpoint/endpoints_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "api/object.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "server/controllers/common/endpoint_utils.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace endpoints {

namespace {

json::object Address(const json::object& pod, const json::object& svc) {
  const auto& m = api::Metadata(pod);
  const auto& spec = api::GetObject(pod, "spec");
  json::object a{{"ip", api::GetString(pod, {"status", "podIP"})}};
  // hostname is published when the pod asks for it under this Service's name (subdomain).
  if (!api::GetString(spec, "hostname").empty() && api::GetString(spec, "subdomain") == api::Name(svc)) {
    a["hostname"] = api::GetString(spec, "hostname");
  }
  if (!api::GetString(spec, "nodeName").empty()) a["nodeName"] = api::GetString(spec, "nodeName");
  a["targetRef"] = json::object{{"kind", "Pod"}, {"namespace", api::GetString(m, "namespace")}, {"name", api::GetString(m, "name")},
                                {"uid", api::GetString(m, "uid")}};
  return a;
}

bool ByIp(const json::value& a, const json::value& b) {
  return api::GetString(a.as_object(), "ip") < api::GetString(b.as_object(), "ip");
}

}  // namespace

json::array Subsets(const json::object& svc, const std::vector<client::ObjectPtr>& pods) {
  const auto& spec = api::GetObject(svc, "spec");
  const bool publish_not_ready = api::GetBool(spec, "publishNotReadyAddresses");
  // Pods grouped by the exact port list they offer: one subset per distinct list.
  std::map<std::string, std::pair<json::array, std::pair<json::array, json::array>>> groups;
  for (const auto& pod : pods) {
    if (!ShouldPodBeInEndpoints(*pod, false)) continue;
    json::array ports;
    const auto& sports = api::GetArray(spec, "ports");
    for (const auto& sp : sports) {
      if (!sp.is_object()) continue;
      auto n = FindPort(*pod, sp.as_object());
      if (!n) continue;
      json::object p{{"port", *n}, {"protocol", api::GetString(sp.as_object(), "protocol").empty() ? "TCP" : api::GetString(sp.as_object(), "protocol")}};
      if (!api::GetString(sp.as_object(), "name").empty()) p["name"] = api::GetString(sp.as_object(), "name");
      if (!api::GetString(sp.as_object(), "appProtocol").empty()) p["appProtocol"] = api::GetString(sp.as_object(), "appProtocol");
      ports.push_back(std::move(p));
    }
    // A Service with ports none of which the pod has: the pod is no endpoint. A headless
    // Service without ports lists addresses alone.
    if (ports.empty() && !(sports.empty() && IsHeadless(svc))) continue;
    std::sort(ports.begin(), ports.end(), [](const json::value& a, const json::value& b) {
      return std::make_pair(api::GetString(a.as_object(), "name"), api::GetInt(a.as_object(), "port")) <
             std::make_pair(api::GetString(b.as_object(), "name"), api::GetInt(b.as_object(), "port"));
    });
    auto& g = groups[json::serialize(ports)];
    g.first = ports;
    const bool ready = publish_not_ready || api::IsPodReady(*pod);
    (ready ? g.second.first : g.second.second).push_back(Address(*pod, svc));
  }
  json::array out;
  for (auto& [key, g] : groups) {
    auto& [ready, not_ready] = g.second;
    std::sort(ready.begin(), ready.end(), ByIp);
    std::sort(not_ready.begin(), not_ready.end(), ByIp);
    json::object s;
    if (!ready.empty()) s["addresses"] = std::move(ready);
    if (!not_ready.empty()) s["notReadyAddresses"] = std::move(not_ready);
    if (!g.first.empty()) s["ports"] = std::move(g.first);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace endpoints

namespace {

class EndpointsController final : public client::Controller {
 public:
  explicit EndpointsController(const client::Client* c, const kite::Clock* clock)
      : Controller("endpoint", 5, clock), client_(c), epr_(api::FindResource("", "v1", "endpoints")) {}

  void Init(client::InformerFactory& f) override {
    services_ = f.For("", "v1", "services");
    pods_ = f.For("", "v1", "pods");
    endpoints_ = f.For(*epr_);
    services_->AddHandler(client::EnqueueSelf(&queue_));
    pods_->AddHandler(EnqueueServicesOfPods(services_, &queue_));
    // Someone else changing or deleting the Endpoints of a Service: put them back. Endpoints
    // without a Service are not ours (a user's, or left from before) and stay untouched.
    auto ours = [this](const ObjectPtr& e) {
      if (services_->Get(api::Namespace(*e), api::Name(*e))) queue_.Add(client::Key(*e));
    };
    endpoints_->AddHandler(client::EventHandler{nullptr, [ours](const ObjectPtr&, const ObjectPtr& e) { ours(e); }, ours});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr svc = services_->Get(ns, name);
    ObjectPtr current = endpoints_->Get(ns, name);
    if (!svc) {
      if (!current) return Status::Ok();
      // Not ours to delete if the Service never had a selector; a deleted Service leaves no
      // way to tell, and upstream deletes it too.
      auto r = client_->Delete(*epr_, ns, name);
      if (r.ok() || r.NotFound()) return Status::Ok();
      return r.error().Annotate("deleting endpoints");
    }
    const auto& spec = api::GetObject(*svc, "spec");
    if (!spec.contains("selector") || api::GetObject(spec, "selector").empty()) return Status::Ok();
    api::LabelSelector sel = api::MapSelector(spec.if_contains("selector"));
    std::vector<ObjectPtr> pods;
    for (const auto& p : pods_->List(ns)) {
      if (api::LabelsMatch(sel, *p)) pods.push_back(p);
    }
    json::array subsets = endpoints::Subsets(*svc, pods);
    json::object labels = api::Labels(*svc);
    if (IsHeadless(*svc)) labels["service.kubernetes.io/headless"] = "";
    else labels.erase("service.kubernetes.io/headless");

    if (current && api::GetArray(*current, "subsets") == subsets && api::Labels(*current) == labels) {
      return Status::Ok();
    }
    json::object ep = current ? *current : json::object{{"apiVersion", "v1"}, {"kind", "Endpoints"},
                                                        {"metadata", json::object{{"name", name}, {"namespace", ns}}}};
    json::object& meta = ep["metadata"].as_object();
    if (labels.empty()) meta.erase("labels");
    else meta["labels"] = labels;
    json::value& ann = meta["annotations"];
    if (!ann.is_object()) ann = json::object();
    ann.as_object()["endpoints.kubernetes.io/last-change-trigger-time"] = api::FormatMicroTime(clock()->Now());
    if (subsets.empty()) ep.erase("subsets");
    else ep["subsets"] = std::move(subsets);
    auto r = current ? client_->Update(*epr_, ns, ep) : client_->Create(*epr_, ns, ep);
    if (r.ok() || r.error().http_code() == 403) return Status::Ok();  // 403: the namespace is terminating
    return r.error().Annotate("writing endpoints " + key);
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* epr_;
  client::Informer* services_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* endpoints_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewEndpointsController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<EndpointsController>(client, clock);
}

}  // namespace kite::controllers
