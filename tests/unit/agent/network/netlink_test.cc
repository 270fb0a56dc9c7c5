// The rtnetlink requests byte by byte (headers, attributes, nesting, byte order) and the parsers
// on the same bytes, without a kernel.
#include "agent/network/netlink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <map>

namespace kite::network::netlink {
namespace {

Ip4 Ip(const char* s) { return *Ip4::Parse(s); }

nlmsghdr HeaderOf(const std::string& m) {
  nlmsghdr h;
  std::memcpy(&h, m.data(), sizeof h);
  return h;
}

template <class T>
T FixedOf(const std::string& m) {
  T t;
  std::memcpy(&t, m.data() + NLMSG_HDRLEN, sizeof t);
  return t;
}

// type → payload of the top-level attributes after a fixed header of `fixed` bytes.
std::multimap<uint16_t, std::string> Attrs(std::string_view body) {
  std::multimap<uint16_t, std::string> out;
  while (body.size() >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, body.data(), sizeof a);
    EXPECT_GE(a.nla_len, size_t{NLA_HDRLEN});
    EXPECT_LE(size_t{a.nla_len}, body.size());
    out.emplace(a.nla_type, std::string(body.substr(NLA_HDRLEN, a.nla_len - NLA_HDRLEN)));
    if (static_cast<size_t>(NLA_ALIGN(a.nla_len)) >= body.size()) break;
    body.remove_prefix(NLA_ALIGN(a.nla_len));
  }
  return out;
}
template <class T>
std::multimap<uint16_t, std::string> AttrsOf(const std::string& m) {
  return Attrs(std::string_view(m).substr(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(T))));
}

uint32_t U32(const std::string& p) {
  uint32_t v;
  EXPECT_EQ(p.size(), 4u);
  std::memcpy(&v, p.data(), 4);
  return v;
}

TEST(Netlink, AddressesAndMacs) {
  EXPECT_EQ(Ip("10.42.1.0").ToString(), "10.42.1.0");
  EXPECT_EQ(Ip("10.42.1.0").be, htonl(0x0a2a0100));
  EXPECT_FALSE(Ip4::Parse("10.42.1"));
  EXPECT_FALSE(Ip4::Parse("fe80::1"));
  auto mac = ParseMac("0A:bc:00:11:22:ff");
  ASSERT_TRUE(mac);
  EXPECT_EQ(MacToString(*mac), "0a:bc:00:11:22:ff");
  EXPECT_FALSE(ParseMac("0a:bc:00:11:22"));
  EXPECT_FALSE(ParseMac("0a-bc-00-11-22-ff"));
  EXPECT_FALSE(ParseMac("0a:bc:00:11:22:fg"));
}

TEST(Netlink, NewVxlanIsANestedLinkInfoWithThePortBigEndian) {
  VxlanSpec s{"flannel.1", VxlanInfo{1, Ip("10.98.0.1"), 7, 8472, false}, 1450, *ParseMac("02:11:22:33:44:55")};
  const std::string m = BuildNewVxlan(s);
  const nlmsghdr h = HeaderOf(m);
  EXPECT_EQ(h.nlmsg_len, m.size());
  EXPECT_EQ(m.size() % 4, 0u);
  EXPECT_EQ(h.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(FixedOf<ifinfomsg>(m).ifi_index, 0);
  auto attrs = AttrsOf<ifinfomsg>(m);
  EXPECT_EQ(attrs.find(IFLA_IFNAME)->second, std::string("flannel.1\0", 10));
  EXPECT_EQ(U32(attrs.find(IFLA_MTU)->second), 1450u);
  EXPECT_EQ(attrs.find(IFLA_ADDRESS)->second, std::string("\x02\x11\x22\x33\x44\x55", 6));
  auto info = attrs.find(IFLA_LINKINFO | NLA_F_NESTED);
  ASSERT_NE(info, attrs.end());
  auto inner = Attrs(info->second);
  EXPECT_EQ(inner.find(IFLA_INFO_KIND)->second, std::string("vxlan\0", 6));
  auto data = inner.find(IFLA_INFO_DATA | NLA_F_NESTED);
  ASSERT_NE(data, inner.end());
  auto vx = Attrs(data->second);
  EXPECT_EQ(U32(vx.find(IFLA_VXLAN_ID)->second), 1u);
  EXPECT_EQ(U32(vx.find(IFLA_VXLAN_LOCAL)->second), Ip("10.98.0.1").be);
  EXPECT_EQ(U32(vx.find(IFLA_VXLAN_LINK)->second), 7u);
  EXPECT_EQ(vx.find(IFLA_VXLAN_PORT)->second, std::string("\x21\x18", 2));  // 8472 = 0x2118
  EXPECT_EQ(vx.find(IFLA_VXLAN_LEARNING)->second, std::string(1, '\0'));

  // The kernel's dump of such a link has the same shape: the parser reads it back.
  std::string dump = m;
  auto parsed = ParseLink(dump);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->name, "flannel.1");
  EXPECT_EQ(parsed->mtu, 1450u);
  EXPECT_EQ(parsed->kind, "vxlan");
  ASSERT_TRUE(parsed->vxlan);
  EXPECT_EQ(parsed->vxlan->vni, 1u);
  EXPECT_EQ(parsed->vxlan->local, Ip("10.98.0.1"));
  EXPECT_EQ(parsed->vxlan->link, 7);
  EXPECT_EQ(parsed->vxlan->port, 8472);
  EXPECT_FALSE(parsed->vxlan->learning);
  EXPECT_EQ(parsed->mac, s.mac);
}

TEST(Netlink, LinkUpMtuAndDelete) {
  const std::string up = BuildSetLinkUp(9);
  EXPECT_EQ(HeaderOf(up).nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(HeaderOf(up).nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(FixedOf<ifinfomsg>(up).ifi_index, 9);
  EXPECT_EQ(FixedOf<ifinfomsg>(up).ifi_flags, unsigned{IFF_UP});
  EXPECT_EQ(FixedOf<ifinfomsg>(up).ifi_change, unsigned{IFF_UP});
  EXPECT_EQ(U32(AttrsOf<ifinfomsg>(BuildSetLinkMtu(9, 1400)).find(IFLA_MTU)->second), 1400u);
  EXPECT_EQ(HeaderOf(BuildDeleteLink(9)).nlmsg_type, RTM_DELLINK);
  EXPECT_EQ(FixedOf<ifinfomsg>(BuildDeleteLink(9)).ifi_index, 9);
}

// kite-cni's links: a veth whose peer is made in another namespace (VETH_INFO_PEER nests the
// peer's own ifinfomsg, then its name, MTU and namespace fd), a bridge, a bridge port's hairpin.
TEST(Netlink, VethPeerInANamespaceBridgeAndHairpin) {
  const std::string v = BuildNewVeth("veth0a1b2c3d", "eth0", 7, 1450);
  EXPECT_EQ(HeaderOf(v).nlmsg_len, v.size());
  EXPECT_EQ(HeaderOf(v).nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  auto top = AttrsOf<ifinfomsg>(v);
  EXPECT_EQ(top.find(IFLA_IFNAME)->second, std::string("veth0a1b2c3d", 13));
  EXPECT_EQ(U32(top.find(IFLA_MTU)->second), 1450u);
  auto info = Attrs(top.find(IFLA_LINKINFO | NLA_F_NESTED)->second);
  EXPECT_EQ(info.find(IFLA_INFO_KIND)->second, std::string("veth", 5));
  auto data = Attrs(info.find(IFLA_INFO_DATA | NLA_F_NESTED)->second);
  const std::string peer = data.find(1 | NLA_F_NESTED)->second;  // VETH_INFO_PEER
  auto peer_attrs = Attrs(std::string_view(peer).substr(NLMSG_ALIGN(sizeof(ifinfomsg))));
  EXPECT_EQ(peer_attrs.find(IFLA_IFNAME)->second, std::string("eth0", 5));
  EXPECT_EQ(U32(peer_attrs.find(IFLA_NET_NS_FD)->second), 7u);
  EXPECT_EQ(U32(peer_attrs.find(IFLA_MTU)->second), 1450u);

  auto br = AttrsOf<ifinfomsg>(BuildNewBridge("kite0", 0));
  EXPECT_EQ(br.count(IFLA_MTU), 0u);
  EXPECT_EQ(Attrs(br.find(IFLA_LINKINFO | NLA_F_NESTED)->second).find(IFLA_INFO_KIND)->second, std::string("bridge", 7));

  const std::string hp = BuildSetHairpin(12, true);
  EXPECT_EQ(HeaderOf(hp).nlmsg_type, RTM_SETLINK);
  EXPECT_EQ(FixedOf<ifinfomsg>(hp).ifi_family, AF_BRIDGE);
  EXPECT_EQ(FixedOf<ifinfomsg>(hp).ifi_index, 12);
  auto port = Attrs(AttrsOf<ifinfomsg>(hp).find(IFLA_PROTINFO | NLA_F_NESTED)->second);
  EXPECT_EQ(port.find(IFLA_BRPORT_MODE)->second, std::string(1, '\1'));

  EXPECT_EQ(U32(AttrsOf<ifinfomsg>(BuildSetMaster(12, 3)).find(IFLA_MASTER)->second), 3u);
  EXPECT_EQ(FixedOf<ifinfomsg>(BuildSetLinkDown(4)).ifi_flags, 0u);
  EXPECT_EQ(FixedOf<ifinfomsg>(BuildSetLinkDown(4)).ifi_change, unsigned{IFF_UP});
  const std::string get = BuildGetLink("lo");
  EXPECT_EQ(HeaderOf(get).nlmsg_type, RTM_GETLINK);
  EXPECT_EQ(HeaderOf(get).nlmsg_flags & NLM_F_DUMP, 0);
}

TEST(Netlink, OnlinkRouteMarkedWithOurProtocol) {
  Route r{Ip("10.42.1.0"), 24, Ip("10.42.1.0"), 5, true, 0};
  const std::string m = BuildReplaceRoute(r);
  EXPECT_EQ(HeaderOf(m).nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(HeaderOf(m).nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  const rtmsg rt = FixedOf<rtmsg>(m);
  EXPECT_EQ(rt.rtm_family, AF_INET);
  EXPECT_EQ(rt.rtm_dst_len, 24);
  EXPECT_EQ(rt.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rt.rtm_protocol, kRouteProtocol);
  EXPECT_EQ(rt.rtm_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(rt.rtm_type, RTN_UNICAST);
  EXPECT_EQ(rt.rtm_flags, unsigned{RTNH_F_ONLINK});
  auto attrs = AttrsOf<rtmsg>(m);
  EXPECT_EQ(U32(attrs.find(RTA_DST)->second), Ip("10.42.1.0").be);
  EXPECT_EQ(U32(attrs.find(RTA_GATEWAY)->second), Ip("10.42.1.0").be);
  EXPECT_EQ(U32(attrs.find(RTA_OIF)->second), 5u);

  auto back = ParseRoute(m.substr(0));
  ASSERT_TRUE(back);
  r.protocol = kRouteProtocol;
  EXPECT_EQ(*back, r);

  // A delete names the same route, any scope, and only ours (the protocol).
  const std::string d = BuildDeleteRoute(r);
  EXPECT_EQ(HeaderOf(d).nlmsg_type, RTM_DELROUTE);
  EXPECT_EQ(FixedOf<rtmsg>(d).rtm_scope, RT_SCOPE_NOWHERE);
  EXPECT_EQ(FixedOf<rtmsg>(d).rtm_protocol, kRouteProtocol);
}

TEST(Netlink, HostGwRouteHasNoOnlinkFlag) {
  const std::string m = BuildReplaceRoute(Route{Ip("10.42.2.0"), 24, Ip("10.98.0.2"), 3, false, 0});
  EXPECT_EQ(FixedOf<rtmsg>(m).rtm_flags, 0u);
  EXPECT_EQ(U32(AttrsOf<rtmsg>(m).find(RTA_GATEWAY)->second), Ip("10.98.0.2").be);
}

TEST(Netlink, ParseRouteSkipsOtherTablesAndFamilies) {
  std::string m = BuildReplaceRoute(Route{Ip("10.42.2.0"), 24, Ip("10.98.0.2"), 3, false, 0});
  rtmsg rt = FixedOf<rtmsg>(m);
  rt.rtm_table = RT_TABLE_LOCAL;
  std::memcpy(m.data() + NLMSG_HDRLEN, &rt, sizeof rt);
  EXPECT_FALSE(ParseRoute(m));
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_family = AF_INET6;
  std::memcpy(m.data() + NLMSG_HDRLEN, &rt, sizeof rt);
  EXPECT_FALSE(ParseRoute(m));
  EXPECT_FALSE(ParseRoute(m.substr(0, 10)));  // truncated
}

TEST(Netlink, PermanentNeighbourAndFdbEntry) {
  const Mac mac = *ParseMac("02:aa:bb:cc:dd:ee");
  const std::string n = BuildReplaceNeighbour(Neighbour{4, Ip("10.42.1.0"), mac, 0});
  EXPECT_EQ(HeaderOf(n).nlmsg_type, RTM_NEWNEIGH);
  EXPECT_EQ(HeaderOf(n).nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  ndmsg nd = FixedOf<ndmsg>(n);
  EXPECT_EQ(nd.ndm_family, AF_INET);
  EXPECT_EQ(nd.ndm_ifindex, 4);
  EXPECT_EQ(nd.ndm_state, NUD_PERMANENT);
  EXPECT_EQ(nd.ndm_flags, 0);
  auto back = ParseNeighbour(n);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (Neighbour{4, Ip("10.42.1.0"), mac, NUD_PERMANENT}));
  EXPECT_FALSE(ParseFdb(n));  // a neighbour is no FDB entry

  const std::string f = BuildReplaceFdb(FdbEntry{4, mac, Ip("10.98.0.2"), 0});
  nd = FixedOf<ndmsg>(f);
  EXPECT_EQ(nd.ndm_family, AF_BRIDGE);
  EXPECT_EQ(nd.ndm_flags, NTF_SELF);
  EXPECT_EQ(nd.ndm_state, NUD_PERMANENT);
  auto attrs = AttrsOf<ndmsg>(f);
  EXPECT_EQ(attrs.find(NDA_LLADDR)->second, std::string("\x02\xaa\xbb\xcc\xdd\xee", 6));
  EXPECT_EQ(U32(attrs.find(NDA_DST)->second), Ip("10.98.0.2").be);
  auto fdb = ParseFdb(f);
  ASSERT_TRUE(fdb);
  EXPECT_EQ(*fdb, (FdbEntry{4, mac, Ip("10.98.0.2"), NUD_PERMANENT}));

  EXPECT_EQ(HeaderOf(BuildDeleteNeighbour(Neighbour{4, Ip("10.42.1.0"), mac, 0})).nlmsg_type, RTM_DELNEIGH);
  const std::string df = BuildDeleteFdb(FdbEntry{4, mac, Ip("10.98.0.2"), 0});
  EXPECT_EQ(HeaderOf(df).nlmsg_type, RTM_DELNEIGH);
  EXPECT_EQ(FixedOf<ndmsg>(df).ndm_flags, NTF_SELF);
}

TEST(Netlink, AddressAndDumps) {
  const std::string a = BuildAddAddress(Address{6, Ip("10.42.0.0"), 32});
  EXPECT_EQ(HeaderOf(a).nlmsg_type, RTM_NEWADDR);
  EXPECT_EQ(FixedOf<ifaddrmsg>(a).ifa_prefixlen, 32);
  EXPECT_EQ(FixedOf<ifaddrmsg>(a).ifa_index, 6u);
  auto back = ParseAddress(a);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (Address{6, Ip("10.42.0.0"), 32}));
  EXPECT_EQ(HeaderOf(BuildDeleteAddress(Address{6, Ip("10.42.0.0"), 32})).nlmsg_type, RTM_DELADDR);

  for (const std::string& d : {BuildGetLinks(), BuildGetAddresses(), BuildGetRoutes(), BuildGetNeighbours(), BuildGetFdb()}) {
    EXPECT_EQ(HeaderOf(d).nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(HeaderOf(d).nlmsg_len, d.size());
  }
  EXPECT_EQ(FixedOf<ndmsg>(BuildGetFdb()).ndm_family, AF_BRIDGE);
  EXPECT_EQ(FixedOf<ndmsg>(BuildGetNeighbours()).ndm_family, AF_INET);
}

TEST(Netlink, MalformedAttributesDoNotCrash) {
  std::string m = BuildNewVxlan(VxlanSpec{"flannel.1", VxlanInfo{1, Ip("10.0.0.1"), 2, 8472, false}, 0, {}});
  // An attribute length past the end, then one shorter than its header.
  for (uint16_t bad : {uint16_t{0xffff}, uint16_t{2}}) {
    std::string broken = m;
    std::memcpy(broken.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), &bad, sizeof bad);
    auto l = ParseLink(broken);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->name, "");
  }
}

}  // namespace
}  // namespace kite::network::netlink
