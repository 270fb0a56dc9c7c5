// kite-cluster-bench: end-to-end workloads against a kite-server with simulated nodes
// (kite-hollow), driven over HTTPS with the client library's REST transport, the way a user's
// tooling would. bench/run_cluster_bench.sh starts the server and the nodes.
//
//   --mode pods         C clients create N pods (plain, or with required pod anti-affinity,
//                       or with a hostname topology spread constraint); measures from the first
//                       create to the last pod bound by the scheduler (scheduling throughput,
//                       pods/s) and each pod's create→bound latency.
//     --backlog         also: hold the scheduler's Lease (kube-system/kube-scheduler) while the
//                       pods are created, then release it, and measure how fast the scheduler
//                       works off the backlog (first to last binding after the release): the
//                       scheduler's throughput apart from how fast clients can create pods,
//                       which is what upstream's scheduler_perf SchedulingThroughput isolates.
//   --mode deployments  C clients create D Deployments of R replicas each; measures until every
//                       pod is Running on a node (deployment throughput, pods/min, as the
//                       ICPE'23 k-bench runs report it).
// Pods and their bindings are observed with one informer (list + watch) on the namespace.
// Prints one result line of key=value pairs.
#include <boost/json.hpp>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/flags.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/rest_transport.h"
#include "api/time.h"

namespace {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using kite::client::Client;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

struct Options {
  std::string kubeconfig, mode = "pods", ns = "bench", variant = "plain";
  int64_t pods = 1000, clients = 16, deployments = 100, replicas = 5, groups = 0, timeout_s = 600;
  int64_t hold_wait_s = 13;  // --backlog: kite's scheduler gives the lease up within renewDeadline (10 s)
  bool backlog = false;
  // false: pods say automountServiceAccountToken: false, so the ServiceAccount admission adds no
  // projected token volume (it makes a pod about 50 % bigger to store, send and decode).
  bool automount_token = true;
};

// The scheduler's leader-election Lease, taken over (holder "kite-cluster-bench", an hour
// long) or released. The scheduler stops scheduling once it cannot renew and starts again when
// the lease is free.
bool SetSchedulerLease(const Client& client, bool hold) {
  const auto* leases = kite::api::FindResource("coordination.k8s.io", "v1", "leases");
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto cur = client.Get(*leases, "kube-system", "kube-scheduler");
    if (!cur.ok()) {
      std::fprintf(stderr, "get lease: %s\n", cur.error().message().c_str());
      return false;
    }
    json::object lease = cur.value();
    json::object& spec = lease["spec"].emplace_object();
    const std::string now = kite::api::FormatMicroTime(std::chrono::system_clock::now());
    if (hold) {
      spec = json::object{{"holderIdentity", "kite-cluster-bench"}, {"leaseDurationSeconds", 3600},
                          {"acquireTime", now}, {"renewTime", now}};
    } else {
      spec = json::object{{"holderIdentity", ""}, {"leaseDurationSeconds", 1}, {"renewTime", now}};
    }
    auto r = client.Update(*leases, "kube-system", lease);
    if (r.ok()) return true;
    if (r.error().http_code() != 409) {
      std::fprintf(stderr, "update lease: %s\n", r.error().message().c_str());
      return false;
    }
  }
  return false;
}

json::object PodSpec(const Options& o) {
  json::object spec{{"containers", json::array{json::object{
                                       {"name", "c"},
                                       {"image", "registry.k8s.io/pause:3.10"},
                                       {"resources", json::object{{"requests", json::object{{"cpu", "1m"}, {"memory", "1Mi"}}}}}}}},
                    {"terminationGracePeriodSeconds", 0}};
  if (!o.automount_token) spec["automountServiceAccountToken"] = false;
  return spec;
}

// What the informer saw: when each pod was first seen bound and Running.
struct Tracker {
  std::mutex mu;
  std::unordered_map<std::string, Clock::time_point> created, bound, running;
  std::atomic<int64_t> n_bound{0}, n_running{0};
  std::string ns;  // the bench's namespace: the informer sees every pod, add-ons' included
  void Observe(const kite::client::ObjectPtr& p) {
    if (kite::api::Namespace(*p) != ns) return;
    const auto& spec = p->at("spec").as_object();
    const std::string name = kite::api::Name(*p);
    auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu);
    if (auto* n = spec.if_contains("nodeName"); n && n->is_string() && !n->as_string().empty()) {
      if (bound.emplace(name, now).second) ++n_bound;
    }
    const json::object* st = p->if_contains("status") ? &p->at("status").as_object() : nullptr;
    if (st) {
      if (auto* ph = st->if_contains("phase"); ph && ph->is_string() && ph->as_string() == "Running") {
        if (running.emplace(name, now).second) ++n_running;
      }
    }
  }
};

int Run(const Options& o) {
  auto transport = kite::client::MakeRestTransport(o.kubeconfig);
  if (!transport.ok()) {
    std::fprintf(stderr, "kubeconfig: %s\n", transport.status().message().c_str());
    return 2;
  }
  Client client(transport.value());
  const auto* nsr = kite::api::FindResource("", "v1", "namespaces");
  const auto* pods_r = kite::api::FindResource("", "v1", "pods");
  const auto* deploy_r = kite::api::FindResource("apps", "v1", "deployments");
  (void)client.Create(*nsr, "", json::object{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                            {"metadata", json::object{{"name", o.ns}}}});

  Tracker tracker;
  tracker.ns = o.ns;
  kite::client::InformerFactory informers(&client);
  auto* inf = informers.For(*pods_r);
  inf->AddHandler(kite::client::EventHandler{[&](const kite::client::ObjectPtr& p) { tracker.Observe(p); },
                                             [&](const kite::client::ObjectPtr&, const kite::client::ObjectPtr& p) { tracker.Observe(p); },
                                             nullptr});
  informers.Start();
  if (!informers.WaitForSync(std::chrono::seconds(60))) {
    std::fprintf(stderr, "pod informer did not sync\n");
    return 1;
  }

  const bool pods_mode = o.mode == "pods";
  if (o.backlog) {
    if (!pods_mode || !SetSchedulerLease(client, true)) return 1;
    std::this_thread::sleep_for(std::chrono::seconds(o.hold_wait_s));
  }
  const int64_t total = pods_mode ? o.pods : o.deployments * o.replicas;
  const int64_t items = pods_mode ? o.pods : o.deployments;
  const int64_t groups = o.groups > 0 ? o.groups : 1;
  std::atomic<int64_t> next{0}, errors{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < o.clients; ++c) {
    threads.emplace_back([&] {
      for (int64_t i; (i = next++) < items;) {
        char name[32];
        std::snprintf(name, sizeof name, pods_mode ? "pod-%06" PRId64 : "deploy-%05" PRId64, i);
        const std::string group = "g" + std::to_string(i % groups);
        json::object labels{{"app", "bench"}, {"group", group}};
        json::object spec = PodSpec(o);
        if (o.variant == "anti-affinity") {
          spec["affinity"] = json::object{
              {"podAntiAffinity",
               json::object{{"requiredDuringSchedulingIgnoredDuringExecution",
                             json::array{json::object{{"labelSelector", json::object{{"matchLabels", json::object{{"group", group}}}}},
                                                      {"topologyKey", "kubernetes.io/hostname"}}}}}}};
        } else if (o.variant == "spread") {
          spec["topologySpreadConstraints"] = json::array{json::object{
              {"maxSkew", 1}, {"topologyKey", "kubernetes.io/hostname"}, {"whenUnsatisfiable", "DoNotSchedule"},
              {"labelSelector", json::object{{"matchLabels", json::object{{"group", group}}}}}}};
        }
        kite::Result<json::object> r = json::object{};
        if (pods_mode) {
          {
            std::lock_guard<std::mutex> lock(tracker.mu);
            tracker.created[name] = Clock::now();
          }
          r = client.Create(*pods_r, o.ns, json::object{{"apiVersion", "v1"}, {"kind", "Pod"},
                                                       {"metadata", json::object{{"name", name}, {"labels", labels}}},
                                                       {"spec", spec}});
        } else {
          json::object sel{{"matchLabels", json::object{{"app", "bench"}, {"deploy", name}}}};
          json::object tl{{"app", "bench"}, {"deploy", name}};
          r = client.Create(*deploy_r, o.ns, json::object{
              {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", json::object{{"name", name}}},
              {"spec", json::object{{"replicas", o.replicas}, {"selector", sel},
                                    {"template", json::object{{"metadata", json::object{{"labels", tl}}}, {"spec", spec}}}}}});
        }
        if (!r.ok()) {
          ++errors;
          std::fprintf(stderr, "create %s: %s\n", name, r.error().message().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto created = Clock::now();
  Clock::time_point released = created;
  int64_t bound_before_release = 0;
  if (o.backlog) {
    // Every pod is in the API and seen by our informer before the scheduler may start.
    while (static_cast<int64_t>(inf->Size()) < total - errors.load() && Clock::now() < created + std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    bound_before_release = tracker.n_bound.load();
    released = Clock::now();
    if (!SetSchedulerLease(client, false)) return 1;
  }
  std::atomic<int64_t>& done = pods_mode ? tracker.n_bound : tracker.n_running;
  const auto deadline = t0 + std::chrono::seconds(o.timeout_s);
  while (done.load() < total - errors.load() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto end = Clock::now();
  informers.Stop();

  std::vector<double> lat;
  Clock::time_point first_done = end, last_done = t0;
  {
    std::lock_guard<std::mutex> lock(tracker.mu);
    for (const auto& [name, t] : (pods_mode ? tracker.bound : tracker.running)) {
      first_done = std::min(first_done, t);
      last_done = std::max(last_done, t);
    }
    for (const auto& [name, t] : (pods_mode ? tracker.bound : tracker.running)) {
      if (pods_mode) {
        auto it = tracker.created.find(name);
        if (it != tracker.created.end()) lat.push_back(std::chrono::duration<double, std::milli>(t - it->second).count());
      }
    }
  }
  const double secs = std::chrono::duration<double>(end - t0).count();
  const double create_secs = std::chrono::duration<double>(created - t0).count();
  std::printf("%s variant=%s %s=%" PRId64 " clients=%" PRId64 " errors=%" PRId64 " done=%" PRId64
              " create_s=%.3f total_s=%.3f per_s=%.1f per_min=%.0f",
              o.mode.c_str(), o.variant.c_str(), pods_mode ? "pods" : "deployments", items, o.clients, errors.load(),
              done.load(), create_secs, secs, static_cast<double>(done.load()) / secs,
              static_cast<double>(done.load()) / secs * 60.0);
  // The rate between the first and the last completion: what the scheduler (or the whole
  // pipeline) sustains, apart from how fast the clients could create.
  const double span = std::chrono::duration<double>(last_done - first_done).count();
  std::printf(" first_done_s=%.3f steady_per_s=%.1f", std::chrono::duration<double>(first_done - t0).count(),
              span > 0 ? static_cast<double>(done.load() - 1) / span : 0.0);
  if (pods_mode && !o.backlog) std::printf(" bind_p50_ms=%.1f bind_p99_ms=%.1f", Percentile(lat, 0.5), Percentile(lat, 0.99));
  if (o.backlog) {
    // backlog_per_s: pods / (release → last binding), lease hand-over and the scheduler's
    // informer sync included; steady_per_s above is first → last binding.
    const double drain = std::chrono::duration<double>(last_done - released).count();
    std::printf(" backlog=1 bound_before_release=%" PRId64 " release_to_first_bind_s=%.3f backlog_s=%.3f backlog_per_s=%.1f",
                bound_before_release, std::chrono::duration<double>(first_done - released).count(), drain,
                drain > 0 ? static_cast<double>(done.load()) / drain : 0.0);
  }
  std::printf(" complete=%d\n", done.load() >= total - errors.load() ? 1 : 0);
  return done.load() >= total - errors.load() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  kite::FlagSet flags("kite-cluster-bench");
  flags.String("kubeconfig", &o.kubeconfig, "admin kubeconfig of the cluster");
  flags.String("mode", &o.mode, "pods | deployments");
  flags.String("variant", &o.variant, "pods: plain | anti-affinity | spread (per --groups label groups)");
  flags.String("namespace", &o.ns, "namespace of the objects (created if missing)");
  flags.Int("pods", &o.pods, "pods mode: pods to create");
  flags.Int("groups", &o.groups, "pods mode: label groups the anti-affinity/spread terms select (default 1)");
  flags.Int("clients", &o.clients, "concurrent creating clients");
  flags.Int("deployments", &o.deployments, "deployments mode: Deployments to create");
  flags.Int("replicas", &o.replicas, "deployments mode: replicas each");
  flags.Int("timeout-s", &o.timeout_s, "give up after this long");
  flags.Bool("automount-service-account-token", &o.automount_token,
             "false: pods opt out of the ServiceAccount admission's token volume");
  flags.Bool("backlog", &o.backlog, "pods mode: hold the scheduler's lease while creating, then time the backlog");
  flags.Int("hold-wait-s", &o.hold_wait_s, "--backlog: seconds to wait after taking the lease (the scheduler's renewDeadline + margin)");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s\n%s", s.message().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.Usage().c_str());
    return 0;
  }
  return Run(o);
}
