// ServiceLB (k3s's klipper-lb, without its pods): a Service of type LoadBalancer gets
// status.loadBalancer.ingress = the InternalIP addresses of the nodes that carry it, and the
// service proxy on every node (agent/proxy/) answers on those addresses. klipper-lb runs a
// DaemonSet pod per Service port to hold the host port; kite does not need one, since the proxy's
// KUBE-SERVICES rules for "loadbalancer IP" already DNAT the traffic.
//
// - Nodes: the Ready ones; when some node has the label svccontroller.k3s.cattle.io/enablelb=true
//   (k3s's opt-in), only those. Addresses sorted, IPv4, each once.
// - spec.loadBalancerClass: handled when unset or kServiceLbClass; a Service of another class
//   belongs to someone else and is never touched.
// - A Service that is no longer a LoadBalancer has the ingress we wrote cleared.
// - A port is held by one Service: the LoadBalancer Services of ours are granted in age order
//   (creationTimestamp, then namespace/name), each only when none of its (port, protocol) pairs
//   is held by one granted before; one that is not granted gets no ingress and stays Pending
//   (k3s: its svclb pods cannot bind the host ports another holds), until the holder goes.
// Node changes, and changes of any LoadBalancer Service, re-queue every LoadBalancer Service.
#pragma once

#include <memory>

#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

inline constexpr const char* kServiceLbClass = "kite.io/servicelb";
inline constexpr const char* kEnableLbLabel = "svccontroller.k3s.cattle.io/enablelb";

std::unique_ptr<client::Controller> NewServiceLbController(const client::Client* client);

}  // namespace kite::controllers
