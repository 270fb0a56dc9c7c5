// Our own small rtnetlink client: the few kernel objects the pod network programs — links
// (including creating a VXLAN device), IPv4 addresses, routes, neighbours (ARP) and a VXLAN
// device's forwarding database (FDB). Why not exec `ip`/`bridge` per change: a process and a
// text format to parse for every route of every node, hundreds of them when a cluster starts;
// the messages are few and fixed, so the wire format is written here directly.
//
// Two layers: pure functions that build a request (`Build*`, a complete nlmsghdr with sequence
// number 0) and parse a kernel message (`Parse*`), unit-tested byte by byte without a kernel;
// and `Socket`, which sends a request, stamps its sequence number and reads the kernel's ACK or
// dump. A Socket talks to the network namespace of the thread that opened it.
//
// IPv4 only for now; Ip4 is the seam where IPv6 joins (dual-stack).
// Thread-safety: a Socket is used by one thread at a time; the functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kite::network::netlink {

// An IPv4 address in network byte order (0 = none).
struct Ip4 {
  uint32_t be = 0;
  static std::optional<Ip4> Parse(std::string_view dotted);
  std::string ToString() const;
  bool empty() const { return be == 0; }
  friend bool operator==(Ip4 a, Ip4 b) { return a.be == b.be; }
  friend auto operator<=>(Ip4 a, Ip4 b) { return a.be <=> b.be; }
};

using Mac = std::array<uint8_t, 6>;
std::string MacToString(const Mac& mac);  // "aa:bb:cc:dd:ee:ff"
std::optional<Mac> ParseMac(std::string_view text);

// A VXLAN device's own settings (IFLA_VXLAN_*).
struct VxlanInfo {
  uint32_t vni = 0;
  Ip4 local;          // the source address of the encapsulated packets
  int link = 0;       // the underlying interface's index
  uint16_t port = 0;  // the UDP port (host byte order here; big-endian on the wire)
  bool learning = true;
};

struct Link {
  int index = 0;
  std::string name;
  uint32_t mtu = 0;
  unsigned flags = 0;  // IFF_*
  Mac mac{};
  std::string kind;                 // IFLA_INFO_KIND ("vxlan", "veth", "bridge"; "" for none)
  std::optional<VxlanInfo> vxlan;   // when kind is vxlan
};

struct VxlanSpec {
  std::string name;
  VxlanInfo info;
  uint32_t mtu = 0;  // 0: the kernel's default
  Mac mac{};         // all zero: the kernel picks one
};

struct Address {
  int index = 0;
  Ip4 ip;
  int prefix = 32;
  friend bool operator==(const Address&, const Address&) = default;
};

// A route of the main table.
struct Route {
  Ip4 dst;
  int dst_len = 0;
  Ip4 gateway;
  int oif = 0;
  bool onlink = false;      // RTNH_F_ONLINK: the gateway is on the link even without an address there
  uint8_t protocol = 0;     // RTPROT_*; the pod network marks its own routes with kRouteProtocol
  friend bool operator==(const Route&, const Route&) = default;
};

// The rtm_protocol of every route the pod network adds, so it finds its own routes again (after
// a restart, after a node left) and never touches anyone else's. 0x4b ('K') is unassigned in
// iproute2's rt_protos.
inline constexpr uint8_t kRouteProtocol = 0x4b;

// An ARP entry (AF_INET neighbour).
struct Neighbour {
  int index = 0;
  Ip4 ip;
  Mac mac{};
  uint16_t state = 0;  // NUD_*
  friend bool operator==(const Neighbour&, const Neighbour&) = default;
};

// A VXLAN FDB entry (AF_BRIDGE neighbour with NTF_SELF): frames for `mac` go to `dst`.
struct FdbEntry {
  int index = 0;
  Mac mac{};
  Ip4 dst;
  uint16_t state = 0;  // NUD_*
  friend bool operator==(const FdbEntry&, const FdbEntry&) = default;
};

// ---- requests (pure) ---------------------------------------------------------------------------

std::string BuildGetLinks();
std::string BuildNewVxlan(const VxlanSpec& spec);
std::string BuildSetLinkUp(int index);
std::string BuildSetLinkMtu(int index, uint32_t mtu);
std::string BuildDeleteLink(int index);
std::string BuildGetAddresses();
std::string BuildAddAddress(const Address& a);
std::string BuildDeleteAddress(const Address& a);
std::string BuildGetRoutes();
std::string BuildReplaceRoute(const Route& r);  // protocol kRouteProtocol unless set
std::string BuildDeleteRoute(const Route& r);
std::string BuildGetNeighbours();
std::string BuildReplaceNeighbour(const Neighbour& n);  // NUD_PERMANENT unless set
std::string BuildDeleteNeighbour(const Neighbour& n);
std::string BuildGetFdb();
std::string BuildReplaceFdb(const FdbEntry& f);  // NUD_PERMANENT unless set
std::string BuildDeleteFdb(const FdbEntry& f);

// Links of the pods' own network (agent/cni).
std::string BuildGetLink(const std::string& name);  // the one link of that name (not a dump)
std::string BuildNewBridge(const std::string& name, uint32_t mtu);  // mtu 0: the kernel's
// A veth pair: `name` in the socket's namespace, `peer` created directly in the network
// namespace of the open file `peer_netns_fd` (-1: beside it); mtu 0: the kernel's.
std::string BuildNewVeth(const std::string& name, const std::string& peer, int peer_netns_fd, uint32_t mtu);
std::string BuildSetMaster(int index, int master);  // the link becomes a port of bridge `master`
std::string BuildSetMac(int index, const Mac& mac);
std::string BuildSetHairpin(int index, bool on);  // a bridge port's hairpin mode (IFLA_BRPORT_MODE)
std::string BuildSetLinkDown(int index);

// ---- kernel messages (pure) ---------------------------------------------------------------------
// Each takes one whole message (header included); nullopt when it is not of that kind or is
// truncated. ParseRoute takes only IPv4 routes of the main table.

std::optional<Link> ParseLink(std::string_view msg);
std::optional<Address> ParseAddress(std::string_view msg);
std::optional<Route> ParseRoute(std::string_view msg);
std::optional<Neighbour> ParseNeighbour(std::string_view msg);
std::optional<FdbEntry> ParseFdb(std::string_view msg);

// ---- the socket --------------------------------------------------------------------------------

class Socket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static Result<Socket> Open();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  ~Socket();

  // Sends a request and waits for its ACK; the kernel's errno becomes the Status (EEXIST
  // AlreadyExists, ENOENT/ESRCH/ENODEV NotFound, EPERM PermissionDenied, else Internal).
  kite::Status Do(std::string request);
  // Sends a dump request; every message of the reply (NLMSG_DONE excluded).
  Result<std::vector<std::string>> Dump(std::string request);

  Result<std::vector<Link>> Links();
  Result<std::optional<Link>> LinkByName(const std::string& name);  // nullopt: no such link
  Result<std::vector<Address>> Addresses();
  Result<std::vector<Route>> Routes();
  Result<std::vector<Neighbour>> Neighbours();
  Result<std::vector<FdbEntry>> Fdb();

 private:
  explicit Socket(int fd) : fd_(fd) {}
  Result<std::string> Send(std::string& request);
  int fd_ = -1;
  uint32_t seq_ = 0;
};

}  // namespace kite::network::netlink
