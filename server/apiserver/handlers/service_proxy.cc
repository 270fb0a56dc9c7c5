// services/proxy and pods/proxy: the API server relays a request to a pod over plain HTTP, as
// upstream's does for `kubectl get --raw /api/v1/namespaces/NS/services/web:80/proxy/PATH` and
// `kubectl proxy` users. The name is [scheme:]name[:port] (upstream's SplitSchemeNamePort); a
// Service's port is picked by name or number and sent to a ready endpoint's matching port; a
// pod's port defaults to its first declared container port. What follows /proxy is the path
// on the pod, query included; an empty one is answered with a 301 to the same path with a
// trailing slash, as upstream does. HTTPS backends are not supported (503).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>
#include <charconv>

#include "api/object.h"
#include "base/dial.h"
#include "server/apiserver/handlers/http_relay.h"
#include "server/apiserver/handlers/service_proxy.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

struct ProxyName {
  std::string scheme, name, port;
};

std::optional<ProxyName> SplitSchemeNamePort(const std::string& id) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (size_t j; (j = id.find(':', i)) != std::string::npos; i = j + 1) parts.push_back(id.substr(i, j - i));
  parts.push_back(id.substr(i));
  ProxyName n;
  if (parts.size() == 1) n.name = parts[0];
  else if (parts.size() == 2) n = {"", parts[0], parts[1]};
  else if (parts.size() == 3) n = {parts[0], parts[1], parts[2]};
  else return std::nullopt;
  if (n.name.empty() || (!n.scheme.empty() && n.scheme != "http" && n.scheme != "https")) return std::nullopt;
  return n;
}

std::optional<int> PortNumber(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0 || v > 65535) return std::nullopt;
  return v;
}

Status Unavailable(const std::string& message) { return Status::Api(503, "ServiceUnavailable", message); }

// One HTTP/1.1 exchange with host:port, the answer streamed to `res` as it arrives. An error
// before anything was sent to the client is returned, to be answered as upstream's 503.
asio::awaitable<Status> Relay(const std::string& host, int port, const HttpsRequest& req, const std::string& target,
                              HttpsResponder& res) {
  const std::string where = JoinHostPort(host, port);
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) co_return Unavailable("error trying to reach service: not an IP address: " + host);
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream s(executor);
  s.expires_after(std::chrono::seconds(30));
  auto [cec] = co_await s.async_connect(asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port)),
                                        asio::as_tuple(asio::use_awaitable));
  if (cec) co_return Unavailable("error trying to reach service: " + DialError(where, cec));
  const HttpsResponder::Headers none;
  auto keep = [](const std::string&) { return false; };
  Status relayed = co_await RelayExchange(s, req, target, where, none, keep, res);
  co_return relayed;
}

}  // namespace

bool HopByHopOrCredential(const std::string& h) {
  for (const char* d : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                        "trailer", "host", "authorization", "content-length"}) {
    if (h == d) return true;
  }
  return false;
}

asio::awaitable<Result<ServiceEndpoint>> ReadyServiceEndpoint(Registry& registry, const std::string& ns,
                                                             const std::string& name, const std::string& port_name) {
  static const api::ResourceInfo& endpoints = *api::FindResource("", "v1", "endpoints");
  auto eps = co_await registry.Get(endpoints, ns, name);
  if (eps.ok()) {
    for (const auto& subset : api::GetArray(eps.value(), "subsets")) {
      if (!subset.is_object()) continue;
      const auto& addrs = api::GetArray(subset.as_object(), "addresses");
      if (addrs.empty() || !addrs[0].is_object()) continue;
      for (const auto& p : api::GetArray(subset.as_object(), "ports")) {
        if (!p.is_object() || api::GetString(p.as_object(), "name") != port_name) continue;
        const int port = static_cast<int>(api::GetInt(p.as_object(), "port"));
        const std::string host = api::GetString(addrs[0].as_object(), "ip");
        if (port > 0 && !host.empty()) co_return ServiceEndpoint{host, port};
      }
    }
  }
  co_return Unavailable("no endpoints available for service \"" + name + "\"");
}

asio::awaitable<Result<ApiResponse>> PodOrServiceProxy(Registry& registry, const api::ResourceInfo& r,
                                                        const std::string& ns, const std::string& name,
                                                        HttpsRequest& req, HttpsResponder& res) {
  const std::string resource = r.resource;
  auto id = SplitSchemeNamePort(name);
  if (!id) co_return BadRequest("invalid " + std::string(resource == "pods" ? "pod" : "service") + " request \"" + name + "\"");
  // The path after .../<id>/proxy, as the client sent it (still percent-encoded).
  const std::string marker = "/" + name + "/proxy";
  const std::string& raw = req.target;
  const size_t at = raw.find(marker);
  std::string rest = at == std::string::npos ? "" : raw.substr(at + marker.size());
  if (rest.empty() || rest[0] == '?') {
    // Upstream's redirect for an empty path (kubernetes issue 4958): the same path with a '/'.
    const size_t q = raw.find('?');
    std::string location = raw.substr(0, q) + "/" + (q == std::string::npos ? "" : raw.substr(q));
    std::string body = "<a href=\"" + location + "\">Moved Permanently</a>.\n\n";
    HttpsResponder::Headers headers{{"Location", location}};
    std::string type = "text/html; charset=utf-8";  // named: g++ 12 and temporaries in co_await
    co_await res.Send(301, std::move(type), std::move(body), std::move(headers));
    ApiResponse sent;
    sent.streamed = true;
    co_return sent;
  }
  if (id->scheme == "https") co_return Unavailable("kite proxies to pods over http only");
  auto got = co_await registry.Get(r, ns, id->name);
  if (!got.ok()) co_return got.error();
  const json::object& obj = got.value();
  std::string host;
  int port = 0;
  if (resource == "pods") {
    host = api::GetString(obj, {"status", "podIP"});
    if (host.empty()) co_return Unavailable("pod " + id->name + " has no IP address");
    std::string want = id->port;
    for (const auto& ctr : api::GetArray(obj, {"spec", "containers"})) {
      for (const auto& p : api::GetArray(ctr.as_object(), "ports")) {
        const int n = static_cast<int>(api::GetInt(p.as_object(), "containerPort"));
        if (want.empty() || api::GetString(p.as_object(), "name") == want) {
          if (!port) port = n;
        }
      }
    }
    if (auto n = PortNumber(want)) port = *n;
    if (!port) port = 80;
  } else {
    const json::object* svc_port = nullptr;
    const auto& ports = api::GetArray(obj, {"spec", "ports"});
    for (const auto& p : ports) {
      const json::object& po = p.as_object();
      if ((id->port.empty() && ports.size() == 1) || api::GetString(po, "name") == id->port ||
          std::to_string(api::GetInt(po, "port")) == id->port) {
        svc_port = &po;
        break;
      }
    }
    if (!svc_port) co_return Unavailable("no service port \"" + id->port + "\" found for service \"" + id->name + "\"");
    const std::string port_name = api::GetString(*svc_port, "name");
    auto ep = co_await ReadyServiceEndpoint(registry, ns, id->name, port_name);
    if (!ep.ok()) co_return ep.error();
    host = ep->host;
    port = ep->port;
  }
  Status s = co_await Relay(host, port, req, rest, res);
  if (!s.ok()) co_return s;
  ApiResponse streamed;
  streamed.streamed = true;
  co_return streamed;
}

}  // namespace kite::apiserver
