// pods/exec, pods/attach and pods/portforward: the checks upstream's API server makes itself
// (the pod, its container, its node), then the session carried to the node's kubelet, which
// relays it to the runtime's stream server:
// - SPDY/3.1 from the client (remote-command v1-v4, port-forward): the upgrade is relayed and the
//   bytes go both ways unchanged (KubeletClient::ProxyUpgrade).
// - WebSocket `v5.channel.k8s.io` / `v4.channel.k8s.io` (kubectl 1.32's exec, attach, cp) and
//   `SPDY/3.1+portforward.k8s.io` (its port-forward tunnelling): the API server ends the
//   WebSocket and speaks SPDY/3.1 to the kubelet (stream_translator.h), as upstream's
//   StreamTranslatorProxy and tunneling handler do; counted in
//   apiserver_stream_translator_requests_total / apiserver_stream_tunnel_requests_total{code}.
// - Older WebSocket protocols (channel.k8s.io, base64, v4.base64) that containerd's stream server
//   speaks itself: relayed as bytes.
//
// Without a kubelet client (kite-hollow's simulated nodes), exec/attach over WebSocket upgrade,
// report why on the error channel (3) and close, as before.
#include <boost/json.hpp>

#include <map>

#include <prometheus/counter.h>

#include "api/object.h"
#include "base/metrics.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/kubelet/kubelet_client.h"
#include "server/apiserver/kubelet/stream_translator.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::vector<std::string> Offered(const HttpsRequest& req) {
  std::vector<std::string> out;
  const std::string v = req.Header("sec-websocket-protocol");
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string::npos) j = v.size();
    std::string p = v.substr(i, j - i);
    while (!p.empty() && p.front() == ' ') p.erase(0, 1);
    while (!p.empty() && p.back() == ' ') p.pop_back();
    if (!p.empty()) out.push_back(p);
    i = j + 1;
  }
  return out;
}

// Whether the runtime's stream server speaks one of the WebSocket protocols offered.
bool RuntimeSpeaks(const std::vector<std::string>& offered) {
  for (const auto& p : offered) {
    if (p == "v4.channel.k8s.io" || p == "v4.base64.channel.k8s.io" || p == "channel.k8s.io" ||
        p == "base64.channel.k8s.io") {
      return true;
    }
  }
  return false;
}

bool Has(const std::vector<std::string>& offered, std::string_view protocol) {
  for (const auto& p : offered) {
    if (p == protocol) return true;
  }
  return false;
}

// Upstream's counters of WebSocket sessions the API server translated (exec, attach) or tunnelled
// (port-forward), by the HTTP code the client got.
void CountWebSocket(bool tunnel, int code) {
  static auto& translator = prometheus::BuildCounter()
                                .Name("apiserver_stream_translator_requests_total")
                                .Help("Total number of requests that were handled by the StreamTranslatorProxy, "
                                      "which processes streaming RemoteCommand/V5")
                                .Register(metrics::Default());
  static auto& tunnel_family = prometheus::BuildCounter()
                                   .Name("apiserver_stream_tunnel_requests_total")
                                   .Help("Total number of requests that were handled by the StreamTunnelProxy, "
                                         "which processes streaming PortForward/V2")
                                   .Register(metrics::Default());
  auto& family = tunnel ? tunnel_family : translator;
  family.Add({{"code", std::to_string(code)}}).Increment();
}

bool Truthy(const std::string& v) { return v == "true" || v == "1" || v == "True" || v == "TRUE"; }

}  // namespace

asio::awaitable<Result<ApiResponse>> ResourceHandlers::RemoteCommand(Call& c) {
  const std::string& sub = c.info.subresource;
  const std::string& name = c.info.name;
  auto got = co_await registry_.Get(c.r, c.ns, name);
  if (!got.ok()) co_return got.error();
  const json::object& pod = got.value();
  const bool websocket = WantsWebSocket(c.req);
  if (!kubelet_) {
    Status e = StrategyFor(c.r).NodeStreamUnavailable(c.r, pod, name, sub);
    if (!websocket || sub == "portforward") co_return e;
    std::string protocol;
    for (const auto& p : Offered(c.req)) {
      if (p == "v5.channel.k8s.io" || RuntimeSpeaks({p})) {
        protocol = p;
        break;
      }
    }
    if (protocol.empty()) co_return BadRequest("no supported remote command protocol offered");
    auto ws = co_await c.res.AcceptWebSocket(protocol);
    if (!ws) co_return e;
    std::string message(1, '\x03');
    message += StatusJson(e);
    co_await ws->WriteBinary(message);
    co_await ws->Close();
    ApiResponse streamed;
    streamed.streamed = true;
    co_return streamed;
  }
  // What the API server does with a WebSocket: translate it to SPDY toward the kubelet (exec,
  // attach), tunnel it (port-forward), or relay it (older protocols the runtime speaks).
  std::string translated;  // the WebSocket protocol the API server speaks to the client, if any
  if (websocket) {
    const auto offered = Offered(c.req);
    if (sub == "portforward") {
      if (Has(offered, kPortForwardTunnel)) translated = kPortForwardTunnel;
    } else if (Has(offered, kRemoteCommandV5)) {
      translated = kRemoteCommandV5;
    } else if (Has(offered, kRemoteCommandV4)) {
      translated = kRemoteCommandV4;
    }
    if (translated.empty() && !RuntimeSpeaks(offered)) {
      co_return BadRequest("the WebSocket protocols offered (" + c.req.Header("sec-websocket-protocol") +
                           ") are not served for pods/" + sub);
    }
  }
  const json::object& spec = api::GetObject(pod, "spec");
  std::multimap<std::string, std::string> query;
  std::string container;
  if (sub != "portforward") {
    container = c.req.Query("container");
    std::vector<std::string> names;
    if (auto it = spec.find("containers"); it != spec.end() && it->value().is_array()) {
      for (const auto& ct : it->value().as_array()) {
        if (ct.is_object()) names.push_back(api::GetString(ct.as_object(), "name"));
      }
    }
    if (container.empty()) {
      if (names.size() != 1) {
        std::string list;
        for (size_t i = 0; i < names.size(); ++i) list += (i ? " " : "") + names[i];
        co_return BadRequest("a container name must be specified for pod " + name + ", choose one of: [" + list + "]");
      }
      container = names[0];
    } else {
      bool known = false;
      for (const char* field : {"containers", "initContainers", "ephemeralContainers"}) {
        if (auto it = spec.find(field); it != spec.end() && it->value().is_array()) {
          for (const auto& ct : it->value().as_array()) {
            known = known || (ct.is_object() && api::GetString(ct.as_object(), "name") == container);
          }
        }
      }
      if (!known) co_return BadRequest("container " + container + " is not valid for pod " + name);
    }
    if (sub == "exec") {
      for (auto [it, end] = c.req.query.equal_range("command"); it != end; ++it) query.emplace("command", it->second);
      if (query.empty()) co_return BadRequest("you must specify at least 1 command");
    }
    // Upstream's API server hands the kubelet its booleans as "1".
    for (const char* flag : {"stdin", "stdout", "stderr", "tty"}) {
      if (Truthy(c.req.Query(flag))) query.emplace(flag, "1");
    }
  } else {
    for (auto [it, end] = c.req.query.equal_range("ports"); it != end; ++it) query.emplace("port", it->second);
  }
  // CONNECT goes to the admission webhooks (a policy that forbids exec), with the options as the
  // object, as upstream's API server sends it.
  json::object options{{"kind", sub == "exec" ? "PodExecOptions" : sub == "attach" ? "PodAttachOptions" : "PodPortForwardOptions"},
                       {"apiVersion", "v1"}};
  if (!container.empty()) options["container"] = container;
  for (const auto& [k, v] : query) {
    if (k == "command" || k == "port") {
      json::value& list = options[k == "command" ? "command" : "ports"];
      if (!list.is_array()) list = json::array();
      if (k == "command") list.as_array().push_back(json::string(v));
      else list.as_array().push_back(std::atoi(v.c_str()));
    } else {
      options[k] = true;
    }
  }
  const std::string options_kind(api::GetString(options, "kind"));
  if (Status s = co_await AdmitByWebhooks(c, "CONNECT", &options, nullptr, name, nullptr, options_kind); !s.ok()) co_return s;
  const std::string node_name = api::GetString(spec, "nodeName");
  if (node_name.empty()) co_return BadRequest("pod " + name + " does not have a host assigned");
  const api::ResourceInfo* nodes = api::FindResource("", "v1", "nodes");
  const std::string no_namespace;
  auto node = co_await registry_.Get(*nodes, no_namespace, node_name);
  if (!node.ok()) co_return node.error();
  auto ep = KubeletEndpointOf(node.value());
  if (!ep.ok()) co_return ep.status();
  std::string target = "/" + sub + "/" + c.ns + "/" + name;
  if (!container.empty()) target += "/" + container;
  target += EncodeQuery(query);
  ApiResponse streamed;
  streamed.streamed = true;
  if (translated.empty()) {
    Status s = co_await kubelet_->ProxyUpgrade(*ep, target, c.req, c.res);
    if (!s.ok()) co_return s;
    co_return streamed;
  }
  const bool tunnel = sub == "portforward";
  const std::string kubelet_protocol = tunnel ? "portforward.k8s.io" : std::string(kRemoteCommandV4);
  const HttpsRequest upgrade = SpdyUpgradeRequest(kubelet_protocol);
  auto opened = co_await kubelet_->OpenUpgrade(*ep, target, upgrade);
  if (!opened.ok()) {
    CountWebSocket(tunnel, 500);
    co_return opened.status();
  }
  if (opened->answer.status != 101) {  // the kubelet's error, relayed as it came
    CountWebSocket(tunnel, opened->answer.status);
    co_await CompleteUpgrade(opened->answer, *opened->stream, c.res);
    co_return streamed;
  }
  auto ws = co_await c.res.AcceptWebSocket(translated);
  if (!ws) {
    opened->stream->Close();
    co_return streamed;
  }
  CountWebSocket(tunnel, 101);
  std::string early = std::move(opened->answer.data);
  if (tunnel) {
    co_await TunnelPortForward(*ws, *opened->stream, std::move(early));
  } else {
    RemoteCommandStreams streams;
    streams.in = query.count("stdin") > 0;
    streams.out = query.count("stdout") > 0;
    streams.err = query.count("stderr") > 0;
    streams.tty = query.count("tty") > 0;
    co_await TranslateRemoteCommand(*ws, translated == kRemoteCommandV5, *opened->stream, std::move(early), streams);
  }
  co_return streamed;
}

}  // namespace kite::apiserver
