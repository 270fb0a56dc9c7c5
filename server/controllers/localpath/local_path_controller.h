// The built-in local-path provisioner (k3s ships rancher's local-path-provisioner; kite builds the
// same behaviour in) and the minimal PersistentVolume binder a single node needs:
// - at start, StorageClass "local-path" is created when missing (provisioner rancher.io/local-path,
//   default class, WaitForFirstConsumer, reclaimPolicy Delete); an existing one is never changed,
//   so a user's edits (or its deletion) last until the next start;
// - a Pending claim of a class whose provisioner is rancher.io/local-path is provisioned once it
//   has a consumer on a node (annotation volume.kubernetes.io/selected-node, which the scheduler
//   writes when it places the first pod, else a pod using the claim with spec.nodeName): a PV
//   "pvc-<claim uid>" with hostPath <storage dir>/pvc-<uid>_<ns>_<name> (DirectoryOrCreate, made
//   by the kubelet), the claim's size and access modes, required node affinity to that node;
// - binding as upstream's binder writes it: PV spec.claimRef and status.phase Bound, claim
//   spec.volumeName, status Bound with capacity and accessModes, annotations
//   pv.kubernetes.io/bind-completed and pv.kubernetes.io/bound-by-controller; a claim naming a PV
//   (spec.volumeName) or matching an Available static PV of its class (size, access modes) is
//   bound the same way;
// - a PV bound to a claim that is gone: when its reclaim policy is Delete and we provisioned it,
//   its directory is removed on its node by a helper pod (helper_pod.h; as k3s's provisioner
//   does) and the PV is deleted once that pod Succeeded (at once when the node is gone, or with
//   no helper image: the directory then stays); else it is marked Released.
// Level-triggered: keys are "ns/name" for claims, "name" for volumes, kClassKey for the class.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

namespace localpath {
inline constexpr const char kClassName[] = "local-path";
inline constexpr const char kProvisioner[] = "rancher.io/local-path";
}  // namespace localpath

// `storage_dir`: where volumes live on the nodes (k3s's --default-local-storage-path);
// `helper_image`: the image of the helper pods that delete volumes' directories ("" = none).
std::unique_ptr<client::Controller> NewLocalPathController(const client::Client* client, std::string storage_dir,
                                                           std::string helper_image = "",
                                                           const Clock* clock = Clock::Real());

}  // namespace kite::controllers
