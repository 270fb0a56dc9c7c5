// HollowRuntime: kite-hollow's container runtime, kubemark's approach: a CRI runtime
// (agent/cri/runtime.h) whose sandboxes and containers exist only as records in memory, so the
// real kubelet code runs against thousands of simulated nodes in one process.
// - Sandboxes get a pod IP from the node's pod CIDR (UpdateRuntimeConfig), the lowest free
//   address from .2 on (.1 is the node's bridge, as with the bridge CNI plugin), reused once the
//   sandbox stops, as host-local IPAM does; none with the host's network. A full (or non-IPv4)
//   CIDR fails RunPodSandbox with ResourceExhausted.
// - Containers start at once and run until stopped, or for the lifetime the program gives
//   (then they exit 0 with reason Completed: Jobs' pods finish). Images are "pulled" at once.
// - Ids say what they are: sandbox id = pod uid, container id = "<pod uid>-<container name>",
//   image id = "<image>@sha256:<digest of the name>" (stable per image); Version() says
//   runtime "hollow" 1.0, so the API shows hollow://… ids and no one mistakes them for real.
// - Faults, for the kubelet's tests (kite-hollow never sets them): a running container can be
//   made to exit with a code (ExitContainer: a crash, an OOM kill), starts and pulls can be made
//   to fail, exec commands to fail (exec probes and hooks).
// One instance per simulated node; thread-safe (one mutex: calls are short).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/cri/runtime.h"

namespace kite::hollow {

class HollowRuntime final : public cri::RuntimeService, public cri::ImageService {
 public:
  // How long a container runs before it exits 0 (std::nullopt: until stopped); asked when it
  // starts. Empty: every container runs until stopped.
  using Lifetime = std::function<std::optional<std::chrono::milliseconds>(const cri::PodSandboxMetadata& pod,
                                                                           const std::string& container)>;
  HollowRuntime(const std::string& pod_cidr, Lifetime lifetime);

  Result<cri::VersionInfo> Version() override;
  kite::Status UpdateRuntimeConfig(const std::string& pod_cidr) override;

  Result<std::string> RunPodSandbox(const cri::PodSandboxConfig& config) override;
  kite::Status StopPodSandbox(const std::string& pod_sandbox_id) override;
  kite::Status RemovePodSandbox(const std::string& pod_sandbox_id) override;
  Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string& pod_sandbox_id) override;
  Result<std::vector<cri::PodSandbox>> ListPodSandbox(const cri::PodSandboxFilter& filter) override;

  Result<std::string> CreateContainer(const std::string& pod_sandbox_id, const cri::ContainerConfig& config,
                                      const cri::PodSandboxConfig& sandbox_config) override;
  kite::Status StartContainer(const std::string& container_id) override;
  kite::Status StopContainer(const std::string& container_id, int64_t timeout_s) override;
  kite::Status RemoveContainer(const std::string& container_id) override;
  Result<std::vector<cri::Container>> ListContainers(const cri::ContainerFilter& filter) override;
  Result<cri::ContainerStatus> ContainerStatus(const std::string& container_id) override;
  // Nothing runs in a fake container: every command "succeeds" with no output.
  Result<cri::ExecSyncResponse> ExecSync(const std::string& container_id, const std::vector<std::string>& cmd,
                                         int64_t timeout_s) override;
  Result<std::vector<cri::RuntimeCondition>> RuntimeStatus() override;

  Result<std::string> PullImage(const cri::ImageSpec& image, const std::optional<cri::AuthConfig>& auth,
                                const cri::PodSandboxConfig& sandbox_config) override;
  Result<std::optional<cri::Image>> ImageStatus(const cri::ImageSpec& image) override;
  Result<std::vector<cri::Image>> ListImages() override;
  kite::Status RemoveImage(const cri::ImageSpec& image) override;

  // The image id a runtime would report for `image`: itself when it names a digest.
  static std::string ImageRef(const std::string& image);

  // ---- faults (tests) ----
  // The running container `container_id` exits now with `exit_code`; `reason` "" gives
  // Completed for 0 and Error otherwise ("OOMKilled" as a runtime reports an OOM kill).
  kite::Status ExitContainer(const std::string& container_id, int32_t exit_code, const std::string& reason = "");
  // StartContainer of containers named `container` fails with `error` (OK clears); the
  // container is then left Exited with code 128, as runc leaves a container that could not start.
  void SetStartError(const std::string& container, kite::Status error);
  // PullImage of `image` fails with `error` (OK clears).
  void SetPullError(const std::string& image, kite::Status error);
  // ExecSync in containers named `container` exits with `exit_code` and prints `output`
  // (exit 0 and no output unless set).
  void SetExecResult(const std::string& container, int32_t exit_code, const std::string& output = "");
  // How many StopPodSandbox calls found their sandbox: each one is a network teardown (every CNI
  // plugin's DEL) in containerd, so tests can see the kubelet does not ask for extra ones.
  int64_t sandbox_stops() const;

 private:
  using Steady = std::chrono::steady_clock;
  struct Sandbox {
    cri::PodSandboxMetadata metadata;
    cri::PodSandboxState state = cri::PodSandboxState::kReady;
    int64_t created_at = 0;
    uint32_t ip_offset = 0;  // 0: none (host network, or released)
    cri::Labels labels;
    std::vector<std::string> containers;
  };
  struct Container {
    std::string sandbox_id;
    cri::ContainerMetadata metadata;
    std::string image, image_ref;
    cri::ContainerState state = cri::ContainerState::kCreated;
    int64_t created_at = 0, started_at = 0, finished_at = 0;
    std::optional<Steady::time_point> exit_at;  // a lifetime: exits 0 then
    int64_t lifetime_ns = 0;
    int32_t exit_code = 0;
    std::string reason;  // set on exit
    cri::Labels labels;
    std::string log_path;
  };

  void SetCidrLocked(const std::string& cidr);
  // A running container whose lifetime is over exits now (as seen by any query).
  void UpdateLocked(Container& c);
  void StopLocked(Container& c);
  std::string IpLocked(uint32_t offset) const;
  cri::ContainerStatus StatusLocked(const std::string& id, const Container& c) const;

  const Lifetime lifetime_;
  mutable std::mutex mu_;  // guards everything below
  std::string cidr_;
  uint32_t cidr_base_ = 0;   // network address; 0: no usable IPv4 CIDR
  uint32_t cidr_hosts_ = 0;  // addresses after the network one, broadcast excluded
  std::unordered_set<uint32_t> used_;  // offsets from cidr_base_
  int64_t sandbox_stops_ = 0;
  std::unordered_map<std::string, Sandbox> sandboxes_;
  std::unordered_map<std::string, Container> containers_;
  std::unordered_map<std::string, cri::Image> images_;  // by the name pulled
  std::unordered_map<std::string, kite::Status> start_errors_, pull_errors_;  // by container / image
  std::unordered_map<std::string, cri::ExecSyncResponse> exec_results_;       // by container name
};

}  // namespace kite::hollow
