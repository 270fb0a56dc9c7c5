// The nftables mode's rule text: the fixed layout, what each kind of Service adds, partial
// syncs touching only the changed Service, and loadBalancerSourceRanges in both modes.
#include "agent/proxy/nftables_rules.h"

#include <gtest/gtest.h>

#include "agent/proxy/iptables_rules.h"

namespace kite::proxy {
namespace {

ServicePort Port(std::string ns, std::string name, std::string ip, std::vector<std::string> eps) {
  ServicePort sp;
  sp.ns = std::move(ns);
  sp.name = std::move(name);
  sp.port_name = "http";
  sp.cluster_ip = std::move(ip);
  sp.port = 80;
  for (const std::string& e : eps) {
    Endpoint ep;
    ep.ip = e;
    ep.port = 8080;
    ep.local = true;  // this node's (hairpin masquerade is for local endpoints)
    sp.endpoints.push_back(ep);
  }
  return sp;
}

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

RulesConfig Cfg() {
  RulesConfig c;
  c.cluster_cidr = "10.42.0.0/16";
  return c;
}

TEST(NftablesRulesTest, ChainNamesAreUpstreamsShape) {
  ServicePort sp = Port("ns1", "svc1", "10.43.0.41", {"10.180.0.1"});
  const std::string svc = NftServiceChain(sp);
  EXPECT_EQ(svc.substr(0, 8), "service-");
  EXPECT_EQ(svc.substr(16), "-ns1/svc1/tcp/http");
  EXPECT_EQ(NftEndpointChain(sp, sp.endpoints[0]).substr(17), "-ns1/svc1/tcp/http__10.180.0.1/8080");
}

TEST(NftablesRulesTest, FullSyncFromNothing) {
  ServiceMap m;
  m["default/web"] = {Port("default", "web", "10.43.0.20", {"10.42.0.5", "10.42.1.6"})};
  m["default/one"] = {Port("default", "one", "10.43.0.21", {"10.42.0.7"})};
  m["default/two"] = {Port("default", "two", "10.43.0.22", {"10.42.0.8", "10.42.0.9"})};
  NftState st;
  NftText r = GenerateNftRules(m, Cfg(), nullptr, st, false);
  const std::string& t = r.text;
  // A fresh table in the same transaction.
  EXPECT_EQ(t.rfind("add table ip kube-proxy\ndelete table ip kube-proxy\nadd table ip kube-proxy\n", 0), 0u);
  EXPECT_TRUE(Has(t, "add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority dstnat ; }"));
  EXPECT_TRUE(Has(t, "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips"));
  // Plain cluster-IP ports: no chain of their own, the shared picking chain of their endpoint
  // count, keyed by cluster IP . port . slot; declared before the rule and the elements.
  EXPECT_EQ(NftPickChain("tcp", 2), "pick-tcp-2");
  EXPECT_EQ(t.find(NftServiceChain(m["default/web"][0])), std::string::npos);
  const std::string decl =
      "add map ip kube-proxy endpoints-pick-tcp-2 { typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport ; }";
  EXPECT_TRUE(Has(t, "add chain ip kube-proxy pick-tcp-2"));
  EXPECT_TRUE(Has(t, decl));
  EXPECT_TRUE(Has(t, "add rule ip kube-proxy pick-tcp-2 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"));
  const std::string rule =
      "add rule ip kube-proxy pick-tcp-2 meta l4proto tcp dnat ip addr . port to ip daddr . tcp dport . numgen random mod 2 "
      "map @endpoints-pick-tcp-2";
  EXPECT_TRUE(Has(t, rule));
  EXPECT_LT(t.find(decl), t.find(rule));
  EXPECT_TRUE(Has(t, "add element ip kube-proxy endpoints-pick-tcp-2 { 10.43.0.22 . 80 . 0 : 10.42.0.8 . 8080, "
                     "10.43.0.22 . 80 . 1 : 10.42.0.9 . 8080, 10.43.0.20 . 80 . 0 : 10.42.0.5 . 8080, "
                     "10.43.0.20 . 80 . 1 : 10.42.1.6 . 8080 }"));  // "default/two" sorts before "default/web"
  EXPECT_LT(t.find(decl), t.find("add element ip kube-proxy endpoints-pick-tcp-2"));
  EXPECT_NE(t.find("10.43.0.20 . tcp . 80 : goto pick-tcp-2"), std::string::npos);
  EXPECT_NE(t.find("10.43.0.21 . tcp . 80 : goto pick-tcp-1"), std::string::npos);
  EXPECT_TRUE(Has(t, "add element ip kube-proxy endpoints-pick-tcp-1 { 10.43.0.21 . 80 . 0 : 10.42.0.7 . 8080 }"));
  EXPECT_NE(t.find("10.42.0.5 . 10.42.0.5"), std::string::npos);  // hairpin
  EXPECT_EQ(t.find("delete chain"), std::string::npos);
  EXPECT_TRUE(st.services.at("default/web").chains.empty());
  EXPECT_EQ(st.pick_refs.at("pick-tcp-2"), 2);

  // A port with a node port keeps its own chains: the cluster-wide pick through the chain's own
  // endpoints map, or a plain DNAT for one endpoint.
  ServicePort np = Port("default", "np", "10.43.0.23", {"10.42.0.5", "10.42.1.6"});
  np.node_port = 30080;
  ServicePort np1 = Port("default", "np1", "10.43.0.24", {"10.42.0.7"});
  np1.node_port = 30081;
  m = {{"default/np", {np}}, {"default/np1", {np1}}};
  NftState st2;
  const std::string t2 = GenerateNftRules(m, Cfg(), nullptr, st2, false).text;
  const std::string svc = NftServiceChain(np);
  EXPECT_TRUE(Has(t2, "add chain ip kube-proxy " + svc));
  EXPECT_TRUE(Has(t2, "add rule ip kube-proxy " + svc +
                          " ip daddr 10.43.0.23 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"));
  const std::string map = NftEndpointsMap(svc);
  EXPECT_EQ(map, "endpoints-" + svc);
  EXPECT_TRUE(Has(t2, "add map ip kube-proxy " + map + " { typeof numgen random mod 1 : ip daddr . tcp dport ; }"));
  EXPECT_TRUE(Has(t2, "add rule ip kube-proxy " + svc + " meta l4proto tcp dnat ip addr . port to numgen random mod 2 map @" + map));
  EXPECT_TRUE(Has(t2, "add element ip kube-proxy " + map + " { 0 : 10.42.0.5 . 8080, 1 : 10.42.1.6 . 8080 }"));
  EXPECT_TRUE(Has(t2, "add rule ip kube-proxy " + NftServiceChain(np1) + " meta l4proto tcp dnat ip to 10.42.0.7:8080"));
  EXPECT_NE(t2.find("10.43.0.23 . tcp . 80 : goto " + svc), std::string::npos);
  EXPECT_EQ(t2.find("pick-"), std::string::npos);
  EXPECT_EQ(st2.services.at("default/np").chains, (std::vector<std::string>{svc, "external-" + svc.substr(8)}));
}

// A plain cluster-IP Service's endpoint changes are element changes; its picking chain is made
// when its first user comes and deleted with its last.
TEST(NftablesRulesTest, SharedPickingChainsPartialAndFull) {
  ServiceMap m;
  m["ns/a"] = {Port("ns", "a", "10.43.0.50", {"10.42.0.2", "10.42.0.3"})};
  m["ns/b"] = {Port("ns", "b", "10.43.0.51", {"10.42.0.4", "10.42.0.5"})};
  NftState st;
  GenerateNftRules(m, Cfg(), nullptr, st, false);
  const NftState after_full = st;
  m["ns/b"] = {Port("ns", "b", "10.43.0.51", {"10.42.0.4"})};
  std::set<std::string> changed = {"ns/b"};
  const std::string t = GenerateNftRules(m, Cfg(), &changed, st, true).text;
  EXPECT_EQ(t.find("10.43.0.50"), std::string::npos);  // a untouched
  EXPECT_EQ(t.find("add table"), std::string::npos);
  EXPECT_EQ(t.find("flush"), std::string::npos);
  EXPECT_TRUE(Has(t, "delete element ip kube-proxy endpoints-pick-tcp-2 { 10.43.0.51 . 80 . 0, 10.43.0.51 . 80 . 1 }"));
  EXPECT_TRUE(Has(t, "delete element ip kube-proxy service-ips { 10.43.0.51 . tcp . 80 }"));
  EXPECT_TRUE(Has(t, "add element ip kube-proxy service-ips { 10.43.0.51 . tcp . 80 : goto pick-tcp-1 }"));
  EXPECT_TRUE(Has(t, "add element ip kube-proxy endpoints-pick-tcp-1 { 10.43.0.51 . 80 . 0 : 10.42.0.4 . 8080 }"));
  EXPECT_TRUE(Has(t, "add chain ip kube-proxy pick-tcp-1"));  // new: b is its first user
  EXPECT_EQ(t.find("add chain ip kube-proxy pick-tcp-2"), std::string::npos);  // a still uses it
  EXPECT_EQ(t.find("delete chain"), std::string::npos);
  EXPECT_TRUE(Has(t, "delete element ip kube-proxy hairpin { 10.42.0.5 . 10.42.0.5 }"));
  EXPECT_LT(t.find("add chain ip kube-proxy pick-tcp-1"), t.find("add element ip kube-proxy service-ips"));

  // One endpoint replaced: two element lines, nothing else.
  m["ns/b"] = {Port("ns", "b", "10.43.0.51", {"10.42.0.6"})};
  const std::string swap = GenerateNftRules(m, Cfg(), &changed, st, true).text;
  EXPECT_EQ(swap,
            "delete element ip kube-proxy endpoints-pick-tcp-1 { 10.43.0.51 . 80 . 0 }\n"
            "delete element ip kube-proxy hairpin { 10.42.0.4 . 10.42.0.4 }\n"
            "add element ip kube-proxy endpoints-pick-tcp-1 { 10.43.0.51 . 80 . 0 : 10.42.0.6 . 8080 }\n"
            "add element ip kube-proxy hairpin { 10.42.0.6 . 10.42.0.6 }\n");

  // b deleted: pick-tcp-1 has no user left; its chain and map go after the elements.
  m.erase("ns/b");
  const std::string gone = GenerateNftRules(m, Cfg(), &changed, st, true).text;
  EXPECT_TRUE(Has(gone, "delete chain ip kube-proxy pick-tcp-1"));
  EXPECT_TRUE(Has(gone, "delete map ip kube-proxy endpoints-pick-tcp-1"));
  EXPECT_LT(gone.find("delete element ip kube-proxy service-ips"), gone.find("delete chain"));
  EXPECT_LT(gone.find("delete chain"), gone.find("delete map"));
  EXPECT_FALSE(st.pick_refs.count("pick-tcp-1"));

  // A full sync over a known table: every picking chain's rules again (the flush took them),
  // elements only where they differ.
  NftState st2 = after_full;
  const std::string again = GenerateNftRules(m, Cfg(), nullptr, st2, true).text;
  EXPECT_NE(again.find("flush table ip kube-proxy\n"), std::string::npos);
  EXPECT_TRUE(Has(again, "add rule ip kube-proxy pick-tcp-2 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"));
  EXPECT_TRUE(Has(again, "delete element ip kube-proxy service-ips { 10.43.0.51 . tcp . 80 }"));
  EXPECT_EQ(again.find("10.43.0.50 . "), std::string::npos);  // a: unchanged elements
  EXPECT_EQ(again.find("delete chain"), std::string::npos);    // a still uses pick-tcp-2
  EXPECT_EQ(st2.pick_refs, (std::map<std::string, int>{{"pick-tcp-2", 1}}));
}

TEST(NftablesRulesTest, NoEndpointsAndLocalPolicy) {
  ServiceMap m;
  ServicePort empty = Port("ns", "empty", "10.43.0.30", {});
  empty.node_port = 30080;
  m["ns/empty"] = {empty};
  ServicePort local = Port("ns", "local", "10.43.0.31", {"10.42.0.8"});
  local.node_port = 30081;
  local.external_local = true;
  local.endpoints[0].local = false;  // its only endpoint is on another node
  m["ns/local"] = {local};
  NftState st;
  NftText r = GenerateNftRules(m, Cfg(), nullptr, st, false);
  const std::string& t = r.text;
  EXPECT_NE(t.find("10.43.0.30 . tcp . 80 : goto reject-chain"), std::string::npos);
  EXPECT_NE(t.find("tcp . 30080 : goto reject-chain"), std::string::npos);
  EXPECT_EQ(t.find("service-ips { 10.43.0.30"), std::string::npos);
  EXPECT_NE(t.find("tcp . 30081 : drop"), std::string::npos);  // no local endpoint: dropped
  const std::string ext = "external-" + NftServiceChain(local).substr(8);
  EXPECT_TRUE(Has(t, "add rule ip kube-proxy " + ext + " ip saddr 10.42.0.0/16 goto " + NftServiceChain(local)));
  EXPECT_TRUE(Has(t, "add rule ip kube-proxy " + ext + " goto local-" + NftServiceChain(local).substr(8)));
}

TEST(NftablesRulesTest, AffinityUsesEndpointChains) {
  ServiceMap m;
  ServicePort sp = Port("ns", "sticky", "10.43.0.40", {"10.42.0.9", "10.42.0.10"});
  sp.affinity_seconds = 600;
  m["ns/sticky"] = {sp};
  NftState st;
  NftText r = GenerateNftRules(m, Cfg(), nullptr, st, false);
  const std::string ep = NftEndpointChain(sp, sp.endpoints[0]);
  const std::string set = "affinity-" + ep.substr(9);
  EXPECT_TRUE(Has(r.text, "add set ip kube-proxy " + set + " { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }"));
  EXPECT_TRUE(Has(r.text, "add rule ip kube-proxy " + NftServiceChain(sp) + " ip saddr @" + set + " goto " + ep));
  EXPECT_TRUE(Has(r.text, "add rule ip kube-proxy " + ep + " update @" + set + " { ip saddr }"));
  EXPECT_TRUE(Has(r.text, "add rule ip kube-proxy " + ep + " meta l4proto tcp dnat ip to 10.42.0.9:8080"));
  EXPECT_NE(r.text.find("4096 : goto " + ep), std::string::npos);
}

TEST(NftablesRulesTest, PartialSyncTouchesOnlyTheChangedService) {
  ServiceMap m;
  // Node ports: these Services have chains of their own (plain cluster-IP ones do not).
  auto np = [](ServicePort sp, int32_t port) {
    sp.node_port = port;
    return sp;
  };
  m["ns/a"] = {np(Port("ns", "a", "10.43.0.50", {"10.42.0.2", "10.42.0.3"}), 30050)};
  m["ns/b"] = {np(Port("ns", "b", "10.43.0.51", {"10.42.0.4", "10.42.0.5"}), 30051)};
  NftState st;
  NftText full = GenerateNftRules(m, Cfg(), nullptr, st, false);
  const NftState after_full = st;
  m["ns/b"] = {np(Port("ns", "b", "10.43.0.51", {"10.42.0.4"}), 30051)};  // one endpoint gone
  std::set<std::string> changed = {"ns/b"};
  NftText part = GenerateNftRules(m, Cfg(), &changed, st, true);
  const std::string& t = part.text;
  EXPECT_EQ(t.find("10.42.0.2"), std::string::npos);  // a untouched
  EXPECT_EQ(t.find("add table"), std::string::npos);
  const std::string b = NftServiceChain(m["ns/b"][0]);
  // Down to one endpoint: a plain DNAT, and its map goes whole (no element deleted one by one).
  EXPECT_EQ(t.find("delete element ip kube-proxy " + NftEndpointsMap(b)), std::string::npos);
  EXPECT_TRUE(Has(t, "delete map ip kube-proxy " + NftEndpointsMap(b)));
  EXPECT_GT(t.find("delete map"), t.find("flush chain ip kube-proxy " + b));
  EXPECT_TRUE(Has(t, "delete element ip kube-proxy hairpin { 10.42.0.5 . 10.42.0.5 }"));
  EXPECT_TRUE(Has(t, "flush chain ip kube-proxy " + b));
  EXPECT_TRUE(Has(t, "add rule ip kube-proxy " + b + " meta l4proto tcp dnat ip to 10.42.0.4:8080"));
  // Its cluster IP's element is unchanged: neither deleted nor added (elements cost the kernel).
  EXPECT_EQ(t.find("10.43.0.51 . tcp . 80"), std::string::npos);
  EXPECT_TRUE(st.used_slots.empty());  // slot blocks are for session affinity only

  // b deleted: its chain goes, after the elements pointing at it.
  m.erase("ns/b");
  NftText gone = GenerateNftRules(m, Cfg(), &changed, st, true);
  EXPECT_TRUE(Has(gone.text, "delete chain ip kube-proxy " + b));
  EXPECT_LT(gone.text.find("delete element ip kube-proxy service-ips"), gone.text.find("delete chain"));
  EXPECT_FALSE(st.services.count("ns/b"));

  // A full sync over a known table flushes instead of deleting it, and removes what is stale.
  NftState st2 = after_full;
  NftText again = GenerateNftRules(m, Cfg(), nullptr, st2, true);
  EXPECT_NE(again.text.find("flush table ip kube-proxy\n"), std::string::npos);
  EXPECT_EQ(again.text.find("flush map"), std::string::npos);
  // The sentinel: its delete fails if the table was deleted or a map flushed by hand.
  EXPECT_NE(again.text.find("delete element ip kube-proxy service-ips { 0.0.0.0 . tcp . 0 }\n"), std::string::npos);
  EXPECT_NE(again.text.find("delete element ip kube-proxy service-ips { 10.43.0.51 . tcp . 80 }\n"), std::string::npos);
  EXPECT_EQ(again.text.find("10.43.0.50 . tcp . 80"), std::string::npos);  // a: unchanged elements
  EXPECT_TRUE(Has(again.text, "delete chain ip kube-proxy " + b));
}

TEST(NftablesRulesTest, LoadBalancerSourceRanges) {
  ServiceMap m;
  ServicePort sp = Port("ns", "lb", "10.43.0.60", {"10.42.0.2"});
  sp.load_balancer_ips = {"192.0.2.10"};
  sp.source_ranges = {"203.0.113.0/24", "198.51.100.7/32"};
  sp.node_port = 30090;
  m["ns/lb"] = {sp};
  NftState st;
  NftText r = GenerateNftRules(m, Cfg(), nullptr, st, false);
  const std::string fw = "firewall-" + NftServiceChain(sp).substr(8);
  EXPECT_NE(r.text.find("192.0.2.10 . tcp . 80 : goto " + fw), std::string::npos);
  EXPECT_TRUE(Has(r.text, "add rule ip kube-proxy " + fw + " ip saddr != { 203.0.113.0/24, 198.51.100.7/32 } drop"));

  // iptables mode: KUBE-FW- passes the ranges to KUBE-EXT-, the filter table drops the rest.
  RulesText ipt = GenerateRules(m, Cfg(), nullptr, {});
  const std::string fwc = FirewallChain(sp), ext = ExternalChain(sp);
  EXPECT_NE(ipt.text.find("-d 192.0.2.10/32 --dport 80 -j " + fwc + "\n"), std::string::npos);
  EXPECT_NE(ipt.text.find("-A " + fwc + " -m comment --comment \"ns/lb:http loadbalancer IP\" -s 203.0.113.0/24 -j " + ext + "\n"),
            std::string::npos);
  EXPECT_NE(ipt.text.find("-A KUBE-PROXY-FIREWALL -m comment --comment \"ns/lb:http traffic not accepted by " + fwc +
                          "\" -m tcp -p tcp -d 192.0.2.10/32 --dport 80 -j DROP\n"),
            std::string::npos);
  EXPECT_EQ(ipt.text.find("-d 192.0.2.10/32 --dport 80 -j " + ext + "\n"), std::string::npos);
  EXPECT_NE(ipt.text.find(":" + fwc + " - [0:0]\n"), std::string::npos);
}

// Dual-stack: the IPv6 family's table is the same layout with IPv6 words, types and addresses
// (DNAT targets in brackets); nothing of the IPv4 family is left in it.
TEST(NftablesRulesTest, Ipv6Family) {
  RulesConfig cfg;
  cfg.cluster_cidr = "fd42::/56";
  cfg.ipv6 = true;
  ServiceMap m;
  m["default/web"] = {Port("default", "web", "fd43::20", {"fd42::5", "fd42:0:0:1::6"})};
  ServicePort np = Port("default", "np", "fd43::21", {"fd42::7"});
  np.node_port = 30080;
  np.load_balancer_ips = {"2001:db8::10"};
  np.source_ranges = {"2001:db8:1::/48"};
  m["default/np"] = {np};
  ServicePort sticky = Port("default", "sticky", "fd43::22", {"fd42::8", "fd42::9"});
  sticky.affinity_seconds = 60;
  m["default/sticky"] = {sticky};
  NftState st;
  const std::string t = GenerateNftRules(m, cfg, nullptr, st, false).text;
  EXPECT_EQ(t.rfind("add table ip6 kube-proxy\ndelete table ip6 kube-proxy\nadd table ip6 kube-proxy\n", 0), 0u);
  EXPECT_TRUE(Has(t, "add map ip6 kube-proxy service-ips { type ipv6_addr . inet_proto . inet_service : verdict ; }"));
  EXPECT_TRUE(Has(t, "add element ip6 kube-proxy service-ips { :: . tcp . 0 : drop }"));
  EXPECT_TRUE(Has(t, "add set ip6 kube-proxy hairpin { type ipv6_addr . ipv6_addr ; }"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy services ip6 daddr . meta l4proto . th dport vmap @service-ips"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy services fib daddr type local ip6 daddr != ::1 jump nodeports"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy masquerading ct status dnat ip6 saddr . ip6 daddr @hairpin jump mark-for-masquerade"));
  // A plain cluster-IP port: the shared picking chain, IPv6 keys and targets.
  EXPECT_TRUE(Has(t, "add map ip6 kube-proxy endpoints-pick-tcp-2 { typeof ip6 daddr . tcp dport . numgen random mod 1 : "
                     "ip6 daddr . tcp dport ; }"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy pick-tcp-2 ip6 saddr != fd42::/56 jump mark-for-masquerade"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy pick-tcp-2 meta l4proto tcp dnat ip6 addr . port to ip6 daddr . tcp dport . "
                     "numgen random mod 2 map @endpoints-pick-tcp-2"));
  EXPECT_TRUE(Has(t, "add element ip6 kube-proxy endpoints-pick-tcp-2 { fd43::20 . 80 . 0 : fd42::5 . 8080, "
                     "fd43::20 . 80 . 1 : fd42:0:0:1::6 . 8080 }"));
  EXPECT_NE(t.find("fd43::20 . tcp . 80 : goto pick-tcp-2"), std::string::npos);
  // Its own chains: one endpoint in brackets, source ranges, affinity sets of IPv6 addresses.
  const std::string svc = NftServiceChain(np);
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy " + svc + " meta l4proto tcp dnat ip6 to [fd42::7]:8080"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy " + svc + " ip6 daddr fd43::21 tcp dport 80 ip6 saddr != fd42::/56 jump mark-for-masquerade"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy firewall-" + svc.substr(8) + " ip6 saddr != { 2001:db8:1::/48 } drop"));
  EXPECT_NE(t.find("2001:db8::10 . tcp . 80 : goto firewall-" + svc.substr(8)), std::string::npos);
  const std::string ep = NftEndpointChain(sticky, sticky.endpoints[0]);
  EXPECT_EQ(ep.substr(17), "-default/sticky/tcp/http__fd42..8/8080");  // nft names hold no ':'
  EXPECT_TRUE(Has(t, "add set ip6 kube-proxy affinity-" + ep.substr(9) + " { type ipv6_addr ; flags dynamic,timeout ; timeout 60s ; }"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy " + ep + " update @affinity-" + ep.substr(9) + " { ip6 saddr }"));
  EXPECT_TRUE(Has(t, "add rule ip6 kube-proxy " + ep + " meta l4proto tcp dnat ip6 to [fd42::8]:8080"));
  for (const char* v4 : {" ip kube-proxy", "ip daddr", "ip saddr", "ipv4_addr", "dnat ip ", "0.0.0.0", "127.0.0.0"}) {
    EXPECT_EQ(t.find(v4), std::string::npos) << v4;
  }
}

}  // namespace
// Hairpin masquerade is for this node's endpoints only: another node's pod never reaches this
// node's chains as its own Service's client except through external destinations, which
// masquerade anyway. Also in the per-endpoint chains of session affinity.
TEST(NftablesRulesTest, HairpinOnlyForLocalEndpoints) {
  ServiceMap m;
  ServicePort plain = Port("ns", "plain", "10.43.0.60", {"10.42.0.2", "10.42.1.3"});
  plain.endpoints[1].local = false;
  ServicePort aff = Port("ns", "aff", "10.43.0.61", {"10.42.0.4", "10.42.1.5"});
  aff.endpoints[1].local = false;
  aff.affinity_seconds = 60;
  m["ns/plain"] = {plain};
  m["ns/aff"] = {aff};
  NftState st;
  const std::string t = GenerateNftRules(m, Cfg(), nullptr, st, false).text;
  EXPECT_NE(t.find("10.42.0.2 . 10.42.0.2"), std::string::npos);
  EXPECT_NE(t.find("10.42.0.4 . 10.42.0.4"), std::string::npos);
  EXPECT_EQ(t.find("10.42.1.3 . 10.42.1.3"), std::string::npos);
  EXPECT_EQ(t.find("10.42.1.5 . 10.42.1.5"), std::string::npos);
  EXPECT_NE(t.find("ip saddr 10.42.0.4 jump mark-for-masquerade"), std::string::npos);
  EXPECT_EQ(t.find("ip saddr 10.42.1.5 jump mark-for-masquerade"), std::string::npos);

  // The remote endpoint moves to this node: its IP joins the set in a partial sync.
  m["ns/plain"][0].endpoints[1].local = true;
  std::set<std::string> changed = {"ns/plain"};
  const std::string p = GenerateNftRules(m, Cfg(), &changed, st, true).text;
  EXPECT_TRUE(Has(p, "add element ip kube-proxy hairpin { 10.42.1.3 . 10.42.1.3 }")) << p;
}

}  // namespace kite::proxy
