// The proxier over the fake API with a recording exec: a full sync first (restore, then the
// jumps), partial syncs after a change (only that Service's chains), full again when a restore
// failed, and /healthz.
#include "agent/proxy/proxier.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <mutex>

#include "client/client.h"
#include "client/informer.h"
#include "client/testing/fake_transport.h"

namespace kite::proxy {
namespace {

namespace json = boost::json;

struct Recorder {
  std::mutex mu;
  std::vector<std::pair<std::vector<std::string>, std::string>> calls;
  bool fail_restore = false;
  std::string nft_chains;  // what `nft list chains ip` answers
  Result<std::string> operator()(const std::vector<std::string>& argv, const std::string& input) {
    std::lock_guard<std::mutex> lock(mu);
    calls.emplace_back(argv, input);
    if (argv[0].find("-restore") != std::string::npos && fail_restore) return Status(Code::kUnknown, "boom");
    if (argv[0].find("-save") != std::string::npos) return std::string("*nat\n:KUBE-SEP-STALEFROMBEFORE - [0:0]\nCOMMIT\n");
    if (argv == std::vector<std::string>{"nft", "list", "chains", "ip"}) return nft_chains;
    if (std::find(argv.begin(), argv.end(), "-C") != argv.end()) return Status(Code::kUnknown, "no rule");
    return std::string();
  }
  std::vector<std::string> Restores() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (auto& [argv, input] : calls) {
      if (argv[0].find("-restore") != std::string::npos) out.push_back(input);
    }
    return out;
  }
};

json::object Svc(const std::string& name, const std::string& ip) {
  json::object o = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default"},
    "spec":{"type":"ClusterIP","ports":[{"port":80,"protocol":"TCP"}]}})").as_object();
  o["metadata"].as_object()["name"] = name;
  o["spec"].as_object()["clusterIP"] = ip;
  return o;
}

json::object Slice(const std::string& svc, std::vector<std::string> ips) {
  json::object o = json::parse(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4",
    "metadata":{"namespace":"default","labels":{}},"ports":[{"name":"","port":8080,"protocol":"TCP"}],"endpoints":[]})")
                       .as_object();
  o["metadata"].as_object()["name"] = svc + "-x";
  o["metadata"].as_object()["labels"].as_object()["kubernetes.io/service-name"] = svc;
  for (const std::string& ip : ips) {
    // On node n1 (the proxier's node in these tests): hairpin masquerade is for local endpoints.
    o["endpoints"].as_array().push_back(json::object{
        {"addresses", json::array{ip.c_str()}}, {"conditions", json::object{{"ready", true}}}, {"nodeName", "n1"}});
  }
  return o;
}

TEST(ProxierTest, FullThenPartialSyncs) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(Svc("a", "10.43.0.21"));
  fake->Add(Svc("b", "10.43.0.22"));
  fake->Add(Slice("a", {"10.42.0.2"}));
  fake->Add(Slice("b", {"10.42.0.3", "10.42.0.4"}));
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  ProxyOptions po;
  po.node_name = "n1";
  po.healthz_bind_address = "127.0.0.1:0";
  po.backend = Backend::kLegacy;
  po.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  Proxier p(po);
  p.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();

  ASSERT_TRUE(p.Sync(false).ok());  // the first is full whatever is asked
  auto restores = rec->Restores();
  ASSERT_EQ(restores.size(), 1u);
  EXPECT_NE(restores[0].find("-A KUBE-SERVICES -m comment --comment \"default/a cluster IP\""), std::string::npos);
  EXPECT_NE(restores[0].find("--to-destination 10.42.0.4:8080"), std::string::npos);
  EXPECT_NE(restores[0].find("-X KUBE-SEP-STALEFROMBEFORE\n"), std::string::npos);  // found in the table
  EXPECT_EQ(p.stats().full_syncs, 1);
  {
    std::lock_guard<std::mutex> lock(rec->mu);
    bool legacy = false, jump = false;
    for (auto& [argv, input] : rec->calls) {
      if (argv[0] == "iptables-legacy-restore") legacy = true;
      if (argv[0] == "iptables-legacy" && std::find(argv.begin(), argv.end(), "-I") != argv.end() &&
          std::find(argv.begin(), argv.end(), "PREROUTING") != argv.end()) {
        jump = true;
      }
    }
    EXPECT_TRUE(legacy);
    EXPECT_TRUE(jump);
  }

  // One endpoint of b goes: a partial sync that declares only b's chains.
  ASSERT_TRUE(c.Update(*api::FindResource("discovery.k8s.io", "v1", "endpointslices"), "default", Slice("b", {"10.42.0.3"})).ok());
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(false).ok());
  restores = rec->Restores();
  ASSERT_EQ(restores.size(), 2u);
  EXPECT_EQ(restores[1].find("--to-destination 10.42.0.2:8080"), std::string::npos);  // a untouched
  // b's line in KUBE-SERVICES is as before: the top-level chains are left alone.
  EXPECT_EQ(restores[1].find(":KUBE-SERVICES"), std::string::npos);
  EXPECT_EQ(restores[1].find("*filter"), std::string::npos);
  EXPECT_NE(restores[1].find("--to-destination 10.42.0.3:8080"), std::string::npos);
  EXPECT_NE(restores[1].find("-X KUBE-SEP-"), std::string::npos);  // 10.42.0.4's chain removed
  EXPECT_EQ(p.stats().full_syncs, 1);

  // Nothing changed: no restore at all.
  ASSERT_TRUE(p.Sync(false).ok());
  EXPECT_EQ(rec->Restores().size(), 2u);

  // b loses its last endpoint: its KUBE-SERVICES line becomes a REJECT in filter, so the
  // top-level chains are rewritten (a's line copied from the cache).
  ASSERT_TRUE(c.Update(*api::FindResource("discovery.k8s.io", "v1", "endpointslices"), "default", Slice("b", {})).ok());
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(false).ok());
  restores = rec->Restores();
  ASSERT_EQ(restores.size(), 3u);
  EXPECT_NE(restores[2].find("-A KUBE-SERVICES -m comment --comment \"default/a cluster IP\""), std::string::npos);
  EXPECT_NE(restores[2].find("-A KUBE-SERVICES -m comment --comment \"default/b has no endpoints\""), std::string::npos);

  // A failed restore makes the next sync full.
  rec->fail_restore = true;
  ASSERT_TRUE(c.Delete(*api::FindResource("", "v1", "services"), "default", "a").ok());
  fake->WaitForIdle();
  EXPECT_FALSE(p.Sync(false).ok());
  rec->fail_restore = false;
  ASSERT_TRUE(p.Sync(false).ok());
  EXPECT_EQ(p.stats().full_syncs, 2);  // the failed one was partial
  restores = rec->Restores();
  EXPECT_EQ(restores.back().find("default/a cluster IP"), std::string::npos);
  EXPECT_NE(restores.back().find("-X KUBE-SVC-"), std::string::npos);
  EXPECT_GT(p.healthz_port(), 0);
  informers.Stop();
}

// An agent restart on the nft backend lists the nat table's chain names (`nft list chains ip`),
// not every rule (iptables-nft-save), and deletes the per-service chains nothing wants.
TEST(ProxierTest, NftBackendFirstSyncListsChainNamesOnly) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(Svc("a", "10.43.0.21"));
  fake->Add(Slice("a", {"10.42.0.2"}));
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  rec->nft_chains =
      "table ip mangle {\n\tchain KUBE-IPTABLES-HINT {\n\t}\n}\n"
      "table ip nat {\n\tchain PREROUTING {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n"
      "\tchain KUBE-SERVICES {\n\t}\n\tchain KUBE-SEP-STALEFROMNFT {\n\t}\n}\n"
      "table ip filter {\n\tchain KUBE-SEP-NOTINNAT {\n\t}\n}\n";
  ProxyOptions po;
  po.node_name = "n1";
  po.healthz_bind_address = "";
  po.backend = Backend::kNft;
  po.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  Proxier p(po);
  p.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(true).ok());
  const std::vector<std::string> restores = rec->Restores();
  ASSERT_FALSE(restores.empty());
  std::string all;
  for (const std::string& r : restores) all += r;
  EXPECT_NE(all.find("-X KUBE-SEP-STALEFROMNFT\n"), std::string::npos);
  EXPECT_EQ(all.find("NOTINNAT"), std::string::npos);
  EXPECT_EQ(all.find("-X KUBE-SERVICES"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(rec->mu);
    for (auto& [argv, input] : rec->calls) EXPECT_EQ(argv[0].find("-save"), std::string::npos) << argv[0];
  }
  informers.Stop();
}

TEST(ProxierTest, NftablesModeWritesOneTransactionPerSync) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(Svc("a", "10.43.0.21"));
  fake->Add(Svc("b", "10.43.0.22"));
  fake->Add(Slice("a", {"10.42.0.2"}));
  fake->Add(Slice("b", {"10.42.0.3", "10.42.0.4"}));
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  ProxyOptions po;
  po.node_name = "n1";
  po.mode = "nftables";
  po.healthz_bind_address = "";
  po.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  Proxier p(po);
  p.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();
  auto nft_inputs = [&] {
    std::lock_guard<std::mutex> lock(rec->mu);
    std::vector<std::string> out;
    for (auto& [argv, input] : rec->calls) {
      EXPECT_EQ(argv[0], "nft");  // no iptables tool in this mode
      if (argv == std::vector<std::string>{"nft", "-f", "-"}) out.push_back(input);
    }
    return out;
  };
  ASSERT_TRUE(p.Sync(false).ok());
  auto in = nft_inputs();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_NE(in[0].find("delete table ip kube-proxy\nadd table ip kube-proxy\n"), std::string::npos);  // state unknown
  EXPECT_NE(in[0].find("10.43.0.21 . tcp . 80 : goto pick-tcp-1"), std::string::npos);

  ASSERT_TRUE(c.Update(*api::FindResource("discovery.k8s.io", "v1", "endpointslices"), "default", Slice("b", {"10.42.0.3"})).ok());
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(false).ok());
  in = nft_inputs();
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[1].find("10.43.0.21"), std::string::npos);  // a untouched
  // b: two endpoints → one, element changes only (pick-tcp-1 exists already for a).
  EXPECT_NE(in[1].find("add element ip kube-proxy endpoints-pick-tcp-1 { 10.43.0.22 . 80 . 0 : 10.42.0.3 . 8080 }"),
            std::string::npos);
  EXPECT_NE(in[1].find("delete chain ip kube-proxy pick-tcp-2\n"), std::string::npos);
  EXPECT_EQ(in[1].find("add rule"), std::string::npos);
  EXPECT_EQ(in[1].find("add table"), std::string::npos);
  EXPECT_EQ(p.stats().full_syncs, 1);

  // A full sync over the known table flushes it instead of making it again.
  ASSERT_TRUE(p.Sync(true).ok());
  in = nft_inputs();
  EXPECT_NE(in.back().find("flush table ip kube-proxy\n"), std::string::npos);
  informers.Stop();
}

// Dual-stack in nftables mode: both tables in one transaction, each family's Services in its own.
TEST(ProxierTest, NftablesDualStackOneTransaction) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  json::object a = Svc("a", "10.43.0.21");
  a["spec"].as_object()["clusterIPs"] = json::array{"10.43.0.21", "fd43::21"};
  fake->Add(a);
  fake->Add(Svc("b", "fd43::22"));  // single-stack IPv6
  fake->Add(Slice("a", {"10.42.0.2"}));
  json::object a6 = Slice("a", {"fd42::2", "fd42::3"});
  a6["metadata"].as_object()["name"] = "a-y";
  a6["addressType"] = "IPv6";
  fake->Add(a6);
  json::object b6 = Slice("b", {"fd42::4"});
  b6["addressType"] = "IPv6";
  fake->Add(b6);
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  ProxyOptions po;
  po.node_name = "n1";
  po.mode = "nftables";
  po.healthz_bind_address = "";
  po.rules.cluster_cidr = "10.42.0.0/16";
  po.rules6 = RulesConfig{};
  po.rules6->cluster_cidr = "fd42::/56";
  po.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  Proxier p(po);
  p.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(false).ok());
  std::string in;
  {
    std::lock_guard<std::mutex> lock(rec->mu);
    ASSERT_EQ(rec->calls.size(), 1u);
    in = rec->calls[0].second;
  }
  const size_t six = in.find("add table ip6 kube-proxy\n");
  ASSERT_NE(six, std::string::npos);
  const std::string t4 = in.substr(0, six), t6 = in.substr(six);
  EXPECT_NE(t4.find("10.43.0.21 . tcp . 80 : goto pick-tcp-1"), std::string::npos);
  EXPECT_EQ(t4.find("fd4"), std::string::npos);
  EXPECT_NE(t6.find("fd43::21 . tcp . 80 : goto pick-tcp-2"), std::string::npos);
  EXPECT_NE(t6.find("fd43::22 . tcp . 80 : goto pick-tcp-1"), std::string::npos);
  EXPECT_NE(t6.find("fd43::21 . 80 . 1 : fd42::3 . 8080"), std::string::npos);
  EXPECT_EQ(t6.find("10.4"), std::string::npos);

  // An IPv6 endpoint change: a partial sync of that Service in both tables (the IPv4 one has
  // nothing to change).
  b6 = Slice("b", {"fd42::5"});
  b6["addressType"] = "IPv6";
  ASSERT_TRUE(c.Update(*api::FindResource("discovery.k8s.io", "v1", "endpointslices"), "default", b6).ok());
  fake->WaitForIdle();
  ASSERT_TRUE(p.Sync(false).ok());
  std::lock_guard<std::mutex> lock(rec->mu);
  ASSERT_EQ(rec->calls.size(), 2u);
  EXPECT_EQ(rec->calls[1].second,
            "delete element ip6 kube-proxy endpoints-pick-tcp-1 { fd43::22 . 80 . 0 }\n"
            "delete element ip6 kube-proxy hairpin { fd42::4 . fd42::4 }\n"
            "add element ip6 kube-proxy endpoints-pick-tcp-1 { fd43::22 . 80 . 0 : fd42::5 . 8080 }\n"
            "add element ip6 kube-proxy hairpin { fd42::5 . fd42::5 }\n");
  informers.Stop();
}

// Reconcile's rate limit is upstream's bounded-frequency runner (a token bucket, burst 2): two
// syncs at once after a quiet spell, then one per min sync period; only the first is full (the
// next full one is a full sync period away).
TEST(ProxierTest, TwoSyncsInABurstThenOnePerMinSyncPeriod) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(Svc("a", "10.43.0.21"));
  fake->Add(Slice("a", {"10.42.0.2"}));
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  ProxyOptions po;
  po.node_name = "n1";
  po.healthz_bind_address = "";
  po.backend = Backend::kLegacy;
  po.min_sync_period = std::chrono::hours(1);
  po.sync_period = std::chrono::hours(1);
  po.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  Proxier p(po);
  p.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.Reconcile("sync").ok());
  EXPECT_EQ(p.stats().syncs, 2);
  EXPECT_EQ(p.stats().full_syncs, 1);
  informers.Stop();
}


// --cluster-cidr as k3s spells it turns dual-stack on: the IPv6 range is rules6's.
TEST(ProxierTest, DualStackClusterCidrSetsRules6) {
  ProxyOptions po;
  po.rules.masquerade_all = true;
  ASSERT_TRUE(SetClusterCidrs("10.42.0.0/16,fd00:42::/56", &po).ok());
  EXPECT_EQ(po.rules.cluster_cidr, "10.42.0.0/16");
  ASSERT_TRUE(po.rules6.has_value());
  EXPECT_EQ(po.rules6->cluster_cidr, "fd00:42::/56");
  EXPECT_TRUE(po.rules6->ipv6);
  EXPECT_TRUE(po.rules6->masquerade_all);
  EXPECT_FALSE(po.rules.ipv6);
  ASSERT_TRUE(SetClusterCidrs("10.42.0.0/16", &po).ok());
  EXPECT_FALSE(po.rules6.has_value());
  EXPECT_FALSE(SetClusterCidrs("10.42.0.0/16,10.43.0.0/16", &po).ok());
}

}  // namespace
}  // namespace kite::proxy
