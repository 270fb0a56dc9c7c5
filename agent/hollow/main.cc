// kite-hollow: simulated nodes for tests and benchmarks, the idea of Kubernetes' kubemark. One
// process runs the kubelet's managers (agent/kubelet/: node status, node lease, pod workers,
// status manager) for N nodes, each over its own fake container runtime (HollowRuntime:
// containers that pretend to start and run), so every cluster benchmark exercises the real
// kubelet code without running anything. It is a simulation and says so everywhere
// (kubeletVersion v1.32.4-hollow, runtime hollow://1.0, instance type hollow).
//
// It talks to the API server over HTTPS (client/rest_transport.h) with the credentials of a
// kubeconfig. SIGTERM or SIGINT stops it cleanly: heartbeats stop and the nodes stay
// registered, as with a stopped kubelet (they go NotReady once their leases expire). SIGSTOP
// freezes it, which is how tests simulate nodes that die.
#include <signal.h>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/hollow/hollow_node.h"
#include "agent/hollow/hollow_runtime.h"
#include "api/object.h"
#include "agent/kubelet/node_lease_controller.h"
#include "agent/kubelet/node_objects.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/node_status_manager.h"
#include "agent/kubelet/pod_status.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/stop_signals.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/rest_transport.h"

namespace {

struct HollowOptions {
  std::string kubeconfig;
  int64_t nodes = 1;
  std::string node_name_prefix = "hollow-node-";
  std::string cpu = "4", memory = "16Gi", ephemeral_storage = "100Gi";
  int64_t max_pods = 110;
  std::vector<std::string> node_labels, node_taints;
  int64_t lease_duration_s = 40;
  int64_t heartbeat_interval_ms = 10'000;
  int64_t node_status_interval_ms = 60'000;
  int64_t pod_start_latency_ms = 0;
  int64_t job_pod_duration_ms = 1'000;
  int64_t workers = 4;
  int64_t verbosity = 0;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  using std::chrono::milliseconds;
  HollowOptions o;
  FlagSet flags("kite-hollow");
  flags.String("kubeconfig", &o.kubeconfig, "Kubeconfig of the cluster the simulated nodes join (required)");
  flags.Int("nodes", &o.nodes, "How many nodes to simulate");
  flags.String("node-name-prefix", &o.node_name_prefix, "Nodes are named <prefix>0 … <prefix>N-1");
  flags.String("cpu", &o.cpu, "CPU capacity of each node (a quantity)");
  flags.String("memory", &o.memory, "Memory capacity of each node (a quantity)");
  flags.String("ephemeral-storage", &o.ephemeral_storage, "Ephemeral storage capacity of each node (a quantity)");
  flags.Int("max-pods", &o.max_pods, "Pod capacity of each node");
  flags.StringList("node-labels", &o.node_labels, "Labels for every node: key=value,…");
  flags.StringList("node-taints", &o.node_taints, "Taints for every node: key[=value]:Effect,…");
  flags.Int("lease-duration", &o.lease_duration_s, "leaseDurationSeconds of the node leases");
  flags.Duration("heartbeat-interval", &o.heartbeat_interval_ms, "How often each node renews its lease");
  flags.Duration("node-status-interval", &o.node_status_interval_ms, "How often each node posts its status");
  flags.Duration("pod-start-latency", &o.pod_start_latency_ms, "From seeing a pod bound to a node to reporting it Running");
  flags.Duration("job-pod-duration", &o.job_pod_duration_ms,
                 "How long pods with restartPolicy Never/OnFailure run before they succeed");
  flags.Int("workers", &o.workers, "Threads writing leases, node status and pod status (shared by all nodes)");
  flags.Int("v", &o.verbosity, "Log verbosity");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << "kite-hollow: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  kubelet::NodeTemplate tmpl = hollow::HollowNodeTemplate();
  tmpl.lease_duration_seconds = o.lease_duration_s;
  Status valid = kubelet::SetCapacity(o.cpu, o.memory, o.ephemeral_storage, o.max_pods, &tmpl);
  if (o.kubeconfig.empty()) valid = Status(Code::kInvalidArgument, "--kubeconfig is required");
  if (o.nodes < 1 || o.nodes > 16384) valid = Status(Code::kInvalidArgument, "--nodes must be 1 to 16384");
  if (o.heartbeat_interval_ms <= 0 || o.node_status_interval_ms <= 0 || o.lease_duration_s <= 0) {
    valid = Status(Code::kInvalidArgument, "--lease-duration, --heartbeat-interval and --node-status-interval must be positive");
  }
  if (valid.ok()) valid = kubelet::ParseNodeLabels(o.node_labels, &tmpl);
  if (valid.ok()) valid = kubelet::ParseNodeTaints(o.node_taints, &tmpl);
  if (!valid.ok()) {
    std::cerr << "kite-hollow: " << valid.message() << "\n";
    return 2;
  }
  log::SetVerbosity(static_cast<int>(o.verbosity));

  // Before any thread starts, so only WaitForStopSignal below receives them.
  BlockStopSignals();

  client::RestTransportOptions to;
  to.user_agent = "kite-hollow";
  to.max_idle = static_cast<size_t>(std::max<int64_t>(1, o.workers) + 2);
  auto transport = client::MakeRestTransport(o.kubeconfig, to);
  if (!transport.ok()) {
    KITE_LOG(0) << "kubeconfig " << o.kubeconfig << ": " << transport.status().message();
    return 1;
  }
  client::Client client(transport.value());
  const int workers = static_cast<int>(std::max<int64_t>(1, o.workers));
  client::InformerFactory informers(&client);

  // The fake runtime's containers run until stopped, except those of pods that run to
  // completion (restartPolicy Never/OnFailure): init containers exit at once, the others after
  // --job-pod-duration. The pod comes from the pod workers' informer (the same one).
  client::Informer* pod_informer = informers.For(*api::FindResource("", "v1", "pods"));
  const milliseconds job_duration(std::max<int64_t>(0, o.job_pod_duration_ms));
  hollow::HollowRuntime::Lifetime lifetime = [pod_informer, job_duration](const cri::PodSandboxMetadata& m,
                                                                          const std::string& container)
      -> std::optional<milliseconds> {
    client::ObjectPtr pod = pod_informer->Get(m.namespace_, m.name);
    if (!pod || api::Uid(*pod) != m.uid || !kubelet::RunsToCompletion(*pod)) return std::nullopt;
    for (const auto& c : api::GetArray(*pod, {"spec", "initContainers"})) {
      if (c.is_object() && api::GetString(c.as_object(), "name") == container) return milliseconds(0);
    }
    return job_duration;
  };
  std::vector<std::unique_ptr<hollow::HollowRuntime>> runtimes;
  std::vector<kubelet::Node> node_list;
  for (int i = 0; i < static_cast<int>(o.nodes); ++i) {
    kubelet::NodeIdentity id = hollow::MakeNodeIdentity(o.node_name_prefix, i);
    runtimes.push_back(std::make_unique<hollow::HollowRuntime>(id.pod_cidr, lifetime));
    kubelet::Node n;
    n.id = std::move(id);
    n.runtime = runtimes.back().get();
    n.images = runtimes.back().get();
    node_list.push_back(std::move(n));
  }
  if (auto v = runtimes.front()->Version(); v.ok()) {
    tmpl.container_runtime_version = v->runtime_name + "://" + v->runtime_version;
  }
  kubelet::NodeSet nodes(std::move(node_list));

  kubelet::StatusManager pod_status(&client);
  client::ControllerRunner runner(&informers, workers);
  auto leases = std::make_unique<kubelet::NodeLeaseController>(&client, &tmpl, &nodes,
                                                               milliseconds(o.heartbeat_interval_ms), workers);
  auto status = std::make_unique<kubelet::NodeStatusManager>(&client, &tmpl, &nodes, leases.get(),
                                                             milliseconds(o.node_status_interval_ms), workers);
  kubelet::PodWorkers::Options po;
  po.start_latency = milliseconds(o.pod_start_latency_ms);
  // The fake's containers exit a job duration after they start: the relist notices within that
  // (at most once each 100 ms: it lists every simulated node's runtime).
  po.relist_period = std::max(job_duration, milliseconds(100));
  po.workers = workers;
  auto pods = std::make_unique<kubelet::PodWorkers>(&nodes, &pod_status, nullptr, po);
  runner.Add(std::move(status));
  runner.Add(std::move(leases));
  runner.Add(std::move(pods));

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // guarded by mu
  int stop_signal = 0;
  std::thread signals([&] {
    const int sig = WaitForStopSignal();
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      stop_signal = sig;
    }
    cv.notify_all();
    informers.Stop();  // ends a start-up still waiting for the first lists
  });

  KITE_LOG(0) << "kite-hollow: simulating " << o.nodes << " nodes (" << nodes.nodes().front().id.name << " … "
              << nodes.nodes().back().id.name << ") against " << o.kubeconfig << " on a fake runtime";
  // Until the first lists arrive (the server may still be starting): a stop signal ends the wait.
  const bool started = runner.Start(std::chrono::hours(24 * 365));
  int rc = 0;
  if (started) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stop; });
  } else {
    std::lock_guard<std::mutex> lock(mu);
    if (!stop) {
      rc = 1;
      pthread_kill(signals.native_handle(), SIGTERM);  // wake the signal thread so it can be joined
    }
  }
  signals.join();
  if (rc == 0) KITE_LOG(0) << "kite-hollow: stopping on signal " << stop_signal << "; nodes stay registered";
  runner.Stop();
  informers.Stop();
  return rc;
}
