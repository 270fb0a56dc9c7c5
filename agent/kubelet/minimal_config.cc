#include "agent/kubelet/minimal_config.h"

#include <boost/json.hpp>

#include "api/object.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

// The labels upstream's kubelet puts on sandboxes and containers: who they belong to (the pod
// workers find a pod's sandboxes and containers by them, also after a restart).
cri::Labels PodLabels(const json::object& pod) {
  return cri::Labels{{"io.kubernetes.pod.name", api::Name(pod)},
                     {"io.kubernetes.pod.namespace", api::Namespace(pod)},
                     {"io.kubernetes.pod.uid", api::Uid(pod)}};
}

}  // namespace

cri::PodSandboxConfig MakeSandboxConfig(const json::object& pod, uint32_t attempt) {
  cri::PodSandboxConfig c;
  c.metadata.name = api::Name(pod);
  c.metadata.namespace_ = api::Namespace(pod);
  c.metadata.uid = api::Uid(pod);
  c.metadata.attempt = attempt;
  const std::string hostname = api::GetString(pod, {"spec", "hostname"});
  c.hostname = hostname.empty() ? c.metadata.name : hostname;
  c.log_directory = "/var/log/pods/" + c.metadata.namespace_ + "_" + c.metadata.name + "_" + c.metadata.uid;
  c.host_network = api::GetBool(pod, {"spec", "hostNetwork"});
  c.labels = PodLabels(pod);
  return c;
}

kite::Result<cri::ContainerConfig> MakeContainerConfig(const json::object& pod, const json::object& container,
                                                       uint32_t attempt) {
  cri::ContainerConfig c;
  c.metadata.name = api::GetString(container, "name");
  c.metadata.attempt = attempt;
  c.image.image = api::GetString(container, "image");
  c.command = api::GetStrings(container, "command");
  c.args = api::GetStrings(container, "args");
  c.working_dir = api::GetString(container, "workingDir");
  for (const auto& e : api::GetArray(container, "env")) {
    if (!e.is_object()) continue;
    if (api::FindObject(e.as_object(), "valueFrom")) {
      return kite::Status(Code::kInvalidArgument, "env " + api::GetString(e.as_object(), "name") +
                                                      ": valueFrom is not supported by this kubelet yet");
    }
    c.envs.emplace_back(api::GetString(e.as_object(), "name"), api::GetString(e.as_object(), "value"));
  }
  c.labels = PodLabels(pod);
  c.labels["io.kubernetes.container.name"] = c.metadata.name;
  c.log_path = c.metadata.name + "/" + std::to_string(attempt) + ".log";
  return c;
}

}  // namespace kite::kubelet
