// Kinds outside core, apps and batch with a rule or two each: Leases (coordination.k8s.io),
// HorizontalPodAutoscalers (autoscaling), PodDisruptionBudgets (policy), RuntimeClasses
// (node.k8s.io) and CustomResourceDefinitions (apiextensions.k8s.io; their schema checks are crds/crds.h's).
#include <boost/json.hpp>

#include "api/object.h"
#include "api/validation.h"
#include "server/apiserver/crds/crds.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

// Leader election renews a Lease every few seconds, and its spec is not a desired state anyone
// observes: no generation.
class LeaseStrategy final : public Strategy {
 public:
  bool TracksGeneration() const override { return false; }
};

class HorizontalPodAutoscalerStrategy final : public Strategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo& r) const override {
    return r.version == "v1" ? ZeroCounters({"currentReplicas", "desiredReplicas"}) : ZeroCounters({"desiredReplicas"});
  }
};

class PodDisruptionBudgetStrategy final : public Strategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override {
    return ZeroCounters({"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"});
  }
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    if (spec && spec->contains("minAvailable") && spec->contains("maxUnavailable")) {
      e.Invalid("spec", "policy.PodDisruptionBudgetSpec{...}", "minAvailable and maxUnavailable cannot be both set");
    }
  }
};

// A RuntimeClass's handler names a CRI runtime handler in the nodes' runtime config (a DNS
// label, as upstream requires) and cannot change under the pods that use it.
class RuntimeClassStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::value* handler = obj.if_contains("handler");
    if (!handler || !handler->is_string() || handler->as_string().empty()) {
      e.Required("handler");
      return;
    }
    const std::string h(handler->as_string());
    for (const auto& msg : api::IsDNS1123Label(h)) e.Invalid("handler", Quoted(h), msg);
  }
  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    if (!SameAt(obj, old, {"handler"})) e.Immutable("handler", Quoted(api::GetString(obj, "handler")));
  }
};

// A CRD's status (accepted names, conditions) is the server's to write on every update
// (crds/crds.h's PrepareCrd), not kept from the stored object; its writes change what is served.
class CustomResourceDefinitionStrategy final : public Strategy {
 public:
  bool ResetsStatusOnUpdate() const override { return false; }
  std::optional<Status> PrepareForWrite(json::object& crd, const CustomResources& crds) const override {
    return PrepareCrd(crd, *crds.Snapshot());
  }
  bool ChangesServedResources() const override { return true; }
};

}  // namespace

const Strategy& Lease() {
  static const LeaseStrategy s;
  return s;
}

const Strategy& HorizontalPodAutoscaler() {
  static const HorizontalPodAutoscalerStrategy s;
  return s;
}

const Strategy& PodDisruptionBudget() {
  static const PodDisruptionBudgetStrategy s;
  return s;
}

const Strategy& RuntimeClass() {
  static const RuntimeClassStrategy s;
  return s;
}

const Strategy& CustomResourceDefinition() {
  static const CustomResourceDefinitionStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
