// The ReplicaSet controller (and, with the same code, the ReplicationController controller):
// keeps spec.replicas active pods matching the selector. It adopts orphan pods that match
// (adding its controller reference), releases owned pods that stopped matching, creates missing
// pods in slow-start batches (1, 2, 4, … so a failing create does not fail 500 times) and
// deletes surplus pods least valuable first (unscheduled, pending, not ready, newest). Status:
// replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready ≥ minReadySeconds),
// observedGeneration. Events SuccessfulCreate / SuccessfulDelete / FailedCreate as upstream.
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewReplicaSetController(const client::Client* client, bool replication_controller,
                                                            const Clock* clock = Clock::Real());

}  // namespace kite::controllers
