#include "server/apiserver/kubelet/kubelet_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <array>
#include <cctype>

#include "api/object.h"
#include "base/client_watch.h"
#include "base/dial.h"
#include "base/encoding.h"
#include "base/https_client.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

Result<KubeletEndpoint> KubeletEndpointOf(const json::object& node) {
  KubeletEndpoint ep;
  const json::object* status = api::FindObject(node, {"status"});
  if (status) {
    if (auto a = status->find("addresses"); a != status->end() && a->value().is_array()) {
      for (const char* type : {"InternalIP", "ExternalIP"}) {
        for (const auto& addr : a->value().as_array()) {
          if (!addr.is_object() || api::GetString(addr.as_object(), "type") != type) continue;
          ep.host = api::GetString(addr.as_object(), "address");
          break;
        }
        if (!ep.host.empty()) break;
      }
    }
    if (const json::object* de = api::FindObject(*status, {"daemonEndpoints", "kubeletEndpoint"})) {
      if (auto p = de->find("Port"); p != de->end() && p->value().is_int64()) ep.port = static_cast<int>(p->value().as_int64());
    }
  }
  const std::string name = api::GetString(api::GetObject(node, "metadata"), "name");
  ep.node = name;
  if (ep.host.empty()) {
    return Status::Api(503, "ServiceUnavailable", "no preferred addresses found; known addresses: [] (node " + name + ")");
  }
  if (ep.port <= 0 || ep.port > 65535) ep.port = 10250;
  return ep;
}

std::string EncodeQuery(const std::multimap<std::string, std::string>& query, std::initializer_list<std::string_view> drop) {
  std::string q;
  for (const auto& [k, v] : query) {
    bool skip = false;
    for (auto d : drop) skip = skip || k == d;
    if (skip) continue;
    q += q.empty() ? "?" : "&";
    q += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return q;
}

Result<std::unique_ptr<KubeletClient>> KubeletClient::Create(const std::string& server_ca_pem, const pki::KeyPair& client) {
  Kubeconfig kc;
  kc.ca_pem = server_ca_pem;
  kc.cert_pem = client.cert_pem;
  kc.key_pem = client.key_pem;
  auto tls = MakeTlsContext(kc);
  if (!tls.ok()) return tls.status();
  // AES-128-GCM first (OpenSSL's default order starts with AES-256, as Go's clients do not): a
  // port-forward's bytes are encrypted and decrypted once more on this hop, and AES-128 costs
  // about 3/4 of AES-256's CPU; both are TLS 1.3's standard suites.
  SSL_CTX_set_ciphersuites((*tls)->native_handle(),
                           "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  return std::unique_ptr<KubeletClient>(new KubeletClient(std::move(*tls)));
}

void KubeletClient::SetInProcess(const std::string& node, InProcessServer kubelet) {
  auto server = kubelet ? std::make_shared<const InProcessServer>(std::move(kubelet)) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  in_process_node_ = server ? node : "";
  in_process_ = std::move(server);
}

std::shared_ptr<const InProcessServer> KubeletClient::InProcessFor(const KubeletEndpoint& ep) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_process_ || ep.node.empty() || ep.node != in_process_node_) return nullptr;
  return in_process_;
}

// One GET to a kubelet, up to its answer's header: the stream, its buffer and parser in `c`.
struct KubeletClient::Call {
  explicit Call(asio::any_io_executor ex, asio::ssl::context& tls) : s(ex, tls) {}
  TlsStream s;
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> p;
};

asio::awaitable<Status> KubeletClient::Open(const KubeletEndpoint& ep, const std::string& target,
                                            std::chrono::steady_clock::duration timeout, Call& c) const {
  const std::string url = "https://" + ep.host + ":" + std::to_string(ep.port) + target;
  auto failed = [&](const std::string& what) {
    return Status::Api(500, "InternalError", "Get \"" + url + "\": " + what);
  };
  beast::get_lowest_layer(c.s).expires_after(timeout);
  if (Status s = co_await DialTls(c.s, ep.host, ep.port, ep.host); !s.ok()) co_return failed(s.message());
  http::request<http::empty_body> rq{http::verb::get, target, 11};
  rq.set(http::field::host, ep.host + ":" + std::to_string(ep.port));
  rq.set(http::field::user_agent, "kite-apiserver");
  auto [wec, wn] = co_await http::async_write(c.s, rq, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return failed(wec.message());
  c.p.body_limit(boost::none);
  auto [rec, rn] = co_await http::async_read_header(c.s, c.buf, c.p, asio::as_tuple(asio::use_awaitable));
  if (rec) co_return failed(rec.message());
  co_return Status::Ok();
}

asio::awaitable<Result<std::string>> KubeletClient::Get(const KubeletEndpoint& ep, const std::string& target,
                                                        std::chrono::steady_clock::duration timeout, size_t limit) const {
  auto executor = co_await asio::this_coro::executor;
  Call c(executor, *tls_);
  // The whole exchange, body included, within `timeout` (the stream's deadline stays armed).
  if (Status s = co_await Open(ep, target, timeout, c); !s.ok()) co_return s;
  const int status = static_cast<int>(c.p.get().result_int());
  std::string body;
  std::array<char, 64 * 1024> chunk;
  while (!c.p.is_done()) {
    c.p.get().body().data = chunk.data();
    c.p.get().body().size = chunk.size();
    auto [bec, bn] = co_await http::async_read(c.s, c.buf, c.p, asio::as_tuple(asio::use_awaitable));
    body.append(chunk.data(), chunk.size() - c.p.get().body().size);
    if (body.size() > limit) co_return Status(Code::kResourceExhausted, "the kubelet's answer exceeds " + std::to_string(limit) + " bytes");
    if (bec && bec != http::error::need_buffer) {
      co_return Status(Code::kUnavailable, "reading https://" + ep.host + ":" + std::to_string(ep.port) + target + ": " + bec.message());
    }
  }
  beast::get_lowest_layer(c.s).close();
  if (status != 200) co_return Status(Code::kUnavailable, "the kubelet answered HTTP " + std::to_string(status));
  co_return body;
}

asio::awaitable<Status> KubeletClient::ProxyGet(const KubeletEndpoint& ep, const std::string& target, HttpsResponder& res) {
  if (auto local = InProcessFor(ep)) {
    // The kubelet of this process answers the client itself: no TLS, no HTTP between the two.
    HttpsRequest req = RequestForTarget("GET", target);
    co_await local->serve(req, res);
    co_return Status::Ok();
  }
  auto executor = co_await asio::this_coro::executor;
  Call call(executor, *tls_);
  if (Status st = co_await Open(ep, target, std::chrono::seconds(30), call); !st.ok()) co_return st;
  auto& s = call.s;
  auto& buf = call.buf;
  auto& p = call.p;
  auto& tcp = beast::get_lowest_layer(s);
  // From here the answer may take as long as the container keeps logging.
  tcp.expires_never();
  const int status = static_cast<int>(p.get().result_int());
  std::string content_type(p.get()[http::field::content_type]);
  if (content_type.empty()) content_type = "text/plain";
  std::array<char, 64 * 1024> chunk;
  if (status != 200) {  // small: an error Status from the kubelet, relayed whole
    std::string body;
    while (!p.is_done() && body.size() < (1u << 20)) {
      p.get().body().data = chunk.data();
      p.get().body().size = chunk.size();
      auto [bec, bn] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
      body.append(chunk.data(), chunk.size() - p.get().body().size);
      if (bec && bec != http::error::need_buffer) break;
    }
    co_await res.Send(status, content_type, std::move(body));
    co_return Status::Ok();
  }
  if (!co_await res.BeginStream(status, content_type)) co_return Status::Ok();
  // An idle followed log writes nothing for the client's leaving to fail: the watch notices it
  // and closes the kubelet connection, which ends the read (and the kubelet's follow).
  co_await RelayAnswerBody(s, buf, p, res);
  co_return Status::Ok();
}

}  // namespace kite::apiserver
