// kite-scheduler-bench: the scheduling algorithm alone (no API server, no informers): N
// synthetic nodes in the scheduler's cache, M pods run through the scheduling queue and one
// scheduling cycle each (filters, scores, host selection) and assumed on the chosen node, as the
// scheduling loop does before binding. Measures pods/s per workload, shaped like upstream's
// scheduler_perf cases at 5,000 nodes:
//   plain         pods requesting 100m CPU / 128Mi (SchedulingBasic)
//   anti-affinity pods labelled color=green with required anti-affinity to color=green on
//                 kubernetes.io/hostname (SchedulingPodAntiAffinity)
//   spread        pods with a DoNotSchedule topology spread constraint over zones, maxSkew 1
//                 (TopologySpreading)
//   affinity      pods with preferred pod affinity to their group on zones (SchedulingPreferredPodAffinity)
// `--init-pods` pods of the same shape are placed first and not timed. Parsing the pods' JSON
// (done on the informer thread in kite-server) is timed separately.
//
// Usage: kite-scheduler-bench [--nodes=5000] [--pods=5000] [--init-pods=0] [--zones=10]
//                             [--workload=plain|anti-affinity|spread|affinity|all]
//                             [--percentage=0] [--rounds=3]
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "server/scheduler/algorithm.h"
#include "server/scheduler/queue.h"

namespace {

using namespace kite::scheduler;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Options {
  int nodes = 5000;
  int pods = 5000;
  int init_pods = 0;
  int zones = 10;
  int percentage = 0;
  int rounds = 3;
  std::string workload = "all";
};

json::object NodeObject(int i, int zones) {
  std::string name = "node-" + std::to_string(i);
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       json::object{{"name", name},
                    {"labels", json::object{{"kubernetes.io/hostname", name},
                                            {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % zones)}}}}},
      {"status", json::object{{"allocatable", json::object{{"cpu", "4"}, {"memory", "32Gi"}, {"pods", 110}}}}}};
}

json::object PodObject(const std::string& workload, const std::string& name) {
  json::object labels{{"app", "bench"}};
  json::object requests{{"cpu", "100m"}, {"memory", "128Mi"}};
  json::object container{{"name", "c"}, {"image", "registry.k8s.io/pause:3.10"},
                         {"resources", json::object{{"requests", requests}}}};
  json::object spec{{"schedulerName", "default-scheduler"}, {"containers", json::array{container}}};
  if (workload == "anti-affinity") {
    labels["color"] = "green";
    spec["affinity"] = json::parse(R"({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname"}]}})");
  } else if (workload == "spread") {
    labels["color"] = "blue";
    spec["topologySpreadConstraints"] = json::parse(R"([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"color": "blue"}}}])");
  } else if (workload == "affinity") {
    labels["color"] = "red";
    spec["affinity"] = json::parse(R"({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"labelSelector": {"matchLabels": {"color": "red"}},
                                          "topologyKey": "topology.kubernetes.io/zone"}}]}})");
  }
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", json::object{{"name", name}, {"namespace", "bench"}, {"uid", "uid-" + name},
                                                {"creationTimestamp", "2025-01-01T00:00:00Z"}, {"labels", labels}}},
                      {"spec", spec}};
}

std::vector<PodInfoPtr> MakePods(const std::string& workload, const std::string& prefix, int n, double* parse_seconds) {
  std::vector<kite::client::ObjectPtr> objects;
  objects.reserve(n);
  for (int i = 0; i < n; ++i) {
    objects.push_back(std::make_shared<const json::object>(PodObject(workload, prefix + std::to_string(i))));
  }
  std::vector<PodInfoPtr> pods;
  pods.reserve(n);
  auto t0 = Clock::now();
  for (auto& o : objects) pods.push_back(ParsePod(o, {}));
  if (parse_seconds) *parse_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return pods;
}

struct RoundResult {
  double pods_per_second = 0;
  double p50_us = 0, p99_us = 0;
  int scheduled = 0, failed = 0;
  double parse_per_second = 0;
};

RoundResult RunRound(const Options& o, const std::string& workload, uint64_t seed) {
  Cache cache;
  for (int i = 0; i < o.nodes; ++i) {
    cache.SetNode(ParseNode(std::make_shared<const json::object>(NodeObject(i, o.zones))));
  }
  cache.SetNamespaceLabels("bench", {{"kubernetes.io/metadata.name", "bench"}});
  Algorithm algo(AlgorithmOptions{o.percentage, seed});
  CycleState state;
  Diagnosis diag;
  SchedulingQueue queue;
  bool no_nodes = false;
  // Setup pods, untimed.
  for (const auto& p : MakePods(workload, "init-", o.init_pods, nullptr)) {
    std::string node = algo.Schedule(cache, *p, queue.nominated(), &state, &diag, &no_nodes);
    if (!node.empty()) cache.AssumePod(p, node);
  }
  RoundResult r;
  double parse_s = 0;
  auto pods = MakePods(workload, "pod-", o.pods, &parse_s);
  r.parse_per_second = parse_s > 0 ? o.pods / parse_s : 0;
  std::vector<double> latency;
  latency.reserve(pods.size());
  const auto start = Clock::now();
  for (const auto& p : pods) queue.AddOrUpdate(p);
  while (const auto* e = queue.Pop()) {
    const PodInfoPtr pod = e->pod;
    const auto t0 = Clock::now();
    std::string node = algo.Schedule(cache, *pod, queue.nominated(), &state, &diag, &no_nodes);
    if (!node.empty()) {
      cache.AssumePod(pod, node);
      queue.Done(pod->key);
      ++r.scheduled;
    } else {
      (void)FitErrorMessage(diag, *pod, "");
      queue.Requeue(pod->key, diag.plugins, false);
      ++r.failed;
    }
    latency.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.pods_per_second = seconds > 0 ? static_cast<double>(pods.size()) / seconds : 0;
  std::sort(latency.begin(), latency.end());
  if (!latency.empty()) {
    r.p50_us = latency[latency.size() / 2];
    r.p99_us = latency[std::min(latency.size() - 1, latency.size() * 99 / 100)];
  }
  return r;
}

bool Flag(const char* arg, const char* name, std::string* out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *out = arg + n + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (Flag(argv[i], "--nodes", &v)) o.nodes = std::atoi(v.c_str());
    else if (Flag(argv[i], "--pods", &v)) o.pods = std::atoi(v.c_str());
    else if (Flag(argv[i], "--init-pods", &v)) o.init_pods = std::atoi(v.c_str());
    else if (Flag(argv[i], "--zones", &v)) o.zones = std::max(1, std::atoi(v.c_str()));
    else if (Flag(argv[i], "--percentage", &v)) o.percentage = std::atoi(v.c_str());
    else if (Flag(argv[i], "--rounds", &v)) o.rounds = std::max(1, std::atoi(v.c_str()));
    else if (Flag(argv[i], "--workload", &v)) o.workload = v;
    else {
      std::fprintf(stderr, "usage: %s [--nodes=N] [--pods=M] [--init-pods=K] [--zones=Z] [--percentage=P] [--rounds=R] "
                           "[--workload=plain|anti-affinity|spread|affinity|all]\n", argv[0]);
      return 2;
    }
  }
  std::vector<std::string> workloads;
  if (o.workload == "all") workloads = {"plain", "anti-affinity", "spread", "affinity"};
  else workloads = {o.workload};
  std::printf("nodes=%d pods=%d init_pods=%d zones=%d percentage=%d rounds=%d\n", o.nodes, o.pods, o.init_pods, o.zones,
              o.percentage, o.rounds);
  for (const auto& w : workloads) {
    std::vector<RoundResult> rounds;
    for (int i = 0; i < o.rounds; ++i) rounds.push_back(RunRound(o, w, 1000 + i));
    std::vector<double> rates;
    for (const auto& r : rounds) rates.push_back(r.pods_per_second);
    std::sort(rates.begin(), rates.end());
    const RoundResult& last = rounds.back();
    std::printf("%-14s", w.c_str());
    for (double r : rates) std::printf(" %.0f", r);
    std::printf("  | median %.0f pods/s, p50 %.1f us, p99 %.1f us, failed %d, parse %.0f pods/s\n",
                rates[rates.size() / 2], last.p50_us, last.p99_us, last.failed, last.parse_per_second);
  }
  return 0;
}
