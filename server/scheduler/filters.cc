#include "server/scheduler/filters.h"

namespace kite::scheduler {

const char* PluginName(Plugin p) {
  switch (p) {
    case Plugin::kNone: return "";
    case Plugin::kNodeUnschedulable: return "NodeUnschedulable";
    case Plugin::kNodeName: return "NodeName";
    case Plugin::kTaintToleration: return "TaintToleration";
    case Plugin::kNodeAffinity: return "NodeAffinity";
    case Plugin::kNodePorts: return "NodePorts";
    case Plugin::kNodeResourcesFit: return "NodeResourcesFit";
    case Plugin::kPodTopologySpread: return "PodTopologySpread";
    case Plugin::kInterPodAffinity: return "InterPodAffinity";
    case Plugin::kDefaultPreemption: return "DefaultPreemption";
    case Plugin::kVolumeBinding: return "VolumeBinding";
  }
  return "";
}

void AppendReasons(const FilterStatus& s, const PodInfo& pod, const NodeInfo& node, std::vector<std::string>* out) {
  switch (s.reason) {
    case Reason::kNone: return;
    case Reason::kNodeUnschedulable: out->push_back("node(s) were unschedulable"); return;
    case Reason::kNodeName: out->push_back("node(s) didn't match the requested node name"); return;
    case Reason::kUntoleratedTaint: {
      const Taint* t = node.spec() && s.detail < node.spec()->taints.size() ? &node.spec()->taints[s.detail] : nullptr;
      out->push_back("node(s) had untolerated taint {" + (t ? t->key : "") + ": " + (t ? t->value : "") + "}");
      return;
    }
    case Reason::kNodeAffinity: out->push_back("node(s) didn't match Pod's node affinity/selector"); return;
    case Reason::kNodePorts: out->push_back("node(s) didn't have free ports for the requested pod ports"); return;
    case Reason::kInsufficient:
      if (s.detail & kFitPods) out->push_back("Too many pods");
      if (s.detail & kFitCpu) out->push_back("Insufficient cpu");
      if (s.detail & kFitMemory) out->push_back("Insufficient memory");
      if (s.detail & kFitEphemeral) out->push_back("Insufficient ephemeral-storage");
      for (size_t i = 0; i < pod.requests.scalar.size() && i + kFitScalarShift < 32; ++i) {
        if (s.detail & (1u << (i + kFitScalarShift))) out->push_back("Insufficient " + pod.requests.scalar[i].first);
      }
      return;
    case Reason::kSpreadConstraints: out->push_back("node(s) didn't match pod topology spread constraints"); return;
    case Reason::kSpreadMissingLabel:
      out->push_back("node(s) didn't match pod topology spread constraints (missing required label)");
      return;
    case Reason::kAffinityRules: out->push_back("node(s) didn't match pod affinity rules"); return;
    case Reason::kAntiAffinityRules: out->push_back("node(s) didn't match pod anti-affinity rules"); return;
    case Reason::kExistingAntiAffinity: out->push_back("node(s) didn't satisfy existing pods anti-affinity rules"); return;
    case Reason::kNoVictims: out->push_back("No preemption victims found for incoming pod"); return;
    case Reason::kPreemptionNotHelpful: out->push_back("Preemption is not helpful for scheduling"); return;
    case Reason::kVolumeNodeAffinity: out->push_back("node(s) had volume node affinity conflict"); return;
  }
}

int FirstUntoleratedTaint(const PodInfo& pod, const NodeSpec& node) {
  for (size_t i = 0; i < node.taints.size(); ++i) {
    const Taint& t = node.taints[i];
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (!TaintTolerated(pod.tolerations, t)) return static_cast<int>(i);
  }
  return -1;
}

uint32_t InsufficientResources(const PodInfo& pod, const NodeInfo& node, bool* unresolvable) {
  const Resources& alloc = node.spec()->allocatable;
  const Resources& used = node.requested();
  const Resources& want = pod.requests;
  uint32_t bits = 0;
  *unresolvable = false;
  if (used.pods + 1 > alloc.pods) bits |= kFitPods;
  if (want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu) {
    bits |= kFitCpu;
    *unresolvable |= want.milli_cpu > alloc.milli_cpu;
  }
  if (want.memory > 0 && want.memory > alloc.memory - used.memory) {
    bits |= kFitMemory;
    *unresolvable |= want.memory > alloc.memory;
  }
  if (want.ephemeral_storage > 0 && want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage) {
    bits |= kFitEphemeral;
    *unresolvable |= want.ephemeral_storage > alloc.ephemeral_storage;
  }
  for (size_t i = 0; i < want.scalar.size(); ++i) {
    const auto& [name, v] = want.scalar[i];
    if (v <= 0) continue;
    int64_t a = alloc.Scalar(name);
    if (v > a - used.Scalar(name)) {
      if (i + kFitScalarShift < 32) bits |= 1u << (i + kFitScalarShift);
      *unresolvable |= v > a;
    }
  }
  return bits;
}

FilterStatus RunNodeFilters(const PodInfo& pod, const NodeInfo& node) {
  const NodeSpec& spec = *node.spec();
  // NodeUnschedulable: a cordoned node takes only pods tolerating its unschedulable taint.
  if (spec.unschedulable &&
      !TaintTolerated(pod.tolerations, Taint{"node.kubernetes.io/unschedulable", "", "NoSchedule"})) {
    return Fail(FilterCode::kUnresolvable, Plugin::kNodeUnschedulable, Reason::kNodeUnschedulable);
  }
  if (!pod.node_name.empty() && pod.node_name != spec.name) {
    return Fail(FilterCode::kUnresolvable, Plugin::kNodeName, Reason::kNodeName);
  }
  if (!spec.taints.empty()) {
    if (int i = FirstUntoleratedTaint(pod, spec); i >= 0) {
      return Fail(FilterCode::kUnresolvable, Plugin::kTaintToleration, Reason::kUntoleratedTaint, static_cast<uint32_t>(i));
    }
  }
  if (!pod.MatchesNodeSelectorAndAffinity(spec.name, spec.labels)) {
    return Fail(FilterCode::kUnresolvable, Plugin::kNodeAffinity, Reason::kNodeAffinity);
  }
  for (const auto& p : pod.host_ports) {
    if (node.HostPortInUse(p)) return Fail(FilterCode::kUnschedulable, Plugin::kNodePorts, Reason::kNodePorts);
  }
  bool unresolvable = false;
  if (uint32_t bits = InsufficientResources(pod, node, &unresolvable)) {
    return Fail(unresolvable ? FilterCode::kUnresolvable : FilterCode::kUnschedulable, Plugin::kNodeResourcesFit,
                Reason::kInsufficient, bits);
  }
  // VolumeBinding: every bound volume's node affinity admits the node.
  for (const auto& terms : pod.volume_node_affinity) {
    bool any = false;
    for (const auto& t : terms) any = any || t.Matches(spec.name, spec.labels);
    if (!any) return Fail(FilterCode::kUnresolvable, Plugin::kVolumeBinding, Reason::kVolumeNodeAffinity);
  }
  return {};
}

}  // namespace kite::scheduler
