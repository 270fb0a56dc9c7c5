// The pod network's pure parts: what a Node tells it, what the kernel should hold for each
// backend, the changes from what it holds, the annotations and the masquerade rules.
#include "agent/network/pod_network.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>

#include <boost/json.hpp>

namespace kite::network {
namespace {

namespace json = boost::json;
using netlink::FdbEntry;
using netlink::Ip4;
using netlink::Neighbour;
using netlink::Route;

Ip4 Ip(const char* s) { return *Ip4::Parse(s); }

json::object Node(const std::string& name, const std::string& cidr, const std::string& ip, json::object annotations) {
  return json::object{{"metadata", {{"name", name}, {"annotations", std::move(annotations)}}},
                      {"spec", {{"podCIDR", cidr}}},
                      {"status", {{"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", ip}}}}}}};
}

json::object VxlanAnnotations(const std::string& name, const std::string& ip) {
  json::object a;
  for (const auto& [k, v] : NodeAnnotations(Backend::kVxlan, Ip(ip.c_str()), VtepMac(name))) a[k] = v;
  return a;
}

TEST(PodNetwork, Backends) {
  EXPECT_EQ(*ParseBackend("vxlan"), Backend::kVxlan);
  EXPECT_EQ(*ParseBackend("host-gw"), Backend::kHostGw);
  EXPECT_EQ(*ParseBackend("none"), Backend::kNone);
  EXPECT_FALSE(ParseBackend("wireguard-native").ok());
}

TEST(PodNetwork, Cidrs) {
  auto c = Cidr::Parse("10.42.3.7/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ToString(), "10.42.3.0/24");
  EXPECT_TRUE(Cidr::Parse("10.42.0.0/16")->Contains(Ip("10.42.200.1")));
  EXPECT_FALSE(Cidr::Parse("10.42.0.0/16")->Contains(Ip("10.43.0.1")));
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(Ip("1.2.3.4")));
  EXPECT_FALSE(Cidr::Parse("10.42.0.0"));
  EXPECT_FALSE(Cidr::Parse("10.42.0.0/33"));
  EXPECT_FALSE(Cidr::Parse("10.42.0.0/2x"));
  EXPECT_FALSE(Cidr::Parse("fd00::/64"));
}

TEST(PodNetwork, VtepMacIsStableLocalUnicast) {
  const auto a = VtepMac("node-a");
  EXPECT_EQ(a, VtepMac("node-a"));
  EXPECT_NE(a, VtepMac("node-b"));
  EXPECT_EQ(a[0] & 0x01, 0);  // unicast
  EXPECT_EQ(a[0] & 0x02, 2);  // locally administered
}

TEST(PodNetwork, AnnotationsAreFlannels) {
  const auto mac = VtepMac("a");
  auto v = NodeAnnotations(Backend::kVxlan, Ip("10.98.0.1"), mac);
  EXPECT_EQ(v["flannel.alpha.coreos.com/backend-type"], "vxlan");
  EXPECT_EQ(v["flannel.alpha.coreos.com/public-ip"], "10.98.0.1");
  EXPECT_EQ(v["flannel.alpha.coreos.com/kube-subnet-manager"], "true");
  EXPECT_EQ(json::parse(v["flannel.alpha.coreos.com/backend-data"]),
            json::parse("{\"VNI\":1,\"VtepMAC\":\"" + netlink::MacToString(mac) + "\"}"));
  auto h = NodeAnnotations(Backend::kHostGw, Ip("10.98.0.1"), mac);
  EXPECT_EQ(h["flannel.alpha.coreos.com/backend-type"], "host-gw");
  EXPECT_EQ(h["flannel.alpha.coreos.com/backend-data"], "null");
}

TEST(PodNetwork, ReadsANodeAndToleratesGarbage) {
  auto n = ReadNodeNetwork(Node("b", "10.42.1.0/24", "10.98.0.2", VxlanAnnotations("b", "10.98.0.9")));
  EXPECT_EQ(n.name, "b");
  EXPECT_EQ(n.pod_cidr->ToString(), "10.42.1.0/24");
  EXPECT_EQ(n.public_ip, Ip("10.98.0.9"));  // the annotation wins over the InternalIP
  EXPECT_EQ(n.backend_type, "vxlan");
  EXPECT_EQ(n.vtep, VtepMac("b"));

  auto bare = ReadNodeNetwork(Node("c", "", "10.98.0.3", {}));
  EXPECT_FALSE(bare.pod_cidr);
  EXPECT_EQ(bare.public_ip, Ip("10.98.0.3"));
  EXPECT_FALSE(bare.vtep);

  for (const char* data : {"{", "[]", "{\"VtepMAC\":5}", "{\"VtepMAC\":\"zz\"}", "null"}) {
    auto bad = ReadNodeNetwork(Node("d", "10.42.2.0/24", "10.98.0.4",
                                    {{"flannel.alpha.coreos.com/backend-data", data}}));
    EXPECT_FALSE(bad.vtep) << data;
  }
}

TEST(PodNetwork, VxlanWantsRouteNeighbourAndFdbPerOtherNode) {
  std::vector<NodeNetwork> nodes = {
      ReadNodeNetwork(Node("a", "10.42.0.0/24", "10.98.0.1", VxlanAnnotations("a", "10.98.0.1"))),
      ReadNodeNetwork(Node("b", "10.42.1.0/24", "10.98.0.2", VxlanAnnotations("b", "10.98.0.2"))),
      ReadNodeNetwork(Node("c", "", "10.98.0.3", VxlanAnnotations("c", "10.98.0.3"))),        // no podCIDR yet
      ReadNodeNetwork(Node("d", "10.42.3.0/24", "10.98.0.4", {})),                           // no annotations yet
  };
  const Dataplane d = Desired(Backend::kVxlan, "a", nodes, 7, 2);
  ASSERT_EQ(d.routes.size(), 1u);
  EXPECT_EQ(d.routes[0], (Route{Ip("10.42.1.0"), 24, Ip("10.42.1.0"), 7, true, netlink::kRouteProtocol}));
  ASSERT_EQ(d.neighbours.size(), 1u);
  EXPECT_EQ(d.neighbours[0], (Neighbour{7, Ip("10.42.1.0"), VtepMac("b"), NUD_PERMANENT}));
  ASSERT_EQ(d.fdb.size(), 1u);
  EXPECT_EQ(d.fdb[0], (FdbEntry{7, VtepMac("b"), Ip("10.98.0.2"), NUD_PERMANENT}));
}

TEST(PodNetwork, HostGwRoutesViaTheNodeAddress) {
  json::object hg{{"flannel.alpha.coreos.com/backend-type", "host-gw"}, {"flannel.alpha.coreos.com/public-ip", "10.98.0.2"}};
  std::vector<NodeNetwork> nodes = {
      ReadNodeNetwork(Node("b", "10.42.1.0/24", "10.98.0.2", hg)),
      ReadNodeNetwork(Node("c", "10.42.2.0/24", "10.98.0.3", {})),  // not annotated yet: its InternalIP
      ReadNodeNetwork(Node("v", "10.42.4.0/24", "10.98.0.5", VxlanAnnotations("v", "10.98.0.5"))),  // another backend
  };
  const Dataplane d = Desired(Backend::kHostGw, "a", nodes, 0, 2);
  ASSERT_EQ(d.routes.size(), 2u);
  EXPECT_EQ(d.routes[0], (Route{Ip("10.42.1.0"), 24, Ip("10.98.0.2"), 2, false, netlink::kRouteProtocol}));
  EXPECT_EQ(d.routes[1], (Route{Ip("10.42.2.0"), 24, Ip("10.98.0.3"), 2, false, netlink::kRouteProtocol}));
  EXPECT_TRUE(d.neighbours.empty());
  EXPECT_TRUE(d.fdb.empty());
  EXPECT_TRUE(Desired(Backend::kNone, "a", nodes, 0, 2).routes.empty());
}

TEST(PodNetwork, DiffRemovesTheGoneReplacesTheChangedKeepsTheSame) {
  const Route keep{Ip("10.42.1.0"), 24, Ip("10.42.1.0"), 7, true, netlink::kRouteProtocol};
  const Route gone{Ip("10.42.2.0"), 24, Ip("10.42.2.0"), 7, true, netlink::kRouteProtocol};
  const Route moved_old{Ip("10.42.3.0"), 24, Ip("10.98.0.3"), 2, false, netlink::kRouteProtocol};
  const Route moved_new{Ip("10.42.3.0"), 24, Ip("10.98.0.33"), 2, false, netlink::kRouteProtocol};
  const Route fresh{Ip("10.42.4.0"), 24, Ip("10.42.4.0"), 7, true, netlink::kRouteProtocol};
  const auto mac = VtepMac("x");
  Dataplane have{{keep, gone, moved_old}, {Neighbour{7, Ip("10.42.2.0"), mac, NUD_PERMANENT}},
                 {FdbEntry{7, mac, Ip("10.98.0.2"), NUD_PERMANENT}}};
  Dataplane want{{keep, moved_new, fresh}, {}, {FdbEntry{7, mac, Ip("10.98.0.9"), NUD_PERMANENT}}};
  Changes c = Diff(want, have);
  EXPECT_EQ(c.remove.routes, std::vector<Route>{gone});  // moved_old is replaced in place
  EXPECT_EQ(c.add.routes, (std::vector<Route>{moved_new, fresh}));
  EXPECT_EQ(c.remove.neighbours.size(), 1u);
  EXPECT_TRUE(c.remove.fdb.empty());  // the same MAC: replaced, not deleted
  EXPECT_EQ(c.add.fdb.size(), 1u);
  EXPECT_TRUE(Diff(want, want).empty());
}

TEST(Masquerade, FlannelsRulesInTheirOwnChains) {
  const std::string r = MasqueradeRules("10.42.0.0/16", "10.42.1.0/24");
  EXPECT_NE(r.find("*nat\n:FLANNEL-POSTRTG - [0:0]\n"), std::string::npos);
  EXPECT_NE(r.find("-A FLANNEL-POSTRTG -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN\n"),
            std::string::npos);
  EXPECT_NE(r.find("-A FLANNEL-POSTRTG ! -s 10.42.0.0/16 -d 10.42.1.0/24"), std::string::npos);
  EXPECT_NE(r.find("-A FLANNEL-POSTRTG -s 10.42.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE "
                   "--random-fully\n"),
            std::string::npos);
  // Pod to pod returns before any masquerade.
  EXPECT_LT(r.find("-d 10.42.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN"), r.find("MASQUERADE"));
  EXPECT_NE(r.find("*filter\n:FLANNEL-FWD - [0:0]\n"), std::string::npos);
  EXPECT_EQ(r.find("POSTROUTING"), std::string::npos);  // the jump is not part of the restore
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n') > 0 && r.ends_with("COMMIT\n"), true);
}

TEST(Masquerade, BackendWithMoreRulesWins) {
  const std::string rules = "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j X\n-A POSTROUTING -j Y\nCOMMIT\n";
  EXPECT_EQ(ChooseIptables(true, rules, true, "", false).restore, "iptables-legacy-restore");
  EXPECT_EQ(ChooseIptables(true, "", true, rules, true).restore, "iptables-nft-restore");
  EXPECT_EQ(ChooseIptables(true, "", true, "", true).iptables, "iptables-legacy");  // tie: the host's
  EXPECT_EQ(ChooseIptables(true, "", true, "", false).iptables, "iptables-nft");
  EXPECT_EQ(ChooseIptables(false, "", true, "", true).iptables, "iptables-nft");
  EXPECT_EQ(ChooseIptables(false, "", false, "", true).iptables, "iptables");
}

}  // namespace
}  // namespace kite::network
