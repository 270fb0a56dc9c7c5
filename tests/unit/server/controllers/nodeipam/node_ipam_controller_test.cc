// The node IPAM controller: CIDR arithmetic, and its Reconcile over the fake API (the lowest free
// /24 of the cluster CIDR, nodes keep theirs, foreign CIDRs are left alone, a full range and its
// event on the controller's clock).
#include "server/controllers/nodeipam/node_ipam_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
namespace json = boost::json;

TEST(NodeIpamTest, CidrArithmetic) {
  auto c = ParseIpv4Cidr("10.42.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(FormatIpv4Cidr(*nodeipam::Subnet(*c, 24, 0)), "10.42.0.0/24");
  EXPECT_EQ(FormatIpv4Cidr(*nodeipam::Subnet(*c, 24, 255)), "10.42.255.0/24");
  EXPECT_FALSE(nodeipam::Subnet(*c, 24, 256).has_value());
  EXPECT_EQ(nodeipam::SubnetIndex(*c, 24, *ParseIpv4Cidr("10.42.7.0/24")), 7u);
  EXPECT_FALSE(nodeipam::SubnetIndex(*c, 24, *ParseIpv4Cidr("10.64.0.0/24")).has_value());
  EXPECT_FALSE(nodeipam::SubnetIndex(*c, 24, *ParseIpv4Cidr("10.42.0.0/25")).has_value());
  EXPECT_FALSE(ParseIpv4Cidr("10.42.0.1/16").ok());  // host bits
  EXPECT_FALSE(ParseIpv4Cidr("10.42.0.0").ok());
  EXPECT_FALSE(ParseIpv4Cidr("10.42.0.0/33").ok());
  EXPECT_FALSE(ParseIpv4Cidr("fd00::/64").ok());
  EXPECT_TRUE(CheckClusterCidr("10.42.0.0/16", 24).ok());
  EXPECT_FALSE(CheckClusterCidr("10.42.0.0/16", 16).ok());
  EXPECT_FALSE(CheckClusterCidr("10.42.0.0/16", 31).ok());
}

json::object NodeObj(const std::string& name, const std::string& cidr = "") {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{},"spec":{}})");
  n["metadata"].as_object()["name"] = name;
  if (!cidr.empty()) n["spec"].as_object()["podCIDR"] = cidr;
  return n;
}

class NodeIpamReconcileTest : public ControllerTest {
 protected:
  const api::ResourceInfo& Nodes() { return *api::FindResource("", "v1", "nodes"); }
  std::string Cidr(const std::string& node) { return api::GetString(Stored(Nodes(), "", node), {"spec", "podCIDR"}); }
};

TEST_F(NodeIpamReconcileTest, GivesTheLowestFreeSubnetAndLeavesOthersAlone) {
  Seed(NodeObj("has", "10.42.0.0/24"));
  Seed(NodeObj("hollow", "10.64.0.0/24"));  // brought its own, outside the range
  Seed(NodeObj("a"));
  Seed(NodeObj("b"));
  ASSERT_NO_FATAL_FAILURE(Start(std::move(NewNodeIpamController(client(), "10.42.0.0/16", 24, &clock_).value())));
  ASSERT_TRUE(Reconcile("a").ok());
  ASSERT_TRUE(Reconcile("b").ok());  // before the cache shows a's: still not the same subnet
  Settle();
  EXPECT_EQ(Cidr("a"), "10.42.1.0/24");
  EXPECT_EQ(Cidr("b"), "10.42.2.0/24");
  EXPECT_EQ(api::GetArray(Stored(Nodes(), "", "a"), {"spec", "podCIDRs"}).size(), 1u);
  EXPECT_EQ(Cidr("hollow"), "10.64.0.0/24");
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("has").ok());
  ASSERT_TRUE(Reconcile("a").ok());
  Settle();
  EXPECT_TRUE(fake().Actions().empty());  // nothing to change
}

TEST_F(NodeIpamReconcileTest, AFullRangeLeavesTheNodeWithout) {
  Seed(NodeObj("x", "10.42.0.0/24"));
  Seed(NodeObj("y", "10.42.0.128/25"));  // not a /24: not ours to count, but x fills the /23's first half
  Seed(NodeObj("z"));
  ASSERT_NO_FATAL_FAILURE(Start(std::move(NewNodeIpamController(client(), "10.42.0.0/23", 24, &clock_).value())));
  ASSERT_TRUE(Reconcile("z").ok());
  Settle();
  EXPECT_EQ(Cidr("z"), "10.42.1.0/24");
  Seed(NodeObj("w"));
  Settle();
  clock_.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(Reconcile("w").ok());
  Settle();
  EXPECT_EQ(Cidr("w"), "");
  // The event says so, stamped by the controller's clock (the FakeClock's start + 5 min).
  EXPECT_EQ(EventReasons(), std::vector<std::string>{"CIDRNotAvailable"});
  for (const auto& a : fake().Writes()) {
    if (a.resource != "events") continue;
    EXPECT_EQ(api::GetString(a.body.as_object(), "firstTimestamp"), "2026-01-01T00:05:00Z");
    EXPECT_EQ(api::GetString(a.body.as_object(), "lastTimestamp"), "2026-01-01T00:05:00Z");
  }
}

}  // namespace
}  // namespace kite::controllers
