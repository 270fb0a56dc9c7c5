#include "agent/node_runtime.h"

#include <filesystem>

#include "agent/cri/registries.h"
#include "agent/network/cni_config.h"
#include "base/log.h"

namespace kite::agent {
namespace {

namespace fs = std::filesystem;

// How long the kubelet may wait for the first import before it calls an image missing.
constexpr auto kImportWait = std::chrono::minutes(2);

}  // namespace

Result<std::unique_ptr<NodeRuntime>> NodeRuntime::Start(const NodeRuntimeOptions& o) {
  std::unique_ptr<NodeRuntime> rt(new NodeRuntime());
  rt->options_ = o;
  rt->options_.data_dir = fs::absolute(o.data_dir).lexically_normal().string();
  if (!o.container_runtime_endpoint.empty()) {
    if (!o.default_runtime.empty()) {
      KITE_LOG(0) << "agent: --default-runtime " << o.default_runtime
                  << " ignored: the runtime at --container-runtime-endpoint has its own default";
    }
    std::string endpoint = o.container_runtime_endpoint;
    if (!endpoint.starts_with("unix://") && endpoint.starts_with("/")) endpoint = "unix://" + endpoint;
    rt->cri_ = std::make_unique<cri::CriClient>(endpoint);
    rt->images_ = rt->cri_.get();  // the runtime there owns its images
    if (auto v = rt->cri_->Version(); !v.ok()) {
      return Status(Code::kUnavailable, "the CRI runtime at " + endpoint + " does not answer: " + v.error().message());
    }
    return rt;
  }
  cri::ContainerdOptions co;
  co.data_dir = rt->options_.data_dir;
  co.sandbox_image = o.pause_image;
  co.default_runtime = o.default_runtime;
  const std::string registries = o.private_registry.empty() ? std::string(cri::kDefaultRegistriesPath) : o.private_registry;
  auto reg = cri::LoadRegistries(registries);
  if (!reg.ok()) return Status(Code::kInvalidArgument, registries + ": " + reg.error().message());
  for (const auto& w : reg->warnings) KITE_LOG(0) << "agent: " << registries << ": " << w;
  co.registry_toml = cri::RenderContainerdRegistryToml(*reg);
  // The pods' CNI plugins: kite-cni for bridge, loopback and portmap when it is beside this
  // program (agent/cni/plugin.h: 4x less CPU per pod than the Go plugins), the system's else.
  const std::string kite_cni = network::FindKiteCni();
  auto bin_dir = network::PrepareCniBinDir(rt->options_.data_dir, co.cni_bin_dir, kite_cni);
  if (!bin_dir.ok()) {
    KITE_LOG(0) << "agent: " << bin_dir.error().message() << ": the pods use the system's CNI plugins";
  } else {
    co.cni_bin_dir = *bin_dir;
  }
  if (kite_cni.empty()) KITE_LOG(1) << "agent: no kite-cni beside this program: the pods use the CNI plugins in " << co.cni_bin_dir;
  rt->containerd_ = std::make_unique<cri::ContainerdSupervisor>(co);
  if (Status s = rt->containerd_->Start(); !s.ok()) return s;
  rt->cri_ = std::make_unique<cri::CriClient>(rt->containerd_->endpoint());
  cri::ImageImporterOptions io;
  io.images_dir = (fs::path(rt->options_.data_dir) / "agent" / "images").string();
  io.state_file = (fs::path(rt->options_.data_dir) / "agent" / "images.imported").string();
  io.containerd_address = rt->containerd_->paths().socket;
  io.snapshotter = rt->containerd_->snapshotter();
  rt->importer_ = std::make_unique<cri::ImageImporter>(io);
  rt->importer_->Start();
  rt->import_aware_ = std::make_unique<cri::ImportAwareImageService>(
      rt->cri_.get(), rt->importer_.get(), std::chrono::duration_cast<std::chrono::milliseconds>(kImportWait));
  rt->images_ = rt->import_aware_.get();
  return rt;
}

NodeRuntime::~NodeRuntime() {
  if (importer_) importer_->Stop();
  images_ = nullptr;
  import_aware_.reset();
  cri_.reset();
  // containerd stops; its shims keep the containers running for the next start to adopt.
  if (containerd_) containerd_->Stop();
}

std::string NodeRuntime::SandboxGate() const {
  if (!importer_ || importer_->initial_import_done() || std::chrono::steady_clock::now() - started_ > kImportWait) {
    return "";
  }
  return "waiting for the first import of the image archives in " +
         (fs::path(options_.data_dir) / "agent" / "images").string() + " (the pause image may be among them)";
}

Result<std::string> NodeRuntime::RunPodSandbox(const cri::PodSandboxConfig& c) {
  if (std::string why = SandboxGate(); !why.empty()) return Status(Code::kUnavailable, why);
  return cri_->RunPodSandbox(c);
}

kite::Status NodeRuntime::UpdateRuntimeConfig(const std::string& pod_cidr) {
  if (containerd_ && !pod_cidr.empty()) {
    network::CniConfigOptions c;
    c.data_dir = options_.data_dir;
    c.pod_cidr = pod_cidr;
    c.conf_dir = containerd_->paths().cni_conf_dir;
    c.mtu = options_.cni_mtu;
    c.ip_masq = options_.cni_ip_masq;
    auto wrote = network::WriteCniConfig(c);
    if (!wrote.ok()) return wrote.error().Annotate("writing the CNI config");
    if (*wrote) KITE_LOG(0) << "agent: pod network on " << pod_cidr << " (" << network::CniConfigPath(c) << ")";
  }
  return cri_->UpdateRuntimeConfig(pod_cidr);
}

}  // namespace kite::agent
