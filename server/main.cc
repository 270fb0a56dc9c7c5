// kite-server: one process holding the cluster's control plane: the datastore and its etcd v3
// endpoint, the Kubernetes API over HTTPS, plus /metrics and /healthz on a local HTTP port.
// Controllers and the scheduler are wired in here as they land, each started behind the API.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "addons/manifests/deployer.h"
#include "agent/agent.h"
#include "agent/kubelet/node_info.h"
#include "agent/bootstrap/bootstrap.h"
#include "base/flags.h"
#include "base/http_server.h"
#include "base/ip_address.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/memory_trim.h"
#include "base/sd_notify.h"
#include "base/stop_signals.h"
#include "base/version.h"
#include "datastore/etcdserver/etcd_server.h"
#include "datastore/private_dir.h"
#include "datastore/store.h"
#include "server/apiserver/apiserver.h"
#include "server/apiserver/encryption/secrets_encrypt.h"
#include "server/apiserver/handlers/component_statuses.h"
#include "server/cli/secrets_encrypt_cli.h"
#include "server/apiserver/certs.h"
#include "server/certificate_command.h"
#include "server/apiserver/join/node_password.h"
#include "server/apiserver/status.h"
#include "server/controllers/manager.h"
#include "server/metricsserver/metrics_server.h"
#include "server/scheduler/scheduler.h"

#if defined(KITE_JEMALLOC)
// jemalloc reads this at its first allocation: a background thread returns freed pages to the
// kernel on jemalloc's decay schedule (10 s) even while the server is idle, instead of only
// when some later allocation happens to trigger the purge.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,max_background_threads:1";
}
#endif

namespace {

struct ServerOptions {
  std::string data_dir = "/var/lib/kite";
  std::string etcd_listen = "127.0.0.1:2379";
  std::string metrics_listen = "127.0.0.1:2381";
  std::string durability = "strict";
  int64_t compact_interval_ms = 5 * 60'000;
  int64_t compact_min_retain = 1000;
  int64_t heartbeat_flush_ms = 5 * 60'000;
  int64_t quota_backend_bytes = 0;
  int64_t verbosity = 0;
  int64_t https_listen_port = 6443;
  std::string bind_address = "0.0.0.0";
  std::string advertise_address;  // --advertise-address
  std::vector<std::string> tls_san;
  std::string write_kubeconfig = "/etc/kite/kite.yaml";
  std::string write_kubeconfig_mode = "0600";
  std::string token_auth_file;
  std::string authorization_mode = "Node,RBAC";
  bool anonymous_auth = true;
  // Half of upstream's 400/200: a LIST of 1,000+ objects takes 10 seats and builds ~14 MiB of
  // response at 4 KiB per object, so 20 of them at once peak near 300 MiB — what a 1 GiB device
  // can spare (bench/run_robustness.sh).
  int64_t max_requests_inflight = 200;
  int64_t max_mutating_requests_inflight = 100;
  bool disable_controller_manager = false;
  std::vector<std::string> controllers{"*"};
  int64_t node_monitor_grace_period_ms = 40'000;
  int64_t node_startup_grace_period_ms = 60'000;
  int64_t terminated_pod_gc_threshold = 12500;
  bool disable_scheduler = false;
  bool disable_metrics_server = false;
  int64_t metric_resolution_ms = 15'000;
  std::string cluster_cidr = "10.42.0.0/16";
  std::string service_cidr = "10.43.0.0/16";
  std::string service_node_port_range = "30000-32767";
  std::string default_local_storage_path;  // "" = <data-dir>/storage
  std::string token, token_file;
  bool disable_agent = false;
  std::vector<std::string> disable;  // add-ons not to deploy (addons/manifests/)
  // k3s's switches for parts kite has not (network policy, Helm) or has elsewhere (ServiceLB,
  // which k3s runs in its cloud controller).
  bool disable_network_policy = false, disable_helm_controller = false, disable_cloud_controller = false;
  int64_t iptables_sync_period_ms = 30'000;
  int64_t proxy_full_sync_period_ms = 3'600'000;
  bool secrets_encryption = false;
  kite::apiserver::audit::AuditLogOptions audit;
  std::string audit_policy_file;
  kite::agent::AgentOptions agent;  // the embedded agent's node flags (data_dir is --data-dir)
};

// Whether an etcd --etcd-listen host:port stays on this machine.
bool IsLoopbackListen(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "default";
  return buf;
}

// Lifts the soft open-file limit to the hard one (as Go's runtime does for every Go server since
// 1.19): each API connection, watch and kubelet stream is a descriptor, and the usual soft limit
// of 1024 would refuse clients long before memory runs short.
void RaiseOpenFileLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  if (VersionRequested(argc, argv)) {
    std::cout << VersionLine("kite-server") << "\n";
    return 0;
  }
  ::umask(077);  // the data dir and every file kite-server creates are private to its user
  if (argc > 1 && std::string(argv[1]) == "secrets-encrypt") return cli::SecretsEncryptMain(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "certificate") return server::CertificateCommand(argc - 1, argv + 1);
  const std::string notify_socket = TakeNotifySocket();  // systemd's Type=notify (before any thread)
  ServerOptions o;
  // The install script's environment file (k3s's K3S_TOKEN, K3S_DATA_DIR): defaults that the
  // command line and the config file override.
  if (const char* v = std::getenv("KITE_TOKEN")) o.token = v;
  if (const char* v = std::getenv("KITE_TOKEN_FILE")) o.token_file = v;
  if (const char* v = std::getenv("KITE_DATA_DIR")) o.data_dir = v;
  FlagSet flags("kite-server");
  flags.String("data-dir", &o.data_dir, "Folder to hold state; the database is <data-dir>/server/db/state.db");
  flags.String("etcd-listen", &o.etcd_listen, "host:port of the etcd v3 gRPC endpoint (empty disables it)");
  flags.String("metrics-listen", &o.metrics_listen, "host:port serving /metrics and /healthz over HTTP");
  flags.String("datastore-durability", &o.durability,
               "strict: acknowledge writes only after fsync (as etcd); relaxed: faster, a power loss may drop the newest writes");
  flags.Duration("datastore-heartbeat-flush", &o.heartbeat_flush_ms,
                 "Leases (node heartbeats, leader election) reach the disk with the next other write or at most this "
                 "late, not each with an fsync: an idle cluster then hardly wears its flash (0: store each at once)");
  flags.Duration("compact-interval", &o.compact_interval_ms, "How often the datastore compacts old revisions (0 disables)");
  flags.Int("compact-min-retain", &o.compact_min_retain,
            "Revisions of history kept by automatic compaction (besides the last --compact-interval)");
  flags.Int("quota-backend-bytes", &o.quota_backend_bytes,
            "Raise the NOSPACE alarm and refuse writes when the database exceeds this size (0: 2 GiB; negative: no quota)");
  flags.Int("v", &o.verbosity, "Log verbosity");
  flags.Int("https-listen-port", &o.https_listen_port, "HTTPS port of the Kubernetes API (0 picks a free one)");
  flags.String("bind-address", &o.bind_address, "Address the Kubernetes API listens on");
  flags.String("advertise-address", &o.advertise_address,
               "Address the kubernetes Service points pods at (default: --node-ip, else the default route's address)");
  flags.StringList("tls-san", &o.tls_san, "Additional hostnames or IPs as Subject Alternative Names in the serving certificate");
  flags.String("write-kubeconfig", &o.write_kubeconfig, "Write the admin kubeconfig to this file (empty: don't)");
  flags.String("write-kubeconfig-mode", &o.write_kubeconfig_mode, "File mode of the written kubeconfig, octal");
  flags.String("token-auth-file", &o.token_auth_file, "Static bearer tokens, CSV: token,user,uid,\"group1,group2\"");
  flags.String("authorization-mode", &o.authorization_mode,
               "Node,RBAC (default), RBAC or AlwaysAllow");
  flags.Bool("anonymous-auth", &o.anonymous_auth,
             "Requests without credentials are system:anonymous (what RBAC grants system:unauthenticated); false: 401");
  flags.Int("max-requests-inflight", &o.max_requests_inflight,
            "Read-only requests served at once before 429s (a LIST counts one per 100 stored objects, up to 10; 0: no limit)");
  flags.Int("max-mutating-requests-inflight", &o.max_mutating_requests_inflight,
            "Mutating requests served at once before 429s (0: no limit)");
  flags.Bool("disable-controller-manager", &o.disable_controller_manager, "Do not run the controllers");
  flags.StringList("controllers", &o.controllers,
                   "Controllers to run: '*' for the defaults, 'name' to add one, '-name' to leave one out");
  flags.Duration("node-monitor-grace-period", &o.node_monitor_grace_period_ms,
                 "How long a node may stop heartbeating before it is marked Unknown and tainted unreachable");
  flags.Duration("node-startup-grace-period", &o.node_startup_grace_period_ms,
                 "How long a new node may take to post its first status before it is marked Unknown");
  flags.Int("terminated-pod-gc-threshold", &o.terminated_pod_gc_threshold,
            "Terminated pods kept before the oldest are deleted (0 disables)");
  flags.Bool("disable-scheduler", &o.disable_scheduler, "Do not run the kube-scheduler");
  flags.Bool("disable-metrics-server", &o.disable_metrics_server,
             "Do not serve metrics.k8s.io (kubectl top, the HPA's CPU metrics) from the kubelets' resource metrics");
  flags.Duration("metric-resolution", &o.metric_resolution_ms,
                 "How often the metrics server scrapes every kubelet (metrics-server's flag)");
  flags.String("default-local-storage-path", &o.default_local_storage_path,
               "Where the local-path provisioner keeps volumes on the nodes (default <data-dir>/storage)");
  flags.String("cluster-cidr", &o.cluster_cidr, "Range of pod IPs; each node gets a /24 of it (nodeipam); dual-stack: IPV4,IPV6 (the IPv6 range is for the service proxy's nftables mode)");
  flags.String("token", &o.token, "The join token's secret (K10<hash>::<user>:<secret> or a bare secret; default: kept in <data-dir>/server/token)");
  flags.String("token-file", &o.token_file, "A file holding --token");
  flags.String("service-cidr", &o.service_cidr,
               "Range of Service cluster IPs (the `kubernetes` Service has its first address; --cluster-dns defaults to its tenth); dual-stack: the IPv4 range is used");
  flags.String("service-node-port-range", &o.service_node_port_range, "Range of ports NodePort and LoadBalancer Services get");
  flags.Bool("disable-agent", &o.disable_agent, "Do not run the embedded agent (this server is then not a node)");
  flags.StringList("disable", &o.disable,
                   "Do not run these packaged components (k3s's names): kite-dns (alias coredns), runtimes (the RuntimeClasses crun and runc), "
                   "servicelb, local-storage (the local-path provisioner and StorageClass), metrics-server; traefik is accepted (kite ships no ingress controller)");
  flags.Bool("disable-cloud-controller", &o.disable_cloud_controller,
             "Do not run the cloud controller's part: ServiceLB (k3s runs it in its cloud controller)");
  flags.Bool("disable-network-policy", &o.disable_network_policy,
             "Accepted for k3s configurations: kite enforces no NetworkPolicy, so there is nothing to turn off");
  flags.Bool("disable-helm-controller", &o.disable_helm_controller,
             "Accepted for k3s configurations: kite has no Helm controller, so there is nothing to turn off");
  // k3s's pass-through flags, for the upstream flags kite has under the same or k3s's name.
  flags.Forward("kube-apiserver-arg",
                {{"service-cluster-ip-range", "service-cidr"},
                 {"service-node-port-range", "service-node-port-range"},
                 {"advertise-address", "advertise-address"},
                 {"bind-address", "bind-address"},
                 {"secure-port", "https-listen-port"},
                 {"anonymous-auth", "anonymous-auth"},
                 {"authorization-mode", "authorization-mode"},
                 {"token-auth-file", "token-auth-file"},
                 {"max-requests-inflight", "max-requests-inflight"},
                 {"max-mutating-requests-inflight", "max-mutating-requests-inflight"},
                 {"audit-log-path", "audit-log-path"},
                 {"audit-policy-file", "audit-policy-file"},
                 {"audit-log-maxsize", "audit-log-maxsize"},
                 {"audit-log-maxbackup", "audit-log-maxbackup"},
                 {"audit-log-maxage", "audit-log-maxage"}},
                "A kube-apiserver flag as k3s passes it: name=value (repeatable)");
  flags.Forward("kube-controller-manager-arg",
                {{"controllers", "controllers"},
                 {"cluster-cidr", "cluster-cidr"},
                 {"node-monitor-grace-period", "node-monitor-grace-period"},
                 {"node-startup-grace-period", "node-startup-grace-period"},
                 {"terminated-pod-gc-threshold", "terminated-pod-gc-threshold"}},
                "A kube-controller-manager flag as k3s passes it: name=value (repeatable)");
  agent::AddNodeFlags(flags, &o.agent);  // the embedded agent's node and kubelet
  flags.Int("kubelet-port", &o.agent.kubelet_port, "The port the embedded kubelet's server listens on (the kubelet's --port)");
  flags.Duration("iptables-sync-period", &o.iptables_sync_period_ms, "How often the service proxy syncs without a change (a partial sync)");
  flags.Duration("proxy-full-sync-period", &o.proxy_full_sync_period_ms, "How often the service proxy rewrites every rule (a full sync; upstream's proxies: an hour)");
  flags.String("audit-log-path", &o.audit.path, "Write audit events (audit.k8s.io/v1 JSON lines) to this file; '-' is standard output");
  flags.String("audit-policy-file", &o.audit_policy_file, "The audit policy (audit.k8s.io/v1 Policy); nothing is audited without one");
  flags.Int("audit-log-maxsize", &o.audit.max_size_mb, "Megabytes of audit log before it is rotated (0: never)");
  flags.Int("audit-log-maxbackup", &o.audit.max_backups, "Rotated audit logs kept (0: all)");
  flags.Int("audit-log-maxage", &o.audit.max_age_days, "Days a rotated audit log is kept, by the time in its name (0: forever)");
  flags.Bool("secrets-encryption", &o.secrets_encryption,
             "Encrypt Secrets at rest (AES-CBC key in <data-dir>/server/cred/encryption-config.json; see secrets-encrypt)");
  if (auto s = flags.Parse(argc, argv, "/etc/kite/config.yaml"); !s.ok()) {
    std::cerr << "kite-server: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  std::vector<std::string> disabled_addons;  // --disable's names for the add-on deployer
  for (const auto& name : o.disable) {
    if (addons::IsPackagedAddon(name)) {
      disabled_addons.push_back(name);
    } else if (name == "servicelb") {
      o.controllers.push_back("-servicelb");
    } else if (name == "local-storage") {
      o.controllers.push_back("-local-path-provisioner");
    } else if (name == "metrics-server") {
      o.disable_metrics_server = true;
    } else if (name == "traefik") {
      // k3s configurations often say it; there is nothing of that name here to turn off.
      KITE_LOG(0) << "--disable=traefik: kite ships no ingress controller, so there is nothing to disable";
    } else {
      std::cerr << "kite-server: --disable: unknown add-on " << name
                << " (known: kite-dns, coredns, runtimes, servicelb, local-storage, metrics-server, traefik)\n";
      return 2;
    }
  }
  if (o.disable_cloud_controller) o.controllers.push_back("-servicelb");
  if (o.disable_network_policy) KITE_LOG(0) << "--disable-network-policy: kite enforces no NetworkPolicy, so there is nothing to turn off";
  if (o.disable_helm_controller) KITE_LOG(0) << "--disable-helm-controller: kite has no Helm controller, so there is nothing to turn off";
  auto service_network = apiserver::ParseServiceNetwork(o.service_cidr, o.service_node_port_range);
  if (!service_network.ok()) {
    std::cerr << "kite-server: " << service_network.status().message() << "\n";
    return 2;
  }
  // As k3s: the cluster DNS is the tenth address of the Service range unless --cluster-dns says.
  if (!flags.Given("cluster-dns")) o.agent.cluster_dns = {service_network->ClusterDnsIp()};
  if (o.durability != "strict" && o.durability != "relaxed") {
    std::cerr << "kite-server: --datastore-durability must be strict or relaxed\n";
    return 2;
  }
  if (o.authorization_mode != "Node,RBAC" && o.authorization_mode != "RBAC" && o.authorization_mode != "AlwaysAllow") {
    std::cerr << "kite-server: --authorization-mode must be Node,RBAC, RBAC or AlwaysAllow\n";
    return 2;
  }
  // --cluster-cidr may be dual-stack as k3s spells it (10.42.0.0/16,fd00:42::/56): the server's
  // parts (node IPAM, certificate SANs) take the IPv4 range; the embedded agent gets both (its
  // service proxy writes table ip6 kube-proxy in nftables mode).
  const std::string cluster_cidrs = o.cluster_cidr;
  if (auto split = SplitDualStackCidrs(o.cluster_cidr); !split.ok() || split->ipv4.empty()) {
    std::cerr << "kite-server: --cluster-cidr: "
              << (split.ok() ? "an IPv4 range is needed (IPv6-only clusters are not supported)" : split.status().message())
              << "\n";
    return 2;
  } else {
    o.cluster_cidr = split->ipv4;
  }
  if (o.max_requests_inflight < 0 || o.max_mutating_requests_inflight < 0) {
    std::cerr << "kite-server: --max-requests-inflight and --max-mutating-requests-inflight must be >= 0\n";
    return 2;
  }
  if (o.token.empty() && !o.token_file.empty()) {
    std::ifstream in(o.token_file);
    std::getline(in, o.token);
    if (o.token.empty()) {
      std::cerr << "kite-server: --token-file " << o.token_file << " holds no token\n";
      return 2;
    }
  }
  log::SetVerbosity(static_cast<int>(o.verbosity));
  RaiseOpenFileLimit();
  const auto started = std::chrono::steady_clock::now();

  // Before any thread starts, so only WaitForStopSignal below receives them.
  BlockStopSignals();

  // Every listener is bound before any component starts, so a taken port ends the process with
  // one line and exit 1 before there is anything to stop: metrics first, then the etcd
  // endpoint and the API; controllers and the scheduler only after all three.
  HttpServer http;
  http.Route("/metrics", [] {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", metrics::Serialize()};
  });
  http.Route("/healthz", [] { return HttpReply{200, "text/plain; charset=utf-8", "ok"}; });
  if (!o.metrics_listen.empty()) {
    if (auto s = http.Start(o.metrics_listen); !s.ok()) {
      KITE_LOG(0) << "metrics endpoint: " << s.message();
      return 1;  // nothing has started yet
    }
    KITE_LOG(0) << "metrics and health on http://" << o.metrics_listen << " (port " << http.port() << ")";
  }
  datastore::StoreOptions so;
  so.data_dir = (std::filesystem::path(o.data_dir) / "server" / "db").string();
  so.durability = o.durability == "strict" ? datastore::Durability::kStrict : datastore::Durability::kRelaxed;
  so.compaction_interval_ms = o.compact_interval_ms;
  so.compaction_retain_revisions = o.compact_min_retain;
  so.quota_bytes = o.quota_backend_bytes;
  if (o.heartbeat_flush_ms > 0) {
    so.heartbeat_prefixes = {"/registry/leases/"};
    so.heartbeat_flush_ms = o.heartbeat_flush_ms;
  }
  if (auto s = datastore::MakePrivateDir(o.data_dir); !s.ok()) {
    KITE_LOG(0) << "data dir: " << s.message();
    return 1;
  }
  auto store = datastore::OpenSqliteStore(so);
  if (!store.ok()) {
    KITE_LOG(0) << "datastore: " << store.status().message();
    return 1;
  }

  // Encryption at rest: the API server reads and writes through the encrypting store; the etcd
  // endpoint serves the datastore as stored.
  std::unique_ptr<apiserver::encryption::SecretsEncryption> secrets_encryption;
  datastore::Store* api_store = store->get();
  if (o.secrets_encryption) {
    auto se = apiserver::encryption::SecretsEncryption::Open(o.data_dir, store->get());
    if (!se.ok()) {
      KITE_LOG(0) << "secrets encryption: " << se.status().message();
      return 1;
    }
    secrets_encryption = std::move(se.value());
    api_store = secrets_encryption->store();
  } else if (std::filesystem::exists(std::filesystem::path(o.data_dir) / "server" / "cred" / "encryption-config.json")) {
    KITE_LOG(0) << "warning: an encryption config exists but --secrets-encryption is off: encrypted Secrets cannot be read";
  }

  std::unique_ptr<datastore::EtcdServer> etcd;
  if (!o.etcd_listen.empty()) {
    datastore::EtcdServerOptions eo;
    eo.listen = o.etcd_listen;
    eo.name = Hostname();
    // Off the loopback the endpoint is the whole datastore to anyone who reaches it: TLS with
    // client certificates from its own CA (<data-dir>/server/tls/etcd/), as k3s's etcd.
    if (!IsLoopbackListen(o.etcd_listen)) {
      const std::string host = o.etcd_listen.substr(0, o.etcd_listen.rfind(':'));
      std::vector<std::string> sans = {"localhost", "127.0.0.1", Hostname()};
      if (!host.empty() && host != "0.0.0.0" && host != "[::]") sans.push_back(host.front() == '[' ? host.substr(1, host.size() - 2) : host);
      for (const auto& s : o.tls_san) sans.push_back(s);
      auto ec = apiserver::LoadOrCreateEtcdCerts(
          (std::filesystem::path(o.data_dir) / "server" / "tls").string(), apiserver::WantedSans(sans, o.cluster_cidr, ""));
      if (!ec.ok()) {
        KITE_LOG(0) << "etcd endpoint certificates: " << ec.status().message();
        return 1;
      }
      eo.cert_pem = ec->server.cert_pem + ec->ca.cert_pem;
      eo.key_pem = ec->server.key_pem;
      eo.client_ca_pem = ec->ca.cert_pem;
    }
    auto e = datastore::EtcdServer::Start(store->get(), eo);
    if (!e.ok()) {
      KITE_LOG(0) << "etcd endpoint: " << e.status().message();
      return 1;
    }
    etcd = std::move(e.value());
    KITE_LOG(0) << "etcd v3 endpoint listening on " << o.etcd_listen << " (port " << etcd->port() << ")"
                << (eo.cert_pem.empty() ? "" : " with TLS and client certificates (server/tls/etcd/)");
  }

  unsigned kubeconfig_mode = 0;
  try {
    kubeconfig_mode = static_cast<unsigned>(std::stoul(o.write_kubeconfig_mode, nullptr, 8));
  } catch (const std::exception&) {
    std::cerr << "kite-server: --write-kubeconfig-mode must be an octal mode such as 0600\n";
    return 2;
  }
  apiserver::ApiServerOptions ao;
  ao.bind_address = o.bind_address;
  // As k3s: the node's address, so that pods reach the API through the `kubernetes` Service (the
  // loopback is not theirs); it is also a name in the serving certificate.
  ao.advertise_address = !o.advertise_address.empty() ? o.advertise_address
                         : !o.agent.node_ip.empty()   ? o.agent.node_ip
                                                      : kubelet::DefaultNodeIp();
  ao.port = static_cast<int>(o.https_listen_port);
  ao.tls_sans = o.tls_san;
  ao.cluster_cidr = o.cluster_cidr;
  ao.service_network = *service_network;
  if (o.disable_metrics_server || o.metric_resolution_ms <= 0) ao.delegates.erase("metrics.k8s.io");
  ao.join_settings = {cluster_cidrs, o.service_cidr, o.agent.cluster_dns.empty() ? "" : o.agent.cluster_dns.front(),
                      o.agent.cluster_domain, o.agent.flannel_backend};
  if (!ao.advertise_address.empty()) ao.tls_sans.push_back(ao.advertise_address);
  ao.tls_dir = (std::filesystem::path(o.data_dir) / "server" / "tls").string();
  ao.kubeconfig_path = o.write_kubeconfig;
  ao.kubeconfig_mode = kubeconfig_mode;
  ao.token_auth_file = o.token_auth_file;
  ao.always_allow = o.authorization_mode == "AlwaysAllow";
  ao.anonymous_auth = o.anonymous_auth;
  ao.inflight.max_readonly = static_cast<int>(o.max_requests_inflight);
  ao.inflight.max_mutating = static_cast<int>(o.max_mutating_requests_inflight);
  ao.join_token_path = (std::filesystem::path(o.data_dir) / "server" / "token").string();
  ao.join_token = o.token;
  ao.audit = o.audit;
  ao.audit_policy_file = o.audit_policy_file;
  if (o.audit.path.empty() != o.audit_policy_file.empty()) {
    KITE_LOG(0) << "warning: auditing needs both --audit-log-path and --audit-policy-file; nothing is audited";
  }
  auto api = apiserver::ApiServer::Start(ao, api_store);
  if (!api.ok()) {
    KITE_LOG(0) << "apiserver: " << api.status().message();
    return 1;
  }
  (*api)->ServePath(apiserver::encryption::kStatusPath, [se = secrets_encryption.get()](const std::string& method,
                                                                                      const std::string&) {
    if (method != "GET") return apiserver::PathReply{405, "text/plain", "GET only\n"};
    if (!se) return apiserver::PathReply{200, "application/json", "{}"};
    auto status = se->StatusJson();
    if (!status.ok()) return apiserver::PathReply{500, "application/json", apiserver::StatusJson(status.status())};
    return apiserver::PathReply{200, "application/json", *status};
  });
  (*api)->ServePath(apiserver::encryption::kConfigPath, [se = secrets_encryption.get()](const std::string& method,
                                                                                      const std::string& body) {
    if (method != "PUT") return apiserver::PathReply{405, "text/plain", "PUT only\n"};
    Status s = se ? se->Apply(body)
                  : Status::Api(400, "BadRequest", "secrets encryption is off (start kite-server with --secrets-encryption)");
    if (!s.ok()) return apiserver::PathReply{400, "application/json", apiserver::StatusJson(Status::Api(400, "BadRequest", s.message()))};
    return apiserver::PathReply{200, "application/json", "{}"};
  });
  KITE_LOG(0) << "Kubernetes API listening on https://" << o.bind_address << ":" << (*api)->port()
              << (o.write_kubeconfig.empty() ? "" : ", admin kubeconfig at " + o.write_kubeconfig);

  // The built-in metrics-server: scrapes the kubelets through the API server's KubeletClient
  // and serves metrics.k8s.io through the API server.
  std::unique_ptr<metricsserver::MetricsServer> metrics_server;
  if (!o.disable_metrics_server && o.metric_resolution_ms > 0) {
    auto source = metricsserver::NewKubeletClientSource((*api)->kubelet_client());
    metricsserver::MetricsServerOptions mo;
    mo.resolution = std::chrono::milliseconds(o.metric_resolution_ms);
    metrics_server = metricsserver::MetricsServer::Start(
        (*api)->LocalTransport("system:metrics-server", {"system:masters"}), std::move(source), mo);
    (*api)->Delegate("metrics.k8s.io", [ms = metrics_server.get()](const apiserver::DelegatedRequest& r) {
      return ms->Serve({r.verb, r.resource, r.namespace_, r.name, r.label_selector, r.field_selector});
    });
  }

  std::unique_ptr<controllers::ControllerManager> controller_manager;
  if (!o.disable_controller_manager) {
    controllers::ControllerManagerOptions co;
    co.controllers = o.controllers;
    co.node_monitor_grace_period = std::chrono::milliseconds(o.node_monitor_grace_period_ms);
    co.node_startup_grace_period = std::chrono::milliseconds(o.node_startup_grace_period_ms);
    co.terminated_pod_gc_threshold = o.terminated_pod_gc_threshold;
    co.cluster_cidr = o.cluster_cidr;
    co.pod_cpu_metrics = controllers::PodCpuFromStorage(metrics_server ? &metrics_server->storage() : nullptr);
    co.local_storage_path = o.default_local_storage_path.empty()
                                ? (std::filesystem::absolute(o.data_dir) / "storage").string()
                                : o.default_local_storage_path;
    co.local_path_helper_image = KITE_LOCAL_PATH_HELPER_IMAGE;
    // The CA that signs the serving certificate, published to every namespace as kube-root-ca.crt.
    if (std::ifstream ca(std::filesystem::path(ao.tls_dir) / "server-ca.crt"); ca) {
      co.root_ca_pem.assign(std::istreambuf_iterator<char>(ca), std::istreambuf_iterator<char>());
    }
    co.service_account_private_key_file = (std::filesystem::path(ao.tls_dir) / "service.current.key").string();
    {
      auto read = [&](const std::string& name) {
        std::ifstream in(std::filesystem::path(ao.tls_dir) / name);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      };
      co.csr_signing.client_ca = {read("client-ca.crt"), read("client-ca.key")};
      co.csr_signing.serving_ca = {read("server-ca.crt"), read("server-ca.key")};
    }
    // Each controller acts as its own service account, the manager as system:kube-controller-manager
    // (the identity of <tls>/client-controller.crt): RBAC's bootstrap roles bound the rest.
    co.transport_for = [a = api->get()](const std::string& user, std::vector<std::string> groups) {
      return a->LocalTransport(user, std::move(groups));
    };
    auto cm = controllers::ControllerManager::Start((*api)->LocalTransport("system:kube-controller-manager", {}), co);
    if (!cm.ok()) {
      KITE_LOG(0) << "controller manager: " << cm.status().message();
      return 2;
    }
    controller_manager = std::move(cm.value());
  }
  std::unique_ptr<scheduler::Scheduler> sched;
  if (!o.disable_scheduler) {
    sched = scheduler::Scheduler::Start((*api)->LocalTransport("system:kube-scheduler", {}), {});
  }
  // `kubectl get componentstatuses`: the components this process runs.
  {
    const bool scheduling = sched != nullptr, controlling = controller_manager != nullptr;
    auto components = apiserver::KiteControlPlane([scheduling] { return scheduling; }, [controlling] { return controlling; });
    (*api)->Delegate("/componentstatuses", [components](const apiserver::DelegatedRequest& r) {
      return apiserver::ServeComponentStatuses(r, components);
    });
  }

  // Auto-deploying manifests (<data-dir>/server/manifests/, addons/manifests/deployer.h): the
  // packaged add-ons (the cluster DNS at --cluster-dns) are written there and applied with the rest.
  std::unique_ptr<addons::ManifestDeployer> deployer;
  {
    addons::AddonOptions ad;
    ad.disable = disabled_addons;
    if (!o.agent.cluster_dns.empty()) ad.cluster_dns = o.agent.cluster_dns.front();
    ad.cluster_domain = o.agent.cluster_domain;
    ad.dns_image = KITE_DNS_IMAGE;
    const auto server_dir = std::filesystem::path(o.data_dir) / "server";
    addons::DeployerOptions dep;
    dep.dir = (server_dir / "manifests").string();
    dep.state_file = (server_dir / "manifests.applied").string();
    if (auto s = addons::WritePackagedManifests(dep.dir, ad); !s.ok()) {
      KITE_LOG(0) << "add-ons: " << s.message();  // the cluster runs on; the objects can be made by hand
    }
    deployer = addons::ManifestDeployer::Start((*api)->LocalTransport("system:apiserver", {"system:masters"}), dep);
  }

  // The embedded agent: this server is a node too, as a k3s server is. kite-server links the agent
  // library and this file composes them (server/ and agent/ never include each other's parts).
  std::unique_ptr<agent::Agent> node_agent;
  if (!o.disable_agent) {
    o.agent.data_dir = o.data_dir;
    o.agent.control_plane = true;
    o.agent.cluster_cidr = cluster_cidrs;
    o.agent.iptables_sync_period = std::chrono::milliseconds(o.iptables_sync_period_ms);
    o.agent.proxy_full_sync_period = std::chrono::milliseconds(o.proxy_full_sync_period_ms);
    const std::string node = agent::NodeName(o.agent);
    // The server's node name is claimed with a node password like any joining node's, so that no
    // agent elsewhere can take it (k3s's server joins its own supervisor the same way).
    auto password = agent::LoadOrCreateNodePassword((std::filesystem::path(o.data_dir) / "agent").string());
    Status claimed = password.ok() ? apiserver::join::EnsureNodePassword(
                                         client::Client((*api)->LocalTransport("system:apiserver", {"system:masters"})),
                                         node, *password)
                                   : password.status();
    if (!claimed.ok()) {
      KITE_LOG(0) << "embedded agent: node " << node << ": " << claimed.message();
      return 1;
    }
    // The kubelet server's certificates, issued here as the join endpoints issue a joining node's.
    std::vector<std::string> node_ips;
    if (const std::string ip = agent::NodeIp(o.agent); !ip.empty()) {
      node_ips.push_back(ip);
    }
    auto kubelet_certs = (*api)->IssueKubeletCerts(node, node_ips);
    if (!kubelet_certs.ok()) {
      KITE_LOG(0) << "embedded agent: kubelet certificates: " << kubelet_certs.status().message();
      return 1;
    }
    o.agent.serving_cert_pem = kubelet_certs->serving.cert_pem;
    o.agent.serving_key_pem = kubelet_certs->serving.key_pem;
    o.agent.client_ca_pem = kubelet_certs->client_ca_pem;
    auto a = agent::Agent::Start(o.agent, (*api)->LocalTransport("system:node:" + node, {"system:nodes"}),
                                 agent::DefaultRuntime());
    if (!a.ok()) {
      KITE_LOG(0) << "embedded agent: " << a.status().message();
      return 2;
    }
    node_agent = std::move(a.value());
    // The API server reaches this node's kubelet in process: exec, attach, port-forward and logs
    // then skip a TLS hop to a server in the same process (bench/RESULTS.md, §14).
    if (InProcessServer kubelet = node_agent->kubelet_in_process()) (*api)->SetInProcessKubelet(node, kubelet);
  }

  // Ready once the API server's own start-up writes are done (its /readyz says the same), so that
  // whoever waits for ready sees a store that no start-up work moves any more.
  if (!(*api)->WaitStartHooks(std::chrono::seconds(10))) {
    KITE_LOG(0) << "API server: the Local APIServices are not written yet; /readyz fails until they are";
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  KITE_LOG(0) << "kite-server ready in " << ms << " ms";
  if (auto s = SdNotify(notify_socket, "READY=1"); !s.ok()) KITE_LOG(0) << "sd_notify: " << s.message();
#if !defined(KITE_JEMALLOC)
  const auto trimmer = MemoryTrimmer::Start();  // glibc keeps a burst's freed pages otherwise
#endif

  const int sig = WaitForStopSignal();
  KITE_LOG(0) << "received signal " << sig << ", shutting down";
  if (node_agent) {
    (*api)->SetInProcessKubelet("", InProcessServer{});
    node_agent->Stop();
  }
  if (deployer) deployer->Stop();
  if (sched) sched->Stop();
  if (controller_manager) controller_manager->Stop();
  if (metrics_server) metrics_server->Stop();
  if (secrets_encryption) secrets_encryption->Wait();
  (*api)->Stop();
  if (etcd) etcd->Shutdown();
  http.Stop();
  store->reset();  // drains the write queue, checkpoints and closes the database
  KITE_LOG(0) << "kite-server stopped";
  return 0;
}
