// Services (upstream's pkg/registry/core/service/strategy.go): ports and type, a fixed cluster
// IP, field selectors, and the status every Service shows. Address allocation is admission's
// (admission/admission.cc).
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

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

  std::vector<std::string_view> SelectableFields() const override { return {"spec.clusterIP", "spec.type"}; }
};

}  // namespace

const Strategy& Service() {
  static const ServiceStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
