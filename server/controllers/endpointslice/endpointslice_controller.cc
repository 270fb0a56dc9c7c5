#include "server/controllers/endpointslice/endpointslice_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "api/time.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "server/controllers/common/endpoint_utils.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace endpointslice {

namespace {

bool IsIPv4(const std::string& ip) { return !ip.empty() && ip.find(':') == std::string::npos; }

json::object Endpoint(const json::object& pod, const json::object& svc) {
  const auto& m = api::Metadata(pod);
  const auto& spec = api::GetObject(pod, "spec");
  const bool serving = api::IsPodReady(pod);
  const bool terminating = m.contains("deletionTimestamp");
  // "ready" stays false for a terminating pod (compatibility with Endpoints) unless the Service
  // publishes not-ready addresses.
  const bool ready = api::GetBool(svc, {"spec", "publishNotReadyAddresses"}) || (serving && !terminating);
  json::object e{{"addresses", json::array{json::string(api::GetString(pod, {"status", "podIP"}))}},
                 {"conditions", json::object{{"ready", ready}, {"serving", serving}, {"terminating", terminating}}}};
  if (!api::GetString(spec, "hostname").empty() && api::GetString(spec, "subdomain") == api::Name(svc)) {
    e["hostname"] = api::GetString(spec, "hostname");
  }
  if (!api::GetString(spec, "nodeName").empty()) e["nodeName"] = api::GetString(spec, "nodeName");
  e["targetRef"] = json::object{{"kind", "Pod"}, {"namespace", api::GetString(m, "namespace")}, {"name", api::GetString(m, "name")},
                                {"uid", api::GetString(m, "uid")}};
  return e;
}

}  // namespace

std::vector<json::object> DesiredSlices(const json::object& svc, const std::vector<client::ObjectPtr>& pods) {
  const auto& spec = api::GetObject(svc, "spec");
  std::map<std::string, std::pair<json::array, std::vector<json::object>>> by_ports;
  for (const auto& pod : pods) {
    if (!ShouldPodBeInEndpoints(*pod, true)) continue;
    if (!IsIPv4(api::GetString(*pod, {"status", "podIP"}))) continue;
    json::array ports;
    const auto& sports = api::GetArray(spec, "ports");
    for (const auto& sp : sports) {
      if (!sp.is_object()) continue;
      const auto& spo = sp.as_object();
      auto n = FindPort(*pod, spo);
      if (!n) continue;
      json::object p{{"name", api::GetString(spo, "name")}, {"port", *n}, {"protocol", api::GetString(spo, "protocol").empty() ? "TCP" : api::GetString(spo, "protocol")}};
      if (!api::GetString(spo, "appProtocol").empty()) p["appProtocol"] = api::GetString(spo, "appProtocol");
      ports.push_back(std::move(p));
    }
    if (ports.empty() && !(sports.empty() && IsHeadless(svc))) continue;
    std::sort(ports.begin(), ports.end(), [](const json::value& a, const json::value& b) {
      return std::make_pair(api::GetString(a.as_object(), "name"), api::GetInt(a.as_object(), "port")) <
             std::make_pair(api::GetString(b.as_object(), "name"), api::GetInt(b.as_object(), "port"));
    });
    auto& g = by_ports[json::serialize(ports)];
    g.first = ports;
    g.second.push_back(Endpoint(*pod, svc));
  }
  std::vector<json::object> out;
  for (auto& [key, g] : by_ports) {
    auto& eps = g.second;
    std::sort(eps.begin(), eps.end(), [](const json::object& a, const json::object& b) {
      return json::serialize(a.at("addresses")) < json::serialize(b.at("addresses"));
    });
    for (size_t i = 0; i < eps.size(); i += kMaxEndpointsPerSlice) {
      json::array chunk;
      for (size_t j = i; j < std::min(eps.size(), i + kMaxEndpointsPerSlice); ++j) chunk.push_back(eps[j]);
      out.push_back(json::object{{"ports", g.first}, {"endpoints", std::move(chunk)}});
    }
  }
  if (out.empty()) out.push_back(json::object{{"ports", json::array()}, {"endpoints", json::array()}});
  return out;
}

}  // namespace endpointslice

namespace {

using endpointslice::kManagedBy;

class EndpointSliceController final : public client::Controller {
 public:
  explicit EndpointSliceController(const client::Client* c, const kite::Clock* clock)
      : Controller("endpointslice", 5, clock),
        client_(c), slicer_(api::FindResource("discovery.k8s.io", "v1", "endpointslices")) {}

  void Init(client::InformerFactory& f) override {
    services_ = f.For("", "v1", "services");
    pods_ = f.For("", "v1", "pods");
    slices_ = f.For(*slicer_);
    services_->AddHandler(client::EnqueueSelf(&queue_));
    pods_->AddHandler(EnqueueServicesOfPods(services_, &queue_));
    auto owner = [this](const ObjectPtr& s) {
      const auto& labels = api::Labels(*s);
      if (api::GetString(labels, "endpointslice.kubernetes.io/managed-by") != kManagedBy) return;
      queue_.Add(api::Namespace(*s) + "/" + api::GetString(labels, "kubernetes.io/service-name"));
    };
    // Adds too: two reconciles close together can both miss a slice the first one created (the
    // informer has not seen it yet) and create two; the add of the second brings the service
    // back, and that reconcile keeps one and deletes the other.
    slices_->AddHandler(client::EventHandler{owner, [owner](const ObjectPtr&, const ObjectPtr& s) { owner(s); }, owner});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr svc = services_->Get(ns, name);
    if (!svc || api::IsBeingDeleted(*svc)) return Status::Ok();  // the GC removes the slices
    const auto& spec = api::GetObject(*svc, "spec");
    if (!spec.contains("selector") || api::GetObject(spec, "selector").empty()) return Status::Ok();
    api::LabelSelector sel = api::MapSelector(spec.if_contains("selector"));
    std::vector<ObjectPtr> pods;
    for (const auto& p : pods_->List(ns)) {
      if (api::LabelsMatch(sel, *p)) pods.push_back(p);
    }
    std::vector<json::object> want = endpointslice::DesiredSlices(*svc, pods);
    const std::string uid = api::Uid(*svc);
    std::vector<ObjectPtr> have;
    for (const auto& s : slices_->List(ns)) {
      const auto& labels = api::Labels(*s);
      if (api::GetString(labels, "kubernetes.io/service-name") == name && api::GetString(labels, "endpointslice.kubernetes.io/managed-by") == kManagedBy &&
          !api::IsBeingDeleted(*s)) {
        have.push_back(s);
      }
    }
    json::object labels = api::Labels(*svc);
    labels["kubernetes.io/service-name"] = name;
    labels["endpointslice.kubernetes.io/managed-by"] = kManagedBy;
    if (IsHeadless(*svc)) labels["service.kubernetes.io/headless"] = "";

    // Keep slices already right; reuse the others (same port list first) for what is missing;
    // create or delete the rest.
    std::vector<bool> used(have.size(), false);
    std::vector<const json::object*> missing;
    for (const auto& w : want) {
      bool found = false;
      for (size_t i = 0; i < have.size() && !found; ++i) {
        if (used[i] || !Matches(*have[i], w, labels, uid)) continue;
        used[i] = found = true;
      }
      if (!found) missing.push_back(&w);
    }
    Status result;
    for (const json::object* w : missing) {
      size_t pick = have.size();
      for (size_t i = 0; i < have.size(); ++i) {
        if (used[i]) continue;
        if (pick == have.size() || api::GetArray(*have[i], "ports") == api::GetArray(*w, "ports")) pick = i;
      }
      json::object slice = pick < have.size() ? *have[pick]
                                              : json::object{{"apiVersion", "discovery.k8s.io/v1"},
                                                             {"kind", "EndpointSlice"},
                                                             {"metadata", json::object{{"generateName", name + "-"}}}};
      if (pick < have.size()) used[pick] = true;
      json::object& meta = slice["metadata"].as_object();
      meta["labels"] = labels;
      meta["ownerReferences"] = json::array{ServiceRef(*svc)};
      json::value& ann = meta["annotations"];
      if (!ann.is_object()) ann = json::object();
      ann.as_object()["endpoints.kubernetes.io/last-change-trigger-time"] = api::FormatTime(clock()->Now());
      slice["addressType"] = "IPv4";
      slice["endpoints"] = w->at("endpoints");
      slice["ports"] = w->at("ports");
      auto r = pick < have.size() ? client_->Update(*slicer_, ns, slice) : client_->Create(*slicer_, ns, slice);
      if (!r.ok() && r.error().http_code() != 403) result = r.error().Annotate("writing endpointslice");
    }
    for (size_t i = 0; i < have.size(); ++i) {
      if (used[i]) continue;
      auto r = client_->Delete(*slicer_, ns, api::Name(*have[i]));
      if (!r.ok() && !r.NotFound()) result = r.error().Annotate("deleting endpointslice");
    }
    return result;
  }

 private:
  static json::object ServiceRef(const json::object& svc) {
    json::object ref = api::ControllerRef(svc);
    ref["apiVersion"] = "v1";
    ref["kind"] = "Service";
    return ref;
  }

  static bool Matches(const json::object& slice, const json::object& want, const json::object& labels, const std::string& uid) {
    const auto* ref = api::ControllerOf(slice);
    return api::GetArray(slice, "ports") == api::GetArray(want, "ports") && api::GetArray(slice, "endpoints") == api::GetArray(want, "endpoints") &&
           api::Labels(slice) == labels && api::GetString(slice, "addressType") == "IPv4" && ref &&
           api::GetString(*ref, "uid") == uid;
  }

  const client::Client* client_;
  const api::ResourceInfo* slicer_;
  client::Informer* services_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* slices_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewEndpointSliceController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<EndpointSliceController>(client, clock);
}

}  // namespace kite::controllers
