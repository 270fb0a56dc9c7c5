// What the runtime gets for a pod: the sandbox config and each container's config, made from the
// pod spec as upstream's kubelet does (kuberuntime's generatePodSandboxConfig and
// generateContainerConfig, the kubelet's makeEnvironmentVariables, dns.go's GetPodDNS).
// Pure functions: the only objects they read besides the pod come through `Lookup`
// (agent/kubelet/lookup.h); they touch no file and no runtime.
//
// How the pod workers call them (one pod, in order; `volumes` is a volumes::VolumeManager):
//   auto sandbox = BuildSandboxConfig(pod, node, &events);          // then RunPodSandbox
//   volumes.SetUp(pod);                                             // error: FailedMount, retry
//   for each container c (init containers first):
//     ContainerContext ctx;
//     ctx.attempt = restart count;  ctx.pod_ips = the sandbox's IPs;  ctx.host_ip = node IP;
//     ctx.image_uid / image_user = ImageStatus(...)->uid / username (when known);
//     ctx.env = *ContainerEnv(pod, c, ctx, node, lookup, &events);  // optional: for subPathExpr
//     ctx.mounts = *volumes.MountsFor(pod, c, ctx.pod_ips, ctx.env ? &*ctx.env : nullptr);
//     ctx.termination_log_path = *volumes.TerminationLogFile(pod, name, ctx.attempt);
//     auto config = BuildContainerConfig(pod, c, ctx, node, lookup, &events);  // then CreateContainer
//   `events` are the Events upstream's kubelet records about the pod while doing this (a Warning
//   MissingClusterDNS, InvalidEnvironmentVariableNames): the caller records them on the pod.
//
// Errors: bad input is refused with a Status, never a crash. An error of BuildContainerConfig
// that the user must fix in the spec or in the objects it names (a missing configMap, secret or
// key, a runAsNonRoot violation, an unsupported fieldPath) has reason() ==
// kCreateContainerConfigError and upstream's message text, for the container's waiting state.
// Thread-safety: pure functions; `lookup` must allow concurrent calls.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/kubelet/lookup.h"
#include "base/status.h"

namespace kite::kubelet {

inline constexpr char kCreateContainerConfigError[] = "CreateContainerConfigError";

// The node's settings the configs depend on (kubelet flags and node facts).
struct NodeConfig {
  std::string node_name;
  std::vector<std::string> cluster_dns;  // --cluster-dns: the cluster DNS server(s)
  std::string cluster_domain;            // --cluster-domain ("cluster.local")
  // The host's resolver (--resolv-conf, default /etc/resolv.conf, read by ReadResolvConf);
  // nullopt for --resolv-conf "": pods on policy Default then get 127.0.0.1 and search ".", as
  // upstream gives them (no lookups through the host).
  std::optional<cri::DNSConfig> host_dns;
  std::string pod_logs_root = "/var/log/pods";
  std::string cgroup_root = "/kubepods";  // the pods' cgroup (cgroupfs driver)
  // Where seccompProfile Localhost profiles are (upstream: <root-dir>/seccomp; kite's kubelet
  // root dir is <data-dir>/agent/kubelet).
  std::string seccomp_root;
  bool seccomp_default = false;  // --seccomp-default: RuntimeDefault where no profile is set
  bool cpu_cfs_quota = true;              // --cpu-cfs-quota
  // Node allocatable: what resourceFieldRef reads for a limit the container does not set.
  int64_t allocatable_milli_cpu = 0, allocatable_memory = 0, allocatable_ephemeral_storage = 0;
  int64_t memory_capacity = 0;  // machine memory, for a Burstable container's oom_score_adj (0: none)
};

// An Event the kubelet records on the pod ("Warning", "MissingClusterDNS", "...").
struct PodEvent {
  std::string type, reason, message;
};

// ---- the sandbox ------------------------------------------------------------------------------

// metadata, hostname (spec.hostname / setHostnameAsFQDN with the subdomain; none with the host's
// network), log_directory <pod_logs_root>/<ns>_<name>_<uid>, host network/pid/ipc, DNS config
// from dnsPolicy and dnsConfig, port mappings (container ports with a hostPort), cgroup_parent
// by QoS class (<cgroup_root>/pod<uid>, <root>/burstable/pod<uid>, <root>/besteffort/pod<uid>),
// labels (the pod's plus io.kubernetes.pod.{name,namespace,uid}) and the pod's annotations.
// `attempt`: how many sandboxes the pod had before.
Result<cri::PodSandboxConfig> BuildSandboxConfig(const boost::json::object& pod, const NodeConfig& node,
                                                 std::vector<PodEvent>* events = nullptr, uint32_t attempt = 0);

// The pod's hostname (spec.hostname, else its name cut to 63 characters) and domain
// (<subdomain>.<ns>.svc.<cluster domain>, "" without a subdomain), upstream's
// GeneratePodHostNameAndDomain. Invalid labels are kInvalidArgument.
Result<std::pair<std::string, std::string>> PodHostnameAndDomain(const boost::json::object& pod, const NodeConfig& node);

// The pod's resolver config (GetPodDNS). Searches are deduplicated and at most 32, servers at
// most 3, as upstream trims them (with a Warning DNSConfigForming).
Result<cri::DNSConfig> PodDNSConfig(const boost::json::object& pod, const NodeConfig& node, std::vector<PodEvent>* events);

// A resolv.conf's nameserver, search and options lines (the last `search` wins, as in libc).
cri::DNSConfig ParseResolvConf(const std::string& text);
// The file at `path` (--resolv-conf; "" means none: an empty config) parsed; unreadable: an error.
Result<cri::DNSConfig> ReadResolvConf(const std::string& path);

// The pod's cgroup under the QoS hierarchy (cgroupfs names).
std::string PodCgroupParent(const boost::json::object& pod, const NodeConfig& node);

// ---- containers -------------------------------------------------------------------------------

struct ContainerContext {
  uint32_t attempt = 0;                  // the container's restart count
  std::vector<cri::Mount> mounts;        // VolumeManager::MountsFor(pod, container)
  std::string termination_log_path;      // host file for terminationMessagePath ("": no mount)
  std::vector<std::string> pod_ips;      // the sandbox's IPs (empty: status.podIPs of `pod`)
  std::string host_ip;                   // the node's IP ("": status.hostIP of `pod`)
  // The image's configured user (from its config), when the runtime tells it: runAsNonRoot is
  // checked against it when the spec sets no runAsUser.
  std::optional<int64_t> image_uid;
  std::string image_user;                // a non-numeric user name
  // The environment when the caller computed it already with ContainerEnv (it needs it for
  // MountsFor's subPathExpr): used as it is instead of being computed again.
  std::optional<std::vector<std::pair<std::string, std::string>>> env;
};

Result<cri::ContainerConfig> BuildContainerConfig(const boost::json::object& pod, const boost::json::object& container,
                                                  const ContainerContext& ctx, const NodeConfig& node, Lookup& lookup,
                                                  std::vector<PodEvent>* events = nullptr);

// The container's environment (makeEnvironmentVariables): service link variables, envFrom,
// then env in order, $(VAR) references expanded against the variables defined before.
Result<std::vector<std::pair<std::string, std::string>>> ContainerEnv(const boost::json::object& pod,
                                                                     const boost::json::object& container,
                                                                     const ContainerContext& ctx, const NodeConfig& node,
                                                                     Lookup& lookup, std::vector<PodEvent>* events);

// Upstream's $(VAR) expansion: $(NAME) is replaced when `lookup_var` knows NAME and kept as
// written otherwise; $$ is a literal $; a $ before anything else is kept.
std::string ExpandVars(std::string_view in, const std::function<std::optional<std::string>(const std::string&)>& lookup_var);

// A downward API fieldRef value (env and downwardAPI volumes): metadata.name, .namespace, .uid,
// .labels['k'], .annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s),
// status.podIP(s); with `volume`, also metadata.labels and metadata.annotations (k="v" lines).
Result<std::string> PodFieldValue(const boost::json::object& pod, const std::string& field_path,
                                  const ContainerContext& ctx, bool volume = false);
// A resourceFieldRef value: `resource` of container `container_name` (limits.cpu, limits.memory,
// limits.ephemeral-storage, requests.*) divided by `divisor` (default "1") and rounded up; an
// unset limit is the node's allocatable.
Result<std::string> ContainerResourceValue(const boost::json::object& pod, const std::string& container_name,
                                           const std::string& resource, const boost::json::value* divisor,
                                           const NodeConfig& node);

// resources → cgroup limits: cpu_shares from the cpu request (from the limit when only it is
// set; milliCPU*1024/1000, at least 2), cpu_quota/period from the cpu limit (period 100000 µs,
// quota at least 1000), memory limit, oom_score_adj by QoS class.
Result<cri::LinuxResources> ContainerResources(const boost::json::object& pod, const boost::json::object& container,
                                               const NodeConfig& node);
int64_t MilliCPUToShares(int64_t milli_cpu);
int64_t MilliCPUToQuota(int64_t milli_cpu, int64_t period);

// The seccomp profile for the runtime: the container's securityContext.seccompProfile, else the
// pod's (`container_sc` null: the sandbox's, the pod's alone); when neither sets one, Unconfined,
// or RuntimeDefault with node.seccomp_default (upstream's --seccomp-default). Localhost: <node.seccomp_root>/<localhostProfile>.
// An error for an unknown type or a Localhost profile without a descending relative path.
Result<cri::SecurityProfile> SeccompProfileFor(const boost::json::object& pod_sc, const boost::json::object* container_sc,
                                               const NodeConfig& node);

// The supplemental groups every process of the pod gets, the pause container's included: the pod's
// fsGroup, then its supplementalGroups (upstream's order).
std::vector<int64_t> PodSupplementalGroups(const boost::json::object& pod_sc);

// A CreateContainerConfigError with `message`.
Status ContainerConfigError(std::string message);

}  // namespace kite::kubelet
