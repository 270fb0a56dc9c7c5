#include "agent/kubelet/eviction/eviction_manager.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/kubelet/container_config.h"
#include "agent/kubelet/node_info.h"
#include "agent/kubelet/stats.h"
#include "api/object.h"
#include "api/pod.h"
#include "api/quantity.h"
#include "base/fs.h"
#include "base/log.h"

namespace kite::kubelet::eviction {
namespace fs = std::filesystem;
namespace json = boost::json;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr const char kQueueKey[] = "eviction";
// Upstream's SystemCriticalPriority: pods at or above it are never evicted for pressure.
constexpr int64_t kSystemCriticalPriority = 2000000000;

int64_t DirectoryBytes(const fs::path& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    const files::FileInfo info = files::LinkStat(it->path(), e2);  // symlinks not followed
    if (!e2 && info.type == fs::file_type::regular) total += static_cast<int64_t>(info.size);
  }
  return total;
}

// The sum over containers of a resource's request (its limit when there is no request).
int64_t Requests(const json::object& pod, const char* resource) {
  int64_t total = 0;
  for (const auto& c : api::GetArray(pod, {"spec", "containers"})) {
    if (!c.is_object()) continue;
    const json::value* q = api::Find(c.get_object(), {"resources", "requests", resource});
    if (!q) q = api::Find(c.get_object(), {"resources", "limits", resource});
    if (!q) continue;
    if (auto parsed = api::Quantity::FromJson(*q); parsed.ok()) total += parsed->Value();
  }
  return total;
}

bool Critical(const json::object& pod) {
  const auto& annotations = api::Annotations(pod);
  if (annotations.contains("kubernetes.io/config.mirror")) return true;
  const std::string source = api::GetString(annotations, "kubernetes.io/config.source");
  if (!source.empty() && source != "api") return true;
  return api::GetInt(pod, {"spec", "priority"}) >= kSystemCriticalPriority;
}

// Which condition a signal drives.
std::string Condition(const std::string& signal) {
  if (IsMemory(signal)) return "memory";
  if (IsDisk(signal)) return "disk";
  return "pid";
}

}  // namespace

EvictionManager::EvictionManager(NodeSet* nodes, Evict evict, Reclaim reclaim, Options opts)
    : Controller("eviction-manager", 1),
      nodes_(nodes),
      evict_(std::move(evict)),
      reclaim_(std::move(reclaim)),
      opts_(std::move(opts)),
      cgroup_fs_(CgroupFs::Detect()) {}

void EvictionManager::Init(client::InformerFactory& informers) {
  pods_ = informers.For("", "v1", "pods");
  queue_.Add(kQueueKey);
}

Status EvictionManager::Reconcile(const std::string&) {
  queue_.AddAfter(kQueueKey, opts_.period);
  Synchronize(Observe(opts_.nodefs_dir, opts_.imagefs_dir, opts_.proc_root), std::chrono::steady_clock::now());
  return Status::Ok();
}

std::optional<std::string> EvictionManager::AdmitUnder(const NodeHealth& health, const json::object& pod) {
  std::vector<const char*> conditions;
  if (health.memory_pressure) conditions.push_back("MemoryPressure");
  if (health.disk_pressure) conditions.push_back("DiskPressure");
  if (health.pid_pressure) conditions.push_back("PIDPressure");
  if (conditions.empty() || Critical(pod)) return std::nullopt;
  if (conditions.size() == 1 && health.memory_pressure) {
    if (api::PodQOSClass(pod) != "BestEffort") return std::nullopt;
    // A BestEffort pod that tolerates the memory-pressure taint (NoSchedule) is let in.
    for (const auto& t : api::GetArray(pod, {"spec", "tolerations"})) {
      if (!t.is_object()) continue;
      const auto& tol = t.as_object();
      const std::string key = api::GetString(tol, "key"), op = api::GetString(tol, "operator");
      const std::string effect = api::GetString(tol, "effect");
      if (!effect.empty() && effect != "NoSchedule") continue;
      const bool key_ok = key == "node.kubernetes.io/memory-pressure" || (key.empty() && op == "Exists");
      if (key_ok && (op == "Exists" || api::GetString(tol, "value").empty())) return std::nullopt;
    }
  }
  // Upstream's nodeConditionMessageFmt with Go's rendering of the list.
  std::string message = "The node had condition: [";
  for (size_t i = 0; i < conditions.size(); ++i) message += (i ? " " : "") + std::string(conditions[i]);
  return message + "]. ";
}

NodeHealth EvictionManager::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

std::vector<EvictionManager::Met> EvictionManager::ThresholdsMet(const Observations& observed, SteadyTime now) {
  std::vector<Met> out;
  for (const Threshold& t : opts_.thresholds) {
    auto o = observed.find(t.signal);
    if (o == observed.end()) continue;
    const Observation& ob = o->second;
    int64_t limit = t.Amount(ob.capacity);
    // Once met, the signal must recover past the minimum reclaim before it counts as resolved.
    if (met_[&t]) {
      limit += t.min_reclaim +
               static_cast<int64_t>(static_cast<double>(ob.capacity) * t.min_reclaim_percentage);
    }
    const bool below = ob.available < limit;
    if (!below) {
      first_seen_.erase(&t);
      met_[&t] = false;
      continue;
    }
    if (t.soft) {
      auto [it, fresh] = first_seen_.emplace(&t, now);
      if (now - it->second < t.grace_period) continue;
    }
    met_[&t] = true;
    out.push_back(Met{&t, ob});
  }
  return out;
}

std::string EvictionManager::Synchronize(const Observations& observed, SteadyTime now) {
  std::vector<Met> met;
  {
    std::lock_guard<std::mutex> lock(mu_);
    met = ThresholdsMet(observed, now);
    for (const auto& m : met) last_met_[Condition(m.threshold->signal)] = now;
    auto pressure = [this, now](const char* which) {
      auto it = last_met_.find(which);
      return it != last_met_.end() && now - it->second < opts_.pressure_transition_period;
    };
    health_.memory_pressure = pressure("memory");
    health_.disk_pressure = pressure("disk");
    health_.pid_pressure = pressure("pid");
  }
  if (met.empty()) return "";
  // Memory first, as upstream orders the signals; a hard threshold before a soft one.
  std::stable_sort(met.begin(), met.end(), [](const Met& a, const Met& b) {
    const bool ma = IsMemory(a.threshold->signal), mb = IsMemory(b.threshold->signal);
    if (ma != mb) return ma;
    return !a.threshold->soft && b.threshold->soft;
  });
  const Met& first = met.front();
  KITE_LOG(0) << "eviction: " << first.threshold->signal << " is " << first.observation.available << ", below the " << (first.threshold->soft ? "soft" : "hard") << " threshold "
              << first.threshold->Text();
  if (IsDisk(first.threshold->signal) && reclaim_ && first.threshold->signal.find("inodes") == std::string::npos) {
    const int64_t want = first.threshold->Amount(first.observation.capacity) + first.threshold->min_reclaim -
                         first.observation.available;
    const int64_t freed = reclaim_(want);
    if (freed >= want) {
      KITE_LOG(0) << "eviction: freed " << freed << " bytes of unused images; no pod evicted";
      return "";
    }
  }
  return EvictOne(first);
}

std::string EvictionManager::EvictOne(const Met& met) {
  if (!pods_) return "";
  const bool memory = IsMemory(met.threshold->signal);
  const bool disk = IsDisk(met.threshold->signal);
  NodeConfig cgroups;
  cgroups.cgroup_root = opts_.cgroup_root;
  struct Candidate {
    client::ObjectPtr pod;
    int64_t grace = 0;
  };
  std::map<std::string, Candidate> by_key;
  std::vector<PodUsage> usages;
  // For disk: what the pods' containers wrote to their writable layers (the runtime's stats).
  std::map<std::string, int64_t> layers;  // pod uid → bytes
  if (disk) {
    for (const Node& n : nodes_->nodes()) {
      auto usage = n.runtime->ListContainerDiskUsage();
      if (!usage.ok()) {
        KITE_LOG(usage.status().code() == Code::kUnimplemented ? 2 : 0)
            << "eviction: writable layers of " << n.id.name << ": " << usage.status().message();
        continue;
      }
      for (const auto& c : *usage) {
        if (auto it = c.labels.find("io.kubernetes.pod.uid"); it != c.labels.end()) {
          layers[it->second] += static_cast<int64_t>(c.writable_layer_bytes);
        }
      }
    }
  }
  for (const auto& pod : pods_->List()) {
    const std::string node = api::GetString(*pod, {"spec", "nodeName"});
    if (node.empty() || !nodes_->Find(node)) continue;
    const std::string phase = api::GetString(*pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed" || api::IsBeingDeleted(*pod)) continue;
    PodUsage u;
    u.key = client::Key(*pod);
    u.priority = static_cast<int32_t>(api::GetInt(*pod, {"spec", "priority"}));
    u.critical = Critical(*pod);
    const std::string uid = api::Uid(*pod);
    if (memory) {
      auto mem = ReadCgroup(cgroup_fs_, PodCgroupParent(*pod, cgroups), 0);
      u.usage = mem.ok() && mem->has_memory ? static_cast<int64_t>(mem->working_set) : 0;
      u.request = Requests(*pod, "memory");
    } else if (disk) {
      u.usage = DirectoryBytes(fs::path(opts_.pod_logs_root) /
                               (api::Namespace(*pod) + "_" + api::Name(*pod) + "_" + uid)) +
                DirectoryBytes(fs::path(opts_.pods_dir) / uid / "volumes" / "kubernetes.io~empty-dir") +
                layers[uid];
      u.request = Requests(*pod, "ephemeral-storage");
    }
    by_key[u.key] = Candidate{pod, api::GetInt(*pod, {"spec", "terminationGracePeriodSeconds"}, 30)};
    usages.push_back(std::move(u));
  }
  auto ranked = Rank(std::move(usages));
  if (ranked.empty()) {
    KITE_LOG(0) << "eviction: no pod to evict for " << met.threshold->signal;
    return "";
  }
  const PodUsage& victim = ranked.front();
  const Candidate& c = by_key[victim.key];
  // The container using most, for upstream's message (memory: its own cgroup under the pod's).
  std::string container;
  int64_t container_usage = 0, container_request = 0;
  for (const auto& ct : api::GetArray(*c.pod, {"spec", "containers"})) {
    if (!ct.is_object()) continue;
    if (container.empty()) container = api::GetString(ct.get_object(), "name");
  }
  if (memory || disk) {
    container_usage = victim.usage;
    container_request = victim.request;
  }
  int64_t grace = 0;
  if (met.threshold->soft) {
    grace = c.grace;
    if (opts_.max_pod_grace_period_s > 0) grace = std::min(grace, opts_.max_pod_grace_period_s);
  }
  const std::string message = Message(*met.threshold, met.observation, memory || disk ? container : "",
                                      container_usage, container_request);
  KITE_LOG(0) << "eviction: evicting pod " << victim.key << ": " << message;
  evict_(victim.key, api::Uid(*c.pod), message, grace);
  return victim.key;
}

}  // namespace kite::kubelet::eviction
