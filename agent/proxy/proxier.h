// The service proxy (kube-proxy's iptables or nftables mode) as a controller on the agent's runner: it
// watches Services and EndpointSlices and keeps the node's iptables rules (iptables_rules.h)
// matching them.
//
// - Handlers only note which Services changed and enqueue the one key "sync"; the work queue
//   never runs two syncs at once. Syncs start at most once per `min_sync_period` on average,
//   two in a row after a quiet spell (upstream's bounded-frequency runner with burstSyncs 2), so a
//   burst of changes becomes one or two syncs; one runs at least every `sync_period`.
// - A sync is partial: the top-level chains plus the changed Services' chains, one
//   `iptables-restore --noflush` batch (nftables mode: only the changed Services' chains and map
//   elements, one `nft -f -` transaction); the periodic one every `sync_period` too. A full sync
//   (every chain rewritten, the jumps from the built-in chains checked, per-service rules deleted
//   by hand come back) only at start, after a failure, and once every `full_sync_period` (an
//   hour, as upstream's proxies since KEP-3453: at 10k Services a full sync costs seconds of CPU,
//   a partial one milliseconds). The first sync (and the one after a failure) also lists the nat
//   table's chains (names only, Iptables::NatChains) and deletes per-service chains nothing wants
//   (left by an earlier process).
// - UDP Services' stale conntrack entries are deleted after the rules are in (conntrack.h).
// - /healthz (and /livez) on `healthz_bind_address` answer 200 while syncs keep up (upstream's
//   rule: no change waiting longer than twice the sync period), 503 otherwise; /metrics serves
//   the process's registry there too. Metrics under upstream's names: kubeproxy_sync_proxy_
//   rules_duration_seconds, kubeproxy_sync_full_proxy_rules_duration_seconds, kubeproxy_sync_
//   partial_proxy_rules_duration_seconds, kubeproxy_network_programming_duration_seconds (from the
//   slices' endpoints.kubernetes.io/last-change-trigger-time), kubeproxy_sync_proxy_rules_last_
//   timestamp_seconds, kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds, kubeproxy_sync_
//   proxy_rules_iptables_total{table}, kubeproxy_sync_proxy_rules_iptables_restore_failures_
//   total, kubeproxy_sync_proxy_rules_endpoint_changes_total, kubeproxy_sync_proxy_rules_service_
//   changes_total.
// - Services with externalTrafficPolicy Local and a healthCheckNodePort get their health check
//   listener (service_health.h), updated after each successful sync.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/proxy/iptables.h"
#include "agent/proxy/iptables_rules.h"
#include "agent/proxy/nftables_rules.h"
#include "agent/proxy/service_health.h"
#include "agent/proxy/service_info.h"
#include "base/http_server.h"
#include "client/controller.h"

namespace kite::proxy {

struct ProxyOptions {
  std::string node_name;
  // --proxy-mode: "iptables" (iptables-restore, iptables_rules.h) or "nftables" (`nft -f -`
  // into table ip kube-proxy, nftables_rules.h).
  std::string mode = "iptables";
  RulesConfig rules;
  // Dual-stack (nftables mode only): IPv6 Services (their IPv6 cluster IPs, IPv6 EndpointSlices)
  // go into table ip6 kube-proxy too, in the same transaction as the IPv4 table; cluster_cidr is
  // the IPv6 pod CIDR (SetClusterCidrs sets it from the flag). Unset: IPv4 only. Stale UDP conntrack entries of
  // both families are deleted.
  std::optional<RulesConfig> rules6;
  std::string healthz_bind_address = "0.0.0.0:10256";  // "": no health server
  std::chrono::milliseconds sync_period{30'000};       // --iptables-sync-period
  std::chrono::milliseconds min_sync_period{1'000};    // --iptables-min-sync-period
  // How often a sync is full (upstream: a constant hour); tests shorten it.
  std::chrono::milliseconds full_sync_period{3'600'000};
  Exec exec;                       // empty: RunCommand
  std::optional<Backend> backend;  // empty: DetectBackend
};

// --cluster-cidr as k3s spells it, one range per family ("10.42.0.0/16,fd00:42::/56"): the IPv4
// one becomes rules.cluster_cidr; an IPv6 one turns dual-stack on (rules6, whose cluster_cidr it
// is; nftables mode only, iptables mode logs that it leaves IPv6 alone).
Status SetClusterCidrs(const std::string& cluster_cidr, ProxyOptions* options);

class Proxier : public client::Controller {
 public:
  explicit Proxier(ProxyOptions options);
  ~Proxier() override;

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // One sync now (tests, benchmarks): full, or partial over what changed since the last one.
  Status Sync(bool full);
  // The health server's port (0 when none).
  int healthz_port() const;
  // The port a Service's health check listens on (0: none); worker thread or tests only.
  int health_check_port(const std::string& service_key) const;

  struct Stats {
    int64_t syncs = 0, full_syncs = 0, failures = 0;
    std::chrono::steady_clock::duration last_duration{};
    size_t last_nat_rules = 0, last_chains_written = 0;
  };
  Stats stats() const;

 private:
  void Changed(const std::string& service_key, const boost::json::object* slice);
  HttpReply Health() const;
  bool Healthy() const;  // mu_ held

  ProxyOptions opts_;
  Exec exec_;
  std::unique_ptr<Iptables> iptables_;
  client::Informer* services_inf_ = nullptr;
  client::Informer* slices_inf_ = nullptr;
  std::unique_ptr<HttpServer> health_;
  std::unique_ptr<ServiceHealthServers> service_health_;

  mutable std::mutex mu_;  // guards the fields below
  std::set<std::string> changed_;
  std::optional<std::chrono::system_clock::time_point> oldest_trigger_;  // of the changes waiting
  std::optional<std::chrono::steady_clock::time_point> queued_since_;   // oldest change not synced
  std::chrono::steady_clock::time_point last_sync_{}, last_full_{};
  std::chrono::system_clock::time_point last_success_wall_{};
  double tokens_ = 2;  // syncs that may start now (Reconcile's rate limit)
  std::chrono::steady_clock::time_point tokens_at_{};
  bool need_full_ = true;
  bool synced_once_ = false;
  Stats stats_;

  // Worker only (syncs never overlap).
  ServiceMap services_;
  ChainState chains_;
  NftState nft_state_;
  ServiceMap services6_;  // dual-stack: the IPv6 ports (opts_.rules6)
  NftState nft_state6_;
  bool nftables_ = false;
  bool known_state_ = false;  // the per-service chains in the table are exactly chains_
};

}  // namespace kite::proxy
