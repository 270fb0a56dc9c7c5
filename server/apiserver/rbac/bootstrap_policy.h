// The default RBAC policy every cluster starts with (upstream's bootstrap policy, the same roles
// and bindings, written as kite's own table in bootstrap_policy.cc): cluster-admin, admin, edit
// and view (aggregated from the system:aggregate-to-* roles), system:basic-user,
// system:discovery, system:public-info-viewer, the roles of the node, scheduler and controller
// manager, and one system:controller:* role per controller, each bound to its identity.
//
// Written at the first start and reconciled at every start as upstream's post-start hook does:
// a missing object is created; an existing one whose annotation
// rbac.authorization.kubernetes.io/autoupdate is not "false" gets the default rules, labels,
// annotations, aggregation selectors and subjects it lacks added — what a user added stays, and
// with autoupdate "false" the object is not touched at all.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "datastore/store.h"
#include "server/apiserver/rbac/rules.h"

namespace kite::apiserver::rbac {

Status ReconcileBootstrapPolicy(datastore::Store* store);

// The default rules of the ClusterRole `name` (empty when there is no such default role): the
// Node authorizer grants system:node's.
std::vector<PolicyRule> DefaultClusterRoleRules(std::string_view name);

}  // namespace kite::apiserver::rbac
