#include "agent/proxy/proxier.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "agent/proxy/conntrack.h"
#include "api/object.h"
#include "api/time.h"
#include "base/clock.h"
#include "base/ip_address.h"
#include "base/log.h"
#include "base/metrics.h"

namespace kite::proxy {

namespace json = boost::json;

namespace {

constexpr const char kSyncKey[] = "sync";
constexpr double kBurstSyncs = 2;  // upstream kube-proxy's burstSyncs
constexpr const char kServiceNameLabel[] = "kubernetes.io/service-name";
// iptables-nft-restore's batches (GenerateRules): ~200 Services of 10 endpoints each. Measured
// with iptables-nft-restore alone on a full sync's input at 3k Services × 10 (33k chains):
// batches of 275 chains 4.9 s CPU (each commit costs the kernel more as the table grows), 1,100
// 2.7 s, 3,300 2.5 s, 11,000 4.2 s, one batch 13 s; at 10k, 2,200 chains a batch 8.5 s instead
// of more than 6 minutes. Fewer, larger batches save some of the kernel's per-commit validation
// of every rule reachable from the base chains (0.35 s a commit at 10k once KUBE-SERVICES is in
// use) but walk the list longer again. So: small batches into a table without the chains yet
// (nothing reaches them until the last commit: validation is cheap there), larger ones when
// the table already holds them (an hourly full sync, an agent restart): a steady full sync's
// batches at 10k replayed with iptables-nft-restore alone took 29.9 s CPU as 55 batches of
// 2,000 chains, 21.1 s as 19 of 6,000, 20.6 s as 10 of 12,000 (user time 5.5 → 9.0 → 12.4 s).
constexpr size_t kNftRestoreBatchChains = 2000;
constexpr size_t kNftRestoreBatchChainsInUse = 6000;

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Metrics {
  prometheus::Histogram *sync, *full, *partial, *programming;
  prometheus::Gauge *last_ts, *last_queued_ts, *filter_rules, *nat_rules;
  prometheus::Counter *restore_failures, *endpoint_changes, *service_changes;

  static Metrics& Get() {
    static Metrics m = [] {
      auto& r = metrics::Default();
      Metrics x{};
      // upstream's buckets: exponential from 1 ms, factor 2, 15 of them.
      const auto sync_buckets = metrics::ExponentialBuckets(0.001, 2, 15);
      x.sync = &prometheus::BuildHistogram()
                    .Name("kubeproxy_sync_proxy_rules_duration_seconds")
                    .Help("SyncProxyRules latency in seconds")
                    .Register(r)
                    .Add({}, sync_buckets);
      x.full = &prometheus::BuildHistogram()
                    .Name("kubeproxy_sync_full_proxy_rules_duration_seconds")
                    .Help("SyncProxyRules latency in seconds for full resyncs")
                    .Register(r)
                    .Add({}, sync_buckets);
      x.partial = &prometheus::BuildHistogram()
                       .Name("kubeproxy_sync_partial_proxy_rules_duration_seconds")
                       .Help("SyncProxyRules latency in seconds for partial resyncs")
                       .Register(r)
                       .Add({}, sync_buckets);
      prometheus::Histogram::BucketBoundaries prog;
      for (double b = 0.25; b <= 1.0; b += 0.25) prog.push_back(b);
      for (double b = 2; b <= 30; b += 1) prog.push_back(b);
      for (double b = 60; b <= 300; b += 30) prog.push_back(b);
      x.programming = &prometheus::BuildHistogram()
                           .Name("kubeproxy_network_programming_duration_seconds")
                           .Help("In Cluster Network Programming Latency in seconds")
                           .Register(r)
                           .Add({}, prog);
      x.last_ts = &prometheus::BuildGauge()
                       .Name("kubeproxy_sync_proxy_rules_last_timestamp_seconds")
                       .Help("The last time proxy rules were successfully synced")
                       .Register(r)
                       .Add({});
      x.last_queued_ts = &prometheus::BuildGauge()
                              .Name("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds")
                              .Help("The last time a sync of proxy rules was queued")
                              .Register(r)
                              .Add({});
      auto& rules = prometheus::BuildGauge()
                        .Name("kubeproxy_sync_proxy_rules_iptables_total")
                        .Help("Total number of iptables rules owned by kube-proxy")
                        .Register(r);
      x.filter_rules = &rules.Add({{"table", "filter"}});
      x.nat_rules = &rules.Add({{"table", "nat"}});
      x.restore_failures = &prometheus::BuildCounter()
                                .Name("kubeproxy_sync_proxy_rules_iptables_restore_failures_total")
                                .Help("Cumulative proxy iptables restore failures")
                                .Register(r)
                                .Add({});
      x.endpoint_changes = &prometheus::BuildCounter()
                                .Name("kubeproxy_sync_proxy_rules_endpoint_changes_total")
                                .Help("Cumulative proxy rules Endpoint changes")
                                .Register(r)
                                .Add({});
      x.service_changes = &prometheus::BuildCounter()
                               .Name("kubeproxy_sync_proxy_rules_service_changes_total")
                               .Help("Cumulative proxy rules Service changes")
                               .Register(r)
                               .Add({});
      return x;
    }();
    return m;
  }
};

std::string SliceService(const json::object& slice) {
  const json::value* v = api::Find(api::Labels(slice), kServiceNameLabel);
  if (!v || !v->is_string() || v->as_string().empty()) return "";
  return api::Namespace(slice) + "/" + std::string(v->as_string());
}

}  // namespace

Status SetClusterCidrs(const std::string& cluster_cidr, ProxyOptions* options) {
  auto cidrs = SplitDualStackCidrs(cluster_cidr);
  if (!cidrs.ok()) return Status(Code::kInvalidArgument, "--cluster-cidr: " + cidrs.status().message());
  options->rules.cluster_cidr = cidrs->ipv4;
  options->rules6.reset();
  if (!cidrs->ipv6.empty()) {
    options->rules6 = options->rules;
    options->rules6->cluster_cidr = cidrs->ipv6;
    options->rules6->ipv6 = true;
  }
  return Status::Ok();
}

Proxier::Proxier(ProxyOptions options)
    : client::Controller("kube-proxy", 1), opts_(std::move(options)), exec_(opts_.exec ? opts_.exec : Exec(RunCommand)) {
  if (opts_.rules6) opts_.rules6->ipv6 = true;
  Metrics::Get();
}

Proxier::~Proxier() {
  if (health_) health_->Stop();
  service_health_.reset();  // its servers ask Healthy(): gone before the rest of this
}

void Proxier::Init(client::InformerFactory& informers) {
  if (opts_.mode == "nftables") {
    nftables_ = true;
    KITE_LOG(0) << "kube-proxy: nftables mode (table ip " << kNftTable << "), node " << opts_.node_name;
  } else {
    const Backend backend = opts_.backend ? *opts_.backend : DetectBackend(exec_);
    iptables_ = std::make_unique<Iptables>(backend, exec_);
    // The kubelet's hint for tools like this one that detect the backend.
    if (Status s = iptables_->EnsureChain("mangle", "KUBE-IPTABLES-HINT"); !s.ok()) {
      KITE_LOG(0) << "kube-proxy: " << s.message();
    }
    // Switching back from nftables mode: its table would DNAT the same traffic first.
    for (const char* family : {"ip", "ip6"}) {
      if (exec_({"nft", "list", "table", family, kNftTable}, "").ok()) {
        (void)exec_({"nft", "delete", "table", family, kNftTable}, "");
      }
    }
    if (opts_.rules6) KITE_LOG(0) << "kube-proxy: IPv6 Services are proxied in nftables mode only";
    KITE_LOG(0) << "kube-proxy: iptables mode, " << BackendName(backend) << " backend, node " << opts_.node_name;
  }

  services_inf_ = informers.For("", "v1", "services");
  slices_inf_ = informers.For("discovery.k8s.io", "v1", "endpointslices");
  client::EventHandler svc;
  svc.on_add = [this](const client::ObjectPtr& o) { Changed(api::Namespace(*o) + "/" + api::Name(*o), nullptr); };
  svc.on_update = [this](const client::ObjectPtr& old_obj, const client::ObjectPtr& o) {
    // Status-only writes other than the load balancer's do not matter; spec and LB do.
    if (api::GetObject(*old_obj, "spec") == api::GetObject(*o, "spec") &&
        api::GetObject(*old_obj, {"status", "loadBalancer"}) == api::GetObject(*o, {"status", "loadBalancer"})) {
      return;
    }
    Changed(api::Namespace(*o) + "/" + api::Name(*o), nullptr);
  };
  svc.on_delete = [this](const client::ObjectPtr& o) { Changed(api::Namespace(*o) + "/" + api::Name(*o), nullptr); };
  services_inf_->AddHandler(std::move(svc));
  client::EventHandler sl;
  sl.on_add = [this](const client::ObjectPtr& o) { Changed(SliceService(*o), o.get()); };
  sl.on_update = [this](const client::ObjectPtr& old_obj, const client::ObjectPtr& o) {
    const std::string before = SliceService(*old_obj), after = SliceService(*o);
    if (before != after) Changed(before, nullptr);
    Changed(after, o.get());
  };
  sl.on_delete = [this](const client::ObjectPtr& o) { Changed(SliceService(*o), nullptr); };
  slices_inf_->AddHandler(std::move(sl));

  if (!opts_.healthz_bind_address.empty()) {
    health_ = std::make_unique<HttpServer>();
    health_->Route("/healthz", [this] { return Health(); });
    health_->Route("/livez", [this] { return Health(); });
    health_->Route("/metrics", [] {
      HttpReply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics::Serialize();
      return r;
    });
    if (Status s = health_->Start(opts_.healthz_bind_address); !s.ok()) {
      KITE_LOG(0) << "kube-proxy: health server on " << opts_.healthz_bind_address << ": " << s.message();
      health_.reset();
    }
  }
  service_health_ = std::make_unique<ServiceHealthServers>([this] {
    std::lock_guard<std::mutex> lock(mu_);
    return Healthy();
  });
  queue_.Add(kSyncKey);
}

void Proxier::Changed(const std::string& key, const json::object* slice) {
  if (key.empty()) return;
  auto& m = Metrics::Get();
  (slice ? m.endpoint_changes : m.service_changes)->Increment();
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed_.insert(key);
    if (!queued_since_) queued_since_ = std::chrono::steady_clock::now();
    if (slice) {
      const json::value* t = api::Find(api::Annotations(*slice), "endpoints.kubernetes.io/last-change-trigger-time");
      if (t && t->is_string()) {
        if (auto when = api::ParseTime(t->as_string()); when && (!oldest_trigger_ || *when < *oldest_trigger_)) {
          oldest_trigger_ = *when;
        }
      }
    }
  }
  m.last_queued_ts->Set(std::chrono::duration<double>(kite::Clock::Real()->Now().time_since_epoch()).count());
  queue_.Add(kSyncKey);
}

Status Proxier::Reconcile(const std::string& key) {
  if (key != kSyncKey) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  bool full;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // upstream's bounded-frequency runner: a token bucket refilled at one sync per min sync
    // period, holding at most kBurstSyncs, a token taken when a sync starts. A change after a
    // quiet spell is synced at once; a stream of changes gets one sync per period.
    if (opts_.min_sync_period.count() > 0) {
      const double period = std::chrono::duration<double>(opts_.min_sync_period).count();
      tokens_ = std::min(kBurstSyncs, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() / period);
      tokens_at_ = now;
      if (tokens_ < 1) {
        queue_.AddAfter(kSyncKey, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::duration<double>((1 - tokens_) * period)) +
                                      std::chrono::milliseconds(1));
        return Status::Ok();
      }
      tokens_ -= 1;
    }
    full = need_full_ || now - last_full_ >= opts_.full_sync_period;
  }
  Status s = Sync(full);
  // The next periodic sync; a failure retries sooner through the queue's back-off (and the
  // retry is full).
  queue_.AddAfter(kSyncKey, opts_.sync_period);
  if (!s.ok()) {
    KITE_LOG(0) << "kube-proxy: sync failed: " << s.message();
    return s;
  }
  queue_.Forget(kSyncKey);
  return Status::Ok();
}

Status Proxier::Sync(bool full) {
  const auto start = std::chrono::steady_clock::now();
  std::set<std::string> changed;
  std::optional<std::chrono::system_clock::time_point> trigger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed.swap(changed_);
    trigger = oldest_trigger_;
    oldest_trigger_.reset();
    queued_since_.reset();
    if (need_full_) full = true;
  }
  auto& m = Metrics::Get();
  auto restore_pending = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    changed_.insert(changed.begin(), changed.end());
    need_full_ = true;
    known_state_ = false;
    if (!queued_since_) queued_since_ = start;
  };
  if (!iptables_ && !nftables_) return Status(Code::kFailedPrecondition, "not initialised");

  // The desired state: everything again for a full sync, else only the changed Services.
  ServiceMap next;
  std::vector<std::string> keys;
  if (full) {
    for (const client::ObjectPtr& svc : services_inf_->List()) keys.push_back(api::Namespace(*svc) + "/" + api::Name(*svc));
    for (const auto& [key, ports] : services_) keys.push_back(key);  // so gone ones count as changed
  } else {
    keys.assign(changed.begin(), changed.end());
  }
  // A full sync groups every slice once (a selector List per Service would be quadratic).
  std::map<std::string, std::vector<client::ObjectPtr>> all_slices;
  if (full) {
    for (client::ObjectPtr& sl : slices_inf_->List()) {
      std::string owner = SliceService(*sl);
      if (!owner.empty()) all_slices[owner].push_back(std::move(sl));
    }
  }
  ServiceMap before_changed;  // the changed Services' old state (conntrack)
  ServiceMap after_changed;
  ServiceMap before_changed6, after_changed6;  // the same Services' IPv6 ports (dual-stack, nftables mode)
  const bool ipv6 = nftables_ && opts_.rules6.has_value();
  for (const std::string& key : keys) {
    if (after_changed.count(key)) continue;
    auto old = services_.find(key);
    if (old != services_.end()) before_changed[key] = old->second;
    const size_t slash = key.find('/');
    const std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
    client::ObjectPtr svc = services_inf_->Get(ns, name);
    std::vector<client::ObjectPtr> slices;
    if (svc && full) {
      if (auto it = all_slices.find(key); it != all_slices.end()) slices = it->second;
    } else if (svc) {
      slices = slices_inf_->List(ns, std::string(kServiceNameLabel) + "=" + name);
    }
    std::vector<const json::object*> raw;
    for (const auto& s : slices) raw.push_back(s.get());
    after_changed[key] = svc ? BuildServicePorts(*svc, raw, opts_.node_name) : std::vector<ServicePort>{};
    if (ipv6) {
      if (auto old6 = services6_.find(key); old6 != services6_.end()) before_changed6[key] = old6->second;
      after_changed6[key] = svc ? BuildServicePorts(*svc, raw, opts_.node_name, true) : std::vector<ServicePort>{};
    }
  }
  // A full sync's desired state is built anew; a partial one is updated in place (a copy of
  // every Service was a good part of a partial sync at 10k): a failed sync is followed by a full
  // one, which builds everything again.
  auto update = [full](ServiceMap& current, ServiceMap& fresh, const ServiceMap& changed_ports) {
    if (full) {
      fresh.clear();
      for (const auto& [key, ports] : changed_ports) {
        if (!ports.empty()) fresh[key] = ports;
      }
      return;
    }
    for (const auto& [key, ports] : changed_ports) {
      if (ports.empty()) {
        current.erase(key);
      } else {
        current[key] = ports;
      }
    }
  };
  ServiceMap next6;
  update(services_, next, after_changed);
  if (ipv6) update(services6_, next6, after_changed6);
  const ServiceMap& desired = full ? next : services_;
  const ServiceMap& desired6 = full ? next6 : services6_;

  std::set<std::string> changed_keys(keys.begin(), keys.end());
  // Listing the table's chains is costly at scale (seconds at 110k chains, Iptables::NatChains):
  // only when what is there is not known — the first sync of this process and the one after a
  // failed restore. The state moves into GenerateRules (no copy of it at 10k Services).
  const bool read_back = !nftables_ && full && !known_state_;
  ChainState before = nftables_ ? ChainState{} : std::move(chains_);
  if (read_back) {
    // What is really there: chains a previous process (or a hand) left are deleted, with those
    // carried as orphans (a failed sync's deletions).
    if (auto found = iptables_->NatChains(); found.ok()) {
      std::set<std::string> known;
      for (const auto& [key, chains] : before.by_service) known.insert(chains.begin(), chains.end());
      for (const std::string& c : *found) {
        if (IsServiceChain(c) && !known.count(c)) before.orphans.insert(c);
      }
    }
  }
  RulesText rules;
  NftText nft;
  Status s;
  if (nftables_) {
    nft = GenerateNftRules(desired, opts_.rules, full ? nullptr : &changed_keys, nft_state_, known_state_);
    if (ipv6) {
      // The IPv6 table in the same transaction: both families change together or not at all.
      NftText nft6 = GenerateNftRules(desired6, *opts_.rules6, full ? nullptr : &changed_keys, nft_state6_, known_state_);
      nft.text += nft6.text;
      nft.rules += nft6.rules;
      nft.chains_written += nft6.chains_written;
    }
    auto r = exec_({"nft", "-f", "-"}, nft.text);
    if (!r.ok()) s = r.status();
    rules.nat_rules = nft.rules;
    rules.nat_chains_written = nft.chains_written;
  } else {
    size_t batch_chains = 0;  // legacy: one batch (the kernel replaces the whole table per commit anyway)
    if (iptables_->backend() == Backend::kNft) {
      size_t there = before.orphans.size();
      for (const auto& [key, chains] : before.by_service) there += chains.size();
      batch_chains = there >= kNftRestoreBatchChainsInUse ? kNftRestoreBatchChainsInUse : kNftRestoreBatchChains;
    }
    rules = GenerateRules(desired, opts_.rules, full ? nullptr : &changed_keys, std::move(before), batch_chains);
    for (const std::string& batch : rules.batches) {
      if (s = iptables_->Restore(batch); !s.ok()) break;
    }
    if (s.ok() && !rules.text.empty()) s = iptables_->Restore(rules.text);
    if (s.ok() && full) s = iptables_->EnsureJumps();
  }
  const auto end = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.syncs;
    if (full) ++stats_.full_syncs;
    stats_.last_duration = end - start;
    last_sync_ = end;
  }
  if (!s.ok()) {
    m.restore_failures->Increment();
    if (!nftables_) {
      // What the table holds is between the state before and after: the chains this sync meant
      // to delete are kept as orphans (the next, full, sync deletes what nothing wants).
      chains_ = std::move(rules.chains);
      chains_.orphans.insert(rules.deleted.begin(), rules.deleted.end());
    }
    // What is in the table is unknown now: the next sync writes everything.
    restore_pending();
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.failures;
    return s;
  }
  if (full) services_ = std::move(next);
  if (full && ipv6) services6_ = std::move(next6);
  if (service_health_ && full) {
    service_health_->SetAll(services_);
  } else if (service_health_) {
    for (const auto& [key, ports] : after_changed) service_health_->Set(key, ports);
  }
  chains_ = std::move(rules.chains);
  m.sync->Observe(Seconds(end - start));
  (full ? m.full : m.partial)->Observe(Seconds(end - start));
  const auto wall = kite::Clock::Real()->Now();
  m.last_ts->Set(std::chrono::duration<double>(wall.time_since_epoch()).count());
  m.filter_rules->Set(static_cast<double>(rules.filter_rules));
  m.nat_rules->Set(static_cast<double>(rules.nat_rules));
  if (trigger && *trigger <= wall) m.programming->Observe(std::chrono::duration<double>(wall - *trigger).count());
  {
    std::lock_guard<std::mutex> lock(mu_);
    need_full_ = false;
    synced_once_ = true;
    known_state_ = true;
    if (full) last_full_ = end;
    last_success_wall_ = wall;
    stats_.last_nat_rules = rules.nat_rules;
    stats_.last_chains_written = rules.nat_chains_written;
  }
  KITE_LOG(2) << "kube-proxy: " << (full ? "full" : "partial") << " sync, " << keys.size() << " services, "
              << rules.nat_rules << " nat rules, " << rules.nat_chains_written << " chains written in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count() << " ms";

  // UDP flows to endpoints that are gone, or that were refused while there were none.
  auto cmds = StaleConntrackCommands(before_changed, after_changed);
  if (ipv6) {
    for (auto& c : StaleConntrackCommands(before_changed6, after_changed6, true)) cmds.push_back(std::move(c));
  }
  for (const std::string& f : RunConntrack(exec_, cmds)) KITE_LOG(1) << "kube-proxy: conntrack: " << f;
  return Status::Ok();
}

int Proxier::healthz_port() const { return health_ ? health_->port() : 0; }

int Proxier::health_check_port(const std::string& service_key) const {
  return service_health_ ? service_health_->Port(service_key) : 0;
}

bool Proxier::Healthy() const {
  // upstream: unhealthy when a change has waited longer than twice the sync period, or before
  // the first sync once that long has passed.
  const bool stale = queued_since_ && std::chrono::steady_clock::now() - *queued_since_ > 2 * opts_.sync_period;
  return synced_once_ && !stale;
}

Proxier::Stats Proxier::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

HttpReply Proxier::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  const bool healthy = Healthy();
  HttpReply r;
  r.status = healthy ? 200 : 503;
  r.content_type = "application/json";
  json::object body{{"lastUpdated", synced_once_ ? api::FormatMicroTime(last_success_wall_) : ""},
                    {"currentTime", api::FormatMicroTime(kite::Clock::Real()->Now())},
                    {"nodeName", opts_.node_name},
                    {"nodeHealthy", healthy}};
  r.body = json::serialize(body);
  return r;
}

}  // namespace kite::proxy
