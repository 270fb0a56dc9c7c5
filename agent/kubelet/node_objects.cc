#include "agent/kubelet/node_objects.h"

#include <boost/json.hpp>

#include <cstdio>

#include "api/quantity.h"
#include "api/time.h"
#include "api/validation.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

// FNV-1a: stable per node name across restarts, unlike a random id.
uint64_t Fnv(const std::string& s, uint64_t seed) {
  uint64_t h = 14695981039346656037ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string Hex32(const std::string& name) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(Fnv(name, 1)),
                static_cast<unsigned long long>(Fnv(name, 2)));
  return buf;
}

std::string AsUuid(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

Result<std::string> Canonical(const std::string& what, const std::string& text) {
  auto q = api::Quantity::Parse(text);
  if (!q.ok()) return Status(Code::kInvalidArgument, "--" + what + " " + text + ": " + q.status().message());
  return q->String();
}

// A NodeCondition: unlike api::NewCondition it keeps two times, the heartbeat and the transition.
json::object Condition(const char* type, const char* status, const char* reason, const char* message,
                       const std::string& heartbeat, const std::string& transition) {
  return json::object{{"type", type},
                      {"status", status},
                      {"lastHeartbeatTime", heartbeat},
                      {"lastTransitionTime", transition},
                      {"reason", reason},
                      {"message", message}};
}

}  // namespace

Status ParseNodeLabels(const std::vector<std::string>& items, NodeTemplate* t) {
  for (const std::string& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos) return Status(Code::kInvalidArgument, "--node-labels: " + item + " is not key=value");
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    auto bad = api::IsQualifiedName(key);
    for (auto& m : api::IsValidLabelValue(value)) bad.push_back(std::move(m));
    if (!bad.empty()) return Status(Code::kInvalidArgument, "--node-labels " + item + ": " + api::JoinMessages(bad, "; "));
    t->labels.emplace_back(std::move(key), std::move(value));
  }
  return Status::Ok();
}

Status ParseNodeTaints(const std::vector<std::string>& items, NodeTemplate* t) {
  for (const std::string& item : items) {
    auto colon = item.rfind(':');
    if (colon == std::string::npos) return Status(Code::kInvalidArgument, "--node-taints: " + item + " has no :Effect");
    const std::string effect = item.substr(colon + 1), kv = item.substr(0, colon);
    if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      return Status(Code::kInvalidArgument, "--node-taints " + item + ": effect must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    auto eq = kv.find('=');
    std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    auto bad = api::IsQualifiedName(key);
    for (auto& m : api::IsValidLabelValue(value)) bad.push_back(std::move(m));
    if (!bad.empty()) return Status(Code::kInvalidArgument, "--node-taints " + item + ": " + api::JoinMessages(bad, "; "));
    json::object taint{{"key", key}, {"effect", effect}};
    if (!value.empty()) taint["value"] = value;
    t->taints.push_back(std::move(taint));
  }
  return Status::Ok();
}

Status SetCapacity(const std::string& cpu, const std::string& memory, const std::string& ephemeral_storage,
                   int64_t max_pods, NodeTemplate* t) {
  auto c = Canonical("cpu", cpu);
  if (!c.ok()) return c.status();
  auto m = Canonical("memory", memory);
  if (!m.ok()) return m.status();
  auto e = Canonical("ephemeral-storage", ephemeral_storage);
  if (!e.ok()) return e.status();
  if (max_pods < 1) return Status(Code::kInvalidArgument, "--max-pods must be positive");
  t->cpu = *c;
  t->memory = *m;
  t->ephemeral_storage = *e;
  t->max_pods = max_pods;
  return Status::Ok();
}

const char* BuildArch() {
#if defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#else
  return "amd64";
#endif
}

json::object BuildNode(const NodeTemplate& t, const NodeIdentity& id) {
  // The labels the kubelet puts on its node; the template's (--node-labels) come after.
  json::object labels{{"beta.kubernetes.io/arch", BuildArch()},
                      {"beta.kubernetes.io/os", "linux"},
                      {"kubernetes.io/arch", BuildArch()},
                      {"kubernetes.io/hostname", id.name},
                      {"kubernetes.io/os", "linux"}};
  for (const auto& [k, v] : t.labels) labels[k] = v;
  json::object spec;
  if (!id.pod_cidr.empty()) {  // else the server's node IPAM controller assigns one
    spec["podCIDR"] = id.pod_cidr;
    spec["podCIDRs"] = json::array{json::string(id.pod_cidr)};
  }
  if (!t.taints.empty()) spec["taints"] = t.taints;
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Node"},
                      {"metadata", json::object{{"name", id.name}, {"labels", std::move(labels)}}},
                      {"spec", std::move(spec)}};
}

json::object BuildNodeStatus(const NodeTemplate& t, const NodeIdentity& id, const NodeHealth& health,
                             const ConditionTimes& since, WallClock::time_point now, const std::string& boot_id) {
  json::object capacity{{"cpu", t.cpu},
                        {"ephemeral-storage", t.ephemeral_storage},
                        {"hugepages-1Gi", "0"},
                        {"hugepages-2Mi", "0"},
                        {"memory", t.memory},
                        {"pods", std::to_string(t.max_pods)}};
  json::object allocatable = capacity;
  if (!t.allocatable_cpu.empty()) allocatable["cpu"] = t.allocatable_cpu;
  if (!t.allocatable_memory.empty()) allocatable["memory"] = t.allocatable_memory;
  if (!t.allocatable_ephemeral_storage.empty()) allocatable["ephemeral-storage"] = t.allocatable_ephemeral_storage;
  const std::string hb = api::FormatTime(now);
  auto tr = [&](size_t i) { return api::FormatTime(since[i]); };
  // The conditions in the kubelet's order and wording (Ready last).
  json::array conditions{
      health.memory_pressure
          ? Condition("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", hb, tr(0))
          : Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", hb, tr(0)),
      health.disk_pressure
          ? Condition("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure", hb, tr(1))
          : Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", hb, tr(1)),
      health.pid_pressure
          ? Condition("PIDPressure", "True", "KubeletHasInsufficientPID", "kubelet has insufficient PID available", hb, tr(2))
          : Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", hb, tr(2)),
      health.not_ready.empty()
          ? Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", hb, tr(3))
          : Condition("Ready", "False", "KubeletNotReady", health.not_ready.c_str(), hb, tr(3)),
  };
  const std::string machine = t.machine_id.empty() ? Hex32(id.name) : t.machine_id;
  json::object info{{"architecture", BuildArch()},
                    {"bootID", t.boot_id.empty() ? boot_id : t.boot_id},
                    {"containerRuntimeVersion", t.container_runtime_version},
                    {"kernelVersion", t.kernel_version},
                    {"kubeProxyVersion", ""},
                    {"kubeletVersion", t.kubelet_version},
                    {"machineID", machine},
                    {"operatingSystem", "linux"},
                    {"osImage", t.os_image},
                    {"systemUUID", t.system_uuid.empty() ? AsUuid(Hex32(id.name)) : t.system_uuid}};
  json::array addresses;
  if (!id.internal_ip.empty()) addresses.push_back(json::object{{"type", "InternalIP"}, {"address", id.internal_ip}});
  addresses.push_back(json::object{{"type", "Hostname"}, {"address", id.name}});
  return json::object{
      {"capacity", std::move(capacity)},
      {"allocatable", std::move(allocatable)},
      {"conditions", std::move(conditions)},
      {"addresses", std::move(addresses)},
      {"daemonEndpoints", json::object{{"kubeletEndpoint", json::object{{"Port", t.kubelet_port}}}}},
      {"nodeInfo", std::move(info)},
  };
}

json::object BuildNodeStatus(const NodeTemplate& t, const NodeIdentity& id, WallClock::time_point transition,
                             WallClock::time_point now, const std::string& boot_id) {
  ConditionTimes since;
  since.fill(transition);
  return BuildNodeStatus(t, id, NodeHealth{}, since, now, boot_id);
}

json::object BuildLease(const NodeTemplate& t, const std::string& node_name, const std::string& node_uid,
                        WallClock::time_point now) {
  // Owned by the Node, as the kubelet sets it, so deleting the node collects its lease.
  json::object owner{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node_name}, {"uid", node_uid}};
  return json::object{
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", json::object{{"name", node_name},
                                {"namespace", "kube-node-lease"},
                                {"ownerReferences", json::array{std::move(owner)}}}},
      {"spec", json::object{{"holderIdentity", node_name},
                            {"leaseDurationSeconds", t.lease_duration_seconds},
                            {"renewTime", api::FormatMicroTime(now)}}},
  };
}

}  // namespace kite::kubelet
