// The node's CNI network for pods: one conflist that containerd's CRI plugin reads from the
// agent's CNI config dir (<data-dir>/agent/etc/cni/net.d/10-kite.conflist):
//   bridge     a Linux bridge (the pods' gateway, the node's side of every pod's veth) with
//              NAT for traffic leaving the pod network (ipMasq) and hairpin mode, so a pod
//              reaches itself through a Service address;
//   host-local IP addresses from the node's podCIDR, its allocations under the data dir;
//   portmap    hostPort (CRI port mappings) as iptables DNAT rules.
// Loopback needs no entry: containerd runs the loopback plugin for every pod itself.
// The plugins containerd runs come from the agent's CNI bin dir (<data-dir>/agent/cni/bin,
// PrepareCniBinDir): bridge, loopback and portmap are kite-cni (agent/cni/plugin.h), every other
// name links to the system's plugin, and `system` to the system's dir (kite-cni's hand-on).
// The bridge's name is unique per data dir ("kite" + 8 hex digits of its path's SHA-256) so
// several agents on one machine, each in its own network namespace, never share one by mistake.
// Cross-node routes are the next issue's: this file only places pods on their node.
#pragma once

#include <string>

#include "base/status.h"

namespace kite::network {

struct CniConfigOptions {
  std::string data_dir;     // the agent's --data-dir
  std::string pod_cidr;     // the node's spec.podCIDR ("10.42.0.0/24"); IPv6 works too
  std::string bridge_name;  // "": CniBridgeName(data_dir)
  std::string conf_dir;     // "": <data-dir>/agent/etc/cni/net.d
  int mtu = 0;              // 0: the bridge plugin's default
  // The bridge plugin's ipMasq (NAT for everything outside the node's podCIDR). Off when the pod
  // network (pod_network.h) masquerades itself: pod-to-pod traffic across nodes keeps its source.
  bool ip_masq = true;
};

// "kite" + 8 hex digits, unique per data dir (an interface name has at most 15 characters).
std::string CniBridgeName(const std::string& data_dir);
// The conflist's path for these options.
std::string CniConfigPath(const CniConfigOptions& options);
// The conflist's JSON text; InvalidArgument when pod_cidr is not an address/prefix.
Result<std::string> CniConflist(const CniConfigOptions& options);
// Writes the conflist when its content changed (atomically: containerd watches the dir and must
// never read half a file). Result: whether it wrote.
Result<bool> WriteCniConfig(const CniConfigOptions& options);

// The agent's CNI bin dir: <data-dir>/agent/cni/bin with `bridge`, `loopback` and `portmap`
// linked to `kite_cni` (an absolute path), every other plugin of `system_dir` linked there, and
// `system` linked to `system_dir`; links that are right are left alone, others replaced, and
// names that are no plugin any more removed. Returns the dir. `kite_cni` empty: no dir, the
// result is `system_dir` itself (the system's plugins do all the work).
Result<std::string> PrepareCniBinDir(const std::string& data_dir, const std::string& system_dir,
                                     const std::string& kite_cni);

// kite-cni beside the running program (kite-agent or kite-server: the release tree, an install,
// a build dir), or "" when it is not there.
std::string FindKiteCni();

}  // namespace kite::network
