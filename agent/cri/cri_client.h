// CriClient: agent/cri/runtime.h's RuntimeService and ImageService over gRPC to a CRI v1 runtime
// (containerd's CRI plugin, or any runtime --container-runtime-endpoint names), speaking
// proto/cri/runtime/v1/api.proto.
//
// Contract, beyond runtime.h's:
// - Every call carries its own deadline: `quick_timeout` for reads (Version, Status, *Status,
//   List*), `request_timeout` (upstream's --runtime-request-timeout) for changes, plus the
//   container's grace for StopContainer and the command's timeout for ExecSync (no deadline when
//   that timeout is 0, as upstream), `pull_timeout` for PullImage.
// - gRPC errors become kite::Status with the same code (kite's codes are gRPC's), the message
//   prefixed with the call ("CRI ContainerStatus: ..."): NotFound stays NotFound, a runtime that
//   does not answer is Unavailable, a deadline that passed is DeadlineExceeded. Stop*/Remove* of
//   an id the runtime does not know are OK (runtime.h: idempotent).
// - A runtime that is down makes calls fail fast with Unavailable; the call after such a failure
//   uses a new connection, so a restarted runtime is reachable at once (gRPC's own reconnection
//   waits out a back-off of seconds).
// - CancelAll ends the calls in flight (a StopContainer waiting out a grace period) and makes
//   every later call fail at once with Cancelled: the kubelet is stopping and leaves what was in
//   progress to its next start.
// - Every call is counted in the kubelet's registry (base/metrics.h Kubelet()) under upstream's
//   kubelet_runtime_operations_total / _errors_total / _duration_seconds{operation_type}.
// - Thread-safe: gRPC stubs may be used from any thread concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/cri/streaming.h"
#include "base/status.h"

namespace grpc {
class ClientContext;
}

namespace kite::cri {

struct CriClientOptions {
  std::chrono::milliseconds quick_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds request_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
};

// One filesystem that holds images or containers' writable layers (CRI ImageFsInfo).
struct FilesystemUsage {
  std::string mountpoint;
  uint64_t used_bytes = 0, inodes_used = 0;
  int64_t timestamp = 0;  // ns since the epoch
};

class CriClient final : public RuntimeService, public ImageService, public StreamingService {
 public:
  // `endpoint`: "unix:///run/containerd/containerd.sock" or a plain socket path. Connects lazily:
  // a runtime that is not up yet makes calls fail with Unavailable, not the constructor.
  explicit CriClient(const std::string& endpoint, CriClientOptions options = {});
  ~CriClient() override;

  const std::string& endpoint() const { return endpoint_; }

  // RuntimeService
  Result<VersionInfo> Version() override;
  kite::Status UpdateRuntimeConfig(const std::string& pod_cidr) override;
  Result<std::string> RunPodSandbox(const PodSandboxConfig& config) override;
  kite::Status StopPodSandbox(const std::string& pod_sandbox_id) override;
  kite::Status RemovePodSandbox(const std::string& pod_sandbox_id) override;
  Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string& pod_sandbox_id) override;
  Result<std::vector<PodSandbox>> ListPodSandbox(const PodSandboxFilter& filter) override;
  Result<std::string> CreateContainer(const std::string& pod_sandbox_id, const ContainerConfig& config,
                                      const PodSandboxConfig& sandbox_config) override;
  kite::Status StartContainer(const std::string& container_id) override;
  kite::Status StopContainer(const std::string& container_id, int64_t timeout_s) override;
  kite::Status RemoveContainer(const std::string& container_id) override;
  Result<std::vector<Container>> ListContainers(const ContainerFilter& filter) override;
  Result<cri::ContainerStatus> ContainerStatus(const std::string& container_id) override;
  Result<ExecSyncResponse> ExecSync(const std::string& container_id, const std::vector<std::string>& cmd,
                                    int64_t timeout_s) override;
  Result<std::vector<RuntimeCondition>> RuntimeStatus() override;

  // Asks the runtime to reopen the container's log file (after the kubelet rotated it).
  kite::Status ReopenContainerLog(const std::string& container_id) override;
  Result<std::vector<ContainerDiskUsage>> ListContainerDiskUsage() override;

  // StreamingService (request_timeout: the runtime only prepares the session here)
  Result<std::string> Exec(const ExecRequest& req) override;
  Result<std::string> Attach(const AttachRequest& req) override;
  Result<std::string> PortForward(const std::string& pod_sandbox_id, const std::vector<int32_t>& ports) override;

  // ImageService
  Result<std::string> PullImage(const ImageSpec& image, const std::optional<AuthConfig>& auth,
                                const PodSandboxConfig& sandbox_config) override;
  Result<std::optional<Image>> ImageStatus(const ImageSpec& image) override;
  Result<std::vector<Image>> ListImages() override;
  kite::Status RemoveImage(const ImageSpec& image) override;
  // The filesystems holding images (image garbage collection and the node's DiskPressure read it).
  Result<std::vector<FilesystemUsage>> ImageFsInfo();

  // Cancels the calls in flight and fails every later one with Cancelled (not undone).
  void CancelAll();

 private:
  struct Stubs;  // the gRPC channel and stubs (keeps generated headers out of this one)
  // Runs one call on the current stubs with a deadline of `timeout` (0: none); an Unavailable
  // answer replaces the stubs with ones on a new channel.
  template <typename F>
  kite::Status Run(const char* call, std::chrono::milliseconds timeout, F&& f);
  std::shared_ptr<Stubs> NewStubs() const;

  std::string endpoint_;
  CriClientOptions options_;
  std::mutex mu_;
  std::shared_ptr<Stubs> stubs_;  // guarded by mu_; calls hold their own reference
  bool cancelled_ = false;        // guarded by mu_
  std::set<grpc::ClientContext*> in_flight_;  // guarded by mu_: the calls under way
};

}  // namespace kite::cri
