// IP address and CIDR text, as flags and API fields write them ("10.42.0.0/16"), for every
// component that needs to parse or test one (node IPAM, certificate SANs, the join endpoints).
// Pure functions; no allocation beyond the returned strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"

namespace kite {

// True for an IPv4 or IPv6 address in text form ("10.0.0.1", "::1"); false for names and CIDRs.
bool IsIpAddress(const std::string& text);

// "10.1.2.3" → 0x0a010203 (host order); nullopt for anything else.
std::optional<uint32_t> ParseIpv4(const std::string& text);

struct Ipv4Cidr {
  uint32_t base = 0;  // network address, host order
  int prefix = 0;
  bool Contains(uint32_t address) const {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (address & mask) == base;
  }
};

// "10.42.0.0/16" → {0x0a2a0000, 16}; the address must be the network's (no host bits).
Result<Ipv4Cidr> ParseIpv4Cidr(const std::string& text);
std::string FormatIpv4Cidr(const Ipv4Cidr& c);

// A dual-stack flag value as k3s spells it (--cluster-cidr=10.42.0.0/16,fd00:42::/56): one or
// two CIDRs, at most one per family, in either order. A family not given is "". Errors name the
// bad part (an IPv6 CIDR is checked for its form: address, prefix 0 to 128, no host bits).
struct DualStackCidrs {
  std::string ipv4, ipv6;
};
Result<DualStackCidrs> SplitDualStackCidrs(const std::string& text);

}  // namespace kite
