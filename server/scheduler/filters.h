// Filter results and the per-node filter plugins of the default profile that need nothing
// beyond the pod and the node: NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
// NodePorts, NodeResourcesFit and VolumeBinding's node check (over the volume node affinity the
// loop resolved into the pod, volume_binding.h) (inter-pod affinity and topology spread, which need cluster-wide
// counts, are in their own files). Each returns upstream's status code and reasons:
// "Unresolvable" (UnschedulableAndUnresolvable) marks failures preemption cannot fix.
//
// A FilterStatus is small and allocation-free (the scheduling loop records one per failing
// node); its reason texts, upstream's exact wording, are rendered only for the FitError
// message, given the pod and node the status was computed for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/scheduler/cache.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler {

enum class Plugin : uint8_t {
  kNone,
  kNodeUnschedulable,
  kNodeName,
  kTaintToleration,
  kNodeAffinity,
  kNodePorts,
  kNodeResourcesFit,
  kPodTopologySpread,
  kInterPodAffinity,
  kDefaultPreemption,
  kVolumeBinding,
};
const char* PluginName(Plugin p);
inline uint32_t PluginBit(Plugin p) { return 1u << static_cast<uint32_t>(p); }

enum class FilterCode : uint8_t { kSuccess, kUnschedulable, kUnresolvable };

enum class Reason : uint8_t {
  kNone,
  kNodeUnschedulable,         // node(s) were unschedulable
  kNodeName,                  // node(s) didn't match the requested node name
  kUntoleratedTaint,          // node(s) had untolerated taint {k: v}; detail = taint index
  kNodeAffinity,              // node(s) didn't match Pod's node affinity/selector
  kNodePorts,                 // node(s) didn't have free ports for the requested pod ports
  kInsufficient,              // detail = FitBits
  kSpreadConstraints,         // node(s) didn't match pod topology spread constraints
  kSpreadMissingLabel,        // … (missing required label)
  kAffinityRules,             // node(s) didn't match pod affinity rules
  kAntiAffinityRules,         // node(s) didn't match pod anti-affinity rules
  kExistingAntiAffinity,      // node(s) didn't satisfy existing pods anti-affinity rules
  kNoVictims,                 // No preemption victims found for incoming pod
  kPreemptionNotHelpful,      // Preemption is not helpful for scheduling
  kVolumeNodeAffinity,        // node(s) had volume node affinity conflict
};

// NodeResourcesFit detail bits: which resources were short. Bit kFitScalar+i is the i-th
// entry of the pod's requests.scalar.
enum FitBits : uint32_t { kFitPods = 1, kFitCpu = 2, kFitMemory = 4, kFitEphemeral = 8, kFitScalarShift = 4 };

struct FilterStatus {
  FilterCode code = FilterCode::kSuccess;
  Plugin plugin = Plugin::kNone;
  Reason reason = Reason::kNone;
  uint32_t detail = 0;
  bool ok() const { return code == FilterCode::kSuccess; }
};

inline FilterStatus Fail(FilterCode code, Plugin plugin, Reason reason, uint32_t detail = 0) {
  return FilterStatus{code, plugin, reason, detail};
}

// Upstream's reason texts of `s`, computed for `pod` on `node`.
void AppendReasons(const FilterStatus& s, const PodInfo& pod, const NodeInfo& node, std::vector<std::string>* out);

// The filters needing only the pod and the node, in the default profile's order. `node` has a
// spec. Success when all pass; otherwise the first failure.
FilterStatus RunNodeFilters(const PodInfo& pod, const NodeInfo& node);

// NodeResourcesFit alone (used by preemption to judge victims): FitBits of what is short, and
// whether some request exceeds the node's whole allocatable (`unresolvable`).
uint32_t InsufficientResources(const PodInfo& pod, const NodeInfo& node, bool* unresolvable);

// The NoSchedule/NoExecute taint the pod does not tolerate (index), or -1.
int FirstUntoleratedTaint(const PodInfo& pod, const NodeSpec& node);

}  // namespace kite::scheduler
