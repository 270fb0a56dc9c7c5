// The DaemonSet controller ("daemonset"): one pod of the DaemonSet on every node that should
// run it (see daemon_pod.h for which nodes those are and how the pods are pinned to them).
// - Pods are named "<ds>-<random>", carry the template's labels plus controller-revision-hash
//   (the current ControllerRevision's hash) and pod-template-generation, and are owned by the
//   DaemonSet; orphans matching the selector are adopted. Unscheduled pods for nodes that no
//   longer exist, pods on nodes that must not run them (untolerated NoExecute taint, selector
//   or affinity no longer matching) and Failed pods are deleted; a node left with several
//   pods keeps the oldest (or, during a surge update, the oldest old one and the newest
//   updated one).
// - History: ControllerRevisions (common/history.h), old ones trimmed to revisionHistoryLimit.
// - updateStrategy RollingUpdate replaces old pods node by node within maxUnavailable (old
//   pods that are not available go first, without using the budget); with maxSurge the new
//   pod starts beside the old one, which is deleted once the new one is available. OnDelete
//   only creates new pods where the user deleted old ones.
// - Status as upstream and `kubectl rollout status daemonset` read it: desiredNumberScheduled,
//   currentNumberScheduled, numberMisscheduled, numberReady, numberAvailable (ready for
//   minReadySeconds), updatedNumberScheduled, numberUnavailable, observedGeneration,
//   collisionCount.
// - Events with upstream's reasons: SuccessfulCreate/SuccessfulDelete ("Created pod: x",
//   "Deleted pod: x"), FailedCreate, FailedDaemonPod, SelectingAll.
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewDaemonSetController(const client::Client* client,
                                                           const Clock* clock = Clock::Real());

}  // namespace kite::controllers
