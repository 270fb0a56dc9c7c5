// The RBAC authorizer (upstream's RBAC mode): a request is allowed when a rule of a role bound
// to its user allows it — ClusterRoleBindings everywhere, RoleBindings in their namespace (to a
// Role of that namespace or a ClusterRole). Nothing denies; no match is "no opinion".
//
// Roles and bindings are read from the datastore once and then followed (key_follower.h): the
// bindings are indexed by subject (user, group, service account), so a decision is a few map
// lookups and rule matches under a shared lock, never a datastore read. It also reconciles
// ClusterRoles with an aggregationRule (upstream's clusterrole-aggregation controller): their
// rules become the union of the rules of the ClusterRoles their selectors match, written back
// whenever one of those changes.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "datastore/store.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/rbac/key_follower.h"
#include "server/apiserver/rbac/rules.h"

namespace kite::apiserver::rbac {

class RbacAuthorizer final : public Authorizer {
 public:
  // Loads every Role, ClusterRole and binding before returning. `store` must outlive this.
  explicit RbacAuthorizer(datastore::Store* store);
  ~RbacAuthorizer() override;

  Decision Authorize(const RequestAttributes& a) const override;

  // Every rule granted to `user` by ClusterRoleBindings, and in `ns` (when not empty) by its
  // RoleBindings: SelfSubjectRulesReview's answer and what escalation checks compare against.
  std::vector<PolicyRule> RulesFor(const UserInfo& user, const std::string& ns) const;

  // The rules of a binding's roleRef (`kind` Role, in `ns`, or ClusterRole); nullopt when that
  // role does not exist.
  std::optional<std::vector<PolicyRule>> RoleRefRules(const std::string& kind, const std::string& ns,
                                                      const std::string& name) const;

  // Stops following the datastore (before it closes); decisions then use what was loaded.
  void Stop() { follower_->Stop(); }
  // Waits (bounded) until the writes made so far are in the index.
  void Sync() { follower_->WaitForCurrent(2000); }

 private:
  struct Binding {
    std::string ns;          // "" for a ClusterRoleBinding
    bool cluster_role = true;  // roleRef.kind
    std::string role;        // roleRef.name
  };
  struct ClusterRole {
    std::shared_ptr<const std::vector<PolicyRule>> rules;
    std::map<std::string, std::string> labels;
    std::vector<boost::json::value> selectors;  // aggregationRule.clusterRoleSelectors
    datastore::Value stored;                    // the object as stored (for the aggregator)
  };
  using Rules = std::shared_ptr<const std::vector<PolicyRule>>;

  void Apply(const std::string& key, const datastore::Value& value);
  void RemoveBinding(const std::string& key);
  void Aggregate();
  // Calls `visit` with the rules of each binding that applies to `user` in `ns`, until it
  // returns true. Caller holds mu_ (shared).
  template <typename F>
  void VisitRules(const UserInfo& user, const std::string& ns, F&& visit) const;

  datastore::Store* store_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Rules> roles_;                 // "ns/name"; guarded by mu_
  std::unordered_map<std::string, ClusterRole> cluster_roles_;  // name; guarded by mu_
  // subject key ("u:<user>" — service accounts too, as system:serviceaccount:<ns>:<name> —
  // or "g:<group>") → binding storage key → binding. Guarded by mu_.
  std::unordered_map<std::string, std::unordered_map<std::string, Binding>> by_subject_;
  std::unordered_map<std::string, std::vector<std::string>> subjects_of_;  // binding key → subject keys
  bool aggregate_needed_ = false;  // follower thread only
  std::unique_ptr<KeyFollower> follower_;
};

}  // namespace kite::apiserver::rbac
