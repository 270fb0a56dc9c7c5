#include "server/controllers/daemonset/daemon_pod.h"

#include <boost/json.hpp>

#include <cstdlib>

#include "api/object.h"

namespace kite::controllers {
namespace json = boost::json;
namespace {

void AddToleration(json::array& tolerations, const char* key, const char* effect) {
  for (const auto& t : tolerations) {
    if (t.is_object() && api::GetString(t.as_object(), "key") == key && api::GetString(t.as_object(), "effect") == effect) return;
  }
  tolerations.push_back(json::object{{"key", key}, {"operator", "Exists"}, {"effect", effect}});
}

// One NodeSelectorRequirement against a value (label or field) that may be absent.
bool RequirementMatches(const json::object& req, const std::string* value) {
  const std::string op = api::GetString(req, "operator");
  const auto& values = api::GetArray(req, "values");
  auto in_values = [&] {
    if (!value) return false;
    for (const auto& v : values) {
      if (v.is_string() && v.as_string() == *value) return true;
    }
    return false;
  };
  if (op == "In") return in_values();
  if (op == "NotIn") return !in_values();
  if (op == "Exists") return value != nullptr;
  if (op == "DoesNotExist") return value == nullptr;
  if (op == "Gt" || op == "Lt") {
    if (!value || values.size() != 1 || !values[0].is_string()) return false;
    char* end = nullptr;
    long long have = std::strtoll(value->c_str(), &end, 10);
    if (*end) return false;
    long long want = std::strtoll(std::string(values[0].as_string()).c_str(), &end, 10);
    if (*end) return false;
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

bool TermMatches(const json::object& term, const json::object& node) {
  const auto& exprs = api::GetArray(term, "matchExpressions");
  const auto& fields = api::GetArray(term, "matchFields");
  if (exprs.empty() && fields.empty()) return false;  // an empty term matches nothing
  const auto& labels = api::Labels(node);
  for (const auto& e : exprs) {
    if (!e.is_object()) return false;
    auto* v = labels.if_contains(api::GetString(e.as_object(), "key"));
    std::string value = v && v->is_string() ? std::string(v->as_string()) : std::string();
    if (!RequirementMatches(e.as_object(), v ? &value : nullptr)) return false;
  }
  const std::string name = api::Name(node);
  for (const auto& f : fields) {
    if (!f.is_object()) return false;
    // metadata.name is the only field node affinity supports.
    bool known = api::GetString(f.as_object(), "key") == "metadata.name";
    if (!RequirementMatches(f.as_object(), known ? &name : nullptr)) return false;
  }
  return true;
}

}  // namespace

json::object AddDaemonTolerations(json::object spec) {
  json::array tolerations = api::GetArray(spec, "tolerations");
  AddToleration(tolerations, "node.kubernetes.io/not-ready", "NoExecute");
  AddToleration(tolerations, "node.kubernetes.io/unreachable", "NoExecute");
  AddToleration(tolerations, "node.kubernetes.io/disk-pressure", "NoSchedule");
  AddToleration(tolerations, "node.kubernetes.io/memory-pressure", "NoSchedule");
  AddToleration(tolerations, "node.kubernetes.io/pid-pressure", "NoSchedule");
  AddToleration(tolerations, "node.kubernetes.io/unschedulable", "NoSchedule");
  if (api::GetBool(spec, "hostNetwork")) AddToleration(tolerations, "node.kubernetes.io/network-unavailable", "NoSchedule");
  spec["tolerations"] = std::move(tolerations);
  return spec;
}

json::object PinToNode(json::object spec, const std::string& node_name) {
  json::object pin{{"key", "metadata.name"}, {"operator", "In"}, {"values", json::array{json::string(node_name)}}};
  json::object affinity = api::GetObject(spec, "affinity");
  json::object node_affinity = api::GetObject(affinity, "nodeAffinity");
  json::object required = api::GetObject(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution");
  json::array terms = api::GetArray(required, "nodeSelectorTerms");
  if (terms.empty()) terms.push_back(json::object());
  // Every term gets the pin (terms are ORed), replacing the matchFields it had.
  for (auto& t : terms) {
    if (!t.is_object()) t = json::object();
    t.as_object()["matchFields"] = json::array{pin};
  }
  required["nodeSelectorTerms"] = std::move(terms);
  node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = std::move(required);
  affinity["nodeAffinity"] = std::move(node_affinity);
  spec["affinity"] = std::move(affinity);
  return spec;
}

std::string DaemonPodNodeName(const json::object& pod) {
  const auto& spec = api::GetObject(pod, "spec");
  if (std::string n = api::GetString(spec, "nodeName"); !n.empty()) return n;
  const auto& required =
      api::GetObject(spec, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
  for (const auto& t : api::GetArray(required, "nodeSelectorTerms")) {
    if (!t.is_object()) continue;
    for (const auto& f : api::GetArray(t.as_object(), "matchFields")) {
      if (!f.is_object()) continue;
      const auto& values = api::GetArray(f.as_object(), "values");
      if (api::GetString(f.as_object(), "key") == "metadata.name" && api::GetString(f.as_object(), "operator") == "In" &&
          values.size() == 1 && values[0].is_string()) {
        return std::string(values[0].as_string());
      }
    }
  }
  return "";
}

bool Tolerates(const json::object& toleration, const json::object& taint) {
  const std::string effect = api::GetString(toleration, "effect");
  if (!effect.empty() && effect != api::GetString(taint, "effect")) return false;
  const std::string key = api::GetString(toleration, "key");
  const std::string op = api::GetString(toleration, "operator");
  if (op == "Exists") return key.empty() || key == api::GetString(taint, "key");
  if (op.empty() || op == "Equal") return key == api::GetString(taint, "key") && api::GetString(toleration, "value") == api::GetString(taint, "value");
  return false;
}

bool NodeSelectorMatches(const json::object& node_selector, const json::object& node) {
  for (const auto& t : api::GetArray(node_selector, "nodeSelectorTerms")) {
    if (t.is_object() && TermMatches(t.as_object(), node)) return true;
  }
  return false;
}

NodeFit NodeShouldRunDaemonPod(const json::object& node, const json::object& pod_spec) {
  NodeFit fit;
  const std::string node_name = api::Name(node);
  if (std::string want = api::GetString(pod_spec, "nodeName"); !want.empty() && want != node_name) return fit;
  const auto& labels = api::Labels(node);
  for (const auto& [k, v] : api::GetObject(pod_spec, "nodeSelector")) {
    auto* have = labels.if_contains(k);
    if (!have || *have != v) return fit;
  }
  const auto& required =
      api::GetObject(pod_spec, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
  // The pin this controller adds names the node the pod is for, so judge the other fields.
  if (!api::GetArray(required, "nodeSelectorTerms").empty() && !NodeSelectorMatches(required, node)) return fit;
  fit.should_run = fit.should_continue_running = true;
  for (const auto& t : api::GetArray(node, {"spec", "taints"})) {
    if (!t.is_object()) continue;
    const auto& taint = t.as_object();
    const std::string effect = api::GetString(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    bool tolerated = false;
    for (const auto& tol : api::GetArray(pod_spec, "tolerations")) {
      if (tol.is_object() && Tolerates(tol.as_object(), taint)) tolerated = true;
    }
    if (tolerated) continue;
    fit.should_run = false;
    if (effect == "NoExecute") fit.should_continue_running = false;
  }
  return fit;
}

}  // namespace kite::controllers
