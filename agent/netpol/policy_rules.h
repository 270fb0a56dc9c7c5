// NetworkPolicies as iptables rules (pure logic; the controller, netpol_controller.h, applies
// them). What k3s's embedded kube-router does, with our own layout:
//
// filter table:
//   FORWARD (first rule) -j KUBE-ROUTER-FORWARD
//   KUBE-ROUTER-FORWARD: established and related packets RETURN (a policy decides only a
//     connection's first packet; the answers of an allowed one pass), then for each pod on this
//     node that a policy isolates: -d <pod IP> -j KUBE-POD-IN-<hash> (ingress), -s <pod IP>
//     -j KUBE-POD-EG-<hash> (egress)
//   KUBE-POD-IN-/EG-<hash>: clear mark bit 0x10000, set it for each peer and port some policy
//     allows, DROP what is left unmarked; RETURN otherwise (so an allowed packet still meets the
//     other end's egress or ingress chain, and kube-proxy's and the pod network's rules after).
//   KUBE-IPB-<hash>: an ipBlock with `except`: RETURN for the excepted ranges, mark the rest.
//
// Semantics (networking.k8s.io/v1): a pod is isolated for ingress (egress) when a policy of its
// namespace selects it (spec.podSelector) with that policy type (spec.policyTypes; unset: Ingress,
// plus Egress when the policy has egress rules); then only what the union of those policies'
// rules allows passes. A rule allows its peers (from/to: podSelector in the policy's namespace,
// namespaceSelector, both, or ipBlock with except; none listed: every address) on its ports
// (protocol TCP unless given, a number, a range to endPort, or a named container port, resolved
// on the destination pod; none listed: every port). Peers that are pods are matched by their IPs,
// cluster-wide. Only the first packet of a connection is judged, and only traffic that crosses
// FORWARD: the node's own traffic to its pods (probes) is always allowed, as the API says.
#pragma once

#include <boost/json/object.hpp>

#include <set>
#include <string>
#include <vector>

namespace kite::netpol {

inline constexpr char kForwardChain[] = "KUBE-ROUTER-FORWARD";
// The mark bit an allowing rule sets (kube-proxy uses 0x4000 and 0x8000).
inline constexpr char kAllowMark[] = "0x10000/0x10000";

struct ClusterState {
  std::vector<const boost::json::object*> policies;    // NetworkPolicies
  std::vector<const boost::json::object*> pods;        // every pod of the cluster
  std::vector<const boost::json::object*> namespaces;  // every Namespace (their labels)
};

// Bounds on what policies can make a node write (a policy's peers times its ports times the pods
// they select): past them a chain gets no more allowing rules, so what is cut off is dropped
// (closed, not open) and named in NetpolRules::truncated.
inline constexpr size_t kMaxAllowRulesPerChain = 10000;
inline constexpr size_t kMaxAllowRules = 100000;

struct NetpolRules {
  std::string text;               // iptables-restore input for the filter table (--noflush)
  std::set<std::string> chains;   // every chain of ours it declares, KUBE-ROUTER-FORWARD included
  size_t isolated_pods = 0;       // local pods with an ingress or egress chain
  std::vector<std::string> truncated;  // "ns/name ingress|egress" chains cut at a bound
};

// The rules for the pods on `node_name`. `stale`: chains of ours to delete (written before, not
// wanted now); they are flushed and deleted in the same batch.
NetpolRules GenerateNetpolRules(const ClusterState& state, const std::string& node_name,
                                const std::set<std::string>& stale = {});

// Whether a filter chain name is one of ours (for the sweep of chains an earlier process left).
bool IsNetpolChain(const std::string& chain);

}  // namespace kite::netpol
