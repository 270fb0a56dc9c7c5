// kite-agent: joins a kite cluster as a node and runs its kubelet (agent.h), as `k3s agent`
// does:
//
//   kite-agent --server https://SERVER:6443 --token K10<ca-hash>::server:<secret>
//
// It bootstraps with the join token (agent/bootstrap/bootstrap.h: the server's CA pinned by the
// token's hash before any credential goes out, then the node's client and serving
// certificates, kept under <data-dir>/agent/), then talks to the API server over HTTPS as
// system:node:<name>. A refused token, a CA that does not match or a node name owned by another
// host ends the process with one line saying so (exit 1); an unreachable server is retried, or,
// for a node that joined before, the saved certificates are used and the agent starts at once
// (its static pods run without the server).
//
// The container runtime is agent::DefaultRuntime() (agent.h), as in kite-server's embedded agent.
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <thread>

#include "agent/agent.h"
#include "api/resources.h"
#include "agent/bootstrap/bootstrap.h"
#include "agent/kubelet/node_info.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/memory_trim.h"
#include "base/sd_notify.h"
#include "base/stop_signals.h"
#include "client/client.h"
#include "base/version.h"
#include "client/rest_transport.h"

namespace {

struct Flags {
  std::string server, token, token_file;
  int64_t verbosity = 0;
  int64_t iptables_sync_period_ms = 30'000, iptables_min_sync_period_ms = 1'000, proxy_full_sync_period_ms = 3'600'000;
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
  const std::string notify_socket = TakeNotifySocket();  // systemd's Type=notify (before any thread)
#ifdef __GLIBC__
  // Two malloc arenas instead of glibc's 8 per core: the agent's ~20 threads are mostly idle, and
  // each arena a thread touches keeps its own free pages (bench/RESULTS.md: idle VmRSS -0.4 MiB;
  // one arena saves no more).
  mallopt(M_ARENA_MAX, 2);
#endif
  if (VersionRequested(argc, argv)) {
    std::cout << VersionLine("kite-agent") << "\n";
    return 0;
  }
  agent::AgentOptions o;
  Flags f;
  // The install script's environment file (k3s's K3S_URL, K3S_TOKEN): defaults that the command
  // line and the config file override.
  if (const char* v = std::getenv("KITE_URL")) f.server = v;
  if (const char* v = std::getenv("KITE_TOKEN")) f.token = v;
  if (const char* v = std::getenv("KITE_TOKEN_FILE")) f.token_file = v;
  if (const char* v = std::getenv("KITE_DATA_DIR")) o.data_dir = v;
  FlagSet flags("kite-agent");
  flags.String("server", &f.server, "The server to join: https://SERVER:6443 (required)");
  flags.String("token", &f.token, "The join token (the server's <data-dir>/server/token)");
  flags.String("token-file", &f.token_file, "A file holding the join token");
  flags.String("data-dir", &o.data_dir, "Folder to hold state; the agent's files are in <data-dir>/agent");
  agent::AddNodeFlags(flags, &o);
  flags.Bool("disable-network-policy", &o.disable_network_policy,
             "Do not enforce NetworkPolicies on this node (default: as the server says, k3s's server flag)");
  flags.String("cluster-cidr", &o.cluster_cidr,
               "The cluster's pod IP range, as the server's --cluster-cidr (not masqueraded; the service proxy masquerades traffic from outside it); dual-stack: IPV4,IPV6");
  flags.Int("port", &o.kubelet_port, "The port the kubelet server listens on (logs, stats, metrics)");
  flags.Duration("iptables-sync-period", &f.iptables_sync_period_ms, "How often the service proxy syncs without a change (a partial sync)");
  flags.Duration("proxy-full-sync-period", &f.proxy_full_sync_period_ms, "How often the service proxy rewrites every rule (a full sync; upstream's proxies: an hour)");
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
  o.proxy_full_sync_period = std::chrono::milliseconds(f.proxy_full_sync_period_ms);

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
    // A node that joined before starts without the server (a reboot while it is down): its
    // static pods and pods run, and the kubelet talks to the server when it is back.
    if (auto saved = agent::SavedCredentials(bo); saved.ok()) {
      KITE_LOG(0) << "kite-agent: " << creds.status().message()
                  << "; starting with the certificates of the earlier join (the server is contacted when it answers)";
      creds = std::move(saved);
      break;
    }
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
  // The server's settings, for what this agent's own flags leave unset (k3s's agents take them
  // from the server too): pods' DNS, the pod network and the proxy then agree with the server.
  if (auto settings = agent::FetchClusterSettings(bo, creds->server_ca_pem); settings.ok()) {
    std::string taken;
    auto take = [&](const char* flag, const std::string& value, auto&& apply) {
      if (value.empty() || flags.Given(flag)) return;
      apply(value);
      taken += std::string(taken.empty() ? "" : ", ") + "--" + flag + "=" + value;
    };
    take("cluster-cidr", settings->cluster_cidr, [&](const std::string& v) { o.cluster_cidr = v; });
    take("cluster-dns", settings->cluster_dns, [&](const std::string& v) { o.cluster_dns = {v}; });
    take("cluster-domain", settings->cluster_domain, [&](const std::string& v) { o.cluster_domain = v; });
    take("flannel-backend", settings->flannel_backend, [&](const std::string& v) { o.flannel_backend = v; });
    take("disable-network-policy", settings->network_policy == "disabled" ? "true" : "",
         [&](const std::string&) { o.disable_network_policy = true; });
    if (!taken.empty()) KITE_LOG(0) << "kite-agent: from the server's settings: " << taken;
  } else {
    KITE_LOG(0) << "kite-agent: " << settings.status().message() << "; the cluster settings are this agent's flags and defaults";
  }

  // Before any thread starts, so only WaitForStopSignal below receives them.
  BlockStopSignals();
  client::RestTransportOptions to;
  to.user_agent = "kite-agent";
  // Every pod worker may be writing at once in a burst (status patches, lookups).
  to.max_idle = std::max(to.max_idle, static_cast<size_t>(std::max(o.workers, o.pod_workers)) + 4);
  auto transport = client::MakeRestTransport(creds->kubeconfig_path, to);
  if (!transport.ok()) {
    KITE_LOG(0) << "kite-agent: " << creds->kubeconfig_path << ": " << transport.status().message();
    return 1;
  }
  // The kubelet server: the node's serving certificate, and the client CA its callers' (the API
  // server's) certificates are signed by.
  o.serving_cert_pem = creds->serving.cert_pem;
  o.serving_key_pem = creds->serving.key_pem;
  if (std::ifstream ca(bo.agent_dir + "/client-ca.crt"); ca) {
    o.client_ca_pem.assign(std::istreambuf_iterator<char>(ca), std::istreambuf_iterator<char>());
  }
  auto a = agent::Agent::Start(o, transport.value(), agent::DefaultRuntime());
  if (!a.ok()) {
    KITE_LOG(0) << "kite-agent: " << a.status().message();
    return 1;
  }
  const auto trimmer = MemoryTrimmer::Start();  // a burst's freed pages go back to the kernel
  // Ready for systemd once the Node object exists (the agent registers it in the background).
  std::jthread notifier;
  if (!notify_socket.empty()) {
    notifier = std::jthread([&](std::stop_token stop) {
      const client::Client c(transport.value());
      const api::ResourceInfo* nodes = api::FindResource("", "v1", "nodes");
      while (!stop.stop_requested() && !c.Get(*nodes, "", (*a)->node_name()).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      if (stop.stop_requested()) return;
      if (auto s = SdNotify(notify_socket, "READY=1"); !s.ok()) KITE_LOG(0) << "sd_notify: " << s.message();
    });
  }
  const int sig = WaitForStopSignal();
  notifier = {};
  KITE_LOG(0) << "kite-agent: stopping on signal " << sig << "; the node stays registered";
  (*a)->Stop();
  return 0;
}
