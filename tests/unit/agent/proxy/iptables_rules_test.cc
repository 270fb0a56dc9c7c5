#include "agent/proxy/iptables_rules.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "agent/proxy/conntrack.h"
#include "agent/proxy/service_info.h"

namespace kite::proxy {
namespace {

namespace json = boost::json;

ServicePort Port(std::string ns, std::string name, std::string port_name, std::string ip, int32_t port,
                 std::vector<std::pair<std::string, int32_t>> eps) {
  ServicePort sp;
  sp.ns = std::move(ns);
  sp.name = std::move(name);
  sp.port_name = std::move(port_name);
  sp.cluster_ip = std::move(ip);
  sp.port = port;
  for (auto& [eip, eport] : eps) {
    Endpoint e;
    e.ip = eip;
    e.port = eport;
    sp.endpoints.push_back(e);
  }
  return sp;
}

// Only the lines of `text` for `chain` ("-A chain …"), in order.
std::vector<std::string> Rules(const std::string& text, const std::string& chain) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    if (line.rfind("-A " + chain + " ", 0) == 0) out.push_back(line);
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

TEST(IptablesRulesTest, ChainNamesAreUpstreams) {
  // kube-proxy names default/kubernetes:https's chain KUBE-SVC-NPX46M4PTMTKRN6Y on every cluster.
  ServicePort sp = Port("default", "kubernetes", "https", "10.43.0.1", 443, {});
  EXPECT_EQ(ServiceChain(sp), "KUBE-SVC-NPX46M4PTMTKRN6Y");
  EXPECT_EQ(LocalServiceChain(sp).substr(0, 9), "KUBE-SVL-");
  EXPECT_EQ(LocalServiceChain(sp).size(), 25u);
  EXPECT_EQ(ServiceChain(sp).substr(9), LocalServiceChain(sp).substr(9));
  EXPECT_TRUE(IsServiceChain("KUBE-SEP-ABC"));
  EXPECT_FALSE(IsServiceChain("KUBE-SERVICES"));
}

TEST(IptablesRulesTest, ClusterIpFullText) {
  ServiceMap m;
  m["default/web"] = {Port("default", "web", "", "10.43.0.20", 80, {{"10.42.0.5", 8080}, {"10.42.1.6", 8080}})};
  m["default/web"][0].endpoints[0].local = true;  // 10.42.1.6 is on another node: no hairpin rule
  RulesConfig cfg;
  cfg.cluster_cidr = "10.42.0.0/16";
  RulesText r = GenerateRules(m, cfg, nullptr, {});
  const ServicePort& sp = m["default/web"][0];
  const std::string svc = ServiceChain(sp);
  const std::string sep1 = EndpointChain(sp, sp.endpoints[0]), sep2 = EndpointChain(sp, sp.endpoints[1]);
  const std::string want =
      "*filter\n"
      ":KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-FORWARD - [0:0]\n"
      ":KUBE-PROXY-FIREWALL - [0:0]\n"
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
      "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
      "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate "
      "RELATED,ESTABLISHED -j ACCEPT\n"
      "COMMIT\n"
      "*nat\n"
      ":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
      // Per-service chains in descending order of name (see GenerateRules), then the top-level rules.
      ":" + svc + " - [0:0]\n:" + sep1 + " - [0:0]\n:" + sep2 + " - [0:0]\n"
      "-A KUBE-SERVICES -m comment --comment \"default/web cluster IP\" -m tcp -p tcp -d 10.43.0.20/32 --dport 80 -j " + svc + "\n"
      "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" "
      "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n"
      "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n"
      "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
      "-A " + svc + " -m comment --comment \"default/web cluster IP\" -m tcp -p tcp -d 10.43.0.20/32 --dport 80 ! -s 10.42.0.0/16 -j KUBE-MARK-MASQ\n"
      "-A " + svc + " -m comment --comment \"default/web -> 10.42.0.5:8080\" -m statistic --mode random --probability 0.5000000000 -j " + sep1 + "\n"
      "-A " + svc + " -m comment --comment \"default/web -> 10.42.1.6:8080\" -j " + sep2 + "\n"
      "-A " + sep1 + " -m comment --comment \"default/web\" -s 10.42.0.5/32 -j KUBE-MARK-MASQ\n"
      "-A " + sep1 + " -m comment --comment \"default/web\" -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080\n"
      "-A " + sep2 + " -m comment --comment \"default/web\" -m tcp -p tcp -j DNAT --to-destination 10.42.1.6:8080\n"
      "COMMIT\n";
  ASSERT_GT(sep1, sep2);  // the hashes happen to sort this way
  EXPECT_EQ(r.text, want);
  EXPECT_EQ(r.chains.by_service.at("default/web"), (std::vector<std::string>{svc, sep1, sep2}));
}

TEST(IptablesRulesTest, NoEndpointsRejectsInFilter) {
  ServiceMap m;
  ServicePort sp = Port("ns", "empty", "http", "10.43.0.30", 80, {});
  sp.node_port = 30080;
  m["ns/empty"] = {sp};
  RulesText r = GenerateRules(m, {}, nullptr, {});
  EXPECT_EQ(Rules(r.text, "KUBE-SERVICES").size(), 2u);  // the REJECT (filter) and the final nodeports jump (nat)
  auto f = Rules(r.text, "KUBE-EXTERNAL-SERVICES");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns/empty:http has no endpoints\" -m addrtype "
                  "--dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable");
  EXPECT_NE(r.text.find("-A KUBE-SERVICES -m comment --comment \"ns/empty:http has no endpoints\" -m tcp -p tcp -d "
                        "10.43.0.30/32 --dport 80 -j REJECT"),
            std::string::npos);
  EXPECT_TRUE(r.chains.by_service.at("ns/empty").empty());
}

TEST(IptablesRulesTest, NodePortExternalIpLoadBalancer) {
  ServiceMap m;
  ServicePort sp = Port("ns", "np", "", "10.43.0.40", 80, {{"10.42.0.7", 80}});
  sp.node_port = 31000;
  sp.external_ips = {"192.0.2.10"};
  sp.load_balancer_ips = {"10.99.0.1"};
  m["ns/np"] = {sp};
  RulesText r = GenerateRules(m, {}, nullptr, {});
  const std::string ext = ExternalChain(sp), svc = ServiceChain(sp);
  EXPECT_EQ(Rules(r.text, "KUBE-NODEPORTS"),
            (std::vector<std::string>{"-A KUBE-NODEPORTS -m comment --comment \"ns/np\" -m tcp -p tcp --dport 31000 -j " + ext}));
  auto services = Rules(r.text, "KUBE-SERVICES");
  ASSERT_EQ(services.size(), 4u);
  EXPECT_EQ(services[1], "-A KUBE-SERVICES -m comment --comment \"ns/np external IP\" -m tcp -p tcp -d 192.0.2.10/32 --dport 80 -j " + ext);
  EXPECT_EQ(services[2], "-A KUBE-SERVICES -m comment --comment \"ns/np loadbalancer IP\" -m tcp -p tcp -d 10.99.0.1/32 --dport 80 -j " + ext);
  EXPECT_EQ(Rules(r.text, ext),
            (std::vector<std::string>{
                "-A " + ext + " -m comment --comment \"masquerade traffic for ns/np external destinations\" -j KUBE-MARK-MASQ",
                "-A " + ext + " -j " + svc}));
}

TEST(IptablesRulesTest, ExternalTrafficPolicyLocal) {
  ServiceMap m;
  ServicePort sp = Port("ns", "loc", "", "10.43.0.50", 80, {{"10.42.0.8", 80}, {"10.42.1.9", 80}});
  sp.endpoints[0].local = true;
  sp.node_port = 31001;
  sp.external_local = true;
  m["ns/loc"] = {sp};
  RulesConfig cfg;
  cfg.cluster_cidr = "10.42.0.0/16";
  RulesText r = GenerateRules(m, cfg, nullptr, {});
  const std::string ext = ExternalChain(sp), svc = ServiceChain(sp), svl = LocalServiceChain(sp);
  auto e = Rules(r.text, ext);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], "-A " + ext + " -s 10.42.0.0/16 -m comment --comment \"pod traffic for ns/loc external destinations\" -j " + svc);
  EXPECT_EQ(e[3], "-A " + ext + " -j " + svl);
  auto l = Rules(r.text, svl);
  ASSERT_EQ(l.size(), 1u);  // the one local endpoint, no probability
  EXPECT_EQ(l[0], "-A " + svl + " -m comment --comment \"ns/loc -> 10.42.0.8:80\" -j " + EndpointChain(sp, sp.endpoints[0]));
  EXPECT_EQ(Rules(r.text, svc).size(), 3u);  // masquerade + two endpoints (cluster IP stays Cluster)

  // No local endpoint: external destinations are dropped in filter, the cluster IP still works.
  m["ns/loc"][0].endpoints[0].local = false;
  r = GenerateRules(m, cfg, nullptr, {});
  auto f = Rules(r.text, "KUBE-EXTERNAL-SERVICES");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find("has no local endpoints"), std::string::npos);
  EXPECT_NE(f[0].find("-j DROP"), std::string::npos);
}

TEST(IptablesRulesTest, InternalTrafficPolicyLocal) {
  ServiceMap m;
  ServicePort sp = Port("ns", "itp", "", "10.43.0.51", 53, {{"10.42.1.9", 53}});
  sp.protocol = "UDP";
  sp.internal_local = true;
  m["ns/itp"] = {sp};
  RulesText r = GenerateRules(m, {}, nullptr, {});
  // No local endpoint: the cluster IP drops instead of going to another node.
  EXPECT_NE(r.text.find("-A KUBE-SERVICES -m comment --comment \"ns/itp has no local endpoints\" -m udp -p udp -d "
                        "10.43.0.51/32 --dport 53 -j DROP"),
            std::string::npos);
  m["ns/itp"][0].endpoints[0].local = true;
  r = GenerateRules(m, {}, nullptr, {});
  EXPECT_NE(r.text.find("-m udp -p udp -d 10.43.0.51/32 --dport 53 -j " + LocalServiceChain(sp)), std::string::npos);
}

TEST(IptablesRulesTest, SessionAffinity) {
  ServiceMap m;
  ServicePort sp = Port("ns", "sticky", "", "10.43.0.60", 80, {{"10.42.0.2", 80}, {"10.42.0.3", 80}, {"10.42.0.4", 80}});
  sp.affinity_seconds = 600;
  sp.endpoints[0].local = true;  // its endpoint chain starts with the hairpin rule
  m["ns/sticky"] = {sp};
  RulesText r = GenerateRules(m, {}, nullptr, {});
  const std::string svc = ServiceChain(sp), sep0 = EndpointChain(sp, sp.endpoints[0]);
  auto s = Rules(r.text, svc);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0], "-A " + svc + " -m comment --comment \"ns/sticky -> 10.42.0.2:80\" -m recent --name " + sep0 +
                      " --rcheck --seconds 600 --reap -j " + sep0);
  EXPECT_NE(s[3].find("--probability 0.3333333333"), std::string::npos);
  EXPECT_NE(s[4].find("--probability 0.5000000000"), std::string::npos);
  ASSERT_EQ(Rules(r.text, sep0).size(), 2u);
  EXPECT_EQ(Rules(r.text, sep0)[1], "-A " + sep0 + " -m comment --comment \"ns/sticky\" -m recent --name " + sep0 +
                                        " --set -m tcp -p tcp -j DNAT --to-destination 10.42.0.2:80");
}

TEST(IptablesRulesTest, TerminatingEndpointsOnlyWhenNoneReady) {
  ServicePort sp = Port("ns", "t", "", "10.43.0.70", 80, {{"10.42.0.2", 80}, {"10.42.0.3", 80}, {"10.42.0.4", 80}});
  sp.endpoints[0].ready = false;  // terminating, still serving: drained
  sp.endpoints[0].terminating = true;
  sp.endpoints[1].ready = false;  // not ready, not serving
  sp.endpoints[1].serving = false;
  auto eps = UsableEndpoints(sp, false);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0]->ip, "10.42.0.4");
  sp.endpoints[2].ready = false;  // none ready: the serving terminating one takes traffic
  sp.endpoints[2].serving = false;
  eps = UsableEndpoints(sp, false);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0]->ip, "10.42.0.2");
}

// For iptables-nft-restore's sake (see GenerateRules): per-service chains declared in descending
// order of name, KUBE-SERVICES' rules in descending order of their jump target, the nodeports
// rule still last; in a partial sync too, where unchanged Services' lines come from the cache.
TEST(IptablesRulesTest, ChainsAndTopLevelRulesInDescendingNameOrder) {
  ServiceMap m;
  for (int i = 0; i < 30; ++i) {
    const std::string n = "s" + std::to_string(i);
    m["a/" + n] = {Port("a", n, "", "10.43.2." + std::to_string(i + 1), 80, {{"10.42.3." + std::to_string(i + 1), 80}})};
  }
  auto check = [](const RulesText& r) -> size_t {
    std::vector<std::string> declared, targets;
    std::istringstream in(r.text.substr(r.text.find("*nat\n")));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(":KUBE-S", 0) == 0 && line.rfind(":KUBE-SERVICES", 0) != 0) declared.push_back(line);
      if (line.rfind("-A KUBE-SERVICES ", 0) == 0) targets.push_back(line.substr(line.rfind(" -j ") + 4));
    }
    EXPECT_TRUE(std::is_sorted(declared.rbegin(), declared.rend()));
    if (targets.empty()) {
      ADD_FAILURE() << "no KUBE-SERVICES rules";
      return 0;
    }
    EXPECT_EQ(targets.back(), "KUBE-NODEPORTS");
    targets.pop_back();
    EXPECT_TRUE(std::is_sorted(targets.rbegin(), targets.rend()));
    return targets.size();
  };
  RulesText full = GenerateRules(m, {}, nullptr, {});
  EXPECT_EQ(check(full), 30u);
  // A changed endpoint and a new Service (its line in KUBE-SERVICES makes that chain rewritten).
  m["a/s7"][0].endpoints[0].ip = "10.42.9.9";
  m["a/new"] = {Port("a", "new", "", "10.43.2.99", 80, {{"10.42.9.8", 80}})};
  std::set<std::string> changed = {"a/s7", "a/new"};
  EXPECT_EQ(check(GenerateRules(m, {}, &changed, full.chains)), 31u);
}

TEST(IptablesRulesTest, PartialSyncWritesOnlyChangedChains) {
  ServiceMap m;
  m["a/one"] = {Port("a", "one", "", "10.43.1.1", 80, {{"10.42.0.2", 80}})};
  m["a/two"] = {Port("a", "two", "", "10.43.1.2", 80, {{"10.42.0.3", 80}, {"10.42.0.4", 80}})};
  RulesText full = GenerateRules(m, {}, nullptr, {});
  // One endpoint of a/two goes away.
  m["a/two"][0].endpoints.pop_back();
  std::set<std::string> changed = {"a/two"};
  RulesText partial = GenerateRules(m, {}, &changed, full.chains);
  const ServicePort& one = m["a/one"][0];
  const ServicePort& two = m["a/two"][0];
  Endpoint gone;
  gone.ip = "10.42.0.4";
  gone.port = 80;
  const std::string gone_sep = EndpointChain(two, gone);
  // a/one's chains are neither declared nor written; a/two's line in KUBE-SERVICES is as before,
  // so the top-level chains are not written either (not even declared: they keep their rules).
  EXPECT_EQ(partial.text.find(":" + ServiceChain(one) + " "), std::string::npos);
  EXPECT_EQ(Rules(partial.text, ServiceChain(one)).size(), 0u);
  EXPECT_EQ(partial.text.find(":KUBE-SERVICES"), std::string::npos);
  EXPECT_EQ(partial.text.find("-A KUBE-SERVICES"), std::string::npos);
  EXPECT_EQ(partial.text.find(":KUBE-MARK-MASQ"), std::string::npos);
  EXPECT_EQ(partial.text.find("*filter"), std::string::npos);
  // a/two's are rewritten and the gone endpoint's chain is flushed and removed, last.
  EXPECT_NE(partial.text.find(":" + ServiceChain(two) + " - [0:0]"), std::string::npos);
  EXPECT_NE(partial.text.find(":" + gone_sep + " - [0:0]"), std::string::npos);
  EXPECT_NE(partial.text.find("-X " + gone_sep + "\nCOMMIT\n"), std::string::npos);
  EXPECT_EQ(partial.chains.by_service.at("a/one"), full.chains.by_service.at("a/one"));
  EXPECT_EQ(partial.chains.by_service.at("a/two").size(), 2u);
  EXPECT_EQ(partial.nat_chains_written, 3u);  // SVC, SEP kept, SEP deleted

  // A deleted Service: all its chains go.
  const std::string one_svc = ServiceChain(one);
  m.erase("a/one");
  changed = {"a/one"};
  RulesText del = GenerateRules(m, {}, &changed, partial.chains);
  for (const std::string& c : partial.chains.by_service.at("a/one")) EXPECT_NE(del.text.find("-X " + c + "\n"), std::string::npos);
  EXPECT_EQ(del.chains.by_service.count("a/one"), 0u);
  // Its line in KUBE-SERVICES goes, so that chain is rewritten, with a/two's line from the cache.
  EXPECT_NE(del.text.find(":KUBE-SERVICES - [0:0]"), std::string::npos);
  EXPECT_NE(del.text.find("-j " + ServiceChain(two) + "\n"), std::string::npos);
  EXPECT_EQ(del.text.find("-j " + one_svc + "\n"), std::string::npos);
  // And with nothing changed, nothing to write.
  changed.clear();
  EXPECT_EQ(GenerateRules(m, {}, &changed, del.chains).text, "");

  // A full sync deletes orphans found in the table.
  ChainState with_orphan = del.chains;
  with_orphan.orphans = {"KUBE-SEP-LEFTBYAHAND000"};
  RulesText again = GenerateRules(m, {}, nullptr, with_orphan);
  EXPECT_NE(again.text.find("-X KUBE-SEP-LEFTBYAHAND000\n"), std::string::npos);
  EXPECT_TRUE(again.chains.orphans.empty());
}

// A partial sync takes the state over and replaces only what it writes: the state after it is
// the one a full sync of the same Services gives; a Service missing from the state (first seen)
// is written, one gone without being named is deleted.
TEST(IptablesRulesTest, PartialSyncStateIsTheFullSyncs) {
  ServiceMap m;
  for (int i = 0; i < 4; ++i) {
    const std::string n = "s" + std::to_string(i);
    m["a/" + n] = {Port("a", n, "", "10.43.3." + std::to_string(i + 1), 80, {{"10.42.3." + std::to_string(i + 1), 80}})};
  }
  RulesText first = GenerateRules(m, {}, nullptr, {});
  ChainState state = first.chains;
  m["a/s1"][0].endpoints[0].ip = "10.42.9.9";  // changed
  const std::vector<std::string> gone_chains = state.by_service.at("a/s3");
  m.erase("a/s3");                              // gone, not named
  state.by_service.erase("a/s2");               // not in the state: first seen
  state.top.erase("a/s2");
  std::set<std::string> changed = {"a/s1"};
  RulesText partial = GenerateRules(m, {}, &changed, std::move(state));
  RulesText full = GenerateRules(m, {}, nullptr, first.chains);
  EXPECT_EQ(partial.chains.by_service, full.chains.by_service);
  ASSERT_EQ(partial.chains.top.size(), full.chains.top.size());
  for (const auto& [key, top] : full.chains.top) {
    EXPECT_EQ(partial.chains.top.at(key).nat, top.nat) << key;
    EXPECT_EQ(partial.chains.top.at(key).filter, top.filter) << key;
  }
  EXPECT_NE(partial.text.find(":" + ServiceChain(m["a/s2"][0]) + " - [0:0]"), std::string::npos);
  EXPECT_EQ(partial.text.find(":" + ServiceChain(m["a/s0"][0]) + " "), std::string::npos);
  for (const std::string& c : gone_chains) EXPECT_NE(partial.text.find("-X " + c + "\n"), std::string::npos) << c;
  EXPECT_EQ(partial.filter_rules, full.filter_rules);
  EXPECT_EQ(Rules(partial.text, "KUBE-SERVICES"), Rules(full.text, "KUBE-SERVICES"));  // s3's line went: rewritten
}

TEST(IptablesRulesTest, LargeClustersDropEndpointComments) {
  ServiceMap m;
  std::vector<std::pair<std::string, int32_t>> eps;
  for (int i = 0; i < 1001; ++i) eps.emplace_back("10.42." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2), 80);
  m["ns/big"] = {Port("ns", "big", "", "10.43.0.80", 80, eps)};
  m["ns/big"][0].endpoints[0].local = true;  // with its hairpin rule first
  RulesText r = GenerateRules(m, {}, nullptr, {});
  const ServicePort& sp = m["ns/big"][0];
  const std::string sep = EndpointChain(sp, sp.endpoints[0]);
  ASSERT_EQ(Rules(r.text, sep).size(), 2u);
  EXPECT_EQ(Rules(r.text, sep)[0], "-A " + sep + " -s 10.42.0.2/32 -j KUBE-MARK-MASQ");
  EXPECT_EQ(Rules(r.text, sep)[1], "-A " + sep + " -m tcp -p tcp -j DNAT --to-destination 10.42.0.2:80");
  EXPECT_EQ(Rules(r.text, ServiceChain(sp)).back(), "-A " + ServiceChain(sp) + " -j " + EndpointChain(sp, sp.endpoints.back()));
  // The top-level rules keep theirs.
  EXPECT_NE(r.text.find("--comment \"ns/big cluster IP\""), std::string::npos);
}

TEST(ServiceInfoTest, BuildsPortsFromServiceAndSlices) {
  json::object svc = json::parse(R"({"metadata":{"name":"web","namespace":"default"},
    "spec":{"type":"LoadBalancer","clusterIP":"10.43.0.9","externalTrafficPolicy":"Local","sessionAffinity":"ClientIP",
            "ports":[{"name":"http","port":80,"nodePort":30001,"protocol":"TCP"},{"name":"dns","port":53,"protocol":"UDP"}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"10.99.0.1"},{"ip":"10.99.0.2","ipMode":"Proxy"}]}}})").as_object();
  json::object slice = json::parse(R"({"metadata":{"name":"web-abc","namespace":"default"},"addressType":"IPv4",
    "ports":[{"name":"http","port":8080,"protocol":"TCP"}],
    "endpoints":[{"addresses":["10.42.0.5"],"nodeName":"n1","conditions":{"ready":true}},
                 {"addresses":["10.42.0.6"],"nodeName":"n2","conditions":{"ready":false,"serving":true,"terminating":true}},
                 {"addresses":["10.42.0.5"],"nodeName":"n1"}]})").as_object();
  auto ports = BuildServicePorts(svc, {&slice}, "n1");
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].Name(), "default/web:http");
  EXPECT_EQ(ports[0].node_port, 30001);
  EXPECT_EQ(ports[0].load_balancer_ips, std::vector<std::string>{"10.99.0.1"});
  EXPECT_EQ(ports[0].affinity_seconds, 10800);
  EXPECT_TRUE(ports[0].external_local);
  ASSERT_EQ(ports[0].endpoints.size(), 2u);  // the duplicate address once
  EXPECT_TRUE(ports[0].endpoints[0].local);
  EXPECT_EQ(ports[0].endpoints[0].port, 8080);
  EXPECT_TRUE(ports[0].endpoints[1].terminating);
  EXPECT_TRUE(ports[1].endpoints.empty());  // no slice port named dns
  EXPECT_EQ(ports[1].protocol, "UDP");

  json::object headless = json::parse(R"({"metadata":{"name":"h","namespace":"d"},"spec":{"clusterIP":"None","ports":[{"port":80}]}})").as_object();
  EXPECT_TRUE(BuildServicePorts(headless, {}, "n1").empty());
  json::object external = json::parse(R"({"metadata":{"name":"x","namespace":"d"},"spec":{"type":"ExternalName","externalName":"example.com"}})").as_object();
  EXPECT_TRUE(BuildServicePorts(external, {}, "n1").empty());
}

// Dual-stack: each family gets the Service's cluster IP of that family and the endpoints of the
// slices of that family; a single-stack Service has no ports in the other.
TEST(ServiceInfoTest, EachFamilyItsOwnAddresses) {
  json::object svc = json::parse(R"({"metadata":{"name":"web","namespace":"default"},
    "spec":{"type":"LoadBalancer","clusterIP":"10.43.0.9","clusterIPs":["10.43.0.9","fd43::9"],
            "externalIPs":["192.0.2.1","2001:db8::1"],"loadBalancerSourceRanges":["198.51.100.0/24","2001:db8:1::/48"],
            "ports":[{"name":"http","port":80,"nodePort":30001,"protocol":"TCP"}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"10.99.0.1"},{"ip":"2001:db8::99"}]}}})").as_object();
  json::object v4 = json::parse(R"({"metadata":{"name":"web-a","namespace":"default"},"addressType":"IPv4",
    "ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[{"addresses":["10.42.0.5"]}]})").as_object();
  json::object v6 = json::parse(R"({"metadata":{"name":"web-b","namespace":"default"},"addressType":"IPv6",
    "ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[{"addresses":["fd42::5"]}]})").as_object();
  auto four = BuildServicePorts(svc, {&v4, &v6}, "n1");
  auto six = BuildServicePorts(svc, {&v4, &v6}, "n1", true);
  ASSERT_EQ(four.size(), 1u);
  ASSERT_EQ(six.size(), 1u);
  EXPECT_EQ(four[0].cluster_ip, "10.43.0.9");
  EXPECT_EQ(six[0].cluster_ip, "fd43::9");
  ASSERT_EQ(six[0].endpoints.size(), 1u);
  EXPECT_EQ(six[0].endpoints[0].String(), "[fd42::5]:8080");
  ASSERT_EQ(four[0].endpoints.size(), 1u);
  EXPECT_EQ(four[0].endpoints[0].String(), "10.42.0.5:8080");
  EXPECT_EQ(six[0].external_ips, std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(six[0].load_balancer_ips, std::vector<std::string>{"2001:db8::99"});
  EXPECT_EQ(six[0].source_ranges, std::vector<std::string>{"2001:db8:1::/48"});
  EXPECT_EQ(four[0].source_ranges, std::vector<std::string>{"198.51.100.0/24"});
  EXPECT_EQ(six[0].node_port, 30001);
  // Single-stack IPv4: nothing in IPv6; single-stack IPv6 (clusterIP only): nothing in IPv4.
  json::object only4 = json::parse(R"({"metadata":{"name":"a","namespace":"d"},"spec":{"clusterIP":"10.43.0.2","ports":[{"port":80}]}})").as_object();
  EXPECT_TRUE(BuildServicePorts(only4, {}, "n1", true).empty());
  json::object only6 = json::parse(R"({"metadata":{"name":"b","namespace":"d"},"spec":{"clusterIP":"fd43::2","ports":[{"port":80}]}})").as_object();
  EXPECT_TRUE(BuildServicePorts(only6, {}, "n1").empty());
  EXPECT_EQ(BuildServicePorts(only6, {}, "n1", true).size(), 1u);
}

TEST(ConntrackTest, StaleUdpFlows) {
  ServiceMap before, after;
  ServicePort dns = Port("kube-system", "dns", "dns", "10.43.0.10", 53, {{"10.42.0.2", 53}, {"10.42.0.3", 53}});
  dns.protocol = "UDP";
  before["kube-system/dns"] = {dns};
  dns.endpoints.pop_back();
  after["kube-system/dns"] = {dns};
  auto cmds = StaleConntrackCommands(before, after);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], (std::vector<std::string>{"conntrack", "-D", "--orig-dst", "10.43.0.10", "--dst-nat", "10.42.0.3", "-p", "udp"}));
  // From no endpoints to one: every flow to the cluster IP.
  ServicePort empty = dns;
  empty.endpoints.clear();
  before["kube-system/dns"] = {empty};
  cmds = StaleConntrackCommands(before, after);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], (std::vector<std::string>{"conntrack", "-D", "--orig-dst", "10.43.0.10", "-p", "udp"}));
  // IPv6 ports: the same commands for the family (conntrack's default is IPv4).
  ServicePort dns6 = Port("kube-system", "dns", "dns", "fd43::10", 53, {{"fd42::2", 53}, {"fd42::3", 53}});
  dns6.protocol = "UDP";
  dns6.node_port = 30053;
  ServiceMap before6 = {{"kube-system/dns", {dns6}}};
  dns6.endpoints.pop_back();
  ServiceMap after6 = {{"kube-system/dns", {dns6}}};
  cmds = StaleConntrackCommands(before6, after6, true);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0], (std::vector<std::string>{"conntrack", "-D", "-f", "ipv6", "--orig-dst", "fd43::10", "--dst-nat", "fd42::3",
                                               "-p", "udp"}));
  EXPECT_EQ(cmds[1], (std::vector<std::string>{"conntrack", "-D", "-f", "ipv6", "-p", "udp", "--dport", "30053", "--dst-nat",
                                               "fd42::3"}));
  // TCP never.
  ServicePort web = Port("d", "web", "", "10.43.0.11", 80, {{"10.42.0.2", 80}});
  before = {{"d/web", {web}}};
  after = {};
  EXPECT_TRUE(StaleConntrackCommands(before, after).empty());
}

// The nft backend's batches: whole Services' chains, the fixed chains in the first, the
// top-level chains and deletions in the final text; the same rules as one batch would hold.
TEST(IptablesRulesTest, BatchesHoldWholeServices) {
  ServiceMap m;
  for (int i = 0; i < 5; ++i) {
    const std::string n = "s" + std::to_string(i);
    m["a/" + n] = {Port("a", n, "", "10.43.2." + std::to_string(i + 1), 80,
                        {{"10.42.1." + std::to_string(i + 1), 80}, {"10.42.2." + std::to_string(i + 1), 80}})};
  }
  ChainState before;
  before.orphans = {"KUBE-SEP-LEFTBYAHAND000"};
  RulesText one = GenerateRules(m, {}, nullptr, before);
  RulesText b = GenerateRules(m, {}, nullptr, before, 5);  // 3 chains a Service: 2 Services a batch
  EXPECT_TRUE(one.batches.empty());
  ASSERT_EQ(b.batches.size(), 3u);
  EXPECT_NE(b.batches[0].find(":KUBE-MARK-MASQ - [0:0]\n"), std::string::npos);
  EXPECT_NE(b.batches[0].find("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"), std::string::npos);
  EXPECT_EQ(b.batches[1].find("KUBE-MARK-MASQ - [0:0]"), std::string::npos);
  // Per-service rules (KUBE-SVC-, KUBE-SEP-).
  auto service_rules = [](const std::string& text) {
    size_t n = 0;
    for (size_t at = text.find("\n-A KUBE-S"); at != std::string::npos; at = text.find("\n-A KUBE-S", at + 1)) {
      if (text.compare(at + 4, 9, "KUBE-SVC-") == 0 || text.compare(at + 4, 9, "KUBE-SEP-") == 0) ++n;
    }
    return n;
  };
  size_t rules = 0;
  for (const std::string& batch : b.batches) {
    EXPECT_EQ(batch.rfind("*nat\n", 0), 0u);
    EXPECT_EQ(batch.find("KUBE-SERVICES"), std::string::npos);
    EXPECT_EQ(batch.substr(batch.size() - 7), "COMMIT\n");
    rules += service_rules(batch);
  }
  EXPECT_EQ(rules, service_rules(one.text));
  EXPECT_EQ(rules, 5u * (2 + 2));  // 2 picks and 2 DNATs each (no cluster CIDR; remote endpoints: no hairpin)
  for (const auto& [key, ports] : m) {
    // A Service's chains are all in one batch.
    const std::string svc = ServiceChain(ports[0]);
    int found = 0;
    for (const std::string& batch : b.batches) {
      if (batch.find(":" + svc + " ") == std::string::npos) continue;
      ++found;
      for (const Endpoint& e : ports[0].endpoints) EXPECT_NE(batch.find(":" + EndpointChain(ports[0], e) + " "), std::string::npos);
    }
    EXPECT_EQ(found, 1) << key;
    EXPECT_EQ(b.text.find(":" + svc + " "), std::string::npos);
  }
  // The final text: the top-level chains (not the fixed ones again) and the deletions.
  EXPECT_NE(b.text.find(":KUBE-SERVICES - [0:0]\n"), std::string::npos);
  EXPECT_EQ(b.text.find("KUBE-MARK-MASQ - [0:0]"), std::string::npos);
  EXPECT_EQ(b.text.find("-A KUBE-MARK-MASQ"), std::string::npos);
  EXPECT_EQ(Rules(b.text, "KUBE-SERVICES"), Rules(one.text, "KUBE-SERVICES"));
  EXPECT_NE(b.text.find("-X KUBE-SEP-LEFTBYAHAND000\n"), std::string::npos);
  EXPECT_EQ(b.chains.by_service, one.chains.by_service);
}

}  // namespace
}  // namespace kite::proxy
