// The link requests the pods' own network needs (agent/cni: a bridge, veth pairs into a pod's
// network namespace, bridge ports), beside netlink.cc's for the pod network between nodes.
#include <linux/if_link.h>
#include <net/if.h>

#include "agent/network/netlink.h"
#include "agent/network/netlink_message.h"

namespace kite::network::netlink {

using detail::LinkHeader;
using detail::Message;

std::string BuildGetLink(const std::string& name) {
  Message m(RTM_GETLINK, NLM_F_ACK);
  m.Fixed(LinkHeader(0));
  m.Str(IFLA_IFNAME, name);
  return m.Finish();
}

namespace {

// A new link's request up to its kind, inside the open IFLA_LINKINFO (returned: End it).
size_t BeginNewLink(Message& m, const std::string& name, uint32_t mtu, const char* kind) {
  m.Fixed(LinkHeader(0));
  m.Str(IFLA_IFNAME, name);
  if (mtu) m.U32(IFLA_MTU, mtu);
  const size_t info = m.Begin(IFLA_LINKINFO);
  m.Str(IFLA_INFO_KIND, kind);
  return info;
}

}  // namespace

std::string BuildNewBridge(const std::string& name, uint32_t mtu) {
  Message m(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  m.End(BeginNewLink(m, name, mtu, "bridge"));
  return m.Finish();
}

std::string BuildNewVeth(const std::string& name, const std::string& peer, int peer_netns_fd, uint32_t mtu) {
  Message m(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const size_t info = BeginNewLink(m, name, mtu, "veth");
  const size_t data = m.Begin(IFLA_INFO_DATA);
  // VETH_INFO_PEER: the peer's own ifinfomsg, then its attributes.
  const size_t peer_at = m.Begin(1 /* VETH_INFO_PEER */);
  m.Fixed(LinkHeader(0));
  m.Str(IFLA_IFNAME, peer);
  if (mtu) m.U32(IFLA_MTU, mtu);
  if (peer_netns_fd >= 0) m.U32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  m.End(peer_at);
  m.End(data);
  m.End(info);
  return m.Finish();
}

std::string BuildSetMaster(int index, int master) {
  Message m(RTM_NEWLINK, NLM_F_ACK);
  m.Fixed(LinkHeader(index));
  m.U32(IFLA_MASTER, static_cast<uint32_t>(master));
  return m.Finish();
}

std::string BuildSetMac(int index, const Mac& mac) {
  Message m(RTM_NEWLINK, NLM_F_ACK);
  m.Fixed(LinkHeader(index));
  m.Attr(IFLA_ADDRESS, mac.data(), mac.size());
  return m.Finish();
}

std::string BuildSetHairpin(int index, bool on) {
  Message m(RTM_SETLINK, NLM_F_ACK);
  ifinfomsg h = LinkHeader(index);
  h.ifi_family = AF_BRIDGE;
  m.Fixed(h);
  const size_t proto = m.Begin(IFLA_PROTINFO);
  m.U8(IFLA_BRPORT_MODE, on ? 1 : 0);
  m.End(proto);
  return m.Finish();
}

std::string BuildSetLinkDown(int index) {
  Message m(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg h = LinkHeader(index);
  h.ifi_change = IFF_UP;  // flags 0: down
  m.Fixed(h);
  return m.Finish();
}

Result<std::optional<Link>> Socket::LinkByName(const std::string& name) {
  auto msgs = Dump(BuildGetLink(name));
  if (!msgs.ok()) {
    if (msgs.error().IsNotFound()) return std::optional<Link>();
    return msgs.error();
  }
  for (const std::string& msg : *msgs) {
    if (auto l = ParseLink(msg)) return std::optional<Link>(std::move(*l));
  }
  return std::optional<Link>();
}

}  // namespace kite::network::netlink
