// Per-kind rules from upstream's registry strategies (strategy.h).
#include "server/apiserver/strategy/strategy.h"

#include <boost/json.hpp>

namespace kite::apiserver {
namespace json = boost::json;

json::object EmptyStatus(const api::ResourceInfo& r) {
  auto zeros = [](std::initializer_list<const char*> names) {
    json::object o;
    for (const char* n : names) o[n] = 0;
    return o;
  };
  if (r.group.empty() && r.kind == "Service") return json::object{{"loadBalancer", json::object()}};
  if ((r.group.empty() && r.kind == "ReplicationController") || (r.group == "apps" && r.kind == "ReplicaSet")) {
    return zeros({"replicas"});
  }
  if (r.group == "apps" && r.kind == "StatefulSet") return zeros({"replicas", "availableReplicas"});
  if (r.group == "apps" && r.kind == "DaemonSet") {
    return zeros({"currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"});
  }
  if (r.group == "autoscaling" && r.kind == "HorizontalPodAutoscaler") {
    return r.version == "v1" ? zeros({"currentReplicas", "desiredReplicas"}) : zeros({"desiredReplicas"});
  }
  if (r.group == "policy" && r.kind == "PodDisruptionBudget") {
    return zeros({"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"});
  }
  return json::object();
}

bool TracksGeneration(const api::ResourceInfo& r) {
  return !(r.group == "coordination.k8s.io" && r.kind == "Lease");
}

std::string DefaultPropagationPolicy(const api::ResourceInfo& r) {
  // The pre-garbage-collector behaviour, kept for these two. (kubectl always sends a policy,
  // Background by default; client libraries send none.)
  if ((r.group.empty() && r.kind == "ReplicationController") || (r.group == "batch" && r.kind == "Job")) {
    return "Orphan";
  }
  return "Background";
}

}  // namespace kite::apiserver
