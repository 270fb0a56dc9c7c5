// IP address, CIDR and port-range text, as flags and API fields write them ("10.42.0.0/16",
// "30000-32767"), for every component that needs to parse or test one (node IPAM, Service
// address allocation, certificate SANs, the join endpoints). Pure functions; no allocation
// beyond the returned strings.
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
// 0x0a010203 → "10.1.2.3".
std::string FormatIpv4(uint32_t address);

struct Ipv4Cidr {
  uint32_t base = 0;  // network address, host order
  int prefix = 0;
  bool Contains(uint32_t address) const {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (address & mask) == base;
  }
  // How many addresses the range holds (2^(32-prefix); 64 bits, as /0 holds 2^32).
  uint64_t Size() const { return uint64_t{1} << (32 - prefix); }
};

// "10.42.0.0/16" → {0x0a2a0000, 16}. kRefuse: the address must be the network's (a flag's
// value); kClear: host bits are dropped, as the kernel and Go's net.ParseCIDR do ("10.0.0.7/8"
// → 10.0.0.0/8: a NetworkPolicy's ipBlock).
enum class HostBits { kRefuse, kClear };
Result<Ipv4Cidr> ParseIpv4Cidr(const std::string& text, HostBits host_bits = HostBits::kRefuse);
std::string FormatIpv4Cidr(const Ipv4Cidr& c);

// A dual-stack flag value as k3s spells it (--cluster-cidr=10.42.0.0/16,fd00:42::/56): one or
// two CIDRs, at most one per family, in either order. A family not given is "". Errors name the
// bad part (an IPv6 CIDR is checked for its form: address, prefix 0 to 128, no host bits).
struct DualStackCidrs {
  std::string ipv4, ipv6;
};
Result<DualStackCidrs> SplitDualStackCidrs(const std::string& text);

// A range of ports, both ends included, as kube-apiserver's --service-node-port-range takes it:
// "30000-32767", "30000+2767" (base and offset) or a single port. Ports are 1 to 65535.
struct PortRange {
  int first = 0, last = 0;
  bool Contains(int64_t port) const { return port >= first && port <= last; }
  int64_t Size() const { return int64_t{last} - first + 1; }
  std::string String() const { return std::to_string(first) + "-" + std::to_string(last); }
};
Result<PortRange> ParsePortRange(const std::string& text);

}  // namespace kite
