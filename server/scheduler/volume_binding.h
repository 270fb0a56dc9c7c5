// VolumeBinding, the part of upstream's volumebinding plugin a kite cluster needs: a pod's
// PersistentVolumeClaims decide where it may run.
//
// PreFilter (ResolveVolumes), per claim the pod uses (PodInfo::claims):
//  - missing: `persistentvolumeclaim "<name>" not found`; being deleted: `persistentvolumeclaim
//    "<name>" is being deleted` — the pod stays unschedulable until that changes;
//  - bound (spec.volumeName): the PersistentVolume's required node affinity
//    (spec.nodeAffinity.required) must admit the node (the Filter in filters.cc, reason "node(s)
//    had volume node affinity conflict"); a bound volume that does not exist rejects every node;
//  - unbound, of a class with volumeBindingMode WaitForFirstConsumer: any node; once the node is
//    chosen the loop writes the claim's volume.kubernetes.io/selected-node annotation (what a
//    provisioner such as local-path waits for);
//  - unbound otherwise (Immediate, or no class): "pod has unbound immediate
//    PersistentVolumeClaims" until a binder binds it.
// Not modelled (said in docs/architecture/scheduler.md): matching unbound WaitForFirstConsumer
// claims to existing static PVs per node, volume limits, and waiting in PreBind for the
// provisioner.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "client/informer.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler {

struct VolumeLookups {
  std::function<client::ObjectPtr(const std::string& ns, const std::string& name)> claim;
  std::function<client::ObjectPtr(const std::string& name)> volume;
  std::function<client::ObjectPtr(const std::string& name)> storage_class;
};

struct VolumeDecision {
  std::string error;  // the PreFilter's rejection (upstream's text); empty when the pod may go on
  std::vector<std::vector<NodeSelectorTerm>> node_affinity;  // one entry per bound volume
  std::vector<std::string> delayed_claims;  // unbound WaitForFirstConsumer claims, to annotate
};

VolumeDecision ResolveVolumes(const PodInfo& pod, const VolumeLookups& lookups);

inline constexpr const char kSelectedNodeAnnotation[] = "volume.kubernetes.io/selected-node";

}  // namespace kite::scheduler
