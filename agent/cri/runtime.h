// The container runtime interface the kubelet drives: CRI v1's RuntimeService and ImageService
// (k8s.io/cri-api runtime/v1/api.proto) as C++ interfaces over plain structs, holding the fields
// the kubelet uses. Implementations: kite-hollow's fake runtime (agent/hollow/hollow_runtime.h,
// containers that pretend to run, kubemark's approach) and, next, a CRI gRPC client for
// containerd. Names follow the CRI messages so the wire mapping is one field to one field.
//
// Contract (as CRI's):
// - Ids are the runtime's: RunPodSandbox and CreateContainer return them; every other call names
//   a sandbox or container by id. An unknown id is NotFound, except for Stop*/Remove*, which are
//   idempotent (OK when already stopped or gone), as CRI requires.
// - Stopping a sandbox stops its containers and releases its network (the pod IP); removing it
//   removes its containers.
// - Times are nanoseconds since the Unix epoch (CRI's int64 timestamps); 0 means "not yet".
// - Thread-safety: every method may be called from any thread, concurrently.
// - Calls are synchronous; a runtime behind a socket bounds each with its own deadline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::cri {

using Labels = std::map<std::string, std::string>;  // labels or annotations

struct VersionInfo {
  std::string version;              // of the CRI API the runtime speaks ("0.1.0")
  std::string runtime_name;         // "containerd"; the scheme of container ids in pod status
  std::string runtime_version;      // "1.7.24"
  std::string runtime_api_version;  // "v1"
};

// ---- pod sandboxes ----------------------------------------------------------------------------

struct PodSandboxMetadata {
  std::string name, uid, namespace_;  // the pod's
  uint32_t attempt = 0;               // how many sandboxes this pod had before this one
};

// The pod's resolv.conf (CRI DNSConfig): the kubelet fills it from dnsPolicy and --cluster-dns.
struct DNSConfig {
  std::vector<std::string> servers, searches, options;
};

enum class Protocol { kTCP = 0, kUDP = 1, kSCTP = 2 };  // CRI's enum values

struct PortMapping {  // a container port with a hostPort
  Protocol protocol = Protocol::kTCP;
  int32_t container_port = 0, host_port = 0;
  std::string host_ip;
};

// CRI SecurityProfile: which seccomp filter the runtime installs.
struct SecurityProfile {
  enum class Type { kRuntimeDefault = 0, kUnconfined = 1, kLocalhost = 2 };  // CRI's numbers
  Type type = Type::kUnconfined;
  std::string localhost_ref;  // kLocalhost: the profile's absolute path on the node
};

struct PodSandboxConfig {
  PodSandboxMetadata metadata;
  std::string hostname;
  std::string log_directory;
  bool host_network = false;  // CRI: linux.security_context.namespace_options.network = NODE
  bool host_pid = false, host_ipc = false;
  // shareProcessNamespace: one PID namespace for the pod's containers (CRI's POD), not one each.
  bool share_pid = false;
  // linux.security_context.privileged: true when any container of the pod is privileged (a
  // runtime refuses a privileged container in a sandbox that is not).
  bool privileged = false;
  SecurityProfile seccomp;    // linux.security_context.seccomp: the pod's seccompProfile
  // linux.security_context: the pod's runAsUser, runAsGroup and supplemental groups (fsGroup,
  // supplementalGroups), which the pause container runs with, as upstream's kubelet sends them.
  std::optional<int64_t> run_as_user, run_as_group;
  std::vector<int64_t> supplemental_groups;
  std::optional<DNSConfig> dns_config;  // none: the runtime's default (the host's resolv.conf)
  std::vector<PortMapping> port_mappings;
  std::string cgroup_parent;            // linux.cgroup_parent: the pod's QoS cgroup
  Labels sysctls;                       // linux.sysctls: the pod's, admitted (kubelet/sysctls.h)
  Labels labels;              // the pod's labels and io.kubernetes.pod.{name,namespace,uid}
  Labels annotations;         // the pod's annotations
  // RunPodSandboxRequest.runtime_handler: the handler of the pod's RuntimeClass; "": the
  // runtime's default (containerd's default_runtime_name).
  std::string runtime_handler;
};

enum class PodSandboxState { kReady, kNotReady };

struct PodSandbox {  // an item of ListPodSandbox
  std::string id;
  PodSandboxMetadata metadata;
  PodSandboxState state = PodSandboxState::kNotReady;
  int64_t created_at = 0;
  Labels labels, annotations;
};

struct PodSandboxStatus {
  std::string id;
  PodSandboxMetadata metadata;
  PodSandboxState state = PodSandboxState::kNotReady;
  int64_t created_at = 0;
  std::string ip;  // network.ip: the pod IP ("" with the host's network: the kubelet uses the node's)
  Labels labels, annotations;
};

struct PodSandboxFilter {  // every field set must match
  std::string id;
  std::optional<PodSandboxState> state;
  Labels label_selector;
};

// ---- containers -------------------------------------------------------------------------------

struct ContainerMetadata {
  std::string name;
  uint32_t attempt = 0;  // the container's restart count
};

struct ImageSpec {
  std::string image;  // a reference ("nginx:1.26") or an image id
};

// CRI MountPropagation (mountPropagation None, HostToContainer, Bidirectional), CRI's values.
enum class MountPropagation { kPrivate = 0, kHostToContainer = 1, kBidirectional = 2 };

struct Mount {  // a volume (a host path the kubelet prepared) inside the container
  std::string container_path, host_path;
  bool readonly = false;
  bool selinux_relabel = false;
  MountPropagation propagation = MountPropagation::kPrivate;
};

// CRI LinuxContainerResources: the container's cgroup limits (0: unset).
struct LinuxResources {
  int64_t cpu_period = 0, cpu_quota = 0, cpu_shares = 0;
  int64_t memory_limit_in_bytes = 0;
  int64_t oom_score_adj = 0;
};

// CRI LinuxContainerSecurityContext, the fields the kubelet sets from securityContext.
struct SecurityContext {
  bool privileged = false;
  std::optional<int64_t> run_as_user, run_as_group;
  std::string run_as_username;  // runAsNonRoot with a named image user: the runtime checks it
  bool readonly_rootfs = false;
  bool no_new_privs = false;    // !allowPrivilegeEscalation
  std::vector<std::string> add_capabilities, drop_capabilities;  // "NET_ADMIN", "ALL"
  std::vector<int64_t> supplemental_groups;
  // Paths under /proc and /sys the runtime hides (masked) or mounts read-only. The kubelet
  // sends them, as upstream's does: containerd's CRI applies what it is given and adds none of
  // its own to a container (only to the sandbox), so without them a root container could write
  // /proc/sysrq-trigger or /proc/sys of the host.
  std::vector<std::string> masked_paths, readonly_paths;
  // An ephemeral container's targetContainerName: the id of the container whose PID namespace
  // it joins (CRI TARGET), when the pod's containers have one each (no shareProcessNamespace).
  std::string pid_target;
  SecurityProfile seccomp;  // the container's seccompProfile, else the pod's
  std::optional<SecurityProfile> apparmor;  // nullopt: the runtime's default (kubelet/apparmor.h)
};

struct ContainerConfig {
  ContainerMetadata metadata;
  ImageSpec image;
  std::vector<std::string> command, args;
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> envs;
  std::vector<Mount> mounts;
  bool stdin = false, stdin_once = false, tty = false;
  LinuxResources resources;
  SecurityContext security_context;
  Labels labels;       // io.kubernetes.container.name, io.kubernetes.pod.{name,namespace,uid}
  Labels annotations;
  std::string log_path;  // relative to the sandbox's log_directory
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct Container {  // an item of ListContainers
  std::string id, pod_sandbox_id;
  ContainerMetadata metadata;
  ImageSpec image;
  std::string image_ref;  // the image id the container runs
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0;
  Labels labels, annotations;
};

struct ContainerStatus {
  std::string id;
  ContainerMetadata metadata;
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0, started_at = 0, finished_at = 0;
  int32_t exit_code = 0;
  ImageSpec image;
  std::string image_ref;
  std::string reason, message;  // "Completed", "Error", "OOMKilled" once exited
  Labels labels, annotations;
  std::string log_path;
};

struct ContainerFilter {  // every field set must match
  std::string id, pod_sandbox_id;
  std::optional<ContainerState> state;
  Labels label_selector;
};

struct ContainerDiskUsage {  // an item of ListContainerStats: the container's writable layer
  std::string id;
  Labels labels;
  uint64_t writable_layer_bytes = 0;
};

struct ExecSyncResponse {  // a command run to its end in a container (exec probes)
  std::string stdout_, stderr_;
  int32_t exit_code = 0;
};

// CRI RuntimeStatus: conditions RuntimeReady and NetworkReady; the node is Ready only when both
// are true, and a false one's reason and message go into the Node's Ready condition.
struct RuntimeCondition {
  std::string type;  // "RuntimeReady", "NetworkReady"
  bool status = false;
  std::string reason, message;
};

// ---- images -----------------------------------------------------------------------------------

// Registry credentials for one pull (CRI AuthConfig), from imagePullSecrets or registries.yaml.
struct AuthConfig {
  std::string username, password;
  std::string auth;            // base64 "user:password", as in a docker config.json
  std::string server_address;
  std::string identity_token, registry_token;
};

struct Image {
  std::string id;
  std::vector<std::string> repo_tags, repo_digests;
  uint64_t size = 0;
  // The image config's user (CRI Image.uid / Image.username): a numeric uid, or a name. The
  // kubelet checks runAsNonRoot against it when the spec sets no runAsUser.
  std::optional<int64_t> uid;
  std::string username;
};

// ---- the services -----------------------------------------------------------------------------

class RuntimeService {
 public:
  virtual ~RuntimeService() = default;

  virtual Result<VersionInfo> Version() = 0;
  // The pod CIDR the node got (CRI's UpdateRuntimeConfig): the network plugin hands pod IPs from it.
  virtual kite::Status UpdateRuntimeConfig(const std::string& pod_cidr) = 0;

  // Creates and starts the sandbox (its network namespace, its IP). Result: its id.
  virtual Result<std::string> RunPodSandbox(const PodSandboxConfig& config) = 0;
  virtual kite::Status StopPodSandbox(const std::string& pod_sandbox_id) = 0;
  virtual kite::Status RemovePodSandbox(const std::string& pod_sandbox_id) = 0;
  virtual Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string& pod_sandbox_id) = 0;
  virtual Result<std::vector<PodSandbox>> ListPodSandbox(const PodSandboxFilter& filter) = 0;

  // Creates a container in a ready sandbox (state Created). Result: its id.
  virtual Result<std::string> CreateContainer(const std::string& pod_sandbox_id, const ContainerConfig& config,
                                              const PodSandboxConfig& sandbox_config) = 0;
  virtual kite::Status StartContainer(const std::string& container_id) = 0;
  // Sends the stop signal, then kills after `timeout_s` seconds.
  virtual kite::Status StopContainer(const std::string& container_id, int64_t timeout_s) = 0;
  virtual kite::Status RemoveContainer(const std::string& container_id) = 0;
  virtual Result<std::vector<Container>> ListContainers(const ContainerFilter& filter) = 0;
  virtual Result<cri::ContainerStatus> ContainerStatus(const std::string& container_id) = 0;
  // Runs `cmd` in a running container and waits for it, at most `timeout_s` seconds (0: no
  // limit); a timeout is DeadlineExceeded. The exec probe's call.
  virtual Result<ExecSyncResponse> ExecSync(const std::string& container_id, const std::vector<std::string>& cmd,
                                            int64_t timeout_s) = 0;
  // The runtime's conditions (CRI's Status call; renamed: `Status` is kite's status type).
  virtual Result<std::vector<RuntimeCondition>> RuntimeStatus() = 0;
  // Makes the runtime write the container's log to a new file at its log path (after the kubelet
  // renamed the old one away: log rotation). Runtimes without log files: Unimplemented.
  virtual kite::Status ReopenContainerLog(const std::string& container_id) {
    (void)container_id;
    return kite::Status(kite::Code::kUnimplemented, "ReopenContainerLog");
  }
  // The disk the containers' writable layers use (CRI ListContainerStats), every container the
  // runtime has; eviction counts it in a pod's ephemeral-storage. Runtimes without: Unimplemented.
  virtual Result<std::vector<ContainerDiskUsage>> ListContainerDiskUsage() {
    return kite::Status(kite::Code::kUnimplemented, "ListContainerStats");
  }
};

class ImageService {
 public:
  virtual ~ImageService() = default;

  // Result: the image reference (id) pulled, as CRI's PullImageResponse.image_ref.
  // `auth`: credentials for this pull (none: anonymous, or what the runtime's registry config gives).
  virtual Result<std::string> PullImage(const ImageSpec& image, const std::optional<AuthConfig>& auth,
                                        const PodSandboxConfig& sandbox_config) = 0;
  // The image when present, std::nullopt when not (CRI: an empty ImageStatusResponse).
  virtual Result<std::optional<Image>> ImageStatus(const ImageSpec& image) = 0;
  virtual Result<std::vector<Image>> ListImages() = 0;
  virtual kite::Status RemoveImage(const ImageSpec& image) = 0;
};

}  // namespace kite::cri
