// kite-server's flags (and their config-file keys): the options struct and the one function
// that reads and checks them, apart from server/main.cc, which composes the components from
// them. Program files, like main.cc: they may include agent/ (the embedded agent's flags).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "server/apiserver/apiserver.h"

namespace kite::server {

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

  // Derived by ReadServerFlags from the flags above.
  std::vector<std::string> disabled_addons;  // --disable's names that are the add-on deployer's
  std::string cluster_cidrs;                 // --cluster-cidr as given (cluster_cidr: its IPv4 range)
  kite::apiserver::ServiceNetwork service_network;
  bool MetricsServerOn() const { return !disable_metrics_server && metric_resolution_ms > 0; }
};

// Reads the flags: the install script's environment (KITE_TOKEN, KITE_TOKEN_FILE, KITE_DATA_DIR),
// then the command line and the config file (/etc/kite/config.yaml or --config), then checks
// them and fills the derived fields (k3s's --disable names resolved, the Service network parsed,
// --cluster-dns defaulted from it, --token-file read). nullopt: go on; otherwise the exit code
// (0 after --help; 2 for a bad flag, its message printed).
std::optional<int> ReadServerFlags(int argc, char** argv, ServerOptions& o);

}  // namespace kite::server
