#include "agent/kubelet/pod_status.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "api/time.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

// The status the current one becomes: its fields, with the kubelet-owned ones set below.
json::object BaseStatus(const json::object& pod, const PodPlacement& where, WallClock::time_point started) {
  json::object status = api::GetObject(pod, "status");
  status["hostIP"] = where.host_ip;
  status["hostIPs"] = json::array{json::object{{"ip", where.host_ip}}};
  status["podIP"] = where.pod_ip;
  status["podIPs"] = json::array{json::object{{"ip", where.pod_ip}}};
  if (api::GetString(status, "startTime").empty()) status["startTime"] = api::FormatTime(started);
  return status;
}

json::object Cond(const char* type, bool ok, const std::string& at, const char* reason = nullptr) {
  json::object c{{"type", type}, {"status", ok ? "True" : "False"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", at}};
  if (reason) c["reason"] = reason;
  return c;
}

// PodScheduled keeps the time the scheduler (or binding) set, when there is one.
json::object Scheduled(const json::object& pod, const std::string& fallback) {
  const json::value* conds = api::GetObject(pod, "status").if_contains("conditions");
  if (conds && conds->is_array()) {
    for (const auto& c : conds->as_array()) {
      if (c.is_object() && api::GetString(c.as_object(), "type") == "PodScheduled" && api::GetString(c.as_object(), "status") == "True") {
        return c.as_object();
      }
    }
  }
  return Cond("PodScheduled", true, fallback);
}

json::object Terminated(const std::string& container_id, const std::string& started, const std::string& finished) {
  return json::object{{"terminated", json::object{{"exitCode", 0},
                                                  {"reason", "Completed"},
                                                  {"startedAt", started},
                                                  {"finishedAt", finished},
                                                  {"containerID", container_id}}}};
}

// One status per container of spec.<list>, in spec order; `state(id)` gives each one's state.
template <typename StateFn>
json::array ContainerStatuses(const json::object& pod, const char* list, bool ready, bool started,
                              const ContainerIds& ids, StateFn state) {
  json::array out;
  static const ContainerRuntimeIds kNone;
  for (const auto& c : api::GetArray(pod, {"spec", list})) {
    if (!c.is_object()) continue;
    const std::string name = api::GetString(c.as_object(), "name"), image = api::GetString(c.as_object(), "image");
    auto it = ids.find(name);
    const ContainerRuntimeIds& rt = it == ids.end() ? kNone : it->second;
    const std::string& id = rt.container_id;
    out.push_back(json::object{{"name", name},
                               {"image", image},
                               {"imageID", rt.image_id},
                               {"containerID", id},
                               {"ready", ready},
                               {"started", started},
                               {"restartCount", 0},
                               {"lastState", json::object()},
                               {"state", state(id)}});
  }
  return out;
}

}  // namespace

bool RunsToCompletion(const json::object& pod) {
  const std::string policy = api::GetString(api::GetObject(pod, "spec"), "restartPolicy");
  return policy == "Never" || policy == "OnFailure";
}

json::object RunningPodStatus(const json::object& pod, const PodPlacement& where, WallClock::time_point started,
                              const ContainerIds& ids) {
  json::object status = BaseStatus(pod, where, started);
  const std::string at = api::FormatTime(started);
  status["phase"] = "Running";
  status["conditions"] = json::array{Cond("PodReadyToStartContainers", true, at), Cond("Initialized", true, at),
                                     Cond("Ready", true, at), Cond("ContainersReady", true, at), Scheduled(pod, at)};
  json::array init = ContainerStatuses(pod, "initContainers", true, false, ids,
                                       [&](const std::string& id) { return Terminated(id, at, at); });
  if (!init.empty()) status["initContainerStatuses"] = std::move(init);
  status["containerStatuses"] = ContainerStatuses(pod, "containers", true, true, ids, [&](const std::string&) {
    return json::object{{"running", json::object{{"startedAt", at}}}};
  });
  return status;
}

json::object SucceededPodStatus(const json::object& pod, const PodPlacement& where, WallClock::time_point started,
                                WallClock::time_point finished, const ContainerIds& ids) {
  json::object status = BaseStatus(pod, where, started);
  const std::string at = api::FormatTime(started), done = api::FormatTime(finished);
  status["phase"] = "Succeeded";
  // As the kubelet reports a completed pod: its sandbox is gone, its containers not ready.
  status["conditions"] = json::array{Cond("PodReadyToStartContainers", false, done),
                                     Cond("Initialized", true, at, "PodCompleted"),
                                     Cond("Ready", false, done, "PodCompleted"),
                                     Cond("ContainersReady", false, done, "PodCompleted"), Scheduled(pod, at)};
  json::array init = ContainerStatuses(pod, "initContainers", true, false, ids,
                                       [&](const std::string& id) { return Terminated(id, at, at); });
  if (!init.empty()) status["initContainerStatuses"] = std::move(init);
  status["containerStatuses"] = ContainerStatuses(pod, "containers", false, false, ids,
                                                  [&](const std::string& id) { return Terminated(id, at, done); });
  return status;
}

}  // namespace kite::kubelet
