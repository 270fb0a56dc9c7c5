// NodeRuntime: the container runtime of a real node, as kite-agent and kite-server's embedded
// agent run it (k3s's shape): the agent's own containerd (cri/containerd.h, config under
// <data-dir>/agent/, registries.yaml rendered into it), the CRI client on its socket
// (cri/cri_client.h), the image archives of <data-dir>/agent/images/ imported into it
// (cri/image_import.h) before the kubelet decides an image is missing, and the node's CNI
// conflist (network/cni_config.h) written when the node gets its podCIDR (UpdateRuntimeConfig),
// which is when containerd's CRI plugin reports NetworkReady. With --container-runtime-endpoint
// it is only the CRI client on that socket (the runtime there owns its CNI and images).
//
// The services delegate to the CRI client; the image service waits for the first import.
// Thread-safety: as the services (runtime.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/cri/containerd.h"
#include "agent/cri/cri_client.h"
#include "agent/cri/image_import.h"
#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::agent {

struct NodeRuntimeOptions {
  std::string data_dir;                    // the agent's; files under <data-dir>/agent
  std::string container_runtime_endpoint;  // "": the agent's own containerd
  std::string pause_image;
  std::string default_runtime;             // --default-runtime (cri::ContainerdOptions')
  std::string private_registry;            // registries.yaml (k3s's --private-registry)
  int cni_mtu = 0;                         // the pods' MTU (network/pod_network.h); 0: the plugin's default
  bool cni_ip_masq = true;                 // false when the pod network masquerades itself
};

class NodeRuntime final : public cri::RuntimeService, public cri::StreamingService {
 public:
  // Starts containerd (unless given an endpoint) and the image import; an error says in one
  // sentence why the runtime cannot work (the Node's Ready message).
  static Result<std::unique_ptr<NodeRuntime>> Start(const NodeRuntimeOptions& options);
  ~NodeRuntime() override;

  cri::ImageService* images() { return images_; }

  // Why pod sandboxes may not start yet, "" when they may: until the first pass over the image
  // archives finished (at most the wait the image service allows), the pause image may still be
  // on its way into containerd, which would otherwise try to pull it from its registry
  // (kite.local: a DNS lookup retried until the import is done). RunPodSandbox fails
  // Unavailable with this sentence meanwhile; the kubelet asks first and says why a pod waits.
  std::string SandboxGate() const;
  // Ends the CRI calls in flight (a StopContainer waiting out a grace period) and fails every
  // later one: the agent is stopping and leaves what was under way to its next start.
  void CancelCalls() { cri_->CancelAll(); }

  Result<cri::VersionInfo> Version() override { return cri_->Version(); }
  // Writes the node's CNI conflist for `pod_cidr` (own containerd only), then tells the runtime.
  kite::Status UpdateRuntimeConfig(const std::string& pod_cidr) override;
  Result<std::string> RunPodSandbox(const cri::PodSandboxConfig& c) override;
  kite::Status StopPodSandbox(const std::string& id) override { return cri_->StopPodSandbox(id); }
  kite::Status RemovePodSandbox(const std::string& id) override { return cri_->RemovePodSandbox(id); }
  Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string& id) override { return cri_->PodSandboxStatus(id); }
  Result<std::vector<cri::PodSandbox>> ListPodSandbox(const cri::PodSandboxFilter& f) override {
    return cri_->ListPodSandbox(f);
  }
  Result<std::string> CreateContainer(const std::string& sandbox, const cri::ContainerConfig& c,
                                      const cri::PodSandboxConfig& s) override {
    return cri_->CreateContainer(sandbox, c, s);
  }
  kite::Status StartContainer(const std::string& id) override { return cri_->StartContainer(id); }
  kite::Status StopContainer(const std::string& id, int64_t timeout_s) override { return cri_->StopContainer(id, timeout_s); }
  kite::Status RemoveContainer(const std::string& id) override { return cri_->RemoveContainer(id); }
  Result<std::vector<cri::Container>> ListContainers(const cri::ContainerFilter& f) override {
    return cri_->ListContainers(f);
  }
  Result<cri::ContainerStatus> ContainerStatus(const std::string& id) override { return cri_->ContainerStatus(id); }
  Result<cri::ExecSyncResponse> ExecSync(const std::string& id, const std::vector<std::string>& cmd,
                                         int64_t timeout_s) override {
    return cri_->ExecSync(id, cmd, timeout_s);
  }
  Result<std::vector<cri::RuntimeCondition>> RuntimeStatus() override { return cri_->RuntimeStatus(); }
  kite::Status ReopenContainerLog(const std::string& id) override { return cri_->ReopenContainerLog(id); }
  Result<std::vector<cri::ContainerDiskUsage>> ListContainerDiskUsage() override {
    return cri_->ListContainerDiskUsage();
  }
  Result<std::string> Exec(const cri::ExecRequest& r) override { return cri_->Exec(r); }
  Result<std::string> Attach(const cri::AttachRequest& r) override { return cri_->Attach(r); }
  Result<std::string> PortForward(const std::string& sandbox, const std::vector<int32_t>& ports) override {
    return cri_->PortForward(sandbox, ports);
  }

 private:
  NodeRuntime() = default;
  NodeRuntimeOptions options_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::unique_ptr<cri::ContainerdSupervisor> containerd_;  // null with an endpoint
  std::unique_ptr<cri::CriClient> cri_;
  std::unique_ptr<cri::ImageImporter> importer_;            // null with an endpoint
  std::unique_ptr<cri::ImageService> import_aware_;         // the own containerd's, waits for the import
  cri::ImageService* images_ = nullptr;                     // import_aware_, or the client itself
};

}  // namespace kite::agent
