// The apps/v1 workloads (upstream's pkg/registry/apps/<kind>/strategy.go): Deployments,
// ReplicaSets, StatefulSets and DaemonSets share their validation (replicas, pods that restart,
// a selector that matches the template, which is fixed once created) and differ in their status
// counters and field selectors. ControllerRevisions have no rules of their own.
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class WorkloadStrategy : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    const json::object* tmpl = spec ? api::FindObject(*spec, {"template"}) : nullptr;
    if (spec) {
      if (const json::value* n = spec->if_contains("replicas"); n && n->is_int64() && n->as_int64() < 0) {
        e.Invalid("spec.replicas", json::serialize(*n), "must be greater than or equal to 0");
      }
      // Controllers that keep pods running take only pods that restart.
      const json::object* ps = tmpl ? api::FindObject(*tmpl, {"spec"}) : nullptr;
      if (std::string rp = ps ? api::GetString(*ps, "restartPolicy") : ""; !rp.empty() && rp != "Always") {
        e.NotSupported("spec.template.spec.restartPolicy", rp, {"Always"});
      }
    }
    ValidateSelectorMatchesTemplate(spec, e);
    ValidatePodSpec(tmpl ? api::FindObject(*tmpl, {"spec"}) : nullptr, "spec.template.spec", e);
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    if (!SameAt(obj, old, {"spec", "selector"})) e.Immutable("spec.selector", "v1.LabelSelector{...}");
  }
};

class DeploymentStrategy final : public WorkloadStrategy {};

class ReplicaSetStrategy final : public WorkloadStrategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override { return ZeroCounters({"replicas"}); }
  std::vector<std::string_view> SelectableFields() const override { return {"status.replicas"}; }
};

class StatefulSetStrategy final : public WorkloadStrategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override {
    return ZeroCounters({"replicas", "availableReplicas"});
  }
};

class DaemonSetStrategy final : public WorkloadStrategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override {
    return ZeroCounters({"currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"});
  }
};

}  // namespace

const Strategy& Deployment() {
  static const DeploymentStrategy s;
  return s;
}

const Strategy& ReplicaSet() {
  static const ReplicaSetStrategy s;
  return s;
}

const Strategy& StatefulSet() {
  static const StatefulSetStrategy s;
  return s;
}

const Strategy& DaemonSet() {
  static const DaemonSetStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
