// The bridge plugin's configuration as kite-cni reads it (plugin.h says which configurations are
// its own): the network configuration containerd sends (kite's conflist, the runtime's
// runtimeConfig and the previous plugin's result) and CNI_ARGS. Pure: fuzzed by
// tests/fuzz/cni_config_fuzz.cc.
//
// ParseBridgeConf: nullopt when the configuration asks for what only the system's plugin does
// (ipMasq, vlan, runtimeConfig ips or mac, args, CNI_ARGS IP=, IPAM other than host-local with
// one IPv4 range, IPv6 routes or a route gateway that is not an address); a Failure
// (kErrInvalidConfig) when it is ours but wrong (no name, a bridge name too long for an
// interface, a bad subnet, range or route); else the plan. A plan's bridge name fits IFNAMSIZ
// and its range lies inside its subnet with the gateway outside first..last (MakeRange).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cni/host_local.h"
#include "agent/cni/plugin.h"
#include "base/ip_address.h"

namespace kite::cni {

struct RouteConf {
  Ipv4Cidr dst;
  uint32_t gw = 0;  // 0: the range's gateway
};

struct BridgeConf {
  std::string version, network, bridge = "cni0", data_dir = "/var/lib/cni/networks";
  bool is_gateway = false, hairpin = false;
  uint32_t mtu = 0;
  HostLocalRange range;
  std::vector<RouteConf> routes;
  boost::json::value dns;
};

std::optional<std::expected<BridgeConf, Failure>> ParseBridgeConf(const boost::json::object& config, std::string_view cni_args);

}  // namespace kite::cni
