// core/v1 componentstatuses (`kubectl get cs`, deprecated upstream since 1.19 and still in
// runbooks): the health of the control-plane components, computed per request, nothing stored.
// Upstream's API server probes the scheduler's and controller manager's /healthz on 127.0.0.1
// (10259, 10257) and lists etcd members; kite-server runs both in process over its embedded
// datastore, so, as a k3s server on SQLite shows, the answer holds "scheduler" and
// "controller-manager": Healthy "ok" when the component runs in this process, otherwise Unhealthy
// with the connection error upstream's probe reports for a port nothing listens on.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/apiserver/apiserver.h"

namespace kite::apiserver {

struct ControlPlaneComponent {
  std::string name;             // "scheduler", "controller-manager"
  int port = 0;                 // upstream's secure port, named in the Unhealthy message
  std::function<bool()> runs;   // whether it runs in this process now
};

// The components kite-server reports, given whether each runs.
std::vector<ControlPlaneComponent> KiteControlPlane(std::function<bool()> scheduler, std::function<bool()> controllers);

// A get (ComponentStatus, or "Component not found: <name>" as upstream's plain 500) or a list
// (ComponentStatusList, filtered by label and field selectors) for `request`.
Result<boost::json::object> ServeComponentStatuses(const DelegatedRequest& request,
                                                   const std::vector<ControlPlaneComponent>& components);

}  // namespace kite::apiserver
