#include "agent/agent.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/client_lookup.h"
#include "agent/kubelet/container_config.h"
#include "agent/kubelet/image_gc.h"
#include "agent/kubelet/pod_config.h"
#include "agent/kubelet/static_pods.h"
#include "agent/kubelet/volumes/volume_manager.h"
#include "agent/node_runtime.h"
#include "api/resources.h"
#include "client/event_recorder.h"
#include "agent/kubelet/node_info.h"
#include "agent/kubelet/node_lease_controller.h"
#include "agent/kubelet/node_objects.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/node_status_manager.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
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
  return Runtime{r, r.get(), r.get()};
}

RuntimeFactory DefaultRuntime() {
  const char* fake = std::getenv("KITE_AGENT_RUNTIME");
  if (fake && std::string(fake) == "hollow") {
    return [](const AgentOptions&) -> Result<Runtime> {
      auto r = std::make_shared<hollow::HollowRuntime>("", nullptr);
      return Runtime{r, r.get(), r.get()};
    };
  }
  return [](const AgentOptions& o) -> Result<Runtime> {
    NodeRuntimeOptions no;
    no.data_dir = o.data_dir;
    no.container_runtime_endpoint = o.container_runtime_endpoint;
    no.pause_image = o.pause_image.empty() ? std::string(KITE_PAUSE_IMAGE) : o.pause_image;
    no.private_registry = o.private_registry;
    auto rt = NodeRuntime::Start(no);
    if (!rt.ok()) return rt.error();
    std::shared_ptr<NodeRuntime> owner(std::move(*rt));
    return Runtime{owner, owner.get(), owner->images()};
  };
}

std::string NodeName(const AgentOptions& o) { return o.node_name.empty() ? kubelet::Hostname() : o.node_name; }

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
  std::unique_ptr<client::ControllerRunner> runner;
  std::thread starter;  // waits for the first lists, then the workers run
  std::mutex mu;
  bool stopped = false;  // guarded by mu
};

Agent::Agent(std::unique_ptr<State> state) : state_(std::move(state)) {}
Agent::~Agent() { Stop(); }

const std::string& Agent::node_name() const { return state_->nodes->nodes().front().id.name; }

Result<std::unique_ptr<Agent>> Agent::Start(const AgentOptions& o, std::shared_ptr<client::Transport> transport,
                                            const RuntimeFactory& factory) {
  auto st = std::make_unique<State>();
  st->options = o;
  st->agent_dir = (fs::path(o.data_dir) / "agent").string();
  std::error_code ec;
  fs::create_directories(st->agent_dir, ec);
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

  // The runtime, or why there is none: said once here and in the Node's Ready condition.
  auto rt = factory ? factory(o) : Result<Runtime>(Status(Code::kUnavailable, "no container runtime configured"));
  if (rt.ok()) {
    st->runtime = std::move(rt.value());
  } else {
    KITE_LOG(0) << "agent: the container runtime cannot work: " << rt.status().message()
                << " (node " << id.name << " stays NotReady)";
    st->runtime = UnavailableRuntime(rt.status().message());
  }
  if (auto v = st->runtime.runtime->Version(); v.ok()) t.container_runtime_version = v->runtime_name + "://" + v->runtime_version;

  st->nodes = std::make_unique<kubelet::NodeSet>(
      std::vector<kubelet::Node>{kubelet::Node{id, st->runtime.runtime, st->runtime.images}});
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
  status->SetPressureProbe([dir](const kubelet::Node&) { return kubelet::MeasurePressure(dir); });
  kubelet::NodeConfig nc;
  nc.node_name = id.name;
  nc.cluster_dns = o.cluster_dns;
  nc.cluster_domain = o.cluster_domain;
  if (auto dns = kubelet::ReadResolvConf("/etc/resolv.conf"); dns.ok()) nc.host_dns = *dns;
  nc.allocatable_milli_cpu = static_cast<int64_t>(machine->cpus) * 1000;
  nc.memory_capacity = machine->memory_bytes;
  nc.allocatable_memory = machine->memory_bytes;
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
  kubelet::PodWorkers::Options po;
  po.workers = o.workers;
  po.config = st->pod_config.get();
  po.resync_period = o.sync_frequency;
  auto pods = std::make_unique<kubelet::PodWorkers>(st->nodes.get(), st->pod_status.get(), st->events.get(), po);
  st->runner->Add(std::move(status));
  st->runner->Add(std::move(leases));
  st->runner->Add(std::move(pods));
  // Static pods: the manifests of <data-dir>/agent/pod-manifests/, run through mirror pods.
  const std::string manifests = (fs::path(st->agent_dir) / "pod-manifests").string();
  fs::create_directories(manifests, ec);
  st->runner->Add(std::make_unique<kubelet::StaticPods>(st->client.get(), st->nodes.get(), manifests));
  // Image garbage collection by the disk usage of the image filesystem (the agent's data dir
  // holds containerd's root).
  kubelet::ImageGC::Options gco;
  gco.keep_image = o.pause_image.empty() ? std::string(KITE_PAUSE_IMAGE) : o.pause_image;
  st->runner->Add(std::make_unique<kubelet::ImageGC>(
      st->runtime.runtime, st->runtime.images, [dir] { return kubelet::Filesystem(dir); }, gco));

  KITE_LOG(0) << "agent: node " << id.name << " (" << (id.internal_ip.empty() ? "no IP" : id.internal_ip) << ", "
              << machine->cpus << " CPUs, " << t.memory << " memory, runtime "
              << (t.container_runtime_version.empty() ? "unavailable" : t.container_runtime_version) << ")";
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
  state_->informers->Stop();  // ends a start-up still waiting for the first lists
  if (state_->starter.joinable()) state_->starter.join();
  state_->runner->Stop();
  state_->informers->Stop();
}

}  // namespace kite::agent
