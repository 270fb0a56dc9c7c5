// NodeRestriction admission (upstream's plugin of that name), for kubelets (system:node:<name>
// in system:nodes): a node may create, change or delete only its own Node object and Lease; it
// may create only mirror pods bound to itself that reference no Secret, ConfigMap or claim; it
// may delete, evict and write the status of only pods bound to itself. Refusals are 403 with
// upstream's messages. Other users pass.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"
#include "base/status.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/rbac/node_authorizer.h"

namespace kite::apiserver::rbac {

// The checks that need only the request (deletes, evictions, status writes, node updates by
// name): after authorization, before the handlers.
Status NodeRestrictionByName(const NodeAuthorizer& graph, const RequestAttributes& a);

// The checks on the object to be stored by a create, update or patch of `r` (no subresource):
// a Node's or Lease's name, a mirror pod.
Status NodeRestrictionObject(const UserInfo& user, const api::ResourceInfo& r, const std::string& verb,
                             const boost::json::object& obj);

}  // namespace kite::apiserver::rbac
