// The pod statuses the kubelet reports, shaped as upstream's kubelet writes them
// (generateAPIPodStatus): Running (every container started and ready) and, for pods that run to
// completion, Succeeded (every container exited 0). Pure functions of the pod, the runtime's ids
// of its containers and the clock.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <unordered_map>

#include "agent/kubelet/node_objects.h"

namespace kite::kubelet {

struct PodPlacement {
  std::string host_ip;
  std::string pod_ip;  // the host's for hostNetwork pods
};

// What the runtime says of one container of the pod: its id as the API shows it
// ("<runtime name>://<id>") and the id of the image it runs.
struct ContainerRuntimeIds {
  std::string container_id;
  std::string image_id;
};
using ContainerIds = std::unordered_map<std::string, ContainerRuntimeIds>;  // by container name

// restartPolicy Never or OnFailure: the pod's containers are expected to finish.
bool RunsToCompletion(const boost::json::object& pod);

// The pod's status once all its containers run (since `started`): phase Running, the five
// conditions True, IPs, startTime, a running state per container (init containers completed).
// Fields of the current status that the kubelet does not own (qosClass, nominatedNodeName…) are
// kept. The result replaces status.conditions and the container status lists wholesale.
boost::json::object RunningPodStatus(const boost::json::object& pod, const PodPlacement& where,
                                     WallClock::time_point started, const ContainerIds& ids);

// The status of a pod whose containers all exited 0 at `finished`: phase Succeeded, Ready and
// ContainersReady False with reason PodCompleted, terminated states with reason Completed.
boost::json::object SucceededPodStatus(const boost::json::object& pod, const PodPlacement& where,
                                       WallClock::time_point started, WallClock::time_point finished,
                                       const ContainerIds& ids);

}  // namespace kite::kubelet
