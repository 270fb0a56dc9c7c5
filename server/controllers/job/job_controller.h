// The Job controller ("job"): runs a Job's pods to completion, as upstream's.
// - Pods are made from the template with labels batch.kubernetes.io/controller-uid,
//   batch.kubernetes.io/job-name, controller-uid and job-name, owned by the Job, and carry the
//   finalizer batch.kubernetes.io/job-tracking: a finished pod is first recorded in
//   status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
//   status.succeeded/failed, so a pod deleted or garbage-collected after finishing is
//   counted exactly once, even across controller restarts. Pods of Jobs that are gone or
//   being deleted lose the finalizer.
// - NonIndexed: up to parallelism pods until `completions` succeeded (no completions: a work
//   queue, done when a pod succeeded and none is left running). Indexed: one pod per index not
//   yet completed (annotation and label batch.kubernetes.io/job-completion-index, hostname
//   <job>-<index>), status.completedIndexes.
// - Failure: failed pods (plus container restarts under restartPolicy OnFailure) beyond
//   backoffLimit → BackoffLimitExceeded "Job has reached the specified backoff limit";
//   activeDeadlineSeconds past startTime → DeadlineExceeded "Job was active longer than
//   specified deadline". Failed pods are replaced after a back-off (10 s doubling, 6 min).
// - Terminal conditions as upstream 1.32: FailureTarget then Failed, SuccessCriteriaMet then
//   Complete (reason CompletionsReached), the second once no pod is left running or
//   uncounted; remaining pods are deleted. completionTime on success. Events SuccessfulCreate
//   "Created pod: x", SuccessfulDelete "Deleted pod: x", Completed "Job completed", a Warning
//   with the failure reason and message, Suspended / Resumed.
// - suspend: active pods are deleted, condition Suspended (JobSuspended / JobResumed);
//   resuming restarts startTime.
// - Status: active, ready, terminating, succeeded, failed, startTime, completionTime,
//   conditions, uncountedTerminatedPods, completedIndexes.
//
// The ttl-after-finished controller (ttlSecondsAfterFinished) is a separate controller under
// upstream's name, in ttl_after_finished_controller.h.
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewJobController(const client::Client* client, const Clock* clock = Clock::Real());

}  // namespace kite::controllers
