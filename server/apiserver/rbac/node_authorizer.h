// The Node authorizer (upstream's Node mode) and the graph behind it. A kubelet — user
// system:node:<name> in group system:nodes — may read a Secret, ConfigMap, PersistentVolumeClaim
// or PersistentVolume, and request a token of a ServiceAccount, only when a pod bound to its
// node references it (volumes, projected sources, env, envFrom, imagePullSecrets, the pod's
// service account; a PV through its bound claim); its Lease only in kube-node-lease under its
// own name; everything else as upstream's system:node ClusterRole grants (the bootstrap policy's
// rules). Anyone else, and a request outside those rules, is "no opinion" (RBAC decides next).
//
// The graph is built from the pods and claims in the datastore and followed (key_follower.h),
// so a decision is a map lookup. NodeRestriction (node_restriction.h) reads it too.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "datastore/store.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/rbac/key_follower.h"
#include "server/apiserver/rbac/rules.h"

namespace kite::apiserver::rbac {

// The node a user is the kubelet of: "n1" for system:node:n1 in system:nodes; nullopt otherwise.
std::optional<std::string> NodeNameOf(const UserInfo& user);

class NodeAuthorizer final : public Authorizer {
 public:
  // Loads the pods and claims before returning. `store` must outlive this.
  explicit NodeAuthorizer(datastore::Store* store);
  ~NodeAuthorizer() override;

  Decision Authorize(const RequestAttributes& a) const override;

  // The node of the pod ns/name ("" when unbound or unknown).
  std::string NodeOfPod(const std::string& ns, const std::string& name) const;
  // Stops following the datastore (before it closes); decisions then use what was loaded.
  void Stop() { follower_->Stop(); }
  // Waits (bounded) until the writes made so far are in the graph.
  void Sync() { follower_->WaitForCurrent(2000); }

 private:
  struct PodRefs {
    std::string node;
    std::vector<std::string> refs;  // "secrets/ns/name", "configmaps/…", "persistentvolumeclaims/…", "serviceaccounts/…"
  };
  void Apply(const std::string& key, const datastore::Value& value);
  bool Related(const std::string& node, const std::string& ref) const;  // caller holds mu_

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, PodRefs> pods_;  // "ns/name"; guarded by mu_
  // node → ref → how many of its pods reference it. Guarded by mu_.
  std::unordered_map<std::string, std::unordered_map<std::string, int>> by_node_;
  std::unordered_map<std::string, std::string> claim_volume_;  // "ns/name" → spec.volumeName; guarded by mu_
  std::vector<PolicyRule> node_rules_;  // system:node's rules
  std::unique_ptr<KeyFollower> follower_;
};

}  // namespace kite::apiserver::rbac
