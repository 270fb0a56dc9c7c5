#include "server/scheduler/volume_binding.h"

#include "api/object.h"

namespace kite::scheduler {

VolumeDecision ResolveVolumes(const PodInfo& pod, const VolumeLookups& lookups) {
  VolumeDecision d;
  for (const auto& name : pod.claims) {
    client::ObjectPtr claim = lookups.claim ? lookups.claim(pod.ns, name) : nullptr;
    if (!claim) {
      d.error = "persistentvolumeclaim \"" + name + "\" not found";
      return d;
    }
    if (api::IsBeingDeleted(*claim)) {
      d.error = "persistentvolumeclaim \"" + name + "\" is being deleted";
      return d;
    }
    std::string volume_name = api::GetString(*claim, {"spec", "volumeName"});
    if (!volume_name.empty()) {
      client::ObjectPtr pv = lookups.volume ? lookups.volume(volume_name) : nullptr;
      if (!pv) {
        d.error = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
        return d;
      }
      if (const auto* required = api::FindObject(*pv, {"spec", "nodeAffinity", "required"})) {
        d.node_affinity.push_back(ParseNodeSelector(required));
      }
      continue;
    }
    std::string class_name = api::GetString(*claim, {"spec", "storageClassName"});
    if (class_name.empty()) {
      class_name = api::GetString(api::Annotations(*claim), "volume.beta.kubernetes.io/storage-class");
    }
    client::ObjectPtr sc = class_name.empty() || !lookups.storage_class ? nullptr : lookups.storage_class(class_name);
    if (sc && api::GetString(*sc, "volumeBindingMode") == "WaitForFirstConsumer") {
      d.delayed_claims.push_back(name);
      continue;
    }
    d.error = "pod has unbound immediate PersistentVolumeClaims";
    return d;
  }
  return d;
}

}  // namespace kite::scheduler
