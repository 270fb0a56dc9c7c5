#include "agent/agent.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/client_lookup.h"
#include "agent/kubelet/container_config.h"
#include "agent/kubelet/eviction/eviction_manager.h"
#include "agent/kubelet/image_gc.h"
#include "agent/kubelet/logs/container_log_manager.h"
#include "agent/kubelet/server/kubelet_server.h"
#include "agent/kubelet/apparmor.h"
#include "agent/kubelet/stats.h"
#include "agent/kubelet/sysctls.h"
#include "agent/kubelet/pod_config.h"
#include "agent/kubelet/file_pod_source.h"
#include "agent/kubelet/mirror_pods.h"
#include "agent/kubelet/pod_sources.h"
#include "agent/kubelet/volumes/volume_manager.h"
#include "agent/node_runtime.h"
#include "agent/netpol/netpol_controller.h"
#include "agent/proxy/proxier.h"
#include "api/resources.h"
#include "base/fs.h"
#include "base/ip_address.h"
#include "client/event_recorder.h"
#include "agent/kubelet/node_info.h"
#include "agent/kubelet/node_lease_controller.h"
#include "agent/kubelet/node_objects.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/node_status_manager.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "agent/network/pod_network.h"
#include "api/validation.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::agent {

namespace fs = std::filesystem;

namespace {

class NeverReady final : public cri::RuntimeService, public cri::ImageService {
 public:
  explicit NeverReady(std::string reason) : reason_(std::move(reason)) {}
  Status Down() const { return Status(Code::kUnavailable, reason_); }

  Result<cri::VersionInfo> Version() override { return Down(); }
  Status UpdateRuntimeConfig(const std::string&) override { return Down(); }
  Result<std::string> RunPodSandbox(const cri::PodSandboxConfig&) override { return Down(); }
  Status StopPodSandbox(const std::string&) override { return Down(); }
  Status RemovePodSandbox(const std::string&) override { return Down(); }
  Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string&) override { return Down(); }
  Result<std::vector<cri::PodSandbox>> ListPodSandbox(const cri::PodSandboxFilter&) override { return Down(); }
  Result<std::string> CreateContainer(const std::string&, const cri::ContainerConfig&, const cri::PodSandboxConfig&) override {
    return Down();
  }
  Status StartContainer(const std::string&) override { return Down(); }
  Status StopContainer(const std::string&, int64_t) override { return Down(); }
  Status RemoveContainer(const std::string&) override { return Down(); }
  Result<std::vector<cri::Container>> ListContainers(const cri::ContainerFilter&) override { return Down(); }
  Result<cri::ContainerStatus> ContainerStatus(const std::string&) override { return Down(); }
  Result<cri::ExecSyncResponse> ExecSync(const std::string&, const std::vector<std::string>&, int64_t) override {
    return Down();
  }
  Result<std::vector<cri::RuntimeCondition>> RuntimeStatus() override {
    return std::vector<cri::RuntimeCondition>{{"RuntimeReady", false, "RuntimeUnavailable", reason_},
                                              {"NetworkReady", false, "RuntimeUnavailable", reason_}};
  }
  Result<std::string> PullImage(const cri::ImageSpec&, const std::optional<cri::AuthConfig>&,
                                const cri::PodSandboxConfig&) override {
    return Down();
  }
  Result<std::optional<cri::Image>> ImageStatus(const cri::ImageSpec&) override { return Down(); }
  Result<std::vector<cri::Image>> ListImages() override { return Down(); }
  Status RemoveImage(const cri::ImageSpec&) override { return Down(); }

 private:
  const std::string reason_;
};

}  // namespace

Runtime UnavailableRuntime(std::string reason) {
  auto r = std::make_shared<NeverReady>(std::move(reason));
  Runtime rt;
  rt.owner = r;
  rt.runtime = r.get();
  rt.images = r.get();
  return rt;
}

namespace {
bool HollowRuntime() {
  const char* fake = std::getenv("KITE_AGENT_RUNTIME");
  return fake && std::string(fake) == "hollow";
}
}  // namespace

RuntimeFactory DefaultRuntime() {
  if (HollowRuntime()) {
    return [](const AgentOptions&) -> Result<Runtime> {
      auto r = std::make_shared<hollow::HollowRuntime>("", nullptr);
      Runtime rt;
      rt.owner = r;
      rt.runtime = r.get();
      rt.images = r.get();
      return rt;
    };
  }
  return [](const AgentOptions& o) -> Result<Runtime> {
    NodeRuntimeOptions no;
    no.data_dir = o.data_dir;
    no.container_runtime_endpoint = o.container_runtime_endpoint;
    no.pause_image = o.pause_image.empty() ? std::string(KITE_PAUSE_IMAGE) : o.pause_image;
    no.default_runtime = o.default_runtime;
    no.private_registry = o.private_registry;
    // The pod network masquerades itself (not the bridge plugin) and sets the pods' MTU.
    if (auto b = network::ParseBackend(o.flannel_backend); b.ok() && *b != network::Backend::kNone) {
      network::PodNetworkOptions pn;
      pn.backend = *b;
      pn.iface = o.flannel_iface;
      pn.node_ip = o.node_ip.empty() ? kubelet::DefaultNodeIp() : o.node_ip;
      no.cni_mtu = network::PodMtu(pn);
      no.cni_ip_masq = false;
    }
    auto rt = NodeRuntime::Start(no);
    if (!rt.ok()) return rt.error();
    std::shared_ptr<NodeRuntime> owner(std::move(*rt));
    NodeRuntime* raw = owner.get();
    return Runtime{.owner = owner,
                   .runtime = raw,
                   .images = raw->images(),
                   .sandbox_gate = [raw] { return raw->SandboxGate(); },
                   .cancel = [raw] { raw->CancelCalls(); }};
  };
}

std::string NodeName(const AgentOptions& o) { return o.node_name.empty() ? kubelet::Hostname() : o.node_name; }
std::string NodeIp(const AgentOptions& o) { return o.node_ip.empty() ? kubelet::DefaultNodeIp() : o.node_ip; }

// Members in construction order; destroyed in reverse (managers before what they borrow).
struct Agent::State {
  AgentOptions options;
  std::string agent_dir;
  Runtime runtime;
  kubelet::NodeTemplate tmpl;
  std::unique_ptr<kubelet::NodeSet> nodes;
  std::unique_ptr<client::Client> client;
  std::unique_ptr<client::InformerFactory> informers;
  std::unique_ptr<kubelet::StatusManager> pod_status;
  // What the pod workers read and write besides the API: configMaps/secrets (through informers),
  // the pods' volumes on disk, the spec → runtime translation, Events.
  std::unique_ptr<kubelet::ClientLookup> lookup;
  std::unique_ptr<kubelet::volumes::VolumeManager> volumes;
  std::unique_ptr<kubelet::PodConfig> pod_config;
  std::unique_ptr<client::EventRecorder> events;
  // Static pods (<data-dir>/agent/pod-manifests/) and the merge of them with the API's pods.
  std::unique_ptr<kubelet::FilePodSource> file_pods;
  std::unique_ptr<kubelet::PodSources> pod_sources;
  std::unique_ptr<client::ControllerRunner> runner;
  // The pod workers run on their own, without waiting for the informers (an empty factory):
  // static pods start with no API server.
  std::unique_ptr<client::InformerFactory> no_informers;
  std::unique_ptr<client::ControllerRunner> pod_runner;
  kubelet::PodWorkers* pod_workers = nullptr;  // in pod_runner
  std::unique_ptr<kubelet::StatsProvider> stats;
  std::unique_ptr<kubelet::server::WebhookAuthorizer> kubelet_authorizer;  // outlives kubelet_server
  std::unique_ptr<kubelet::server::KubeletServer> kubelet_server;
  std::thread starter;  // waits for the first lists, then the workers run
  std::mutex mu;
  bool stopped = false;  // guarded by mu
};

Agent::Agent(std::unique_ptr<State> state) : state_(std::move(state)) {}
Agent::~Agent() { Stop(); }

const std::string& Agent::node_name() const { return state_->nodes->nodes().front().id.name; }
int Agent::kubelet_port() const { return state_->kubelet_server ? state_->kubelet_server->port() : 0; }
InProcessServer Agent::kubelet_in_process() const {
  return state_->kubelet_server ? state_->kubelet_server->InProcess() : InProcessServer{};
}

Result<std::unique_ptr<Agent>> Agent::Start(const AgentOptions& o, std::shared_ptr<client::Transport> transport,
                                            const RuntimeFactory& factory) {
  auto sysctls = kubelet::SysctlAllowlist::Make(o.allowed_unsafe_sysctls);  // a bad flag fails the start
  if (!sysctls) return sysctls.error();
  auto st = std::make_unique<State>();
  st->options = o;
  st->agent_dir = (fs::path(o.data_dir) / "agent").string();
  std::error_code ec;
  files::CreateDirectories(st->agent_dir, ec);
  if (ec) return Status(Code::kUnavailable, "create " + st->agent_dir + ": " + ec.message());

  // The node as the machine and the flags describe it.
  kubelet::NodeTemplate& t = st->tmpl;
  t.kubelet_version = kKubeletVersion;
  t.lease_duration_seconds = o.lease_duration_seconds;
  t.labels = {{"node.kubernetes.io/instance-type", "kite"}, {"beta.kubernetes.io/instance-type", "kite"}};
  if (o.control_plane) {  // as k3s labels its servers' nodes
    t.labels.emplace_back("node-role.kubernetes.io/control-plane", "true");
    t.labels.emplace_back("node-role.kubernetes.io/master", "true");
  }
  std::vector<std::pair<std::string, std::string>> reserved;
  if (Status s = kubelet::ParseReserved("kube-reserved", o.kube_reserved, &reserved); !s.ok()) return s;
  if (Status s = kubelet::ParseReserved("system-reserved", o.system_reserved, &reserved); !s.ok()) return s;
  auto machine = kubelet::ReadMachineInfo(st->agent_dir);
  if (!machine.ok()) return machine.status();
  if (Status s = kubelet::SetMachine(*machine, o.max_pods, reserved, &t); !s.ok()) return s;
  if (Status s = kubelet::ParseNodeLabels(o.node_labels, &t); !s.ok()) return s;
  if (Status s = kubelet::ParseNodeTaints(o.node_taints, &t); !s.ok()) return s;

  kubelet::NodeIdentity id;
  id.name = NodeName(o);
  if (id.name.empty()) return Status(Code::kInvalidArgument, "no --node-name and no hostname");
  if (auto bad = api::IsDNS1123Subdomain(id.name); !bad.empty()) {
    return Status(Code::kInvalidArgument, "node name \"" + id.name + "\" (" + (o.node_name.empty() ? "the hostname" : "--node-name") +
                                              ") is not a valid node name: " + api::JoinMessages(bad, "; ") +
                                              "; give one with --node-name");
  }
  id.internal_ip = o.node_ip.empty() ? kubelet::DefaultNodeIp() : o.node_ip;
  // --cluster-cidr: the IPv4 range (and, dual-stack, an IPv6 one for the service proxy).
  auto cidrs = SplitDualStackCidrs(o.cluster_cidr);
  if (!cidrs.ok()) return Status(Code::kInvalidArgument, "--cluster-cidr: " + cidrs.status().message());
  if (cidrs->ipv4.empty()) return Status(Code::kInvalidArgument, "--cluster-cidr: an IPv4 range is needed (IPv6-only clusters are not supported)");
  auto backend = network::ParseBackend(o.flannel_backend);
  if (!backend.ok()) return backend.error();
  if (HollowRuntime()) backend = network::Backend::kNone;

  // The runtime, or why there is none: said once here and in the Node's Ready condition.
  auto rt = factory ? factory(o) : Result<Runtime>(Status(Code::kUnavailable, "no container runtime configured"));
  if (rt.ok()) {
    st->runtime = std::move(rt.value());
  } else {
    *backend = network::Backend::kNone;  // a node that runs no pods needs no way to other nodes' pods
    KITE_LOG(0) << "agent: the container runtime cannot work: " << rt.status().message()
                << " (node " << id.name << " stays NotReady)";
    st->runtime = UnavailableRuntime(rt.status().message());
  }
  if (auto v = st->runtime.runtime->Version(); v.ok()) t.container_runtime_version = v->runtime_name + "://" + v->runtime_version;

  auto log_options = kubelet::logs::ParseContainerLogOptions(o.container_log_max_size, o.container_log_max_files);
  if (!log_options.ok()) return log_options.status();

  st->nodes = std::make_unique<kubelet::NodeSet>(
      std::vector<kubelet::Node>{kubelet::Node{id, st->runtime.runtime, st->runtime.images, st->runtime.sandbox_gate}});
  st->client = std::make_unique<client::Client>(std::move(transport));
  st->informers = std::make_unique<client::InformerFactory>(st->client.get());
  st->pod_status = std::make_unique<kubelet::StatusManager>(st->client.get());
  st->runner = std::make_unique<client::ControllerRunner>(st->informers.get(), o.workers);
  auto leases = std::make_unique<kubelet::NodeLeaseController>(st->client.get(), &st->tmpl, st->nodes.get(),
                                                               o.heartbeat_interval, o.workers);
  auto status = std::make_unique<kubelet::NodeStatusManager>(st->client.get(), &st->tmpl, st->nodes.get(), leases.get(),
                                                             o.status_interval, o.workers);
  status->SetReportInterval(o.report_interval);
  const std::string dir = st->agent_dir;
  kubelet::eviction::ThresholdFlags tf;
  tf.hard = o.eviction_hard;
  tf.hard_set = true;  // AgentOptions holds upstream's defaults
  tf.soft = o.eviction_soft;
  tf.soft_grace_period = o.eviction_soft_grace_period;
  tf.minimum_reclaim = o.eviction_minimum_reclaim;
  auto thresholds = kubelet::eviction::ParseThresholds(tf);
  if (!thresholds.ok()) return thresholds.status();
  kubelet::NodeConfig nc;
  nc.node_name = id.name;
  nc.cluster_dns = o.cluster_dns;
  nc.cluster_domain = o.cluster_domain;
  if (!o.pod_logs_dir.empty()) nc.pod_logs_root = o.pod_logs_dir;
  if (!o.resolv_conf.empty()) {
    if (auto dns = kubelet::ReadResolvConf(o.resolv_conf); dns.ok()) nc.host_dns = *dns;
  }
  nc.allocatable_milli_cpu = static_cast<int64_t>(machine->cpus) * 1000;
  nc.memory_capacity = machine->memory_bytes;
  nc.allocatable_memory = machine->memory_bytes;
  // seccompProfile Localhost profiles: <kubelet root dir>/seccomp, as upstream's kubelet has them.
  nc.seccomp_root = (fs::path(st->agent_dir) / "kubelet" / "seccomp").string();
  nc.seccomp_default = o.seccomp_default;
  // No informers for ConfigMaps and Secrets: the Node authorizer lets a kubelet read only those
  // of its pods, one GET each (ClientLookup's fallback), never list or watch them all.
  kubelet::LookupInformers li;
  st->lookup = std::make_unique<kubelet::ClientLookup>(st->client.get(), li);
  kubelet::volumes::VolumeManager::Options vo;
  vo.root_dir = (fs::path(st->agent_dir) / "kubelet").string();
  vo.tmpfs = geteuid() == 0;
  vo.node = nc;
  st->volumes = std::make_unique<kubelet::volumes::VolumeManager>(vo, st->lookup.get());
  st->pod_config = kubelet::NodePodConfig(nc, st->lookup.get(), st->volumes.get());
  st->events = std::make_unique<client::EventRecorder>(st->client.get(), "kubelet", id.name);
  // Off the pods' sync path, as upstream's kubelet records through its broadcaster: a pod's
  // start-up no longer waits for its Pulled, Created and Started Events to be stored.
  st->events->RunAsync();
  // Static pods: the manifests of <data-dir>/agent/pod-manifests/, run from the file source and
  // shown in the API as mirror pods.
  const std::string manifests = (fs::path(st->agent_dir) / "pod-manifests").string();
  files::CreateDirectories(manifests, ec);
  st->file_pods = std::make_unique<kubelet::FilePodSource>(manifests, id.name);
  st->pod_sources = std::make_unique<kubelet::PodSources>(st->file_pods.get());
  st->pod_sources->AttachApi(*st->informers);
  kubelet::PodWorkers::Options po;
  po.workers = std::max(o.workers, o.pod_workers);
  po.config = st->pod_config.get();
  po.resync_period = o.sync_frequency;
  po.sources = st->pod_sources.get();
  auto pods = std::make_unique<kubelet::PodWorkers>(st->nodes.get(), st->pod_status.get(), st->events.get(), po);
  // Node-pressure eviction: its conditions are the node's, its victims go through the pod workers
  // and node-level disk is first freed by image garbage collection.
  kubelet::ImageGC::Options gco;
  gco.keep_image = o.pause_image.empty() ? std::string(KITE_PAUSE_IMAGE) : o.pause_image;
  auto image_gc = std::make_unique<kubelet::ImageGC>(st->runtime.runtime, st->runtime.images,
                                                     [dir] { return kubelet::Filesystem(dir); }, gco);
  kubelet::eviction::EvictionManager::Options eo;
  eo.thresholds = std::move(*thresholds);
  eo.period = std::chrono::milliseconds(o.eviction_monitoring_period_ms);
  eo.pressure_transition_period = std::chrono::milliseconds(o.eviction_pressure_transition_period_ms);
  eo.max_pod_grace_period_s = o.eviction_max_pod_grace_period;
  eo.nodefs_dir = dir;
  eo.imagefs_dir = dir;
  eo.cgroup_root = nc.cgroup_root;
  eo.pod_logs_root = nc.pod_logs_root;
  eo.pods_dir = (fs::path(vo.root_dir) / "pods").string();
  kubelet::PodWorkers* workers = pods.get();
  st->pod_workers = workers;
  kubelet::ImageGC* gc = image_gc.get();
  auto eviction = std::make_unique<kubelet::eviction::EvictionManager>(
      st->nodes.get(),
      [workers](const std::string& key, const std::string& uid, const std::string& message, int64_t grace) {
        workers->Evict(key, uid, message, grace);
      },
      [gc](int64_t bytes) {
        auto freed = gc->Free(bytes);
        return freed.ok() ? *freed : int64_t{0};
      },
      std::move(eo));
  workers->AddAdmitHandler([allow = std::move(*sysctls)](const boost::json::object& pod) -> std::optional<kubelet::PodWorkers::Rejection> {
    auto no = allow.Admit(pod);
    if (!no) return std::nullopt;
    return kubelet::PodWorkers::Rejection{kubelet::kSysctlForbidden, std::move(*no)};
  });
  workers->AddAdmitHandler([enabled = kubelet::AppArmorEnabled()](const boost::json::object& pod) -> std::optional<kubelet::PodWorkers::Rejection> {
    auto no = kubelet::AdmitAppArmor(pod, enabled);
    if (!no) return std::nullopt;
    return kubelet::PodWorkers::Rejection{kubelet::kAppArmorRejected, std::move(*no)};
  });
  kubelet::eviction::EvictionManager* em = eviction.get();
  workers->AddAdmitHandler([em](const boost::json::object& pod) -> std::optional<kubelet::PodWorkers::Rejection> {
    auto no = em->Admit(pod);
    if (!no) return std::nullopt;
    return kubelet::PodWorkers::Rejection{"Evicted", std::move(*no)};
  });
  status->SetPressureProbe([em](const kubelet::Node&) { return em->Health(); });
  st->runner->Add(std::move(status));
  st->runner->Add(std::move(leases));
  st->no_informers = std::make_unique<client::InformerFactory>(st->client.get());
  st->pod_runner = std::make_unique<client::ControllerRunner>(st->no_informers.get(), o.workers, po.workers);
  st->pod_runner->Add(std::move(pods));
  st->runner->Add(std::make_unique<kubelet::MirrorPods>(st->client.get(), st->nodes.get(), st->file_pods.get()));
  // Image garbage collection by the disk usage of the image filesystem (the agent's data dir
  // holds containerd's root).
  st->runner->Add(std::move(image_gc));
  st->runner->Add(std::move(eviction));

  if (*backend != network::Backend::kNone) {
    network::PodNetworkOptions pn;
    pn.backend = *backend;
    pn.iface = o.flannel_iface;
    pn.node_name = id.name;
    pn.node_ip = id.internal_ip;
    pn.cluster_cidr = cidrs->ipv4;
    st->runner->Add(std::make_unique<network::PodNetwork>(st->client.get(), pn));
  }

  st->runner->Add(std::make_unique<kubelet::logs::ContainerLogManager>(st->runtime.runtime, *log_options));

  // The kubelet server, before the Node registers: its status carries the server's port.
  if (!o.serving_cert_pem.empty()) {
    st->stats = std::make_unique<kubelet::StatsProvider>(id.name, st->runtime.runtime, dir);
    kubelet::server::KubeletServerOptions so;
    so.port = static_cast<int>(o.kubelet_port);
    so.cert_pem = o.serving_cert_pem;
    so.key_pem = o.serving_key_pem;
    so.client_ca_pem = o.client_ca_pem;
    kubelet::server::KubeletSources src;
    src.node_name = id.name;
    src.runtime = st->runtime.runtime;
    src.streaming = dynamic_cast<cri::StreamingService*>(st->runtime.runtime);
    src.stats = st->stats.get();
    client::Client* c = st->client.get();
    // Bearer tokens (Prometheus's service account) checked by the API server, as upstream's
    // kubelet does with webhook authentication and authorization.
    st->kubelet_authorizer = std::make_unique<kubelet::server::WebhookAuthorizer>(c, id.name);
    src.authorizer = st->kubelet_authorizer.get();
    const std::string node_name = id.name;
    src.pods = [c, node_name]() -> Result<boost::json::object> {
      client::ListParams p;
      p.field_selector = "spec.nodeName=" + node_name;
      return c->List(*api::FindResource("", "v1", "pods"), "", p);
    };
    auto server = kubelet::server::KubeletServer::Start(so, std::move(src));
    if (!server.ok()) return Status(server.status().code(), "kubelet server: " + server.status().message());
    st->kubelet_server = std::move(*server);
    t.kubelet_port = st->kubelet_server->port();
    KITE_LOG(0) << "agent: kubelet server listening on port " << t.kubelet_port;
  }

  // The service proxy. Not under kite-hollow's fake runtime (the test seam runs on the host's
  // own network, whose tables are not ours to write), not without root, and not when the runtime
  // cannot work (such a node runs no pods for the rest of the process; tests start servers that
  // way on the host's network).
  const char* seam = std::getenv("KITE_AGENT_RUNTIME");
  // The node's tables are ours to write (the service proxy's and the network policies'): root,
  // a runtime that works, not the fake one.
  const bool tables_ours = !(seam && std::string(seam) == "hollow") && geteuid() == 0 && rt.ok();
  if (o.proxy_mode != "iptables" && o.proxy_mode != "nftables") {
    return Status(Code::kInvalidArgument, "--proxy-mode: " + o.proxy_mode + " (iptables or nftables)");
  }
  if (o.disable_kube_proxy) {
    KITE_LOG(1) << "agent: the service proxy is disabled (--disable-kube-proxy)";
  } else if (!tables_ours) {
    KITE_LOG(0) << "agent: no service proxy ("
                << (geteuid() != 0 ? "not root" : !rt.ok() ? "no container runtime" : "fake runtime") << ")";
  } else {
    proxy::ProxyOptions po;
    po.node_name = id.name;
    po.mode = o.proxy_mode;
    if (Status s = proxy::SetClusterCidrs(o.cluster_cidr, &po); !s.ok()) return s;
    po.healthz_bind_address = o.proxy_healthz_bind_address;
    po.sync_period = o.iptables_sync_period;
    po.min_sync_period = o.iptables_min_sync_period;
    po.full_sync_period = o.proxy_full_sync_period;
    st->runner->Add(std::make_unique<proxy::Proxier>(po));
  }
  // NetworkPolicies, where the service proxy could run.
  if (o.disable_network_policy) {
    KITE_LOG(1) << "agent: network policies are not enforced (--disable-network-policy)";
    if (tables_ours) {
      if (Status s = netpol::RemoveNetpolRules(); !s.ok()) KITE_LOG(0) << "agent: network policies' old rules: " << s.message();
    }
  } else if (tables_ours) {
    netpol::NetpolOptions no;
    no.node_name = id.name;
    st->runner->Add(std::make_unique<netpol::NetpolController>(no));
  }

  KITE_LOG(0) << "agent: node " << id.name << " (" << (id.internal_ip.empty() ? "no IP" : id.internal_ip) << ", "
              << machine->cpus << " CPUs, " << t.memory << " memory, runtime "
              << (t.container_runtime_version.empty() ? "unavailable" : t.container_runtime_version) << ")";
  // The pod workers first, then the manifests (their pods are queued at once), then the API.
  if (!st->pod_runner->Start()) return Status(Code::kInternal, "the pod workers did not start");
  st->file_pods->Start();
  State* raw = st.get();
  // Until the first lists arrive (a remote server may still be starting); Stop ends the wait.
  st->starter = std::thread([raw] {
    if (!raw->runner->Start(std::chrono::hours(24 * 365))) {
      std::lock_guard<std::mutex> lock(raw->mu);
      if (!raw->stopped) KITE_LOG(0) << "agent: the informers never synced";
    }
  });
  return std::unique_ptr<Agent>(new Agent(std::move(st)));
}

void Agent::Stop() {
  if (!state_) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  if (state_->kubelet_server) state_->kubelet_server->Stop();
  state_->file_pods->Stop();
  state_->informers->Stop();  // ends a start-up still waiting for the first lists
  if (state_->starter.joinable()) state_->starter.join();
  // Nothing under way is waited for: not a pod in its grace period (up to
  // terminationGracePeriodSeconds; its containers got their stop signal and run on, as
  // KillMode=process intends, and the next start adopts the pod and finishes its termination, as
  // upstream's kubelet leaves it), nor an image pull.
  state_->pod_workers->Stopping();
  if (state_->runtime.cancel) state_->runtime.cancel();
  state_->runner->Stop();
  state_->pod_runner->Stop();
  state_->informers->Stop();
}

void AddNodeFlags(FlagSet& flags, AgentOptions* o) {
  flags.String("node-name", &o->node_name, "The node's name (default: the hostname)");
  flags.String("node-ip", &o->node_ip, "The node's InternalIP (default: the address of the default route's interface)");
  flags.StringList("node-label", &o->node_labels, "Labels to register the node with: key=value,…");
  flags.StringList("node-taint", &o->node_taints, "Taints to register the node with: key[=value]:Effect,…");
  flags.StringList("kube-reserved", &o->kube_reserved,
                   "Resources reserved for Kubernetes components: cpu=…,memory=…,ephemeral-storage=…");
  flags.StringList("system-reserved", &o->system_reserved,
                   "Resources reserved for the system: cpu=…,memory=…,ephemeral-storage=…");
  flags.Int("max-pods", &o->max_pods, "Pods this node may run");
  flags.StringList("allowed-unsafe-sysctls", &o->allowed_unsafe_sysctls,
                   "Sysctls pods may set beyond the safe ones: names or prefixes ending in *, namespaced ones only (net.*, kernel.shm*, …)");
  flags.Bool("seccomp-default", &o->seccomp_default, "Use the runtime's default seccomp profile for containers that set none");
  flags.StringList("cluster-dns", &o->cluster_dns, "The cluster DNS server's IPs, for pods' resolv.conf");
  flags.String("cluster-domain", &o->cluster_domain, "The cluster's DNS domain");
  flags.String("resolv-conf", &o->resolv_conf,
               "The resolver config pods on dnsPolicy Default get (and kite-dns forwards to); empty: none");
  flags.String("pod-logs-dir", &o->pod_logs_dir,
               "Where containers' log files go (the kubelet's podLogsDir; log shippers read the default)");
  flags.String("container-runtime-endpoint", &o->container_runtime_endpoint,
               "Use this CRI socket instead of the agent's own containerd");
  flags.String("default-runtime", &o->default_runtime,
               "The runtime handler of pods without a runtimeClassName: runc (the default, as k3s's), or "
               "crun when installed. Not with --container-runtime-endpoint");
  flags.String("pause-image", &o->pause_image,
               "The pod sandbox image (default: kite's own, imported from the image archives)");
  flags.String("private-registry", &o->private_registry,
               "Registry configuration file (k3s's registries.yaml format; default /etc/kite/registries.yaml)");
  // The binaries default to VXLAN (k3s's default); AgentOptions' own default, none, keeps tests
  // that start an Agent directly off the host's network.
  o->flannel_backend = "vxlan";
  flags.String("flannel-backend", &o->flannel_backend, "The pod network across nodes: vxlan, host-gw or none (a CNI you install)");
  flags.String("flannel-iface", &o->flannel_iface, "The interface pod traffic to other nodes leaves by (default: the node IP's)");
  flags.Bool("disable-kube-proxy", &o->disable_kube_proxy, "Do not run the service proxy");
  flags.String("proxy-mode", &o->proxy_mode, "The service proxy's mode: iptables or nftables (upstream kube-proxy's flag)");
  flags.String("healthz-bind-address", &o->proxy_healthz_bind_address,
               "host:port of the service proxy's /healthz (\"\": none)");
  flags.String("container-log-max-size", &o->container_log_max_size,
               "A container's log file is rotated at this size (a quantity: 10Mi)");
  flags.Int("container-log-max-files", &o->container_log_max_files,
            "Log files kept per container, the current one included (2 or more)");
  flags.StringList("eviction-hard", &o->eviction_hard,
                   "Hard eviction thresholds: memory.available<100Mi,nodefs.available<10%,… (replaces the defaults)");
  flags.StringList("eviction-soft", &o->eviction_soft, "Soft eviction thresholds: memory.available<300Mi,…");
  flags.StringList("eviction-soft-grace-period", &o->eviction_soft_grace_period,
                   "How long each soft threshold must hold before pods are evicted: memory.available=1m30s,…");
  flags.StringList("eviction-minimum-reclaim", &o->eviction_minimum_reclaim,
                   "What an eviction must free beyond the threshold: memory.available=0Mi,nodefs.available=500Mi,…");
  flags.Duration("eviction-pressure-transition-period", &o->eviction_pressure_transition_period_ms,
                 "How long a pressure condition stays after its threshold was last met");
  flags.Int("eviction-max-pod-grace-period", &o->eviction_max_pod_grace_period,
            "The longest grace period (seconds) a pod gets when a soft threshold evicts it; 0: its own");
  flags.Forward("kubelet-arg",
                {{"node-ip", "node-ip"},
                 {"node-labels", "node-label"},
                 {"register-with-taints", "node-taint"},
                 {"kube-reserved", "kube-reserved"},
                 {"system-reserved", "system-reserved"},
                 {"max-pods", "max-pods"},
                 {"allowed-unsafe-sysctls", "allowed-unsafe-sysctls"},
                 {"seccomp-default", "seccomp-default"},
                 {"cluster-dns", "cluster-dns"},
                 {"cluster-domain", "cluster-domain"},
                 {"container-runtime-endpoint", "container-runtime-endpoint"},
                 {"pod-infra-container-image", "pause-image"},
                 {"container-log-max-size", "container-log-max-size"},
                 {"container-log-max-files", "container-log-max-files"},
                 {"eviction-hard", "eviction-hard"},
                 {"eviction-soft", "eviction-soft"},
                 {"eviction-soft-grace-period", "eviction-soft-grace-period"},
                 {"eviction-minimum-reclaim", "eviction-minimum-reclaim"},
                 {"eviction-pressure-transition-period", "eviction-pressure-transition-period"},
                 {"eviction-max-pod-grace-period", "eviction-max-pod-grace-period"}},
                "A kubelet flag as k3s passes it: name=value (repeatable)");
  flags.Forward("kube-proxy-arg",
                {{"proxy-mode", "proxy-mode"},
                 {"healthz-bind-address", "healthz-bind-address"},
                 {"iptables-sync-period", "iptables-sync-period"},
                 {"cluster-cidr", "cluster-cidr"}},
                "A kube-proxy flag as k3s passes it: name=value (repeatable)");
}

}  // namespace kite::agent
