// IPAM with host-local's allocations on disk (containernetworking-plugins' host-local, whose
// files kite-cni reads and writes the same way, so the two can take turns on one node and an
// upgrade keeps every pod's address):
//   <dataDir>/<network name>/<IP>                 "<container id>\r\n<ifname>": that address is taken
//   <dataDir>/<network name>/last_reserved_ip.0   the last address handed out (the next search starts after it)
//   <dataDir>/<network name>/lock                 flock()ed while allocating or releasing
// One IPv4 range: the subnet's addresses from its first + 1 to its broadcast - 1, the gateway
// (the first + 1 unless given) never handed out. A container may hold one address per ifname.
#pragma once

#include <cstdint>
#include <string>

#include "base/ip_address.h"
#include "base/status.h"

namespace kite::cni {

struct HostLocalRange {
  Ipv4Cidr subnet;
  uint32_t gateway = 0;  // host order
  uint32_t first = 0, last = 0;  // the range handed out, both included
};

// The range of a `ranges: [[{subnet, gateway?, rangeStart?, rangeEnd?}]]` entry.
Result<HostLocalRange> MakeRange(const std::string& subnet, const std::string& gateway, const std::string& range_start,
                                 const std::string& range_end);

class HostLocalStore {
 public:
  // `dir`: <dataDir>/<network name> (made when missing).
  HostLocalStore(std::string dir, HostLocalRange range) : dir_(std::move(dir)), range_(range) {}

  // A free address for (id, ifname). AlreadyExists when that pair holds one already (the spec
  // forbids two ADDs without a DEL between); ResourceExhausted when the range is full.
  Result<uint32_t> Allocate(const std::string& id, const std::string& ifname);
  // Frees what (id, ifname) holds; nothing held is no error.
  Status Release(const std::string& id, const std::string& ifname);

 private:
  std::string dir_;
  HostLocalRange range_;
};

}  // namespace kite::cni
