// The pod statuses a hollow node reports, shaped as the kubelet's status manager writes them, for
// pods whose containers do nothing: Running (every container started and ready at once) and,
// for pods that run to completion, Succeeded (every container exited 0). Pure functions of the
// pod and the clock. Container and image ids say "hollow" so nothing mistakes them for real.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "agent/hollow/node_objects.h"

namespace kite::hollow {

struct PodPlacement {
  std::string host_ip;
  std::string pod_ip;  // the host's for hostNetwork pods
};

// restartPolicy Never or OnFailure: the pod's containers are expected to finish.
bool RunsToCompletion(const boost::json::object& pod);

// The pod's status once all its containers run (since `started`): phase Running, the five
// conditions True, IPs, startTime, a running state per container (init containers completed).
// Fields of the current status that the kubelet does not own (qosClass, nominatedNodeName…) are
// kept. The result replaces status.conditions and the container status lists wholesale.
boost::json::object RunningPodStatus(const boost::json::object& pod, const PodPlacement& where,
                                     WallClock::time_point started);

// The status of a pod whose containers all exited 0 at `finished`: phase Succeeded, Ready and
// ContainersReady False with reason PodCompleted, terminated states with reason Completed.
boost::json::object SucceededPodStatus(const boost::json::object& pod, const PodPlacement& where,
                                       WallClock::time_point started, WallClock::time_point finished);

}  // namespace kite::hollow
