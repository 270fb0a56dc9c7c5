// The disruption controller (upstream's "disruption"): keeps each PodDisruptionBudget's status
// current — expectedPods, currentHealthy (matching pods that are Ready and not being deleted),
// desiredHealthy (from minAvailable, or expectedPods minus maxUnavailable; percentages of the
// pods' controllers' replicas, rounded up), disruptionsAllowed (currentHealthy - desiredHealthy,
// never negative), observedGeneration and the DisruptionAllowed condition (SufficientPods /
// InsufficientPods; SyncFailed when the expected count cannot be known). The eviction
// subresource reads disruptionsAllowed. Entries in disruptedPods older than two minutes, or of
// pods gone, are dropped.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewDisruptionController(const client::Client* client,
                                                            const Clock* clock = Clock::Real());

namespace disruption {

struct Counts {
  int64_t expected = 0, desired_healthy = 0;
};

// expectedPods and desiredHealthy for `pdb` given the number of matching pods and, when the
// budget needs it (maxUnavailable, or minAvailable as a percentage), the summed scale of their
// controllers (nullopt when unknown: an error, as upstream's "found no controllers").
Result<Counts> ComputeCounts(const boost::json::object& pdb, int64_t matching_pods, std::optional<int64_t> controller_scale);

// An IntOrString percentage ("50%") or integer of `total`, rounded up; error for other strings.
Result<int64_t> ScaledValue(const boost::json::value& v, int64_t total);

}  // namespace disruption
}  // namespace kite::controllers
