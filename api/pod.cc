#include "api/pod.h"

#include <map>
#include <optional>

#include "api/conditions.h"
#include "api/object.h"
#include "api/owner_references.h"
#include "api/quantity.h"

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

std::string PodQOSClass(const json::object& pod) {
  std::map<std::string, Quantity> requests, limits;
  bool guaranteed = true;
  auto positive = [](const json::object& list, const char* name) -> std::optional<Quantity> {
    const json::value* v = list.if_contains(name);
    if (!v) return std::nullopt;
    auto q = Quantity::FromJson(*v);
    if (!q || q->Sign() <= 0) return std::nullopt;
    return *q;
  };
  auto add = [](std::map<std::string, Quantity>& sum, const char* name, const Quantity& q) {
    auto [it, fresh] = sum.emplace(name, q);
    if (!fresh) (void)it->second.Add(q);
  };
  for (const char* list : {"containers", "initContainers"}) {
    for (const auto& cv : GetArray(pod, {"spec", list})) {
      if (!cv.is_object()) continue;
      const json::object& lim = GetObject(cv.as_object(), {"resources", "limits"});
      const json::object& req = GetObject(cv.as_object(), {"resources", "requests"});
      int limited = 0;
      for (const char* name : {"cpu", "memory"}) {
        auto l = positive(lim, name);
        // An unset request defaults to the limit (SetDefaults_Pod); a set zero stays zero.
        auto r = req.contains(name) ? positive(req, name) : l;
        if (r) add(requests, name, *r);
        if (l) {
          add(limits, name, *l);
          ++limited;
        }
      }
      if (limited != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, r] : requests) {
      auto l = limits.find(name);
      if (l == limits.end() || l->second != r) guaranteed = false;
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

}  // namespace kite::api
