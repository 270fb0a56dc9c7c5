// kite-agent: joins a kite cluster as a node and runs its kubelet (agent.h), as `k3s agent`
// does:
//
//   kite-agent --server https://SERVER:6443 --token K10<ca-hash>::server:<secret>
//
// It bootstraps with the join token (agent/bootstrap/bootstrap.h: the server's CA pinned by the
// token's hash before any credential goes out, then the node's client and serving
// certificates, kept under <data-dir>/agent/), then talks to the API server over HTTPS as
// system:node:<name>. A refused token, a CA that does not match or a node name owned by another
// host ends the process with one line saying so (exit 1); an unreachable server is retried.
//
// The container runtime is agent::DefaultRuntime() (agent.h), as in kite-server's embedded agent.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/agent.h"
#include "agent/bootstrap/bootstrap.h"
#include "agent/kubelet/node_info.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/memory_trim.h"
#include "base/stop_signals.h"
#include "client/rest_transport.h"

namespace {

struct Flags {
  std::string server, token, token_file;
  int64_t verbosity = 0;
  int64_t iptables_sync_period_ms = 30'000, iptables_min_sync_period_ms = 1'000;
};

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  agent::AgentOptions o;
  Flags f;
  FlagSet flags("kite-agent");
  flags.String("server", &f.server, "The server to join: https://SERVER:6443 (required)");
  flags.String("token", &f.token, "The join token (the server's <data-dir>/server/token)");
  flags.String("token-file", &f.token_file, "A file holding the join token");
  flags.String("data-dir", &o.data_dir, "Folder to hold state; the agent's files are in <data-dir>/agent");
  flags.String("node-name", &o.node_name, "The node's name (default: the hostname)");
  flags.String("node-ip", &o.node_ip, "The node's InternalIP (default: the address of the default route's interface)");
  flags.StringList("node-label", &o.node_labels, "Labels to register the node with: key=value,…");
  flags.StringList("node-taint", &o.node_taints, "Taints to register the node with: key[=value]:Effect,…");
  flags.StringList("kube-reserved", &o.kube_reserved, "Resources reserved for Kubernetes components: cpu=…,memory=…,ephemeral-storage=…");
  flags.StringList("system-reserved", &o.system_reserved, "Resources reserved for the system: cpu=…,memory=…,ephemeral-storage=…");
  flags.Int("max-pods", &o.max_pods, "Pods this node may run");
  flags.StringList("cluster-dns", &o.cluster_dns, "The cluster DNS server's IPs, for pods' resolv.conf");
  flags.String("cluster-domain", &o.cluster_domain, "The cluster's DNS domain");
  flags.String("container-runtime-endpoint", &o.container_runtime_endpoint,
               "Use this CRI socket instead of the agent's own containerd");
  flags.String("pause-image", &o.pause_image, "The pod sandbox image (default: kite's own, imported from the image archives)");
  flags.String("private-registry", &o.private_registry, "Registry configuration file (k3s's registries.yaml format; default /etc/kite/registries.yaml)");
  flags.Bool("disable-kube-proxy", &o.disable_kube_proxy, "Do not run the service proxy");
  flags.String("cluster-cidr", &o.cluster_cidr, "The pods' IPv4 range (the service proxy masquerades traffic from outside it)");
  flags.String("healthz-bind-address", &o.proxy_healthz_bind_address, "host:port of the service proxy's /healthz (\"\": none)");
  flags.Duration("iptables-sync-period", &f.iptables_sync_period_ms, "How often the service proxy rewrites every rule");
  flags.Duration("iptables-min-sync-period", &f.iptables_min_sync_period_ms, "The shortest time between two syncs of the service proxy");
  flags.Int("v", &f.verbosity, "Log verbosity");
  if (auto s = flags.Parse(argc, argv, "/etc/kite/agent.yaml"); !s.ok()) {
    std::cerr << "kite-agent: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (f.token.empty() && !f.token_file.empty()) f.token = ReadToken(f.token_file);
  if (f.server.empty() || f.token.empty()) {
    std::cerr << "kite-agent: --server and --token (or --token-file) are required\n";
    return 2;
  }
  if (o.max_pods < 1) {
    std::cerr << "kite-agent: --max-pods must be positive\n";
    return 2;
  }
  log::SetVerbosity(static_cast<int>(f.verbosity));
  o.iptables_sync_period = std::chrono::milliseconds(f.iptables_sync_period_ms);
  o.iptables_min_sync_period = std::chrono::milliseconds(f.iptables_min_sync_period_ms);

  // Join: retried while the server cannot be reached, final when it says no.
  agent::BootstrapOptions bo;
  bo.server = f.server;
  bo.token = f.token;
  bo.agent_dir = o.data_dir + "/agent";
  bo.node_name = agent::NodeName(o);
  const std::string node_ip = o.node_ip.empty() ? kubelet::DefaultNodeIp() : o.node_ip;
  if (!node_ip.empty()) bo.node_ips = {node_ip};
  auto delay = std::chrono::seconds(1);
  Result<agent::NodeCredentials> creds = Status(Code::kUnavailable, "");
  for (;;) {
    creds = agent::Bootstrap(bo);
    if (creds.ok() || creds.status().code() != Code::kUnavailable) break;
    KITE_LOG(0) << "kite-agent: " << creds.status().message() << " (retrying in " << delay.count() << " s)";
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::seconds(30));
  }
  if (!creds.ok()) {
    KITE_LOG(0) << "kite-agent: cannot join " << f.server << ": " << creds.status().message();
    return 1;
  }
  KITE_LOG(0) << "kite-agent: joined " << f.server << " as system:node:" << bo.node_name
              << (creds->reused ? " (certificates from an earlier join)" : "");

  // Before any thread starts, so only WaitForStopSignal below receives them.
  BlockStopSignals();
  client::RestTransportOptions to;
  to.user_agent = "kite-agent";
  auto transport = client::MakeRestTransport(creds->kubeconfig_path, to);
  if (!transport.ok()) {
    KITE_LOG(0) << "kite-agent: " << creds->kubeconfig_path << ": " << transport.status().message();
    return 1;
  }
  auto a = agent::Agent::Start(o, transport.value(), agent::DefaultRuntime());
  if (!a.ok()) {
    KITE_LOG(0) << "kite-agent: " << a.status().message();
    return 1;
  }
  const auto trimmer = MemoryTrimmer::Start();  // a burst's freed pages go back to the kernel
  const int sig = WaitForStopSignal();
  KITE_LOG(0) << "kite-agent: stopping on signal " << sig << "; the node stays registered";
  (*a)->Stop();
  return 0;
}
