// The pod status the kubelet reports, shaped as upstream's kubelet writes it
// (generateAPIPodStatus, getPhase, the status manager's condition rules): a pure function of the
// pod, of what the runtime says of its containers and of what the kubelet knows besides (probe
// results, why a container is waiting).
//
// - containerStatuses / initContainerStatuses / ephemeralContainerStatuses: one per spec
//   container, in spec order (an ephemeral one never ready, never restarted, not in the phase): state
//   (running / terminated / waiting with a reason), lastState.terminated from the attempt
//   before, restartCount (the runtime's attempt number), containerID "<runtime>://<id>",
//   imageID, ready, started.
// - phase by upstream's getPhase: Pending while initializing or while a container waits that
//   never ran; Running while a container runs or will be restarted; Succeeded when all exited 0
//   and none restarts; Failed when one exited non-zero with restartPolicy Never, or an init
//   container failed with Never. A terminal phase already written is never left.
// - conditions PodReadyToStartContainers, Initialized, ContainersReady, Ready (reasons
//   ContainersNotInitialized / ContainersNotReady / PodCompleted and upstream's messages),
//   PodScheduled kept; lastTransitionTime moves only when a condition's status changes.
// - hostIP(s), podIP(s), startTime (kept once set); fields the kubelet does not own are kept.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <unordered_map>

#include "agent/cri/runtime.h"
#include "agent/kubelet/node_objects.h"

namespace kite::kubelet {

struct PodPlacement {
  std::string host_ip;
  std::string pod_ip;  // the host's for hostNetwork pods; "" before the sandbox
};

// What the kubelet knows of one container of the pod spec.
struct ContainerView {
  std::optional<cri::ContainerStatus> current;   // the newest attempt in the runtime
  std::optional<cri::ContainerStatus> previous;  // the attempt before it: lastState
  // Why no container of it runs now, when the kubelet knows (CrashLoopBackOff, ErrImagePull,
  // CreateContainerConfigError…); "" for the default (ContainerCreating / PodInitializing).
  std::string waiting_reason, waiting_message;
  bool ready = false;    // running and its readiness probe passed (or it has none)
  bool started = false;  // running and its startup probe passed (or it has none)
};

struct PodView {
  std::string runtime_name;  // the scheme of container ids ("containerd", "hollow")
  PodPlacement where;
  bool sandbox_ready = false;
  std::unordered_map<std::string, ContainerView> containers;  // init and regular, by name
  WallClock::time_point now;
  // The kubelet ended the pod (activeDeadlineSeconds): phase Failed with this reason and message.
  std::string failed_reason, failed_message;
  // The status the kubelet last wrote, newer than the pod's copy (an informer lags behind our
  // own writes): conditions keep their times from it. Null: the pod's status.
  const boost::json::object* last_status = nullptr;
};

// restartPolicy Never or OnFailure: the pod's containers are expected to finish.
bool RunsToCompletion(const boost::json::object& pod);
// Whether the pod's restartPolicy restarts a container that exited with `exit_code`.
bool ShouldRestart(const boost::json::object& pod, int32_t exit_code);
// The pod's status from the view. Replaces status.conditions and the container status lists.
boost::json::object BuildPodStatus(const boost::json::object& pod, const PodView& v);
// Succeeded or Failed.
bool IsTerminalPhase(const std::string& phase);

}  // namespace kite::kubelet
