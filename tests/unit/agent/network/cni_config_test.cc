// The node's CNI conflist: what each plugin gets, the per-data-dir bridge name, bad CIDRs, and
// writing only when the content changed.
#include "agent/network/cni_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>

namespace kite::network {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

TEST(CniConfig, BridgeHostLocalAndPortmapOnThePodCidr) {
  auto text = CniConflist({.data_dir = "/var/lib/kite", .pod_cidr = "10.42.3.0/24"});
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  json::value v = json::parse(*text);
  EXPECT_EQ(v.at("cniVersion"), "1.0.0");
  auto& plugins = v.at("plugins").as_array();
  ASSERT_EQ(plugins.size(), 2u);
  auto& bridge = plugins[0].as_object();
  EXPECT_EQ(bridge.at("type"), "bridge");
  EXPECT_EQ(bridge.at("bridge"), json::value(CniBridgeName("/var/lib/kite")));
  EXPECT_EQ(bridge.at("isGateway"), true);
  EXPECT_EQ(bridge.at("ipMasq"), true);
  EXPECT_EQ(bridge.at("hairpinMode"), true);
  auto& ipam = bridge.at("ipam").as_object();
  EXPECT_EQ(ipam.at("type"), "host-local");
  EXPECT_EQ(ipam.at("ranges").at(0).at(0).at("subnet"), "10.42.3.0/24");
  EXPECT_EQ(ipam.at("routes").at(0).at("dst"), "0.0.0.0/0");
  EXPECT_EQ(ipam.at("dataDir"), "/var/lib/kite/agent/cni/networks");
  EXPECT_EQ(plugins[1].at("type"), "portmap");
  EXPECT_EQ(plugins[1].at("capabilities").at("portMappings"), true);

  auto v6 = CniConflist({.data_dir = "/d", .pod_cidr = "fd00:10:42::/64"});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(json::parse(*v6).at("plugins").at(0).at("ipam").at("routes").at(0).at("dst"), "::/0");
}

TEST(CniConfig, BridgeNameIsShortAndUniquePerDataDir) {
  const std::string a = CniBridgeName("/var/lib/kite"), b = CniBridgeName("/tmp/node2");
  EXPECT_NE(a, b);
  EXPECT_LE(a.size(), 15u);  // IFNAMSIZ - 1
  EXPECT_EQ(a, CniBridgeName("/var/lib/kite/"));  // the same dir, however spelt
  EXPECT_TRUE(a.starts_with("kite"));
}

TEST(CniConfig, RejectsWhatIsNotACidr) {
  for (const char* bad : {"", "10.42.0.0", "10.42.0.0/33", "10.42.0/24", "10.42.0.0/x", "fd00::/129", "10.0.0.0/24 "}) {
    auto r = CniConflist({.data_dir = "/d", .pod_cidr = bad});
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(CniConfig, WrittenOnlyWhenChanged) {
  char tmpl[] = "/tmp/kite-cni-config-test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  CniConfigOptions o{.data_dir = dir, .pod_cidr = "10.42.0.0/24"};
  EXPECT_EQ(CniConfigPath(o), dir + "/agent/etc/cni/net.d/10-kite.conflist");
  auto first = WriteCniConfig(o);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_TRUE(*first);
  struct stat st1{};
  ASSERT_EQ(stat(CniConfigPath(o).c_str(), &st1), 0);
  auto again = WriteCniConfig(o);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  struct stat st2{};
  ASSERT_EQ(stat(CniConfigPath(o).c_str(), &st2), 0);
  EXPECT_EQ(st1.st_ino, st2.st_ino);  // not replaced
  o.pod_cidr = "10.42.1.0/24";
  auto changed = WriteCniConfig(o);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(fs::directory_iterator(dir + "/agent/etc/cni/net.d")->path().filename(), "10-kite.conflist");  // no .tmp left
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kite::network
