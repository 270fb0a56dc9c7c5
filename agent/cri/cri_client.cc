#include "agent/cri/cri_client.h"

#include <grpc/support/time.h>
#include <grpcpp/grpcpp.h>

#include <cctype>

#include "agent/cri/cri_client_wire.h"
#include "base/metrics.h"
#include "cri/runtime/v1/api.grpc.pb.h"

namespace kite::cri {
namespace v1 = runtime::v1;
using std::chrono::milliseconds;

struct CriClient::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RuntimeService::Stub> runtime;
  std::unique_ptr<v1::ImageService::Stub> images;
};

namespace {

// The kubelet's limit for CRI responses (a ListContainers of a full node stays far below it).
constexpr int kMaxMessageBytes = 16 << 20;

std::string ChannelTarget(const std::string& endpoint) {
  if (endpoint.find("://") != std::string::npos) return endpoint;
  return "unix://" + endpoint;  // a plain socket path
}

// The call's context with its deadline; `timeout` 0: none. Relative (GPR_TIMESPAN, on gRPC's
// monotonic clock), not a system_clock time compared with gRPC's wall clock, which Debian 12's armhf
// build reads with a 32-bit time_t (wrong from 2038 on).
void SetDeadline(grpc::ClientContext* ctx, milliseconds timeout) {
  if (timeout.count() > 0) ctx->set_deadline(gpr_time_from_millis(timeout.count(), GPR_TIMESPAN));
}

// kite's codes are gRPC's canonical codes, value for value.
kite::Status FromGrpc(const char* call, const grpc::Status& s) {
  if (s.ok()) return kite::Status::Ok();
  return kite::Status(static_cast<Code>(s.error_code()), std::string("CRI ") + call + ": " + s.error_message());
}

// Stop*/Remove* are idempotent (runtime.h): an id the runtime no longer knows is already done.
kite::Status Idempotent(kite::Status s) { return s.IsNotFound() ? kite::Status::Ok() : s; }

// Upstream's operation_type of a CRI call: the method in snake case, "PodSandbox" one word
// (RunPodSandbox -> run_podsandbox, ListContainerStats -> list_container_stats).
std::string OperationType(std::string_view call) {
  std::string out;
  for (size_t i = 0; i < call.size(); ++i) {
    const char c = call[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (auto at = out.find("pod_sandbox"); at != std::string::npos) out.replace(at, 11, "podsandbox");
  return out;
}

// The kubelet's runtime operation metrics (upstream's names, labels and buckets), in the
// kubelet's registry: every CRI call counted, its errors apart, its duration observed.
struct OperationMetrics {
  prometheus::Family<prometheus::Counter>& total = prometheus::BuildCounter()
      .Name("kubelet_runtime_operations_total")
      .Help("[ALPHA] Cumulative number of runtime operations by operation type.")
      .Register(metrics::Kubelet());
  prometheus::Family<prometheus::Counter>& errors = prometheus::BuildCounter()
      .Name("kubelet_runtime_operations_errors_total")
      .Help("[ALPHA] Cumulative number of runtime operation errors by operation type.")
      .Register(metrics::Kubelet());
  prometheus::Family<prometheus::Histogram>& duration = prometheus::BuildHistogram()
      .Name("kubelet_runtime_operations_duration_seconds")
      .Help("[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.")
      .Register(metrics::Kubelet());
};

void RecordOperation(const char* call, std::chrono::steady_clock::duration took, bool failed) {
  static OperationMetrics* m = new OperationMetrics();  // never destroyed: calls may run during exit
  static const prometheus::Histogram::BucketBoundaries kBuckets = metrics::ExponentialBuckets(0.005, 2.5, 14);
  const prometheus::Labels labels{{"operation_type", OperationType(call)}};
  m->total.Add(labels).Increment();
  if (failed) m->errors.Add(labels).Increment();
  m->duration.Add(labels, kBuckets).Observe(std::chrono::duration<double>(took).count());
}

}  // namespace

CriClient::CriClient(const std::string& endpoint, CriClientOptions options)
    : endpoint_(ChannelTarget(endpoint)), options_(options), stubs_(NewStubs()) {}

std::shared_ptr<CriClient::Stubs> CriClient::NewStubs() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A channel of its own: gRPC shares connections (and their reconnect back-off) between
  // channels to one address, and a new channel must start afresh.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stubs = std::make_shared<Stubs>();
  stubs->channel = grpc::CreateCustomChannel(endpoint_, grpc::InsecureChannelCredentials(), args);
  stubs->runtime = v1::RuntimeService::NewStub(stubs->channel);
  stubs->images = v1::ImageService::NewStub(stubs->channel);
  return stubs;
}

// gRPC 1.51's channel, once a connection failed, answers Unavailable for seconds after the
// runtime is back (measured: 5 s after containerd restarted, whatever the back-off settings),
// so the call after an Unavailable one goes through a new channel.
template <typename F>
kite::Status CriClient::Run(const char* call, milliseconds timeout, F&& f) {
  std::shared_ptr<Stubs> stubs;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return kite::Status(Code::kCancelled, std::string("CRI ") + call + ": the kubelet is stopping");
    stubs = stubs_;
    in_flight_.insert(&ctx);
  }
  const auto start = std::chrono::steady_clock::now();
  grpc::Status s = f(*stubs, &ctx);
  RecordOperation(call, std::chrono::steady_clock::now() - start, !s.ok());
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(&ctx);
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE && stubs_ == stubs) {
    stubs_ = NewStubs();  // not again when another call renewed it already
  }
  return FromGrpc(call, s);
}

void CriClient::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (grpc::ClientContext* ctx : in_flight_) ctx->TryCancel();
}

CriClient::~CriClient() = default;

// ---- runtime ------------------------------------------------------------------------------------

Result<VersionInfo> CriClient::Version() {
  v1::VersionRequest req;
  req.set_version("v1");
  v1::VersionResponse resp;
  auto s = Run("Version", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->Version(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return wire::FromProto(resp);
}

kite::Status CriClient::UpdateRuntimeConfig(const std::string& pod_cidr) {
  v1::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(pod_cidr);
  v1::UpdateRuntimeConfigResponse resp;
  return Run("UpdateRuntimeConfig", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->UpdateRuntimeConfig(ctx, req, &resp);
  });
}

Result<std::string> CriClient::RunPodSandbox(const PodSandboxConfig& config) {
  v1::RunPodSandboxRequest req;
  wire::ToProto(config, req.mutable_config());
  req.set_runtime_handler(config.runtime_handler);
  v1::RunPodSandboxResponse resp;
  auto s = Run("RunPodSandbox", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->RunPodSandbox(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.pod_sandbox_id();
}

kite::Status CriClient::StopPodSandbox(const std::string& pod_sandbox_id) {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(pod_sandbox_id);
  v1::StopPodSandboxResponse resp;
  return Idempotent(Run("StopPodSandbox", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->StopPodSandbox(ctx, req, &resp);
  }));
}

kite::Status CriClient::RemovePodSandbox(const std::string& pod_sandbox_id) {
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(pod_sandbox_id);
  v1::RemovePodSandboxResponse resp;
  return Idempotent(Run("RemovePodSandbox", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->RemovePodSandbox(ctx, req, &resp);
  }));
}

Result<cri::PodSandboxStatus> CriClient::PodSandboxStatus(const std::string& pod_sandbox_id) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(pod_sandbox_id);
  v1::PodSandboxStatusResponse resp;
  auto s = Run("PodSandboxStatus", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->PodSandboxStatus(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return wire::FromProto(resp.status());
}

Result<std::vector<PodSandbox>> CriClient::ListPodSandbox(const PodSandboxFilter& filter) {
  v1::ListPodSandboxRequest req;
  wire::ToProto(filter, req.mutable_filter());
  v1::ListPodSandboxResponse resp;
  auto s = Run("ListPodSandbox", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ListPodSandbox(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<PodSandbox> out;
  out.reserve(resp.items_size());
  for (const auto& item : resp.items()) out.push_back(wire::FromProto(item));
  return out;
}

Result<std::string> CriClient::CreateContainer(const std::string& pod_sandbox_id, const ContainerConfig& config,
                                               const PodSandboxConfig& sandbox_config) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod_sandbox_id);
  wire::ToProto(config, sandbox_config, req.mutable_config());
  wire::ToProto(sandbox_config, req.mutable_sandbox_config());
  v1::CreateContainerResponse resp;
  auto s = Run("CreateContainer", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->CreateContainer(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.container_id();
}

kite::Status CriClient::StartContainer(const std::string& container_id) {
  v1::StartContainerRequest req;
  req.set_container_id(container_id);
  v1::StartContainerResponse resp;
  return Run("StartContainer", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->StartContainer(ctx, req, &resp);
  });
}

kite::Status CriClient::StopContainer(const std::string& container_id, int64_t timeout_s) {
  v1::StopContainerRequest req;
  req.set_container_id(container_id);
  req.set_timeout(timeout_s);
  v1::StopContainerResponse resp;
  // The runtime waits up to the grace before it kills: the call may take that long, and more.
  const milliseconds deadline = options_.request_timeout + std::chrono::seconds(std::max<int64_t>(timeout_s, 0));
  return Idempotent(Run("StopContainer", deadline, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->StopContainer(ctx, req, &resp);
  }));
}

kite::Status CriClient::RemoveContainer(const std::string& container_id) {
  v1::RemoveContainerRequest req;
  req.set_container_id(container_id);
  v1::RemoveContainerResponse resp;
  return Idempotent(Run("RemoveContainer", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->RemoveContainer(ctx, req, &resp);
  }));
}

Result<std::vector<Container>> CriClient::ListContainers(const ContainerFilter& filter) {
  v1::ListContainersRequest req;
  wire::ToProto(filter, req.mutable_filter());
  v1::ListContainersResponse resp;
  auto s = Run("ListContainers", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ListContainers(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<Container> out;
  out.reserve(resp.containers_size());
  for (const auto& c : resp.containers()) out.push_back(wire::FromProto(c));
  return out;
}

Result<cri::ContainerStatus> CriClient::ContainerStatus(const std::string& container_id) {
  v1::ContainerStatusRequest req;
  req.set_container_id(container_id);
  v1::ContainerStatusResponse resp;
  auto s = Run("ContainerStatus", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ContainerStatus(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return wire::FromProto(resp.status());
}

Result<ExecSyncResponse> CriClient::ExecSync(const std::string& container_id, const std::vector<std::string>& cmd,
                                             int64_t timeout_s) {
  v1::ExecSyncRequest req;
  req.set_container_id(container_id);
  for (const auto& c : cmd) req.add_cmd(c);
  req.set_timeout(timeout_s);
  v1::ExecSyncResponse resp;
  // The runtime enforces the command's timeout; ours only bounds a runtime that does not answer.
  const milliseconds deadline =
      timeout_s > 0 ? options_.request_timeout + std::chrono::seconds(timeout_s) : milliseconds(0);
  auto s = Run("ExecSync", deadline, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ExecSync(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return ExecSyncResponse{.stdout_ = resp.stdout(), .stderr_ = resp.stderr(), .exit_code = resp.exit_code()};
}

Result<std::string> CriClient::Exec(const ExecRequest& r) {
  v1::ExecRequest req;
  req.set_container_id(r.container_id);
  for (const auto& c : r.cmd) req.add_cmd(c);
  req.set_tty(r.tty);
  req.set_stdin(r.stdin_);
  req.set_stdout(r.stdout_);
  req.set_stderr(r.stderr_);
  v1::ExecResponse resp;
  auto s = Run("Exec", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->Exec(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.url();
}

Result<std::string> CriClient::Attach(const AttachRequest& r) {
  v1::AttachRequest req;
  req.set_container_id(r.container_id);
  req.set_tty(r.tty);
  req.set_stdin(r.stdin_);
  req.set_stdout(r.stdout_);
  req.set_stderr(r.stderr_);
  v1::AttachResponse resp;
  auto s = Run("Attach", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->Attach(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.url();
}

Result<std::string> CriClient::PortForward(const std::string& pod_sandbox_id, const std::vector<int32_t>& ports) {
  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(pod_sandbox_id);
  for (int32_t p : ports) req.add_port(p);
  v1::PortForwardResponse resp;
  auto s = Run("PortForward", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->PortForward(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.url();
}

Result<std::vector<RuntimeCondition>> CriClient::RuntimeStatus() {
  v1::StatusRequest req;
  v1::StatusResponse resp;
  auto s = Run("Status", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->Status(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<RuntimeCondition> out;
  for (const auto& c : resp.status().conditions()) out.push_back(wire::FromProto(c));
  return out;
}

kite::Status CriClient::ReopenContainerLog(const std::string& container_id) {
  v1::ReopenContainerLogRequest req;
  req.set_container_id(container_id);
  v1::ReopenContainerLogResponse resp;
  return Run("ReopenContainerLog", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ReopenContainerLog(ctx, req, &resp);
  });
}

// ---- images -------------------------------------------------------------------------------------

Result<std::string> CriClient::PullImage(const ImageSpec& image, const std::optional<AuthConfig>& auth,
                                         const PodSandboxConfig& sandbox_config) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image.image);
  if (auth) wire::ToProto(*auth, req.mutable_auth());
  wire::ToProto(sandbox_config, req.mutable_sandbox_config());
  v1::PullImageResponse resp;
  auto s = Run("PullImage", options_.pull_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.images->PullImage(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp.image_ref();
}

Result<std::optional<Image>> CriClient::ImageStatus(const ImageSpec& image) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image.image);
  v1::ImageStatusResponse resp;
  auto s = Run("ImageStatus", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.images->ImageStatus(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  if (!resp.has_image()) return std::optional<Image>();  // CRI: no image, no error
  return std::optional<Image>(wire::FromProto(resp.image()));
}

Result<std::vector<Image>> CriClient::ListImages() {
  v1::ListImagesRequest req;
  v1::ListImagesResponse resp;
  auto s = Run("ListImages", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.images->ListImages(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<Image> out;
  out.reserve(resp.images_size());
  for (const auto& i : resp.images()) out.push_back(wire::FromProto(i));
  return out;
}

kite::Status CriClient::RemoveImage(const ImageSpec& image) {
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(image.image);
  v1::RemoveImageResponse resp;
  return Run("RemoveImage", options_.request_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.images->RemoveImage(ctx, req, &resp);
  });
}

Result<std::vector<ContainerDiskUsage>> CriClient::ListContainerDiskUsage() {
  v1::ListContainerStatsRequest req;
  req.mutable_filter();
  v1::ListContainerStatsResponse resp;
  auto s = Run("ListContainerStats", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.runtime->ListContainerStats(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<ContainerDiskUsage> out;
  out.reserve(resp.stats_size());
  for (const auto& cs : resp.stats()) {
    ContainerDiskUsage u;
    u.id = cs.attributes().id();
    u.labels = Labels(cs.attributes().labels().begin(), cs.attributes().labels().end());
    u.writable_layer_bytes = cs.writable_layer().used_bytes().value();
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::vector<FilesystemUsage>> CriClient::ImageFsInfo() {
  v1::ImageFsInfoRequest req;
  v1::ImageFsInfoResponse resp;
  auto s = Run("ImageFsInfo", options_.quick_timeout, [&](Stubs& st, grpc::ClientContext* ctx) {
    return st.images->ImageFsInfo(ctx, req, &resp);
  });
  if (!s.ok()) return s;
  std::vector<FilesystemUsage> out;
  for (const auto& fs : resp.image_filesystems()) {
    out.push_back({.mountpoint = fs.fs_id().mountpoint(),
                   .used_bytes = fs.used_bytes().value(),
                   .inodes_used = fs.inodes_used().value(),
                   .timestamp = fs.timestamp()});
  }
  return out;
}

}  // namespace kite::cri
