// Stale conntrack entries of UDP Services. UDP has no connection end, so a flow DNATed to an
// endpoint that went away (or blackholed while the Service had none) keeps its entry and its
// packets keep going nowhere; upstream deletes those entries, and so do we, with the conntrack
// tool (Debian package conntrack):
// - an endpoint left a UDP service port: the flows to its cluster IP / external IPs /
//   load-balancer IPs / node port that were DNATed to it;
// - a UDP service port got its first endpoint: every flow to its cluster IP (and the others)
//   (they were rejected and may be cached that way).
#pragma once

#include <string>
#include <vector>

#include "agent/proxy/iptables.h"
#include "agent/proxy/service_info.h"

namespace kite::proxy {

// The `conntrack -D …` commands for going from `before` to `after` (pure). `ipv6`: the maps
// are one family's IPv6 ports, the commands carry `-f ipv6` (conntrack's default family is IPv4,
// which a command naming only a node port would otherwise match).
std::vector<std::vector<std::string>> StaleConntrackCommands(const ServiceMap& before, const ServiceMap& after,
                                                             bool ipv6 = false);

// Runs them; "0 flow entries" (exit 1) is not a failure. Returns the failures' messages.
std::vector<std::string> RunConntrack(const Exec& exec, const std::vector<std::vector<std::string>>& commands);

}  // namespace kite::proxy
