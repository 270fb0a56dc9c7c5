#include "server/server_flags.h"

#include <fstream>
#include <iostream>

#include "addons/manifests/manifests.h"
#include "base/flags.h"
#include "base/ip_address.h"
#include "base/log.h"

namespace kite::server {

std::optional<int> ReadServerFlags(int argc, char** argv, ServerOptions& o) {
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
                   "Do not run these packaged components (k3s's names): kite-dns (alias coredns), kite-ingress (alias traefik), "
                   "runtimes (the RuntimeClasses crun and runc), servicelb, local-storage (the local-path provisioner and StorageClass), metrics-server");
  flags.Bool("disable-cloud-controller", &o.disable_cloud_controller,
             "Do not run the cloud controller's part: ServiceLB (k3s runs it in its cloud controller)");
  flags.Bool("disable-network-policy", &o.disable_network_policy,
             "Do not enforce NetworkPolicies (on this server's node and on the agents that join it)");
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
  for (const auto& name : o.disable) {
    if (addons::IsPackagedAddon(name)) {
      o.disabled_addons.push_back(name);
    } else if (name == "servicelb") {
      o.controllers.push_back("-servicelb");
    } else if (name == "local-storage") {
      o.controllers.push_back("-local-path-provisioner");
    } else if (name == "metrics-server") {
      o.disable_metrics_server = true;
    } else {
      std::cerr << "kite-server: --disable: unknown add-on " << name
                << " (known: kite-dns, coredns, kite-ingress, traefik, runtimes, servicelb, local-storage, metrics-server)\n";
      return 2;
    }
  }
  if (o.disable_cloud_controller) o.controllers.push_back("-servicelb");
  o.agent.disable_network_policy = o.disable_network_policy;
  if (o.disable_helm_controller) KITE_LOG(0) << "--disable-helm-controller: kite has no Helm controller, so there is nothing to turn off";
  auto service_network = apiserver::ParseServiceNetwork(o.service_cidr, o.service_node_port_range);
  if (!service_network.ok()) {
    std::cerr << "kite-server: " << service_network.status().message() << "\n";
    return 2;
  }
  o.service_network = *service_network;
  // As k3s: the cluster DNS is the tenth address of the Service range unless --cluster-dns says.
  if (!flags.Given("cluster-dns")) o.agent.cluster_dns = {o.service_network.ClusterDnsIp()};
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
  o.cluster_cidrs = o.cluster_cidr;
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
  return std::nullopt;
}

}  // namespace kite::server
