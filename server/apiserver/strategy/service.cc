// Services (upstream's pkg/registry/core/service/strategy.go): ports and type, a fixed cluster
// IP, field selectors, the status every Service shows, and what a change of type leaves behind
// (upstream's dropTypeDependentFields). Address allocation is admission's
// (admission/service_addresses.cc).
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/service_network.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

std::string TypeOf(const json::object* spec) { return spec ? api::GetString(*spec, "type") : ""; }

class ServiceStrategy final : public Strategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override {
    return json::object{{"loadBalancer", json::object()}};
  }

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    std::string type = spec ? api::GetString(*spec, "type") : "";
    std::string cip = spec ? api::GetString(*spec, "clusterIP") : "";
    auto ports = spec ? spec->find("ports") : nullptr;
    bool has_ports = spec && ports != spec->end() && ports->value().is_array() && !ports->value().as_array().empty();
    if (type != "ExternalName" && cip != "None" && !has_ports) e.Required("spec.ports");
    if (spec) ValidateServicePorts(*spec, e);
    // upstream's validateServiceExternalTrafficPolicy: the health check node port only where
    // it is used (admission allocates it there, after this).
    if (const int64_t hc = HealthCheckNodePortOf(spec); hc != 0 && !NeedsHealthCheck(spec)) {
      e.Invalid("spec.healthCheckNodePort", std::to_string(hc),
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    } else if (hc < 0 || hc > 65535) {
      e.Invalid("spec.healthCheckNodePort", std::to_string(hc), "must be between 1 and 65535, inclusive");
    }
    if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName") {
      e.Add("FieldValueNotSupported",
            "Unsupported value: " + Quoted(type) +
                ": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            "spec.type");
    }
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    const json::object* a = api::FindObject(obj, {"spec"});
    const json::object* b = api::FindObject(old, {"spec"});
    std::string was = b ? api::GetString(*b, "clusterIP") : "", now = a ? api::GetString(*a, "clusterIP") : "";
    if (!was.empty() && !now.empty() && was != now) e.Immutable("spec.clusterIPs[0]", Quoted(now));
  }

  // A field the old type needed and the new one does not is dropped when the update left it as
  // it was (a user who changes it too gets the validation error instead), so `kubectl patch
  // svc web -p '{"spec":{"type":"ClusterIP"}}'` works on a NodePort Service as upstream.
  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    const json::object* was = api::FindObject(old, {"spec"});
    json::value* sv = obj.if_contains("spec");
    if (!was || !sv || !sv->is_object()) return;
    json::object& spec = sv->as_object();
    if (NeedsNodePorts(was) && !NeedsNodePorts(&spec) && NodePortsOf(was) == NodePortsOf(&spec)) {
      if (json::value* ports = spec.if_contains("ports"); ports && ports->is_array()) {
        for (auto& p : ports->as_array()) {
          if (p.is_object()) p.as_object().erase("nodePort");
        }
      }
    }
    const std::string type = TypeOf(&spec);
    const bool lb = type == "LoadBalancer";
    const bool local_lb = lb && api::GetString(spec, "externalTrafficPolicy") == "Local";
    if (!local_lb && SameAt(obj, old, {"spec", "healthCheckNodePort"})) spec.erase("healthCheckNodePort");
    if (!lb && SameAt(obj, old, {"spec", "allocateLoadBalancerNodePorts"})) spec.erase("allocateLoadBalancerNodePorts");
    if (!lb && SameAt(obj, old, {"spec", "loadBalancerClass"})) spec.erase("loadBalancerClass");
    if (type != "NodePort" && !lb && SameAt(obj, old, {"spec", "externalTrafficPolicy"})) spec.erase("externalTrafficPolicy");
    if (type == "ExternalName" && TypeOf(was) != "ExternalName" && SameAt(obj, old, {"spec", "clusterIP"})) {
      for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) spec.erase(f);
    }
  }

  std::vector<std::string_view> SelectableFields() const override { return {"spec.clusterIP", "spec.type"}; }
};

}  // namespace

const Strategy& Service() {
  static const ServiceStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
