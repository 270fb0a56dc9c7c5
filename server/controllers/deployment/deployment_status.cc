// The Deployment controller's status (deployment_controller.h): the conditions it sets and the
// status a sync writes. Pure functions of their arguments; the controller writes the result.
#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "server/controllers/deployment/deployment_controller.h"

namespace kite::controllers {
namespace json = boost::json;

// A DeploymentCondition: metav1's fields plus lastUpdateTime.
json::object DeploymentCondition(Clock::WallTime at, const std::string& type,
                                 const std::string& status, const std::string& reason,
                                 const std::string& message) {
  return api::NewCondition(type, status, reason, message, api::FormatTime(at), "lastUpdateTime");
}

// Upstream's SetDeploymentCondition: same status and reason → unchanged (but a
// ReplicaSetUpdated progress is always refreshed); same status → keep the transition time.
void SetDeploymentCondition(json::object& status, json::object cond) {
  if (const json::object* cur = api::FindCondition(status, api::GetString(cond, "type"))) {
    if (api::GetString(*cur, "status") == api::GetString(cond, "status") &&
        api::GetString(*cur, "reason") == api::GetString(cond, "reason") &&
        api::GetString(cond, "reason") != "ReplicaSetUpdated") {
      return;
    }
  }
  api::SetCondition(status, std::move(cond));
}

DeploymentStatusUpdate NextDeploymentStatus(const json::object& d, const std::vector<json::object>& sets,
                                            const json::object* nrs, const Clock& clock,
                                            const std::function<bool()>& progress_noted) {
  const int64_t want = api::GetInt(d, {"spec", "replicas"}, 1);
  auto [surge, max_unavailable] = ResolveSurgeUnavailable(d);
  (void)surge;
  int64_t replicas = 0, ready = 0, available = 0;
  for (const auto& rs : sets) {
    replicas += api::GetInt(rs, {"status", "replicas"});
    ready += api::GetInt(rs, {"status", "readyReplicas"});
    available += api::GetInt(rs, {"status", "availableReplicas"});
  }
  const json::object old_status = api::GetObject(d, "status");
  json::object status = old_status;
  status["observedGeneration"] = api::GetInt(d, {"metadata", "generation"}, 1);
  status["replicas"] = replicas;
  status["updatedReplicas"] = nrs ? api::GetInt(*nrs, {"status", "replicas"}) : 0;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["unavailableReplicas"] = std::max<int64_t>(want - available, 0);
  for (const char* zero : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"}) {
    if (api::GetInt(status, zero) == 0) status.erase(zero);  // upstream omits zero counts
  }
  if (available >= want - max_unavailable) {
    SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."));
  } else {
    SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Available", "False", "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability."));
  }
  const auto& spec = api::GetObject(d, "spec");
  const std::string rs_name = nrs ? api::Name(*nrs) : "";
  const json::object* prog = api::FindCondition(old_status, "Progressing");
  std::optional<std::chrono::seconds> requeue;
  if (api::GetBool(spec, "paused")) {
    SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"));
  } else if (prog && api::GetString(*prog, "reason") == "DeploymentPaused") {
    SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed"));
  } else if (spec.contains("progressDeadlineSeconds") && nrs) {
    const bool complete = api::GetInt(status, "updatedReplicas") == want && api::GetInt(status, "replicas") == want &&
                          api::GetInt(status, "availableReplicas") == want;
    const bool progressed = api::GetInt(status, "updatedReplicas") > api::GetInt(old_status, "updatedReplicas") ||
                            api::GetInt(status, "replicas") < api::GetInt(old_status, "replicas") ||
                            api::GetInt(status, "readyReplicas") > api::GetInt(old_status, "readyReplicas") ||
                            api::GetInt(status, "availableReplicas") > api::GetInt(old_status, "availableReplicas");
    const int64_t deadline = api::GetInt(spec, "progressDeadlineSeconds", 600);
    if (complete) {
      SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "True", "NewReplicaSetAvailable",
                                     "ReplicaSet \"" + rs_name + "\" has successfully progressed."));
    } else if (progressed || progress_noted()) {
      SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "True", "ReplicaSetUpdated",
                                     "ReplicaSet \"" + rs_name + "\" is progressing."));
      requeue = std::chrono::seconds(deadline);
    } else if (prog && api::GetString(*prog, "status") == "True") {
      auto last = api::ParseTime(api::GetString(*prog, "lastUpdateTime"));
      auto now = clock.Now();
      if (last && *last + std::chrono::seconds(deadline) <= now) {
        SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "False", "ProgressDeadlineExceeded",
                                       "ReplicaSet \"" + rs_name + "\" has timed out progressing."));
      } else if (last) {
        requeue = std::chrono::duration_cast<std::chrono::seconds>(*last + std::chrono::seconds(deadline) - now) +
                  std::chrono::seconds(1);
      }
    } else if (!prog) {
      SetDeploymentCondition(status, DeploymentCondition(clock.Now(), "Progressing", "True", "ReplicaSetUpdated",
                                     "ReplicaSet \"" + rs_name + "\" is progressing."));
    }
  }
  return {std::move(status), requeue};
}

}  // namespace kite::controllers
