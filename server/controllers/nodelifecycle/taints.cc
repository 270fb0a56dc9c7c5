#include "server/controllers/nodelifecycle/taints.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <utility>

#include "api/conditions.h"
#include "api/object.h"

namespace kite::controllers::nodelifecycle {
namespace json = boost::json;

bool Tolerates(const json::object& tol, const json::object& taint) {
  const std::string effect = api::GetString(tol, "effect");
  if (!effect.empty() && effect != api::GetString(taint, "effect")) return false;
  const std::string key = api::GetString(tol, "key");
  std::string op = api::GetString(tol, "operator");
  if (op.empty()) op = "Equal";
  if (key.empty()) return op == "Exists";  // an empty key with Exists tolerates everything
  if (key != api::GetString(taint, "key")) return false;
  if (op == "Exists") return true;
  return op == "Equal" && api::GetString(tol, "value") == api::GetString(taint, "value");
}

std::optional<std::chrono::seconds> TolerationWindow(const json::object& pod, const json::array& taints) {
  const auto& tols = api::GetArray(pod, {"spec", "tolerations"});
  std::optional<std::chrono::seconds> window;
  for (const auto& t : taints) {
    if (!t.is_object() || api::GetString(t.as_object(), "effect") != "NoExecute") continue;
    const json::object* used = nullptr;
    for (const auto& tol : tols) {
      if (tol.is_object() && Tolerates(tol.as_object(), t.as_object())) {
        used = &tol.as_object();
        break;
      }
    }
    if (!used) return std::chrono::seconds(0);
    if (!used->contains("tolerationSeconds") || (*used).at("tolerationSeconds").is_null()) continue;
    auto secs = std::chrono::seconds(std::max<int64_t>(0, api::GetInt(*used, "tolerationSeconds")));
    if (!window || secs < *window) window = secs;
  }
  return window;
}

namespace {

std::string ConditionStatus(const json::object& node, const char* type) {
  const json::object* c = api::FindCondition(api::GetObject(node, "status"), type);
  return c ? api::GetString(*c, "status") : "";
}

}  // namespace

json::array DesiredTaints(const json::object& node, const std::string& now) {
  static const std::set<std::pair<std::string, std::string>> kOwned = {
      {kNotReadyTaint, "NoSchedule"},
      {kNotReadyTaint, "NoExecute"},
      {kUnreachableTaint, "NoSchedule"},
      {kUnreachableTaint, "NoExecute"},
      {"node.kubernetes.io/unschedulable", "NoSchedule"},
      {"node.kubernetes.io/memory-pressure", "NoSchedule"},
      {"node.kubernetes.io/disk-pressure", "NoSchedule"},
      {"node.kubernetes.io/pid-pressure", "NoSchedule"},
      {"node.kubernetes.io/network-unavailable", "NoSchedule"}};
  std::vector<std::pair<std::string, std::string>> want;
  const std::string ready = ConditionStatus(node, "Ready");
  if (ready == "False") {
    want.emplace_back(kNotReadyTaint, "NoSchedule");
    want.emplace_back(kNotReadyTaint, "NoExecute");
  } else if (ready == "Unknown") {
    want.emplace_back(kUnreachableTaint, "NoSchedule");
    want.emplace_back(kUnreachableTaint, "NoExecute");
  }
  if (api::GetBool(node, {"spec", "unschedulable"})) want.emplace_back("node.kubernetes.io/unschedulable", "NoSchedule");
  for (auto [cond, key] : {std::pair{"MemoryPressure", "node.kubernetes.io/memory-pressure"},
                           std::pair{"DiskPressure", "node.kubernetes.io/disk-pressure"},
                           std::pair{"PIDPressure", "node.kubernetes.io/pid-pressure"},
                           std::pair{"NetworkUnavailable", "node.kubernetes.io/network-unavailable"}}) {
    if (ConditionStatus(node, cond) == "True") want.emplace_back(key, "NoSchedule");
  }
  json::array out;
  const auto& have = api::GetArray(node, {"spec", "taints"});
  for (const auto& t : have) {
    if (!t.is_object()) continue;
    std::pair<std::string, std::string> id{api::GetString(t.as_object(), "key"), api::GetString(t.as_object(), "effect")};
    if (!kOwned.count(id)) {
      out.push_back(t);
      continue;
    }
    auto it = std::find(want.begin(), want.end(), id);
    if (it == want.end()) continue;  // no longer true
    out.push_back(t);
    want.erase(it);
  }
  for (const auto& [key, effect] : want) {
    json::object t{{"key", key}, {"effect", effect}};
    if (effect == "NoExecute") t["timeAdded"] = now;
    out.push_back(std::move(t));
  }
  return out;
}

json::array UnknownConditions(const json::array& conditions, const std::string& now) {
  json::array out = conditions;
  for (const char* type : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
    bool found = false;
    for (auto& c : out) {
      if (!c.is_object() || api::GetString(c.as_object(), "type") != type) continue;
      found = true;
      auto& co = c.as_object();
      if (api::GetString(co, "status") != "Unknown") co["lastTransitionTime"] = now;
      co["status"] = "Unknown";
      co["reason"] = "NodeStatusUnknown";
      co["message"] = "Kubelet stopped posting node status.";
    }
    if (!found) {
      out.push_back(json::object{{"type", type},
                                 {"status", "Unknown"},
                                 {"lastHeartbeatTime", now},
                                 {"lastTransitionTime", now},
                                 {"reason", "NodeStatusNeverUpdated"},
                                 {"message", "Kubelet never posted node status."}});
    }
  }
  return out;
}

}  // namespace kite::controllers::nodelifecycle
