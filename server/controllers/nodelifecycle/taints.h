// Node taints and pod tolerations as the node lifecycle and taint eviction controllers use
// them (upstream's v1helper toleration matching and the nodelifecycle taint templates).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "api/time.h"

namespace kite::controllers::nodelifecycle {

inline constexpr const char kNotReadyTaint[] = "node.kubernetes.io/not-ready";
inline constexpr const char kUnreachableTaint[] = "node.kubernetes.io/unreachable";

// Toleration `tol` tolerates `taint`: same effect (or any, when the toleration names none) and
// key — Exists on that key (or on every key when the key is empty), Equal with the same value.
bool Tolerates(const boost::json::object& tol, const boost::json::object& taint);

// How long `pod` may stay on a node with the NoExecute `taints`: nullopt = for ever (every
// taint tolerated without tolerationSeconds, or no NoExecute taint); 0 = not at all (a taint
// it does not tolerate); otherwise the smallest tolerationSeconds among the tolerations used.
std::optional<std::chrono::seconds> TolerationWindow(const boost::json::object& pod, const boost::json::array& taints);

// The node's spec.taints with the ones this controller owns made to match its conditions:
// Ready False → not-ready, Ready Unknown → unreachable (each NoSchedule and NoExecute, the
// NoExecute one with timeAdded `now`); spec.unschedulable → unschedulable:NoSchedule;
// MemoryPressure/DiskPressure/PIDPressure True and NetworkUnavailable True → the matching
// NoSchedule taint. Taints already present keep their timeAdded; other taints are untouched.
boost::json::array DesiredTaints(const boost::json::object& node, const std::string& now);

// The node's conditions after its kubelet went silent: Ready, MemoryPressure, DiskPressure and
// PIDPressure become Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node status.",
// lastTransitionTime `now`, lastHeartbeatTime kept); missing ones are added as
// NodeStatusNeverUpdated, "Kubelet never posted node status.".
boost::json::array UnknownConditions(const boost::json::array& conditions, const std::string& now);

}  // namespace kite::controllers::nodelifecycle
