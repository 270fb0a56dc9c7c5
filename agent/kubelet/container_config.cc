// BuildContainerConfig: resources, security context, labels and annotations, mounts, command
// (upstream: kuberuntime_container.go's generateContainerConfig, kuberuntime_container_linux.go,
// security_context.go, labels.go).
#include "agent/kubelet/container_config.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>

#include "agent/kubelet/apparmor.h"
#include "api/object.h"
#include "api/pod.h"
#include "api/quantity.h"
#include "api/validation.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

constexpr int64_t kMinShares = 2, kMaxShares = 262144;
constexpr int64_t kQuotaPeriod = 100000;  // µs, upstream's default --cpu-cfs-quota-period
constexpr int64_t kMinQuotaPeriod = 1000;

std::string PodDesc(const json::object& pod) {
  return api::Name(pod) + "_" + api::Namespace(pod) + "(" + api::Uid(pod) + ")";
}

// A quantity of the container's resources (std::nullopt when unset); bad text is an error.
Result<std::optional<api::Quantity>> ResourceQuantity(const json::object& container, const char* kind, const char* name) {
  const json::value* v = api::GetObject(container, {"resources", kind}).if_contains(name);
  if (!v) return std::optional<api::Quantity>{};
  auto q = api::Quantity::FromJson(*v);
  if (!q) {
    return ContainerConfigError("invalid resources." + std::string(kind) + "." + name + " of container " +
                                api::GetString(container, "name") + ": " + q.error().message());
  }
  return std::optional<api::Quantity>(*q);
}

// FNV-1a, 32 bits: the container hash upstream's kubelet puts in an annotation to notice a
// changed spec (theirs hashes Go's struct dump; ours the JSON: only equality matters).
std::string HashOf(const json::object& container) {
  uint32_t h = 2166136261u;
  for (unsigned char c : json::serialize(container)) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%x", h);
  return buf;
}

// The runtime's default masking of /proc and /sys for procMount Default, the lists upstream's
// kubelet sends (pkg/securitycontext: ConvertToRuntimeMaskedPaths / ReadonlyPaths).
const std::vector<std::string>& DefaultMaskedPaths() {
  static const std::vector<std::string> paths{
      "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
  return paths;
}
const std::vector<std::string>& DefaultReadonlyPaths() {
  static const std::vector<std::string> paths{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return paths;
}

// The securityContext field `key`, from the container's context else from the pod's.
const json::value* Effective(const json::object& pod_sc, const json::object& c_sc, const char* key) {
  if (const json::value* v = c_sc.if_contains(key); v && !v->is_null()) return v;
  if (const json::value* v = pod_sc.if_contains(key); v && !v->is_null()) return v;
  return nullptr;
}

Result<cri::SecurityContext> SecurityContextFor(const json::object& pod, const json::object& container,
                                                const ContainerContext& ctx, const NodeConfig& node) {
  const json::object& pod_sc = api::GetObject(pod, {"spec", "securityContext"});
  const json::object& sc = api::GetObject(container, "securityContext");
  cri::SecurityContext out;
  const std::string cname = api::GetString(container, "name");
  auto as_id = [&](const json::value* v, const char* what) -> Result<std::optional<int64_t>> {
    if (!v) return std::optional<int64_t>{};
    if (!v->is_number()) return ContainerConfigError(std::string(what) + " of container " + cname + " is not a number");
    const int64_t id = api::AsInt(*v, -1);
    if (id < 0 || id > 2147483647) return ContainerConfigError(std::string(what) + " of container " + cname + " is out of range");
    return std::optional<int64_t>(id);
  };
  auto user = as_id(Effective(pod_sc, sc, "runAsUser"), "runAsUser");
  if (!user) return user.error();
  auto group = as_id(Effective(pod_sc, sc, "runAsGroup"), "runAsGroup");
  if (!group) return group.error();
  out.run_as_user = *user;
  out.run_as_group = *group;
  const json::value* non_root = Effective(pod_sc, sc, "runAsNonRoot");
  if (non_root && non_root->is_bool() && non_root->as_bool()) {  // upstream's verifyRunAsNonRoot
    if (*user && **user == 0) {
      return ContainerConfigError("container's runAsUser breaks non-root policy (pod: \"" + PodDesc(pod) + "\", container: " + cname + ")");
    }
    if (!*user && ctx.image_uid && *ctx.image_uid == 0) {
      return ContainerConfigError("container has runAsNonRoot and image will run as root (pod: \"" + PodDesc(pod) + "\", container: " + cname + ")");
    }
    if (!*user && !ctx.image_uid && !ctx.image_user.empty()) {
      return ContainerConfigError("container has runAsNonRoot and image has non-numeric user (" + ctx.image_user +
                                  "), cannot verify user is non-root (pod: \"" + PodDesc(pod) + "\", container: " + cname + ")");
    }
  }
  if (!out.run_as_user) {  // the image's user, as upstream passes it on
    if (ctx.image_uid) out.run_as_user = ctx.image_uid;
    else out.run_as_username = ctx.image_user;
  }
  out.privileged = api::GetBool(sc, "privileged");
  out.readonly_rootfs = api::GetBool(sc, "readOnlyRootFilesystem");
  // Only an explicit allowPrivilegeEscalation: false sets no_new_privs (upstream's AddNoNewPrivileges).
  if (const json::value* ape = sc.if_contains("allowPrivilegeEscalation"); ape && ape->is_bool()) out.no_new_privs = !ape->as_bool();
  if (out.privileged && out.no_new_privs) {
    return ContainerConfigError("container " + cname + ": cannot set allowPrivilegeEscalation to false and privileged to true");
  }
  // procMount Unmasked asks for a /proc without them; a privileged container gets them too and
  // the runtime drops them (containerd does), as with upstream's kubelet.
  if (api::GetString(sc, "procMount") != "Unmasked") {
    out.masked_paths = DefaultMaskedPaths();
    out.readonly_paths = DefaultReadonlyPaths();
  }
  auto seccomp = SeccompProfileFor(pod_sc, &sc, node);
  if (!seccomp) return seccomp.error();
  out.seccomp = std::move(*seccomp);
  auto apparmor = AppArmorProfileFor(pod, container);
  if (!apparmor) return ContainerConfigError(apparmor.error().message());
  out.apparmor = std::move(*apparmor);
  out.add_capabilities = api::GetStrings(sc, {"capabilities", "add"});
  out.drop_capabilities = api::GetStrings(sc, {"capabilities", "drop"});
  out.supplemental_groups = PodSupplementalGroups(pod_sc);
  return out;
}

}  // namespace

Result<cri::SecurityProfile> SeccompProfileFor(const json::object& pod_sc, const json::object* container_sc,
                                               const NodeConfig& node) {
  static const json::object kNone;
  const json::value* v = Effective(pod_sc, container_sc ? *container_sc : kNone, "seccompProfile");
  cri::SecurityProfile out;
  if (!v || !v->is_object()) {
    if (node.seccomp_default) out.type = cri::SecurityProfile::Type::kRuntimeDefault;
    return out;
  }
  const std::string type = api::GetString(v->as_object(), "type");
  if (type == "Unconfined") return out;
  if (type == "RuntimeDefault") {
    out.type = cri::SecurityProfile::Type::kRuntimeDefault;
    return out;
  }
  if (type != "Localhost") return ContainerConfigError("unsupported seccomp profile type \"" + type + "\"");
  const std::string rel = api::GetString(v->as_object(), "localhostProfile");
  // The API's rule: a descending path, so a profile cannot name a file outside the root.
  if (rel.empty() || !api::IsLocalDescendingPath(rel).empty()) {
    return ContainerConfigError("localhostProfile must be a descending path under the seccomp root, got \"" + rel + "\"");
  }
  if (node.seccomp_root.empty()) return ContainerConfigError("seccomp profile type Localhost: this kubelet has no seccomp root");
  out.type = cri::SecurityProfile::Type::kLocalhost;
  out.localhost_ref = node.seccomp_root + "/" + rel;
  return out;
}

int64_t MilliCPUToShares(int64_t milli_cpu) {
  if (milli_cpu <= 0) return kMinShares;
  const int64_t shares = milli_cpu > INT64_MAX / 1024 ? kMaxShares : milli_cpu * 1024 / 1000;
  return std::clamp(shares, kMinShares, kMaxShares);
}

int64_t MilliCPUToQuota(int64_t milli_cpu, int64_t period) {
  if (milli_cpu <= 0 || period <= 0) return 0;
  const int64_t quota = milli_cpu > INT64_MAX / period ? INT64_MAX / 1000 : milli_cpu * period / 1000;
  return std::max(quota, kMinQuotaPeriod);
}

Result<cri::LinuxResources> ContainerResources(const json::object& pod, const json::object& container, const NodeConfig& node) {
  auto cpu_req = ResourceQuantity(container, "requests", "cpu");
  if (!cpu_req) return cpu_req.error();
  auto cpu_lim = ResourceQuantity(container, "limits", "cpu");
  if (!cpu_lim) return cpu_lim.error();
  auto mem_req = ResourceQuantity(container, "requests", "memory");
  if (!mem_req) return mem_req.error();
  auto mem_lim = ResourceQuantity(container, "limits", "memory");
  if (!mem_lim) return mem_lim.error();
  for (const auto* q : {&*cpu_req, &*cpu_lim, &*mem_req, &*mem_lim}) {
    if (*q && (*q)->Sign() < 0) return ContainerConfigError("negative resources of container " + api::GetString(container, "name"));
  }
  cri::LinuxResources r;
  const int64_t req_milli = *cpu_req ? (*cpu_req)->MilliValue() : 0;
  const int64_t lim_milli = *cpu_lim ? (*cpu_lim)->MilliValue() : 0;
  // Only a limit set: the request defaults to it (upstream's API defaulting).
  r.cpu_shares = MilliCPUToShares(!*cpu_req && lim_milli > 0 ? lim_milli : req_milli);
  if (node.cpu_cfs_quota) {
    r.cpu_period = kQuotaPeriod;
    r.cpu_quota = MilliCPUToQuota(lim_milli, kQuotaPeriod);
  }
  r.memory_limit_in_bytes = *mem_lim ? (*mem_lim)->Value() : 0;
  // oom_score_adj by QoS class (upstream's qos/policy.go).
  const std::string qos = api::PodQOSClass(pod);
  if (qos == "Guaranteed") {
    r.oom_score_adj = -997;
  } else if (qos == "BestEffort") {
    r.oom_score_adj = 1000;
  } else if (node.memory_capacity > 0) {
    const int64_t request = *mem_req ? (*mem_req)->Value() : (*mem_lim ? (*mem_lim)->Value() : 0);
    // 1000 - 1000*request/capacity without overflowing int64 (and without __int128: 32-bit ARM).
    const int64_t cap = node.memory_capacity;
    const int64_t share = request >= cap ? 1000 : request * 1000 / cap;  // request < cap: no overflow below 9 PB
    int64_t a = std::max<int64_t>(1000 - share, 3);
    if (a >= 1000) a = 999;
    r.oom_score_adj = a;
  }
  return r;
}

Result<cri::ContainerConfig> BuildContainerConfig(const json::object& pod, const json::object& container,
                                                  const ContainerContext& ctx, const NodeConfig& node, Lookup& lookup,
                                                  std::vector<PodEvent>* events) {
  cri::ContainerConfig c;
  c.metadata.name = api::GetString(container, "name");
  c.metadata.attempt = ctx.attempt;
  if (c.metadata.name.empty()) return ContainerConfigError("container has no name");
  c.image.image = api::GetString(container, "image");
  if (c.image.image.empty()) return ContainerConfigError("container " + c.metadata.name + " has no image");

  if (ctx.env) {
    c.envs = *ctx.env;
  } else {
    auto env = ContainerEnv(pod, container, ctx, node, lookup, events);
    if (!env) return env.error();
    c.envs = std::move(*env);
  }
  // command and args see the final environment.
  std::map<std::string, std::string> vars(c.envs.begin(), c.envs.end());
  auto lookup_var = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  for (auto& s : api::GetStrings(container, "command")) c.command.push_back(ExpandVars(s, lookup_var));
  for (auto& s : api::GetStrings(container, "args")) c.args.push_back(ExpandVars(s, lookup_var));
  c.working_dir = api::GetString(container, "workingDir");
  c.stdin = api::GetBool(container, "stdin");
  c.stdin_once = api::GetBool(container, "stdinOnce");
  c.tty = api::GetBool(container, "tty");

  auto resources = ContainerResources(pod, container, node);
  if (!resources) return resources.error();
  c.resources = *resources;
  auto sc = SecurityContextFor(pod, container, ctx, node);
  if (!sc) return sc.error();
  c.security_context = std::move(*sc);

  c.mounts = ctx.mounts;
  std::string term_path = api::GetString(container, "terminationMessagePath");
  if (term_path.empty()) term_path = "/dev/termination-log";
  if (!ctx.termination_log_path.empty()) {
    c.mounts.push_back(cri::Mount{.container_path = term_path, .host_path = ctx.termination_log_path});
  }

  c.labels = {{"io.kubernetes.container.name", c.metadata.name},
              {"io.kubernetes.pod.name", api::Name(pod)},
              {"io.kubernetes.pod.namespace", api::Namespace(pod)},
              {"io.kubernetes.pod.uid", api::Uid(pod)}};
  c.annotations["io.kubernetes.container.hash"] = HashOf(container);
  c.annotations["io.kubernetes.container.restartCount"] = std::to_string(ctx.attempt);
  c.annotations["io.kubernetes.container.terminationMessagePath"] = term_path;
  std::string policy = api::GetString(container, "terminationMessagePolicy");
  c.annotations["io.kubernetes.container.terminationMessagePolicy"] = policy.empty() ? "File" : policy;
  c.annotations["io.kubernetes.pod.terminationGracePeriod"] =
      std::to_string(api::GetInt(pod, {"spec", "terminationGracePeriodSeconds"}, 30));
  if (const json::value* d = api::Metadata(pod).if_contains("deletionGracePeriodSeconds"); d && d->is_number()) {
    c.annotations["io.kubernetes.pod.deletionGracePeriod"] = std::to_string(api::AsInt(*d));
  }
  if (const json::array* ports = api::FindArray(container, "ports"); ports && !ports->empty()) {
    c.annotations["io.kubernetes.container.ports"] = json::serialize(*ports);
  }
  if (const json::object* pre = api::FindObject(container, {"lifecycle", "preStop"})) {
    c.annotations["io.kubernetes.container.preStopHandler"] = json::serialize(*pre);
  }
  c.log_path = c.metadata.name + "/" + std::to_string(ctx.attempt) + ".log";
  return c;
}

std::vector<int64_t> PodSupplementalGroups(const json::object& pod_sc) {
  std::vector<int64_t> groups;
  if (const json::value* fs = pod_sc.if_contains("fsGroup"); fs && fs->is_number()) groups.push_back(api::AsInt(*fs));
  for (const auto& g : api::GetArray(pod_sc, "supplementalGroups")) {
    if (g.is_number()) groups.push_back(api::AsInt(g));
  }
  return groups;
}

}  // namespace kite::kubelet
