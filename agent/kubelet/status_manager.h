// StatusManager: what the kubelet writes about its pods to the API server, as upstream's status
// manager (pkg/kubelet/status) does: the pod's status as a merge patch of pods/status, and the
// final delete of a pod being deleted gracefully once its containers are gone (grace 0, the
// pod's uid as precondition, so a pod re-created under the same name is never deleted).
// Stateless and thread-safe: the pod workers decide when to write and retry failures.
#pragma once

#include <boost/json/object.hpp>

#include "client/client.h"

namespace kite::kubelet {

class StatusManager {
 public:
  explicit StatusManager(const client::Client* client) : client_(client) {}

  // Writes `status` (the kubelet-owned fields and what it keeps) as the pod's status.
  kite::Result<boost::json::object> SetPodStatus(const boost::json::object& pod, boost::json::object status) const;
  // Deletes the pod for good. Gone already, or replaced by a pod of another uid, counts as done.
  kite::Result<boost::json::object> FinishDeletion(const boost::json::object& pod) const;

 private:
  const client::Client* client_;
};

}  // namespace kite::kubelet
