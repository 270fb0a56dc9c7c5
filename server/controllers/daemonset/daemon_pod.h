// A DaemonSet's pod for one node, and whether that node should run it: the pure logic of the
// DaemonSet controller, after upstream's daemonset util and NodeShouldRunDaemonPod.
//
// - Daemon pods tolerate what a daemon must survive (upstream's automatic tolerations, all
//   operator Exists): node.kubernetes.io/not-ready and unreachable (NoExecute, no
//   tolerationSeconds: never evicted), disk-pressure, memory-pressure, pid-pressure and
//   unschedulable (NoSchedule: cordoned nodes still run daemons), and network-unavailable
//   (NoSchedule) for hostNetwork pods.
// - A daemon pod is bound to its node through required node affinity, one term with
//   matchFields metadata.name In [<node>], replacing any matchFields the template had, so the
//   scheduler places it (and honours resources and ports) rather than the controller setting
//   spec.nodeName.
// - A node should run the pod when the template's nodeName (if any) is the node, the
//   nodeSelector and required node affinity match it, and no NoSchedule/NoExecute taint is
//   left untolerated. A pod already there may continue running unless an untolerated
//   NoExecute taint or a selector mismatch evicts it. PreferNoSchedule taints do not count.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>

namespace kite::controllers {

// The pod template spec with the automatic tolerations added (upstream's
// AddOrUpdateDaemonPodTolerations; existing tolerations with the same key/effect are kept).
boost::json::object AddDaemonTolerations(boost::json::object pod_spec);
// The pod spec with required node affinity pinning it to `node_name`.
boost::json::object PinToNode(boost::json::object pod_spec, const std::string& node_name);
// The node a daemon pod is for: spec.nodeName, else the matchFields metadata.name affinity.
std::string DaemonPodNodeName(const boost::json::object& pod);

// Whether `toleration` (core/v1 Toleration) tolerates `taint` (core/v1 Taint).
bool Tolerates(const boost::json::object& toleration, const boost::json::object& taint);
// Whether a required NodeSelector (nodeSelectorTerms, ORed) matches the node.
bool NodeSelectorMatches(const boost::json::object& node_selector, const boost::json::object& node);

struct NodeFit {
  bool should_run = false;           // a pod should be created here
  bool should_continue_running = false;  // a pod already here may stay
};
// `pod_spec` is the daemon pod's spec as created (tolerations added).
NodeFit NodeShouldRunDaemonPod(const boost::json::object& node, const boost::json::object& pod_spec);

}  // namespace kite::controllers
