// Pods (upstream's pkg/registry/core/pod/strategy.go): spec validation and the spec's
// immutability, field selectors, graceful deletion, and the kubelet streams.
#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "api/fields.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

constexpr std::string_view kAppArmorAnnotation = "container.apparmor.security.beta.kubernetes.io/";

// The deprecated AppArmor annotations (upstream's ValidatePodSpecificAnnotations and
// ValidateAppArmorProfileFormat): each names a container of the pod and holds runtime/default,
// unconfined or localhost/<profile>.
void ValidateAppArmorAnnotations(const json::object& pod, FieldErrors& e) {
  const json::object& annotations = api::GetObject(api::Metadata(pod), "annotations");
  for (const auto& kv : annotations) {
    const std::string_view key = kv.key();
    if (!key.starts_with(kAppArmorAnnotation)) continue;
    const std::string field = "metadata.annotations[" + std::string(key) + "]";
    const std::string container(key.substr(kAppArmorAnnotation.size()));
    bool found = false;
    for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
      for (const auto& c : api::GetArray(pod, {"spec", list})) {
        found = found || (c.is_object() && api::GetString(c.as_object(), "name") == container);
      }
    }
    if (!found) e.Invalid(field, Quoted(container), "container not found");
    const std::string profile = kv.value().is_string() ? std::string(kv.value().as_string()) : "";
    if (!profile.empty() && profile != "runtime/default" && profile != "unconfined" && !profile.starts_with("localhost/")) {
      e.Invalid(field, Quoted(profile), "invalid AppArmor profile name: " + Quoted(profile));
    }
  }
}

class PodStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    ValidatePodSpec(api::FindObject(obj, {"spec"}), "spec", e);
    ValidateAppArmorAnnotations(obj, e);
  }

  // Most of a pod's spec is fixed once created (images, activeDeadlineSeconds and a few others
  // may change); kubectl users meet this as "pod updates may not change fields...".
  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    const json::object* a = api::FindObject(obj, {"spec"});
    const json::object* b = api::FindObject(old, {"spec"});
    if (!a || !b) return;
    json::object x = *a, y = *b;
    for (auto* s : {&x, &y}) {
      s->erase("activeDeadlineSeconds");
      s->erase("tolerations");
      s->erase("terminationGracePeriodSeconds");
      s->erase("schedulingGates");
      for (const char* list : {"containers", "initContainers"}) {
        auto it = s->find(list);
        if (it == s->end() || !it->value().is_array()) continue;
        for (auto& c : it->value().as_array()) {
          if (c.is_object()) c.as_object().erase("image");
        }
      }
    }
    if (!(x == y)) {
      e.Add("FieldValueForbidden",
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)",
            "spec");
    }
  }

  // Upstream's ValidatePodCreate: ephemeral containers come only through their subresource.
  void ValidateCreate(const json::object& obj, FieldErrors& e) const override {
    if (!api::GetArray(obj, {"spec", "ephemeralContainers"}).empty()) {
      e.Add("FieldValueForbidden", "Forbidden: cannot be set on create", "spec.ephemeralContainers");
    }
  }

  // pods/ephemeralcontainers (what `kubectl debug` patches): the stored pod with the body's
  // spec.ephemeralContainers and resourceVersion, nothing else (upstream's
  // dropNonEphemeralContainerUpdates).
  void PrepareSubresourceUpdate(std::string_view sub, json::object& obj, const json::object& old) const override {
    if (sub != "ephemeralcontainers") return;
    json::object out = old;
    const json::value* rv = api::GetObject(obj, "metadata").if_contains("resourceVersion");
    if (rv && rv->is_string() && !rv->as_string().empty()) api::MutableObject(out, "metadata")["resourceVersion"] = *rv;
    json::object& spec = api::MutableObject(out, "spec");
    const json::value* ephemeral = api::GetObject(obj, "spec").if_contains("ephemeralContainers");
    if (ephemeral && !ephemeral->is_null()) spec["ephemeralContainers"] = *ephemeral;
    else spec.erase("ephemeralContainers");
    obj = std::move(out);
  }

  // Upstream's ValidatePodEphemeralContainersUpdate: not on a static pod's mirror, and the ones
  // there stay as they are (added to, never removed or changed).
  void ValidateSubresourceUpdate(std::string_view sub, const json::object& obj, const json::object& old,
                                 FieldErrors& e) const override {
    if (sub != "ephemeralcontainers") {
      ValidateUpdate(obj, old, e);
      return;
    }
    if (api::GetObject(old, {"metadata", "annotations"}).contains("kubernetes.io/config.mirror")) {
      e.Add("FieldValueForbidden", "Forbidden: static pods do not support ephemeral containers", "");
      return;
    }
    const json::array& now = api::GetArray(obj, {"spec", "ephemeralContainers"});
    for (const auto& was : api::GetArray(old, {"spec", "ephemeralContainers"})) {
      if (!was.is_object()) continue;
      const std::string name = api::GetString(was.as_object(), "name");
      auto same_name = [&](const json::value& c) { return c.is_object() && api::GetString(c.as_object(), "name") == name; };
      auto it = std::find_if(now.begin(), now.end(), same_name);
      if (it == now.end()) {
        e.Add("FieldValueForbidden", "Forbidden: existing ephemeral containers " + Quoted(name) + " may not be removed",
              "spec.ephemeralContainers");
      } else if (*it != was) {
        e.Add("FieldValueForbidden", "Forbidden: existing ephemeral containers " + Quoted(name) + " may not be changed",
              "spec.ephemeralContainers");
      }
    }
  }

  // Pods on a node stop gracefully: the kubelet sees deletionTimestamp, stops the containers and
  // deletes with grace 0. Pods never scheduled, or already finished, go at once.
  int64_t BeforeDelete(json::object& obj, std::optional<int64_t> requested) const override {
    const auto& spec = obj["spec"];
    int64_t grace = 30;
    if (spec.is_object()) {
      auto tg = spec.as_object().find("terminationGracePeriodSeconds");
      if (tg != spec.as_object().end() && tg->value().is_int64()) grace = tg->value().as_int64();
    }
    if (requested) grace = *requested;
    std::string node = spec.is_object() ? api::GetString(spec.as_object(), "nodeName") : "";
    std::string phase = obj["status"].is_object() ? api::GetString(obj["status"].as_object(), "phase") : "";
    if (node.empty() || phase == "Succeeded" || phase == "Failed") grace = 0;
    if (grace < 0) grace = 0;
    return grace;
  }

  // A pod in graceful deletion waits for its kubelet, whatever its finalizers.
  bool DeletionPendingOnUpdate(const json::object& obj) const override {
    auto m = obj.find("metadata");
    if (m == obj.end() || !m->value().is_object()) return false;
    auto grace = m->value().as_object().find("deletionGracePeriodSeconds");
    return grace != m->value().as_object().end() && grace->value().is_int64() && grace->value().as_int64() > 0;
  }

  bool ReturnsDeletedObject() const override { return true; }

  std::vector<std::string_view> SelectableFields() const override {
    return {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"};
  }

  std::optional<std::string> FieldValue(const json::value& obj, std::string_view field) const override {
    if (field == "status.podIPs") return api::FieldValueFromObject(obj, "status.podIP").value_or("");
    if (field == "spec.hostNetwork") {
      auto s = api::FieldValueFromObject(obj, field);
      return s && !s->empty() ? *s : std::string("false");
    }
    return std::nullopt;
  }

  Status NodeStreamUnavailable(const api::ResourceInfo&, const json::object& pod, const std::string& name,
                                 const std::string& sub) const override {
    const json::object* spec = api::FindObject(pod, {"spec"});
    std::string node = spec ? api::GetString(*spec, "nodeName") : "";
    if (node.empty()) return BadRequest("pod " + name + " does not have a host assigned");
    return BadRequest("pod " + name + ": the " + sub + " stream needs the kubelet on node " + node +
                      ", which is not connected to this server");
  }
};

}  // namespace

const Strategy& Pod() {
  static const PodStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
