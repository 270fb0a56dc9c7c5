#include "api/pod.h"

#include "api/conditions.h"
#include "api/object.h"
#include "api/owner_references.h"

namespace kite::api {

bool IsPodActive(const json::object& pod) {
  const std::string phase = GetString(pod, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed" && !IsBeingDeleted(pod);
}

bool IsPodReady(const json::object& pod) { return IsConditionTrue(GetObject(pod, "status"), "Ready"); }

bool IsPodAvailable(const json::object& pod, int64_t min_ready_seconds, Timestamp now) {
  const json::object* c = FindCondition(GetObject(pod, "status"), "Ready");
  if (!c || GetString(*c, "status") != "True") return false;
  if (min_ready_seconds <= 0) return true;
  auto t = ParseTime(GetString(*c, "lastTransitionTime"));
  return t && *t + std::chrono::seconds(min_ready_seconds) <= now;
}

json::object PodFromTemplate(const json::object& tmpl, const json::object& owner, const std::string& generate_name) {
  const json::object& tm = Metadata(tmpl);
  json::object meta;
  meta["generateName"] = generate_name;
  meta["namespace"] = Namespace(owner);
  for (const char* copied : {"labels", "annotations", "finalizers"}) {
    if (const json::value* v = tm.if_contains(copied)) meta[copied] = *v;
  }
  meta["ownerReferences"] = json::array{ControllerRef(owner)};
  json::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
  pod["spec"] = GetObject(tmpl, "spec");
  return pod;
}

}  // namespace kite::api
