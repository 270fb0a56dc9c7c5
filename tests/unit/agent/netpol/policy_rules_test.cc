// NetworkPolicies → filter rules (agent/netpol/policy_rules.h): which of this node's pods get
// chains, what each rule allows (pod and namespace selectors, ipBlock with except, ports by
// number, range and name), egress, and the deletion of chains no longer wanted.
#include "agent/netpol/policy_rules.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "agent/proxy/iptables_rules.h"

namespace kite::netpol {
namespace {

namespace json = boost::json;

json::object Pod(const std::string& ns, const std::string& name, const std::string& ip, const std::string& node,
                 const std::string& labels_json, const std::string& ports_json = "[]") {
  return json::parse(R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name + R"(","labels":)" + labels_json +
                     R"(},"spec":{"nodeName":")" + node + R"(","containers":[{"name":"c","ports":)" + ports_json +
                     R"(}]},"status":{"phase":"Running","podIP":")" + ip + R"("}})")
      .as_object();
}

json::object Ns(const std::string& name, const std::string& labels_json) {
  return json::parse(R"({"metadata":{"name":")" + name + R"(","labels":)" + labels_json + "}}").as_object();
}

json::object Policy(const std::string& ns, const std::string& spec_json) {
  return json::parse(R"({"metadata":{"namespace":")" + ns + R"(","name":"p"},"spec":)" + spec_json + "}").as_object();
}

struct World {
  std::vector<json::object> policies, pods, namespaces;
  NetpolRules Rules(const std::set<std::string>& stale = {}) const {
    ClusterState s;
    for (const auto& p : policies) s.policies.push_back(&p);
    for (const auto& p : pods) s.pods.push_back(&p);
    for (const auto& n : namespaces) s.namespaces.push_back(&n);
    return GenerateNetpolRules(s, "n1", stale);
  }
};

World Base() {
  World w;
  w.namespaces = {Ns("default", R"({"kubernetes.io/metadata.name":"default"})"),
                  Ns("other", R"({"kubernetes.io/metadata.name":"other","team":"blue"})")};
  w.pods = {Pod("default", "web", "10.42.0.5", "n1", R"({"app":"web"})", R"([{"name":"http","containerPort":8080}])"),
            Pod("default", "client", "10.42.1.6", "n2", R"({"app":"client"})"),
            Pod("other", "tool", "10.42.1.7", "n2", R"({"app":"client"})"),
            Pod("default", "db", "10.42.0.8", "n1", R"({"app":"db"})")};
  return w;
}

const std::string kIn = proxy::HashName("KUBE-POD-IN-", "default/web");
const std::string kEg = proxy::HashName("KUBE-POD-EG-", "default/web");
const std::string kAllow = " -j MARK --set-xmark 0x10000/0x10000\n";

bool Has(const NetpolRules& r, const std::string& line) { return r.text.find(line) != std::string::npos; }

TEST(NetpolRulesTest, NoPolicyNoPodChain) {
  NetpolRules r = Base().Rules();
  EXPECT_EQ(r.isolated_pods, 0u);
  EXPECT_EQ(r.chains, std::set<std::string>{"KUBE-ROUTER-FORWARD"});
  EXPECT_TRUE(Has(r, "*filter\n:KUBE-ROUTER-FORWARD - [0:0]\n"));
  EXPECT_TRUE(Has(r, "-A KUBE-ROUTER-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED"));
  EXPECT_TRUE(Has(r, "COMMIT\n"));
}

TEST(NetpolRulesTest, DenyAllIngressSelectsEveryLocalPodOfTheNamespace) {
  World w = Base();
  w.policies = {Policy("default", R"({"podSelector":{},"policyTypes":["Ingress"]})")};
  NetpolRules r = w.Rules();
  EXPECT_EQ(r.isolated_pods, 2u);  // web and db are on n1; client is not
  EXPECT_TRUE(Has(r, "-A KUBE-ROUTER-FORWARD -d 10.42.0.5/32 -m comment --comment \"default/web ingress\" -j " + kIn + "\n"));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -j MARK --set-xmark 0x0/0x10000\n"));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -m mark ! --mark 0x10000/0x10000 -m comment --comment \"default/web: no policy allows it\" -j DROP\n"));
  EXPECT_FALSE(Has(r, kAllow));
  EXPECT_FALSE(Has(r, "10.42.1.6/32 -m comment"));  // no chain for the remote pod
  EXPECT_FALSE(Has(r, "KUBE-POD-EG-"));
}

TEST(NetpolRulesTest, PodAndNamespaceSelectorsAndPorts) {
  World w = Base();
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[
      {"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],"ports":[{"port":80},{"protocol":"UDP","port":53}]},
      {"from":[{"namespaceSelector":{"matchLabels":{"team":"blue"}},"podSelector":{"matchLabels":{"app":"client"}}}],
       "ports":[{"port":"http"},{"port":"nope"},{"port":9000,"endPort":9010}]}]})")};
  NetpolRules r = w.Rules();
  EXPECT_EQ(r.isolated_pods, 1u);
  // podSelector alone: the policy's namespace only (client, not other/tool).
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.42.1.6/32 -p tcp -m tcp --dport 80" + kAllow));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.42.1.6/32 -p udp -m udp --dport 53" + kAllow));
  // Both selectors: pods of matching namespaces (other/tool); a named port resolves on web.
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.42.1.7/32 -p tcp -m tcp --dport 8080" + kAllow));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.42.1.7/32 -p tcp -m tcp --dport 9000:9010" + kAllow));
  EXPECT_FALSE(Has(r, "-s 10.42.1.6/32 -p tcp -m tcp --dport 8080"));
  EXPECT_FALSE(Has(r, "-s 10.42.1.7/32 -p tcp -m tcp --dport 80 "));
}

TEST(NetpolRulesTest, NamespaceSelectorAloneAndAnyPeer) {
  World w = Base();
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"db"}},"ingress":[
      {"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"default"}}}]},
      {"ports":[{"port":5432}]}]})")};
  NetpolRules r = w.Rules();
  const std::string in = proxy::HashName("KUBE-POD-IN-", "default/db");
  EXPECT_TRUE(Has(r, "-A " + in + " -s 10.42.1.6/32" + kAllow));   // every port
  EXPECT_TRUE(Has(r, "-A " + in + " -s 10.42.0.5/32" + kAllow));
  EXPECT_FALSE(Has(r, "-A " + in + " -s 10.42.1.7/32"));            // namespace other
  EXPECT_TRUE(Has(r, "-A " + in + " -p tcp -m tcp --dport 5432" + kAllow));  // from anyone
}

TEST(NetpolRulesTest, IpBlockWithExcept) {
  World w = Base();
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[
      {"from":[{"ipBlock":{"cidr":"192.0.2.0/24"}},{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.42.0.0/16"]}}]}]})")};
  NetpolRules r = w.Rules();
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 192.0.2.0/24" + kAllow));
  const std::string ipb = proxy::HashName("KUBE-IPB-", " -s 10.0.0.0/8,10.42.0.0/16");
  EXPECT_TRUE(r.chains.count(ipb));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.0.0.0/8 -j " + ipb + "\n"));
  EXPECT_TRUE(Has(r, "-A " + ipb + " -s 10.42.0.0/16 -j RETURN\n-A " + ipb + kAllow));
}

TEST(NetpolRulesTest, EgressRulesMakeAnEgressChain) {
  World w = Base();
  // No policyTypes: Ingress, and Egress because there are egress rules.
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"web"}},"egress":[
      {"to":[{"podSelector":{"matchLabels":{"app":"db"}}}],"ports":[{"port":5432}]},
      {"ports":[{"protocol":"UDP","port":53}]}]})")};
  NetpolRules r = w.Rules();
  EXPECT_TRUE(Has(r, "-A KUBE-ROUTER-FORWARD -s 10.42.0.5/32 -m comment --comment \"default/web egress\" -j " + kEg + "\n"));
  EXPECT_TRUE(Has(r, "-A " + kEg + " -d 10.42.0.8/32 -p tcp -m tcp --dport 5432" + kAllow));
  EXPECT_TRUE(Has(r, "-A " + kEg + " -p udp -m udp --dport 53" + kAllow));
  EXPECT_TRUE(Has(r, "-j " + kIn + "\n"));  // and ingress: nothing allowed
}

TEST(NetpolRulesTest, FinishedAndHostNetworkPodsAreNoPeersAndGetNoChain) {
  World w = Base();
  w.pods[1].at("status").as_object()["phase"] = "Succeeded";
  w.pods[3].at("spec").as_object()["hostNetwork"] = true;
  w.policies = {Policy("default", R"({"podSelector":{},"ingress":[{"from":[{"podSelector":{}}]}]})")};
  NetpolRules r = w.Rules();
  EXPECT_EQ(r.isolated_pods, 1u);  // web only
  EXPECT_FALSE(Has(r, "10.42.1.6/32"));
  EXPECT_FALSE(Has(r, "10.42.0.8/32"));
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 10.42.0.5/32" + kAllow));
}

TEST(NetpolRulesTest, StaleChainsAreFlushedAndDeleted) {
  World w = Base();
  const std::string old = proxy::HashName("KUBE-POD-IN-", "default/gone");
  NetpolRules r = w.Rules({old, "KUBE-ROUTER-FORWARD"});
  EXPECT_TRUE(Has(r, ":" + old + " - [0:0]\n"));
  EXPECT_TRUE(Has(r, "-X " + old + "\nCOMMIT\n"));
  EXPECT_FALSE(Has(r, "-X KUBE-ROUTER-FORWARD"));
  EXPECT_TRUE(IsNetpolChain(old));
  EXPECT_FALSE(IsNetpolChain("KUBE-SERVICES"));
}

TEST(NetpolRulesTest, OnlyAddressesAndKnownProtocolsReachTheText) {
  World w = Base();
  w.pods.push_back(Pod("default", "odd", "10.42.0.9 -j ACCEPT", "n1", R"({"app":"client"})"));
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[
      {"from":[{"ipBlock":{"cidr":"10.0.0.0/8 -j ACCEPT"}},{"ipBlock":{"cidr":"192.0.2.77/24"}},
               {"ipBlock":{"cidr":"fd00::/8"}},{"ipBlock":{"cidr":"10.0.0.0/33"}}]},
      {"ports":[{"protocol":"TCP -j ACCEPT","port":80},{"protocol":"ICMP"},{"port":"99999"},{"port":0}]}]})")};
  NetpolRules r = w.Rules();
  EXPECT_EQ(r.text.find("ACCEPT"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("fd00"), std::string::npos);
  EXPECT_EQ(r.text.find("/33"), std::string::npos);
  EXPECT_TRUE(Has(r, "-A " + kIn + " -s 192.0.2.0/24" + kAllow));  // host bits cleared
  EXPECT_FALSE(Has(r, "-p icmp"));
  EXPECT_FALSE(Has(r, "--dport 99999"));
}

TEST(NetpolRulesTest, ExpansionIsBoundedAndFailsClosed) {
  World w = Base();
  std::string ports = "[";
  for (int i = 1; i <= 12000; ++i) ports += (i > 1 ? "," : "") + std::string(R"({"port":)") + std::to_string(i) + "}";
  ports += "]";
  w.policies = {Policy("default", R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[{"ports":)" + ports + "}]}")};
  NetpolRules r = w.Rules();
  size_t allows = 0;
  for (size_t at = r.text.find(kAllow); at != std::string::npos; at = r.text.find(kAllow, at + 1)) ++allows;
  EXPECT_EQ(allows, kMaxAllowRulesPerChain);
  ASSERT_EQ(r.truncated.size(), 1u);
  EXPECT_EQ(r.truncated[0], "default/web ingress");
  EXPECT_TRUE(Has(r, "-j DROP\n"));  // what was cut off is dropped
}

}  // namespace
}  // namespace kite::netpol
