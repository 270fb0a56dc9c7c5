// Escalation prevention (upstream's RBAC registry policy): a user can create or update a Role
// or ClusterRole only with rules they already hold where it applies (or with the `escalate`
// verb on it), and a RoleBinding or ClusterRoleBinding only to a role whose rules they hold (or
// with the `bind` verb on that role). system:masters is exempt. A ClusterRole with an
// aggregationRule needs cluster-admin's rights. Refusals are 403 with upstream's message.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"
#include "base/status.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/rbac/rbac_authorizer.h"

namespace kite::apiserver::rbac {

// `obj` is the object about to be stored in `ns`; `old` the stored one for an update (nullptr
// for a create). Ok for any other resource.
Status ConfirmNoEscalation(const Authorizer& authz, RbacAuthorizer& rbac, const UserInfo& user,
                           const api::ResourceInfo& r, const std::string& ns, const boost::json::object& obj,
                           const boost::json::object* old);

}  // namespace kite::apiserver::rbac
