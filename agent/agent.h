// Agent: the kubelet of one real node (kite-agent's, and kite-server's embedded one: the same
// code). It measures the machine (agent/kubelet/node_info.h), registers the Node with its
// capacity, allocatable, nodeInfo, addresses and labels, keeps its Lease and status, and runs
// the pods bound to it through a container runtime (agent/cri/runtime.h) — the managers of
// agent/kubelet/ (NodeStatusManager, NodeLeaseController, PodWorkers, StatusManager) for one
// node, as kite-hollow runs them for many.
//
// The runtime comes from a factory the program gives (the composition root chooses: containerd
// over CRI, an existing CRI endpoint, or kite-hollow's fake runtime in tests). When the factory
// fails (no containerd, not root, no cgroups…), the agent logs exactly why once, runs on with a
// runtime that is never ready (UnavailableRuntime), and the Node says that sentence in its Ready
// condition (False, KubeletNotReady): the API server embedding it keeps serving.
//
// Thread-safety: Start and Stop from one thread. Owns its threads; Stop (or the destructor)
// ends them and leaves the Node registered, as a stopped kubelet does.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/cri/runtime.h"
#include "base/flags.h"
#include "base/upgrade_proxy.h"
#include "base/status.h"
#include "client/transport.h"

namespace kite::agent {

// The kubelet version kite's nodes report: the Kubernetes release kite serves, marked kite's as
// k3s marks its own (v1.32.4+k3s1).
inline constexpr const char* kKubeletVersion = "v1.32.4+kite";

struct AgentOptions {
  std::string data_dir = "/var/lib/kite";  // the agent keeps its files under <data-dir>/agent
  std::string node_name;                   // "": the hostname, lower-cased
  std::string node_ip;                     // "": the address of the default route's interface
  std::vector<std::string> node_labels;    // key=value
  std::vector<std::string> node_taints;    // key[=value]:Effect
  bool control_plane = false;  // a server's node: node-role.kubernetes.io/control-plane and master labels
  std::vector<std::string> kube_reserved, system_reserved;  // resource=quantity
  int64_t max_pods = 110;
  // --allowed-unsafe-sysctls: sysctls (or "prefix*" patterns) pods may set beyond the safe ones.
  std::vector<std::string> allowed_unsafe_sysctls;
  // --seccomp-default: RuntimeDefault for containers that name no seccompProfile (else Unconfined).
  bool seccomp_default = false;
  // For the pods' DNS config (the pod workers read them): --cluster-dns, --cluster-domain.
  std::vector<std::string> cluster_dns{"10.43.0.10"};
  std::string cluster_domain = "cluster.local";
  // The host's resolver for pods on dnsPolicy Default (kite-dns forwards to it): --resolv-conf.
  std::string resolv_conf = "/etc/resolv.conf";
  // Where containers' log files go (<dir>/<ns>_<name>_<uid>/<container>/<n>.log); upstream's
  // KubeletConfiguration podLogsDir. Log shippers expect the default.
  std::string pod_logs_dir = "/var/log/pods";
  std::string container_runtime_endpoint;  // "": the agent's own containerd (for the factory)
  std::string pause_image;                 // the sandbox image (for the factory); "": kite's
  // --default-runtime (for the factory): the CRI runtime handler of pods without a
  // runtimeClassName; "": runc (agent/cri/containerd_config.h).
  std::string default_runtime;
  std::string private_registry;            // registries.yaml (for the factory); "": /etc/kite/registries.yaml
  // The pod network across nodes (agent/network/pod_network.h): k3s's --flannel-backend (vxlan |
  // host-gw | none) and --flannel-iface, and the cluster CIDR (the server's --cluster-cidr) that
  // masquerade leaves alone. "none" here; kite-agent's and kite-server's flags default to vxlan.
  // Always none on kite-hollow's fake runtime (KITE_AGENT_RUNTIME=hollow), whose nodes are not real.
  std::string flannel_backend = "none";
  std::string flannel_iface;
  std::string cluster_cidr = "10.42.0.0/16";
  // The kubelet's nodeStatusUpdateFrequency / nodeStatusReportFrequency and the node lease.
  std::chrono::milliseconds status_interval{10'000}, report_interval{300'000}, heartbeat_interval{10'000};
  int64_t lease_duration_seconds = 40;
  // Every running pod is synced again this often (upstream's --sync-frequency): edits to the
  // configMaps and secrets behind its volumes reach the files within it.
  std::chrono::milliseconds sync_frequency{30'000};
  int workers = 2;
  // The pod workers: `workers` threads, more while pods start at once, up to this many (upstream
  // runs a goroutine per pod: a burst of pods starts in parallel, bounded here only so a
  // thousand queued pods do not make a thousand threads), back to `workers` when it is over.
  int pod_workers = 32;
  // Node-pressure eviction (agent/kubelet/eviction/), the kubelet's flags and defaults.
  std::vector<std::string> eviction_hard{"memory.available<100Mi", "nodefs.available<10%", "nodefs.inodesFree<5%",
                                         "imagefs.available<15%"};
  std::vector<std::string> eviction_soft, eviction_soft_grace_period, eviction_minimum_reclaim;
  int64_t eviction_pressure_transition_period_ms = 300'000;
  int64_t eviction_max_pod_grace_period = 0;  // seconds; 0: the pod's own grace period
  int64_t eviction_monitoring_period_ms = 10'000;
  // The kubelet server (agent/kubelet/server/kubelet_server.h): its port (--port; 0 picks a
  // free one), the node's serving certificate and the cluster's client CA. Without a
  // certificate there is no kubelet server.
  int64_t kubelet_port = 10250;
  std::string serving_cert_pem, serving_key_pem, client_ca_pem;
  // Log rotation (--container-log-max-size, --container-log-max-files).
  std::string container_log_max_size = "10Mi";
  int64_t container_log_max_files = 5;
  // The service proxy (agent/proxy/, kube-proxy's iptables mode); --disable-kube-proxy as in k3s.
  bool disable_kube_proxy = false;
  // The network policy controller (agent/netpol/); k3s's --disable-network-policy turns it off.
  bool disable_network_policy = false;
  std::string proxy_healthz_bind_address = "0.0.0.0:10256";  // --healthz-bind-address
  // --proxy-mode: iptables or nftables (table ip kube-proxy; agent/proxy/nftables_rules.h).
  std::string proxy_mode = "iptables";
  std::chrono::milliseconds iptables_sync_period{30'000};    // a sync even without changes (partial)
  std::chrono::milliseconds iptables_min_sync_period{1'000};
  // --proxy-full-sync-period: a full sync (rules deleted by hand come back); upstream's is an hour.
  std::chrono::milliseconds proxy_full_sync_period{3'600'000};
};

// Declares the node's and the kubelet's flags on `flags`, bound to `o`, for kite-agent and for
// kite-server's embedded agent alike: --node-name, --node-ip, --node-label, --node-taint,
// --kube-reserved, --system-reserved, --max-pods, --cluster-dns, --cluster-domain,
// --container-runtime-endpoint, --default-runtime, --pause-image, --private-registry, the eviction flags, and
// k3s's --kubelet-arg (repeatable "name=value": one of those given under the kubelet's own
// name — node-labels, register-with-taints, pod-infra-container-image are understood — so a
// k3s config's kubelet-arg list keeps working; a kubelet flag kite does not take is an error).
void AddNodeFlags(FlagSet& flags, AgentOptions* o);

// A container runtime for the agent: the two services and whatever owns them.
struct Runtime {
  std::shared_ptr<void> owner;
  cri::RuntimeService* runtime = nullptr;
  cri::ImageService* images = nullptr;
  // Why pod sandboxes may not start yet ("" when they may; empty: always): the agent's own
  // containerd until the first import of the image archives (NodeRuntime::SandboxGate).
  std::function<std::string()> sandbox_gate;
  // Ends the calls in flight and fails later ones (empty: nothing to end): Stop leaves a pod in
  // its grace period to the next start instead of waiting it out, as upstream's kubelet does.
  std::function<void()> cancel;
};
using RuntimeFactory = std::function<Result<Runtime>(const AgentOptions& options)>;

// The runtime kite-agent and kite-server's embedded agent use: the agent's containerd over CRI,
// or the CRI socket of --container-runtime-endpoint. Test seam: with KITE_AGENT_RUNTIME=hollow
// in the environment, kite-hollow's fake runtime (agent/hollow/hollow_runtime.h), so joining and
// node status are tested without containerd.
RuntimeFactory DefaultRuntime();

// A runtime that is never ready: RuntimeStatus says RuntimeReady=false with `reason` (the
// message) and every other call fails Unavailable with it.
Runtime UnavailableRuntime(std::string reason);

class Agent {
 public:
  // Measures the machine, builds the runtime and starts the managers (returns at once; the
  // informers sync and the Node registers in the background). `transport` acts as the node
  // (system:node:<name> in system:nodes). Fails for bad options (labels, taints, reserved) or a
  // machine it cannot measure.
  static Result<std::unique_ptr<Agent>> Start(const AgentOptions& options, std::shared_ptr<client::Transport> transport,
                                              const RuntimeFactory& runtime);
  ~Agent();
  void Stop();

  const std::string& node_name() const;
  // The kubelet server's port (0 when it does not run).
  int kubelet_port() const;
  // The kubelet server called in process (base/upgrade_proxy.h), for kite-server's API server;
  // empty when it does not run. Valid while the Agent exists; answers 503 once it stopped.
  InProcessServer kubelet_in_process() const;

  struct State;  // agent.cc

 private:
  explicit Agent(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The node name the options give (--node-name, else the hostname, lower-cased).
std::string NodeName(const AgentOptions& options);
// The node's InternalIP the options give (--node-ip, else the default route's interface's).
std::string NodeIp(const AgentOptions& options);

}  // namespace kite::agent
