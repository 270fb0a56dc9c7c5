// kite-dns: the cluster DNS server (the add-on kite-server deploys as kube-dns). Answers the
// cluster domain from Services, EndpointSlices and Pods it watches through the API server
// (zone.h says which names), forwards every other name to the upstream resolvers with a
// cache, and serves /health, /ready and Prometheus metrics under CoreDNS's names.
//
// It reaches the API server with --kubeconfig, or, without one, as a pod does (client/in_cluster.h:
// the service account's token, read again as the kubelet rotates it). One thread answers DNS; the informers and the
// zone rebuilds run on their own threads.
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <thread>

#include "addons/dns/cluster_watch.h"
#include "addons/dns/server.h"
#include "addons/dns/upstreams.h"
#include "base/flags.h"
#include "base/http_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/stop_signals.h"
#include "base/thread_name.h"
#include "client/client.h"
#include "client/in_cluster.h"

namespace {

struct Options {
  std::string kubeconfig;
  std::string dns_address = "0.0.0.0";
  int64_t dns_port = 53;
  std::string cluster_domain = "cluster.local";
  std::string resolv_conf = "/etc/resolv.conf";
  std::vector<std::string> upstreams;
  std::string pods = "verified";
  int64_t ttl = 5;
  int64_t cache_size = 9984;
  std::string health_listen = "0.0.0.0:8080";
  std::string ready_listen = "0.0.0.0:8181";
  std::string metrics_listen = "0.0.0.0:9153";
  int64_t verbosity = 0;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  Options o;
  FlagSet flags("kite-dns");
  flags.String("kubeconfig", &o.kubeconfig, "Kubeconfig of the cluster; empty: the pod's service account (in-cluster)");
  flags.String("dns-address", &o.dns_address, "Address to answer DNS on (UDP and TCP); [::] for both families");
  flags.Int("dns-port", &o.dns_port, "Port to answer DNS on (UDP and TCP); 0 picks a free one");
  flags.String("cluster-domain", &o.cluster_domain, "The cluster's DNS domain, answered from the cluster's objects");
  flags.String("resolv-conf", &o.resolv_conf, "Upstream resolvers: the nameserver lines of this file");
  flags.StringList("upstream", &o.upstreams, "Upstream resolvers (ip[:port],…) instead of --resolv-conf's");
  flags.String("pods", &o.pods, "Pod A records: verified (pods that exist), insecure (any name), disabled");
  flags.Int("ttl", &o.ttl, "TTL of cluster records and of negative answers (seconds)");
  flags.Int("cache-size", &o.cache_size, "Upstream answers kept in the cache (0 disables it)");
  flags.String("health-listen", &o.health_listen, "host:port of /health (liveness); empty disables");
  flags.String("ready-listen", &o.ready_listen, "host:port of /ready (readiness: cluster zone loaded); empty disables");
  flags.String("metrics-listen", &o.metrics_listen, "host:port of /metrics (Prometheus); empty disables");
  flags.Int("v", &o.verbosity, "Log verbosity");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << "kite-dns: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  log::SetVerbosity(static_cast<int>(o.verbosity));
  dns::ZoneConfig zc;
  zc.domain = o.cluster_domain;
  while (!zc.domain.empty() && zc.domain.back() == '.') zc.domain.pop_back();
  for (auto& c : zc.domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  zc.ttl = static_cast<uint32_t>(std::clamp<int64_t>(o.ttl, 0, 3600));
  if (o.pods == "verified") {
    zc.pods = dns::ZoneConfig::Pods::kVerified;
  } else if (o.pods == "insecure") {
    zc.pods = dns::ZoneConfig::Pods::kInsecure;
  } else if (o.pods == "disabled") {
    zc.pods = dns::ZoneConfig::Pods::kDisabled;
  } else {
    std::cerr << "kite-dns: --pods must be verified, insecure or disabled\n";
    return 2;
  }
  std::string probe;
  if (zc.domain.empty() || !dns::AppendName(zc.domain, &probe) || o.dns_port < 0 || o.dns_port > 65535) {
    std::cerr << "kite-dns: bad --cluster-domain or --dns-port\n";
    return 2;
  }

  BlockStopSignals();

  client::RestTransportOptions to;
  to.user_agent = "kite-dns";
  auto transport = client::MakeAddonTransport(o.kubeconfig, to);
  if (!transport.ok()) {
    std::cerr << "kite-dns: " << transport.status().message() << "\n";
    return 1;
  }
  client::Client client(transport.value());

  dns::ServerOptions so;
  so.address = o.dns_address;
  so.port = static_cast<int>(o.dns_port);
  so.upstreams = o.upstreams.empty() ? dns::ReadResolvConf(o.resolv_conf) : o.upstreams;
  so.cache.capacity = static_cast<size_t>(std::max<int64_t>(0, o.cache_size));
  boost::asio::io_context io(1);
  dns::DnsServer server(io, so, dns::Zone::Empty(zc));
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "kite-dns: " << s.message() << "\n";
    return 1;
  }
  dns::ClusterWatch watch(&client, zc, [&server](std::shared_ptr<const dns::Zone> z) { server.SetZone(std::move(z)); });

  // Each endpoint on its own small server, at the ports CoreDNS uses (8080, 8181, 9153).
  std::vector<std::unique_ptr<HttpServer>> http;
  Status served = ServePath(http, o.health_listen, "/health", [] { return HttpReply{200, "text/plain; charset=utf-8", "OK", {}}; });
  if (served.ok()) {
    served = ServePath(http, o.ready_listen, "/ready", [&watch] {
      return watch.Ready() ? HttpReply{200, "text/plain; charset=utf-8", "OK", {}}
                           : HttpReply{503, "text/plain; charset=utf-8", "cluster zone not loaded yet", {}};
    });
  }
  if (served.ok()) {
    served = ServePath(http, o.metrics_listen, "/metrics",
                       [] { return HttpReply{200, "text/plain; version=0.0.4", metrics::Serialize(), {}}; });
  }
  if (!served.ok()) {
    std::cerr << "kite-dns: " << served.message() << "\n";
    return 1;
  }

  watch.Start();
  std::thread dns_thread([&io] {
    SetThreadName("kite-dns");
    io.run();
  });
  std::string upstream_list;
  for (const auto& u : so.upstreams) upstream_list += (upstream_list.empty() ? "" : ",") + u;
  KITE_LOG(0) << "kite-dns: answering " << zc.domain << " on " << so.address << ":" << server.port()
              << " (udp, tcp); upstream " << (upstream_list.empty() ? "none" : upstream_list);
  const int sig = WaitForStopSignal();
  KITE_LOG(0) << "kite-dns: stopping on signal " << sig;
  watch.Stop();
  io.stop();
  dns_thread.join();
  return 0;
}
