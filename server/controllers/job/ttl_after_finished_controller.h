// The TTL-after-finished controller ("ttl-after-finished", upstream's name and a controller of
// its own there too): deletes a finished Job (condition Complete or Failed) once
// spec.ttlSecondsAfterFinished have passed since it finished (completionTime, or the Failed
// condition's lastTransitionTime), with propagationPolicy Foreground, as upstream, so the Job
// stays visible until the garbage collector removed its pods. The delete carries the Job's
// uid as a precondition, so a new Job of the same name is never hit; a Job whose TTL lies in
// the future is looked at again when it expires (WorkQueue::AddAfter).
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewTtlAfterFinishedController(const client::Client* client,
                                                                  const Clock* clock = Clock::Real());

}  // namespace kite::controllers
