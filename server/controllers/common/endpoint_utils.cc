#include "server/controllers/common/endpoint_utils.h"

#include "api/object.h"
#include "api/selectors.h"
#include "client/client.h"

namespace kite::controllers {
namespace json = boost::json;

bool ShouldPodBeInEndpoints(const json::object& pod, bool include_terminating) {
  const auto& status = api::GetObject(pod, "status");
  std::string phase = api::GetString(status, "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  if (api::GetString(status, "podIP").empty()) return false;
  if (!include_terminating && api::IsBeingDeleted(pod)) return false;
  return true;
}

std::optional<int64_t> FindPort(const json::object& pod, const json::object& service_port) {
  auto* tp = service_port.if_contains("targetPort");
  if (!tp || tp->is_null()) return api::GetInt(service_port, "port");
  if (tp->is_int64()) return tp->as_int64();
  if (tp->is_uint64()) return static_cast<int64_t>(tp->as_uint64());
  if (!tp->is_string()) return std::nullopt;
  const std::string name(tp->as_string());
  std::string protocol = api::GetString(service_port, "protocol");
  if (protocol.empty()) protocol = "TCP";
  // A numeric string is a number (IntOrString as YAML sometimes carries it).
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) return std::stoll(name);
  for (const char* list : {"containers", "initContainers"}) {
    for (const auto& c : api::GetArray(api::GetObject(pod, "spec"), list)) {
      if (!c.is_object()) continue;
      for (const auto& p : api::GetArray(c.as_object(), "ports")) {
        if (!p.is_object()) continue;
        const auto& po = p.as_object();
        std::string proto = api::GetString(po, "protocol");
        if (proto.empty()) proto = "TCP";
        if (api::GetString(po, "name") == name && proto == protocol) return api::GetInt(po, "containerPort");
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> ServiceSelector(const json::object& svc) {
  const auto& spec = api::GetObject(svc, "spec");
  auto* sel = spec.if_contains("selector");
  if (!sel || !sel->is_object() || sel->as_object().empty()) return std::nullopt;
  std::string out;
  for (const auto& [k, v] : sel->as_object()) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : ",") + std::string(k) + "=" + std::string(v.as_string());
  }
  return out;
}

bool IsHeadless(const json::object& svc) { return api::GetString(svc, {"spec", "clusterIP"}) == "None"; }

client::EventHandler EnqueueServicesOfPods(const client::Informer* services, client::WorkQueue* queue) {
  auto enqueue = [services, queue](const json::object& pod) {
    for (const auto& svc : services->List(api::Namespace(pod))) {
      const json::value* selector = api::GetObject(*svc, "spec").if_contains("selector");
      if (selector && api::LabelsMatch(api::MapSelector(selector), pod)) queue->Add(client::Key(*svc));
    }
  };
  return client::EventHandler{
      [enqueue](const client::ObjectPtr& pod) { enqueue(*pod); },
      [enqueue](const client::ObjectPtr& old_pod, const client::ObjectPtr& pod) {
        enqueue(*pod);
        if (api::Labels(*old_pod) != api::Labels(*pod)) enqueue(*old_pod);
      },
      [enqueue](const client::ObjectPtr& pod) { enqueue(*pod); }};
}

}  // namespace kite::controllers
