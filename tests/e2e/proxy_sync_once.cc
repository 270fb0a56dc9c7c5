// kite-proxy-sync-once: one full sync of the service proxy, for end-to-end tests of the rules
// themselves (tests/e2e/proxy_netns.sh): Services and EndpointSlices read from a file (a JSON
// array of objects) into the in-memory fake API, one Proxier configured as the agent configures
// it (--cluster-cidr, dual-stack included, through proxy::SetClusterCidrs), then one full sync
// against the real iptables/nft of the network namespace it runs in. Never run it on a host's
// own tables. Exit status 0 when the sync succeeded; the tool's error otherwise.
//
//   kite-proxy-sync-once --objects FILE [--mode iptables|nftables] [--backend nft|legacy]
//                        [--cluster-cidr 10.42.0.0/16,fd00:42::/56] [--node-name NODE]
#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/proxy/proxier.h"
#include "base/flags.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/testing/fake_transport.h"

int main(int argc, char** argv) {
  using namespace kite;
  std::string objects, mode = "iptables", backend, cluster_cidr = "10.42.0.0/16", node = "proxy-node";
  FlagSet flags("kite-proxy-sync-once");
  flags.String("objects", &objects, "A file holding a JSON array of Services and EndpointSlices");
  flags.String("mode", &mode, "The proxy mode: iptables or nftables");
  flags.String("backend", &backend, "iptables mode's backend: nft or legacy (default: detect)");
  flags.String("cluster-cidr", &cluster_cidr, "As kite-agent's --cluster-cidr (IPV4[,IPV6])");
  flags.String("node-name", &node, "This node's name (endpoints with this nodeName are local)");
  if (auto s = flags.Parse(argc, argv, ""); !s.ok() || objects.empty()) {
    std::cerr << (s.ok() ? "--objects is required" : s.message()) << "\n" << flags.Usage();
    return 2;
  }
  std::ifstream in(objects);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text.str(), ec);
  if (ec || !v.is_array()) {
    std::cerr << objects << ": not a JSON array\n";
    return 2;
  }
  auto fake = std::make_shared<client::testing::FakeTransport>();
  for (const auto& o : v.as_array()) fake->Add(o.as_object());

  proxy::ProxyOptions po;
  po.node_name = node;
  po.mode = mode;
  po.healthz_bind_address = "";
  if (backend == "nft") po.backend = proxy::Backend::kNft;
  if (backend == "legacy") po.backend = proxy::Backend::kLegacy;
  if (Status s = proxy::SetClusterCidrs(cluster_cidr, &po); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  client::Client c(fake);
  client::InformerFactory informers(&c);
  proxy::Proxier p(po);
  p.Init(informers);
  informers.Start();
  if (!informers.WaitForSync(std::chrono::seconds(30))) {
    std::cerr << "informers did not sync\n";
    return 1;
  }
  fake->WaitForIdle();
  Status s = p.Sync(true);
  informers.Stop();
  if (!s.ok()) {
    std::cerr << "sync: " << s.message() << "\n";
    return 1;
  }
  std::cout << "synced: " << p.stats().last_nat_rules << " rules\n";
  return 0;
}
