// The StatefulSet controller ("statefulset"): pods with stable identities and storage.
// - Pod <set>-<ordinal> (hostname the same, subdomain spec.serviceName), labelled with the
//   template's labels plus statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index
//   and controller-revision-hash (the ControllerRevision's name, as upstream), owned by the set.
// - For each volumeClaimTemplate, the PVC <template>-<set>-<ordinal> is created if missing
//   (labels: the template's plus the selector's matchLabels) before its pod, and the pod's
//   volume of that name points at it. persistentVolumeClaimRetentionPolicy: Retain (default)
//   leaves claims alone; whenDeleted: Delete makes the set an owner of its claims and
//   whenScaled: Delete makes a condemned pod the owner of its claims, so the garbage
//   collector removes them.
// - Ordering, scaling and RollingUpdate with partition follow stateful_set_plan.h.
// - History: ControllerRevisions (common/history.h); status.currentRevision moves to the
//   update revision once every pod is updated and ready.
// - Status as `kubectl rollout status statefulset` reads it: replicas, readyReplicas,
//   currentReplicas, updatedReplicas, availableReplicas, currentRevision, updateRevision,
//   observedGeneration, collisionCount.
// - Events as upstream: SuccessfulCreate "create Pod x in StatefulSet y successful",
//   "create Claim c Pod x in StatefulSet y success", SuccessfulDelete "delete Pod x in
//   StatefulSet y successful", FailedCreate / FailedDelete.
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewStatefulSetController(const client::Client* client,
                                                             const Clock* clock = Clock::Real());

}  // namespace kite::controllers
