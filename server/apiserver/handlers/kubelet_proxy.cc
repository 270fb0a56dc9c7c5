// pods/log and nodes/proxy: answered by the node's kubelet (server/apiserver/kubelet/kubelet_client.h),
// after the checks upstream's API server makes itself (the container named or implied, the pod
// scheduled, the node known).
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/kubelet/kubelet_client.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::vector<std::string> ContainerNames(const json::object& spec, const char* field) {
  std::vector<std::string> names;
  if (auto it = spec.find(field); it != spec.end() && it->value().is_array()) {
    for (const auto& c : it->value().as_array()) {
      if (c.is_object()) names.push_back(api::GetString(c.as_object(), "name"));
    }
  }
  return names;
}

std::string Bracketed(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
  return s + "]";
}

}  // namespace

asio::awaitable<Result<ApiResponse>> ResourceHandlers::PodLog(Call& c) {
  if (c.info.verb != "get") co_return MethodNotSupported(c.info.verb, QualifiedResource(c.r));
  auto got = co_await registry_.Get(c.r, c.ns, c.info.name);
  if (!got.ok()) co_return got.error();
  const json::object& pod = got.value();
  const json::object& spec = api::GetObject(pod, "spec");
  const std::string& name = c.info.name;
  std::string container = c.req.Query("container");
  const auto containers = ContainerNames(spec, "containers");
  const auto inits = ContainerNames(spec, "initContainers");
  const auto ephemeral = ContainerNames(spec, "ephemeralContainers");
  if (container.empty()) {
    if (containers.size() == 1) {
      container = containers[0];
    } else {
      std::string msg = "a container name must be specified for pod " + name + ", choose one of: " + Bracketed(containers);
      if (!inits.empty()) msg += " or one of the init containers: " + Bracketed(inits);
      co_return BadRequest(msg);
    }
  } else {
    bool known = false;
    for (const auto* list : {&containers, &inits, &ephemeral}) {
      for (const auto& n : *list) known = known || n == container;
    }
    if (!known) co_return BadRequest("container " + container + " is not valid for pod " + name);
  }
  const std::string node_name = api::GetString(spec, "nodeName");
  if (node_name.empty()) co_return BadRequest("pod " + name + " does not have a host assigned");
  if (!kubelet_) co_return StrategyFor(c.r).NodeStreamUnavailable(c.r, pod, name, "log");
  const api::ResourceInfo* nodes = api::FindResource("", "v1", "nodes");
  const std::string no_namespace;
  auto node = co_await registry_.Get(*nodes, no_namespace, node_name);
  if (!node.ok()) co_return node.error();
  auto ep = KubeletEndpointOf(node.value());
  if (!ep.ok()) co_return ep.status();
  const std::string target = "/containerLogs/" + c.ns + "/" + name + "/" + container +
                             EncodeQuery(c.req.query, {"container", "insecureSkipTLSVerifyBackend", "pretty"});
  Status s = co_await kubelet_->ProxyGet(*ep, target, c.res);
  if (!s.ok()) co_return s;
  ApiResponse streamed;
  streamed.streamed = true;
  co_return streamed;
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::NodeProxy(Call& c) {
  auto got = co_await registry_.Get(c.r, c.ns, c.info.name);
  if (!got.ok()) co_return got.error();
  if (!kubelet_) co_return StrategyFor(c.r).NodeStreamUnavailable(c.r, got.value(), c.info.name, "proxy");
  if (c.req.method != "GET") co_return MethodNotSupported(c.info.verb, "nodes/proxy");
  // The path after .../nodes/<name>/proxy, as the client sent it (still percent-encoded).
  const std::string marker = "/" + c.info.name + "/proxy";
  std::string target = c.req.target;
  const size_t at = target.find(marker);
  target = at == std::string::npos ? "/" : target.substr(at + marker.size());
  if (target.empty() || target[0] == '?') target = "/" + target;
  auto ep = KubeletEndpointOf(got.value());
  if (!ep.ok()) co_return ep.status();
  Status s = co_await kubelet_->ProxyGet(*ep, target, c.res);
  if (!s.ok()) co_return s;
  ApiResponse streamed;
  streamed.streamed = true;
  co_return streamed;
}

}  // namespace kite::apiserver
