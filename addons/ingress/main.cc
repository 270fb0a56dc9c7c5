// kite-ingress: the cluster's Ingress controller (the add-on kite-server deploys where k3s deploys
// Traefik). Routes HTTP by the Ingresses of its IngressClass (routes.h) to their Services,
// reports the address of the LoadBalancer Service in front of it as theirs (watch.h), and serves
// /ping and Prometheus metrics under Traefik's names, so k3s users' Ingresses, probes and
// dashboards keep working.
//
// It reaches the API server with --kubeconfig, or, without one, as a pod does
// (client/in_cluster.h). The proxy runs on --threads io threads; the informers and the table
// rebuilds on their own.
#include <boost/asio/io_context.hpp>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>
#include <vector>

#include "addons/ingress/proxy.h"
#include "addons/ingress/watch.h"
#include "base/flags.h"
#include "base/http_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/pki.h"
#include "base/stop_signals.h"
#include "base/thread_name.h"
#include "client/client.h"
#include "client/in_cluster.h"

namespace {

struct Options {
  std::string kubeconfig;
  std::string address = "0.0.0.0";
  int64_t http_port = 8000;
  int64_t https_port = 8443;
  std::string controller = "kite.io/ingress";
  std::string publish_service;
  std::string ping_listen = "0.0.0.0:9000";
  std::string metrics_listen = "0.0.0.0:9100";
  int64_t threads = 0;
  int64_t verbosity = 0;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  Options o;
  FlagSet flags("kite-ingress");
  flags.String("kubeconfig", &o.kubeconfig, "Kubeconfig of the cluster; empty: the pod's service account (in-cluster)");
  flags.String("address", &o.address, "Address to serve HTTP on; :: for both families");
  flags.Int("http-port", &o.http_port, "Port to serve HTTP on (the \"web\" entry point); 0 picks a free one");
  flags.Int("https-port", &o.https_port, "Port to serve HTTPS on (the \"websecure\" entry point); -1 disables, 0 picks a free one");
  flags.String("controller", &o.controller, "The IngressClass spec.controller whose Ingresses this serves");
  flags.String("publish-service", &o.publish_service,
               "namespace/name of the Service in front of this controller: its load-balancer addresses become the Ingresses' status");
  flags.String("ping-listen", &o.ping_listen, "host:port of /ping (liveness and readiness: routes loaded); empty disables");
  flags.String("metrics-listen", &o.metrics_listen, "host:port of /metrics (Prometheus); empty disables");
  flags.Int("threads", &o.threads, "Proxy threads; 0: one per core, at most 4");
  flags.Int("v", &o.verbosity, "Log verbosity");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << "kite-ingress: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  log::SetVerbosity(static_cast<int>(o.verbosity));
  if (o.http_port < 0 || o.http_port > 65535 || o.https_port < -1 || o.https_port > 65535 || o.controller.empty()) {
    std::cerr << "kite-ingress: bad --http-port, --https-port or empty --controller\n";
    return 2;
  }
  BlockStopSignals();

  client::RestTransportOptions to;
  to.user_agent = "kite-ingress";
  auto transport = client::MakeAddonTransport(o.kubeconfig, to);
  if (!transport.ok()) {
    std::cerr << "kite-ingress: " << transport.status().message() << "\n";
    return 1;
  }
  client::Client client(transport.value());

  const int threads = o.threads > 0 ? static_cast<int>(std::min<int64_t>(o.threads, 64))
                                    : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  boost::asio::io_context io(threads);
  ingress::ProxyOptions po;
  po.address = o.address;
  po.port = static_cast<int>(o.http_port);
  po.tls_port = static_cast<int>(o.https_port);
  if (po.tls_port >= 0) {
    // A self-signed certificate for names no Ingress lists (Traefik's "default certificate").
    auto cert = pki::CreateCA("kite-ingress default certificate", 365);
    if (!cert.ok()) {
      std::cerr << "kite-ingress: the default certificate: " << cert.status().message() << "\n";
      return 1;
    }
    po.default_cert_pem = cert->cert_pem;
    po.default_key_pem = cert->key_pem;
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) po.server_name = host;
  ingress::Proxy proxy(io, po);
  if (auto s = proxy.Start(); !s.ok()) {
    std::cerr << "kite-ingress: " << s.message() << "\n";
    return 1;
  }
  ingress::Options ro;
  ro.controller = o.controller;
  ingress::IngressWatch watch(&client, ro, o.publish_service,
                              [&proxy](std::shared_ptr<const ingress::RouteTable> t, std::shared_ptr<const ingress::TlsConfig> tls) {
                                proxy.SetTls(std::move(tls));
                                proxy.SetTable(std::move(t));
                              });

  // Each endpoint on its own small server, at the ports upstream uses.
  std::vector<std::unique_ptr<HttpServer>> http;
  Status served = ServePath(http, o.ping_listen, "/ping", [&watch] {
    return watch.Ready() ? HttpReply{200, "text/plain; charset=utf-8", "OK", {}}
                         : HttpReply{503, "text/plain; charset=utf-8", "routes not loaded yet", {}};
  });
  if (served.ok()) {
    served = ServePath(http, o.metrics_listen, "/metrics",
                       [] { return HttpReply{200, "text/plain; version=0.0.4", metrics::Serialize(), {}}; });
  }
  if (!served.ok()) {
    std::cerr << "kite-ingress: " << served.message() << "\n";
    return 1;
  }

  watch.Start();
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&io] {
      SetThreadName("kite-ingress");
      io.run();
    });
  }
  KITE_LOG(0) << "kite-ingress: serving HTTP on " << o.address << ":" << proxy.port()
              << (po.tls_port >= 0 ? ", HTTPS on " + o.address + ":" + std::to_string(proxy.tls_port()) : std::string())
              << " for IngressClass controller " << o.controller;
  const int sig = WaitForStopSignal();
  KITE_LOG(0) << "kite-ingress: stopping on signal " << sig;
  watch.Stop();
  proxy.Stop();
  io.stop();
  for (auto& t : pool) t.join();
  return 0;
}
