// The pod garbage collector (upstream's "podgc"), a pass every 20 seconds:
// - terminated pods (Succeeded/Failed) beyond --terminated-pod-gc-threshold are deleted, oldest
//   first (0 disables this);
// - pods bound to a node that no longer exists — still missing after a 40 s quarantine and a
//   live check — are marked Failed with condition DisruptionTarget (reason DeletionByPodGC) and
//   force-deleted, terminating ones included;
// - terminating pods never scheduled, and terminating pods on a not-ready node tainted
//   node.kubernetes.io/out-of-service, are force-deleted (no kubelet will finish them).
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewPodGCController(const client::Client* client, int64_t terminated_threshold,
                                                       std::chrono::milliseconds quarantine = std::chrono::seconds(40),
                                                       const Clock* clock = Clock::Real());

namespace podgc {

// The terminated pods to delete so that at most `threshold` remain: the oldest by
// creationTimestamp (ties by name). Empty when threshold <= 0.
std::vector<client::ObjectPtr> TerminatedToDelete(const std::vector<client::ObjectPtr>& pods, int64_t threshold);

}  // namespace podgc
}  // namespace kite::controllers
