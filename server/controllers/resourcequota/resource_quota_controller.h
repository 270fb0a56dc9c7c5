// The resource quota controller (upstream's "resourcequota"): keeps each ResourceQuota's
// status.hard (a copy of spec.hard) and status.used current for the resources it names:
// pods and count/pods (pods not finished), cpu/memory/ephemeral-storage as requests.* (bare
// names mean requests) and limits.* summed over those pods (a pod counts the larger of its
// containers' sum and its biggest init container, plus its overhead), object counts
// (services, configmaps, secrets, persistentvolumeclaims, replicationcontrollers,
// resourcequotas, services.nodeports, services.loadbalancers, count/<resource>[.<group>] for
// any listable resource) and requests.storage of claims. spec.scopes Terminating,
// NotTerminating, BestEffort and NotBestEffort narrow the pods counted. Names it has no
// evaluator for are left out of used, as upstream does. Admission (refusing what exceeds the
// quota) belongs to the API server.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewResourceQuotaController(const client::Client* client,
                                                               const Clock* clock = Clock::Real());

namespace quota {

// The usage of `resource` ("requests.cpu", "pods", …) by `pods` (already in the namespace),
// honouring `scopes`; nullopt when the name is not a pod resource.
std::optional<std::string> PodUsage(const std::string& resource, const std::vector<client::ObjectPtr>& pods,
                                    const std::vector<std::string>& scopes);

}  // namespace quota
}  // namespace kite::controllers
