// The core/v1 kinds with a rule or two each: Nodes, PersistentVolumeClaims, PodTemplates and
// ReplicationControllers. (Pods, Namespaces, Services, Secrets, ConfigMaps and Events have files
// of their own.)
#include <boost/json.hpp>

#include "api/object.h"
#include "api/fields.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class NodeStrategy final : public Strategy {
 public:
  std::vector<std::string_view> SelectableFields() const override { return {"spec.unschedulable"}; }
  std::optional<std::string> FieldValue(const json::value& obj, std::string_view field) const override {
    if (field != "spec.unschedulable") return std::nullopt;
    auto s = api::FieldValueFromObject(obj, field);
    return s && !s->empty() ? *s : std::string("false");
  }
};

class PersistentVolumeClaimStrategy final : public Strategy {
 public:
  std::vector<std::string_view> SelectableFields() const override { return {"spec.volumeName"}; }
};

class PodTemplateStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* tmpl = api::FindObject(obj, {"template"});
    ValidatePodSpec(tmpl ? api::FindObject(*tmpl, {"spec"}) : nullptr, "template.spec", e);
  }
};

class ReplicationControllerStrategy final : public Strategy {
 public:
  json::object EmptyStatus(const api::ResourceInfo&) const override { return ZeroCounters({"replicas"}); }

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    ValidatePodSpec(spec ? api::FindObject(*spec, {"template", "spec"}) : nullptr, "spec.template.spec", e);
    if (const json::value* n = spec ? spec->if_contains("replicas") : nullptr; n && n->is_int64() && n->as_int64() < 0) {
      e.Invalid("spec.replicas", json::serialize(*n), "must be greater than or equal to 0");
    }
  }

  // The pre-garbage-collector behaviour, kept for ReplicationControllers. (kubectl always sends a
  // policy, Background by default; client libraries send none.)
  std::string DefaultPropagationPolicy() const override { return "Orphan"; }

  std::vector<std::string_view> SelectableFields() const override { return {"status.replicas"}; }

  bool SelectorIsLabelMap() const override { return true; }
};

}  // namespace

const Strategy& Node() {
  static const NodeStrategy s;
  return s;
}

const Strategy& PersistentVolumeClaim() {
  static const PersistentVolumeClaimStrategy s;
  return s;
}

const Strategy& PodTemplate() {
  static const PodTemplateStrategy s;
  return s;
}

const Strategy& ReplicationController() {
  static const ReplicationControllerStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
