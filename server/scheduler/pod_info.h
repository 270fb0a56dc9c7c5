// The scheduler's parsed view of Pods and Nodes: everything the filter and score plugins read,
// decoded once from the API's JSON when an informer delivers the object, so the scheduling
// cycle never walks JSON. Semantics follow upstream kube-scheduler (v1.32):
// - Pod requests as upstream's PodRequests: the sum over containers, each restartable init
//   container (sidecar) added to it, the maximum with every regular init container (plus the
//   sidecars started before it), then spec.overhead. A container with limits but no requests
//   counts its limits (the API server's defaulting, applied here in case it did not run).
//   "Non-zero" requests (scoring only) count 100m CPU / 200Mi memory for a container that does
//   not state them.
// - Priority: spec.priority when set; otherwise the PriorityClass named by
//   spec.priorityClassName (or the globalDefault class), as upstream's Priority admission
//   plugin would have filled it in; 0 without one.
// - Invalid parts (a bad label selector in an affinity term, say) are reported in
//   `parse_error`: the pod is then unschedulable with that message, as upstream reports a
//   PreFilter error.
// Objects are immutable after parsing and shared (`std::shared_ptr<const ...>`).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/labels.h"
#include "client/informer.h"

namespace kite::scheduler {

// The map type api::LabelSelector matches against.
using Labels = std::map<std::string, std::string>;

// Amounts of the resources the scheduler accounts: CPU in millicores, bytes of memory and
// ephemeral storage, a pod count (node side: allocatable pods), and scalar resources
// (extended resources such as example.com/gpu, hugepages-*, attachable-volumes-*) by name.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;
  std::vector<std::pair<std::string, int64_t>> scalar;  // sorted by name, no duplicates

  int64_t Scalar(std::string_view name) const;
  void AddScalar(std::string_view name, int64_t v);
  void Add(const Resources& r);
  void Sub(const Resources& r);
  void Max(const Resources& r);  // element-wise maximum (pods excluded)
  bool operator==(const Resources&) const = default;
};

// A ResourceList object ({"cpu": "2", "memory": "1Gi", ...}). Unparseable quantities count 0.
Resources ParseResourceList(const boost::json::value* list);

struct Taint {
  std::string key, value, effect;  // effect: NoSchedule, PreferNoSchedule, NoExecute
  bool operator==(const Taint&) const = default;
};

struct Toleration {
  std::string key, op, value, effect;  // op: "" / Equal / Exists
  // Upstream's ToleratesTaint: effect and key must match when set; Exists matches any value.
  bool Tolerates(const Taint& t) const;
};

// True when some toleration tolerates the taint.
bool TaintTolerated(const std::vector<Toleration>& tolerations, const Taint& taint);

// One term of a NodeSelector (required node affinity or a preferred term): matchExpressions on
// node labels and matchFields on metadata.name, all ANDed. An empty term matches nothing.
struct NodeSelectorTerm {
  std::vector<api::LabelRequirement> expressions;
  std::vector<api::LabelRequirement> fields;  // key "metadata.name"
  bool valid = true;                          // false: an invalid requirement; matches nothing
  bool Matches(const std::string& node_name, const Labels& labels) const;
};

struct PreferredTerm {
  int32_t weight = 0;
  NodeSelectorTerm term;
};

// A pod (anti-)affinity term with its namespaces resolved against the owning pod.
struct AffinityTerm {
  api::LabelSelector selector;
  std::vector<std::string> namespaces;               // pods in these namespaces, or …
  std::optional<api::LabelSelector> ns_selector;      // … in namespaces whose labels match
  std::string topology_key;
  int32_t weight = 0;     // preferred terms only
  std::string signature;  // canonical text: equal signatures are the same term
};

struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  bool hard = true;  // whenUnsatisfiable: DoNotSchedule (true) or ScheduleAnyway
  api::LabelSelector selector = api::LabelSelector::Nothing();  // with matchLabelKeys merged
  int32_t min_domains = 1;
  bool honor_node_affinity = true;   // nodeAffinityPolicy (default Honor)
  bool honor_node_taints = false;    // nodeTaintsPolicy (default Ignore)
};

struct HostPort {
  std::string ip;        // "0.0.0.0" when unset
  std::string protocol;  // TCP when unset
  int32_t port = 0;
  bool operator==(const HostPort&) const = default;
};

struct PodInfo {
  client::ObjectPtr object;
  std::string ns, name, uid, key;  // key "ns/name"
  std::string node_name, scheduler_name, nominated_node_name, phase, resource_version;
  Labels labels;
  int32_t priority = 0;
  bool preempt_never = false;  // preemptionPolicy: Never
  bool terminating = false;    // metadata.deletionTimestamp set
  bool gated = false;          // spec.schedulingGates not empty
  double start_time = 0;       // status.startTime, else creationTimestamp (Unix seconds)

  Resources requests;          // for fitting (pods = 1)
  int64_t non_zero_milli_cpu = 0, non_zero_memory = 0;  // for scoring
  std::vector<HostPort> host_ports;

  Labels node_selector;                                 // spec.nodeSelector
  std::optional<std::vector<NodeSelectorTerm>> required_node_affinity;  // ORed terms
  std::vector<PreferredTerm> preferred_node_affinity;
  std::vector<Toleration> tolerations;

  std::vector<AffinityTerm> required_affinity, required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity, preferred_anti_affinity;
  std::vector<SpreadConstraint> spread;  // hard and soft

  // PersistentVolumeClaims the pod uses: spec.volumes[].persistentVolumeClaim.claimName, and
  // "<pod>-<volume>" for each generic ephemeral volume (the claim the ephemeral-volume
  // controller creates for it).
  std::vector<std::string> claims;
  // Filled by the scheduling loop for one cycle (VolumeBinding's PreFilter, see
  // volume_binding.h): the required node affinity of each bound PersistentVolume; a node must
  // match one term of every entry.
  std::vector<std::vector<NodeSelectorTerm>> volume_node_affinity;

  std::string parse_error;

  bool terminal() const { return phase == "Succeeded" || phase == "Failed"; }
  // spec.nodeSelector and required node affinity (upstream's RequiredNodeAffinity.Match).
  bool MatchesNodeSelectorAndAffinity(const std::string& node_name, const Labels& node_labels) const;
};
using PodInfoPtr = std::shared_ptr<const PodInfo>;

// Looks up a PriorityClass by name: (value, preemptionPolicy), or nullopt. `""` asks for the
// globalDefault class.
using PriorityClassLookup = std::function<std::optional<std::pair<int32_t, std::string>>(const std::string& name)>;

PodInfoPtr ParsePod(client::ObjectPtr obj, const PriorityClassLookup& priority_classes);

struct NodeSpec {
  client::ObjectPtr object;
  std::string name;
  Labels labels;
  Resources allocatable;
  std::vector<Taint> taints;
  bool unschedulable = false;
};
using NodeSpecPtr = std::shared_ptr<const NodeSpec>;

NodeSpecPtr ParseNode(client::ObjectPtr obj);

// A NodeSelector's terms ({"nodeSelectorTerms": [...]}), ORed; nullptr gives none.
std::vector<NodeSelectorTerm> ParseNodeSelector(const boost::json::object* selector);

// Whether `term` selects `pod`: its namespace is listed (or selected by ns_selector, given the
// namespace's labels) and its labels match.
bool TermMatchesPod(const AffinityTerm& term, const PodInfo& pod, const Labels* pod_ns_labels);

// The two built-in classes upstream's API server creates (system-cluster-critical,
// system-node-critical), for clusters where they do not exist as objects.
std::optional<int32_t> BuiltinPriorityClass(const std::string& name);

}  // namespace kite::scheduler
