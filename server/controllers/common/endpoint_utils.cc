#include "server/controllers/common/endpoint_utils.h"

#include "server/controllers/common/controller_utils.h"

namespace kite::controllers {

bool ShouldPodBeInEndpoints(const json::object& pod, bool include_terminating) {
  const auto& status = Obj(pod, "status");
  std::string phase = Str(status, "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  if (Str(status, "podIP").empty()) return false;
  if (!include_terminating && Obj(pod, "metadata").contains("deletionTimestamp")) return false;
  return true;
}

std::optional<int64_t> FindPort(const json::object& pod, const json::object& service_port) {
  auto* tp = service_port.if_contains("targetPort");
  if (!tp || tp->is_null()) return Int(service_port, "port");
  if (tp->is_int64()) return tp->as_int64();
  if (tp->is_uint64()) return static_cast<int64_t>(tp->as_uint64());
  if (!tp->is_string()) return std::nullopt;
  const std::string name(tp->as_string());
  std::string protocol = Str(service_port, "protocol");
  if (protocol.empty()) protocol = "TCP";
  // A numeric string is a number (IntOrString as YAML sometimes carries it).
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) return std::stoll(name);
  for (const char* list : {"containers", "initContainers"}) {
    for (const auto& c : Arr(Obj(pod, "spec"), list)) {
      if (!c.is_object()) continue;
      for (const auto& p : Arr(c.as_object(), "ports")) {
        if (!p.is_object()) continue;
        const auto& po = p.as_object();
        std::string proto = Str(po, "protocol");
        if (proto.empty()) proto = "TCP";
        if (Str(po, "name") == name && proto == protocol) return Int(po, "containerPort");
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> ServiceSelector(const json::object& svc) {
  const auto& spec = Obj(svc, "spec");
  auto* sel = spec.if_contains("selector");
  if (!sel || !sel->is_object() || sel->as_object().empty()) return std::nullopt;
  std::string out;
  for (const auto& [k, v] : sel->as_object()) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : ",") + std::string(k) + "=" + std::string(v.as_string());
  }
  return out;
}

bool IsHeadless(const json::object& svc) { return Str(Obj(svc, "spec"), "clusterIP") == "None"; }

}  // namespace kite::controllers
