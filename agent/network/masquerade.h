// Masquerade for the pod network, as flannel's --ip-masq does it (the same chains and rules, so
// a user who knows flannel's iptables finds them): traffic from pods that leaves the cluster CIDR
// takes the node's address; traffic between pods (on one node or across nodes) keeps its source.
//
//   nat    POSTROUTING → FLANNEL-POSTRTG:
//            marked by kube-proxy (0x4000/0x4000)   RETURN  (it masquerades those itself)
//            cluster → cluster                      RETURN  (pod to pod)
//            not cluster → this node's podCIDR      RETURN  (outside traffic DNATed to a local pod)
//            cluster → not multicast                MASQUERADE --random-fully
//            not cluster → cluster                  MASQUERADE --random-fully (the host to remote pods)
//   filter FORWARD → FLANNEL-FWD: cluster → any, any → cluster ACCEPT (a host whose FORWARD
//            policy is DROP, e.g. with Docker, still forwards pod traffic)
//
// The chains are written whole with one `iptables-restore --noflush` (declaring a chain empties
// it, so a rule deleted by hand comes back at the next write); the jumps into them are checked
// with `iptables -C` and inserted first in their built-in chain when missing.
// The iptables backend (nf_tables or legacy) is detected as upstream's iptables-wrapper does:
// the one that already holds more rules; on a tie, the host's `iptables` alternative.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kite::network {

// The iptables-restore input for the two chains (pure; unit-tested).
std::string MasqueradeRules(const std::string& cluster_cidr, const std::string& pod_cidr);

// The commands of one iptables backend: {"iptables-nft", "iptables-nft-restore"} etc.
struct IptablesCommands {
  std::string iptables = "iptables";
  std::string restore = "iptables-restore";
};
// Chooses the backend (runs iptables-legacy-save and iptables-nft-save once).
IptablesCommands DetectIptables();
// Chooses from the two saves' outputs (pure): the one with more rules, `host_default` on a tie.
// `legacy_save`/`nft_save` nullopt-like empty with *_present false when the program is missing.
IptablesCommands ChooseIptables(bool legacy_present, const std::string& legacy_save, bool nft_present,
                                const std::string& nft_save, bool host_default_legacy);

// Writes the chains and makes sure the built-in chains jump to them.
kite::Status EnsureMasquerade(const IptablesCommands& ipt, const std::string& cluster_cidr, const std::string& pod_cidr);

// Runs argv with `input` on stdin; its combined output in *output. OK when it exits 0.
kite::Status RunCommand(const std::vector<std::string>& argv, const std::string& input, std::string* output = nullptr);

}  // namespace kite::network
