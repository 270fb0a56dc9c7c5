// The Service network: the flags' ranges, the addresses they name, and how free values are
// picked (above the static band first, as upstream's allocators).
#include "server/apiserver/service_network.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include <boost/json.hpp>

namespace kite::apiserver {
namespace {

TEST(ServiceNetworkTest, DefaultsAreK3ss) {
  ServiceNetwork n;
  EXPECT_EQ(n.Cidr(), "10.43.0.0/16");
  EXPECT_EQ(n.KubernetesServiceIp(), "10.43.0.1");
  EXPECT_EQ(n.ClusterDnsIp(), "10.43.0.10");
  EXPECT_EQ(n.node_ports.String(), "30000-32767");
}

TEST(ServiceNetworkTest, ParsesTheFlags) {
  auto n = ParseServiceNetwork("10.96.0.0/12", "31000-31099");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->KubernetesServiceIp(), "10.96.0.1");
  EXPECT_EQ(n->ClusterDnsIp(), "10.96.0.10");
  EXPECT_EQ(n->node_ports.first, 31000);
  auto dual = ParseServiceNetwork("fd00:43::/112,10.43.0.0/16", "30000-32767");
  ASSERT_TRUE(dual.ok());
  EXPECT_EQ(dual->Cidr(), "10.43.0.0/16");
  EXPECT_EQ(ParseServiceNetwork("10.0.0.0/8", "30000-32767").status().message(),
            "--service-cidr: 10.0.0.0/8 must be /12 (kube-apiserver's largest) to /28 (room for the cluster DNS address)");
  EXPECT_FALSE(ParseServiceNetwork("10.43.0.0/29", "30000-32767").ok());
  EXPECT_FALSE(ParseServiceNetwork("fd00:43::/112", "30000-32767").ok());
  EXPECT_FALSE(ParseServiceNetwork("10.43.0.1/16", "30000-32767").ok());
  auto bad_ports = ParseServiceNetwork("10.43.0.0/16", "32767-30000");
  ASSERT_FALSE(bad_ports.ok());
  EXPECT_EQ(bad_ports.status().message().rfind("--service-node-port-range: ", 0), 0u) << bad_ports.status().message();
}

TEST(ServiceNetworkTest, ServiceIpsExcludeNetworkAndBroadcast) {
  ServiceNetwork n;
  EXPECT_TRUE(n.IsServiceIp("10.43.0.1"));
  EXPECT_TRUE(n.IsServiceIp("10.43.255.254"));
  EXPECT_FALSE(n.IsServiceIp("10.43.0.0"));
  EXPECT_FALSE(n.IsServiceIp("10.43.255.255"));
  EXPECT_FALSE(n.IsServiceIp("10.44.0.1"));
  EXPECT_FALSE(n.IsServiceIp("fd00::1"));
  EXPECT_FALSE(n.IsServiceIp("web"));
}

TEST(ServiceNetworkTest, StaticBandAsUpstream) {
  EXPECT_EQ(StaticBand(65534, 16, 256, 16), 256u);  // a /16: capped
  EXPECT_EQ(StaticBand(254, 16, 256, 16), 16u);     // a /24: the floor
  EXPECT_EQ(StaticBand(1022, 16, 256, 16), 63u);    // a /22: range/16
  EXPECT_EQ(StaticBand(14, 16, 256, 16), 0u);       // a /28: too small for a band
  EXPECT_EQ(StaticBand(2768, 16, 128, 32), 86u);    // node ports 30000-32767
}

TEST(ServiceNetworkTest, DynamicPicksStayAboveTheBandUntilItIsFull) {
  auto n = ParseServiceNetwork("10.43.0.0/24", "30000-30099");
  ASSERT_TRUE(n.ok());
  std::mt19937 rng(7);
  std::set<std::string> ips;
  // 254 usable addresses, a band of 16 (10.43.0.1-.16): the first 238 picks are above it.
  for (int i = 0; i < 238; ++i) {
    const std::string ip = n->PickClusterIp([&](const std::string& a) { return ips.count(a) > 0; }, rng);
    ASSERT_FALSE(ip.empty());
    const int last = std::stoi(ip.substr(ip.rfind('.') + 1));
    EXPECT_GT(last, 16) << ip;
    EXPECT_TRUE(n->IsServiceIp(ip));
    EXPECT_TRUE(ips.insert(ip).second) << ip;
  }
  // Then the band, down to the last free address; then nothing.
  for (int i = 0; i < 16; ++i) {
    const std::string ip = n->PickClusterIp([&](const std::string& a) { return ips.count(a) > 0; }, rng);
    ASSERT_FALSE(ip.empty());
    EXPECT_TRUE(ips.insert(ip).second) << ip;
  }
  EXPECT_EQ(n->PickClusterIp([&](const std::string& a) { return ips.count(a) > 0; }, rng), "");

  std::set<int64_t> ports;
  for (int i = 0; i < 100; ++i) {
    const int64_t p = n->PickNodePort([&](int64_t x) { return ports.count(x) > 0; }, rng);
    ASSERT_NE(p, 0);
    if (i < 84) {
      EXPECT_GE(p, 30016) << p;  // a band of 16 of 100 ports
    }
    EXPECT_TRUE(n->node_ports.Contains(p));
    EXPECT_TRUE(ports.insert(p).second);
  }
  EXPECT_EQ(n->PickNodePort([&](int64_t x) { return ports.count(x) > 0; }, rng), 0);
}

TEST(ServiceNetworkTest, WhichSpecsHaveNodePorts) {
  namespace json = boost::json;
  const json::object node_port{{"type", "NodePort"}, {"ports", json::array{json::object{{"port", 80}, {"nodePort", 30001}},
                                                                          json::object{{"port", 81}}}}};
  EXPECT_TRUE(NeedsNodePorts(&node_port));
  EXPECT_EQ(NodePortsOf(&node_port), (std::vector<int64_t>{30001, 0}));
  const json::object lb{{"type", "LoadBalancer"}};
  EXPECT_TRUE(NeedsNodePorts(&lb));
  const json::object lb_without{{"type", "LoadBalancer"}, {"allocateLoadBalancerNodePorts", false}};
  EXPECT_FALSE(NeedsNodePorts(&lb_without));
  const json::object cluster_ip{{"type", "ClusterIP"}, {"ports", "not a list"}};
  EXPECT_FALSE(NeedsNodePorts(&cluster_ip));
  EXPECT_TRUE(NodePortsOf(&cluster_ip).empty());
  EXPECT_FALSE(NeedsNodePorts(nullptr));
  EXPECT_TRUE(NodePortsOf(nullptr).empty());
}

// What an allocation handed out and has not stored yet counts as taken for every other request
// of another Service, until its Hold is gone.
TEST(ServiceAddressHoldsTest, HeldAddressesAreTakenForOtherServicesUntilReleased) {
  namespace json = boost::json;
  ServiceAddressHolds holds;
  const json::object spec{{"type", "LoadBalancer"},
                          {"clusterIPs", json::array{"10.43.0.50"}},
                          {"ports", json::array{json::object{{"nodePort", 30001}}, json::object{{"port", 80}}}},
                          {"healthCheckNodePort", 30002}};
  std::set<std::string> ips;
  std::set<int64_t> ports;
  {
    ServiceAddressHolds::Hold a(&holds);
    {
      auto lock = holds.Lock();
      holds.Keep(&a, "default/web", spec);
    }
    EXPECT_EQ(holds.size(), 1u);
    ServiceAddressHolds::Hold b(&holds);
    {
      auto lock = holds.Lock();
      holds.AddTaken(&b, "default/other", ips, ports);
    }
    EXPECT_EQ(ips, (std::set<std::string>{"10.43.0.50"}));
    EXPECT_EQ(ports, (std::set<int64_t>{30001, 30002}));
    // A create by generateName (no name yet) is another Service too.
    ips.clear();
    ports.clear();
    {
      auto lock = holds.Lock();
      holds.AddTaken(&b, "", ips, ports);
    }
    EXPECT_EQ(ips.size(), 1u);
    // The same Service (a concurrent write of it, its status say) keeps its own addresses; and a
    // request never counts its own hold.
    ips.clear();
    ports.clear();
    {
      auto lock = holds.Lock();
      holds.AddTaken(&b, "default/web", ips, ports);
      holds.AddTaken(&a, "", ips, ports);
    }
    EXPECT_TRUE(ips.empty());
    EXPECT_TRUE(ports.empty());
    // Keep again replaces what the hold had ("None": a headless Service holds no address).
    {
      auto lock = holds.Lock();
      holds.Keep(&a, "default/web", json::object{{"clusterIPs", json::array{"None"}}});
      holds.AddTaken(&b, "default/other", ips, ports);
    }
    EXPECT_TRUE(ips.empty());
  }
  // Both holds gone (their writes returned): nothing is held.
  EXPECT_EQ(holds.size(), 0u);
}

}  // namespace
}  // namespace kite::apiserver
