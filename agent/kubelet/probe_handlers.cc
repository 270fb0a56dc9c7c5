#include "agent/kubelet/probe_handlers.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "api/object.h"
#include "base/dial.h"

namespace kite::kubelet {
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

ProbeResult Success(std::string out = "") { return ProbeResult{ProbeOutcome::kSuccess, std::move(out)}; }
ProbeResult Failure(std::string out) { return ProbeResult{ProbeOutcome::kFailure, std::move(out)}; }

// A port by number or by the name of one of the container's ports; 0 when unknown.
int Port(const json::object& action, const json::object* container) {
  const json::value* p = action.if_contains("port");
  if (!p) return 0;
  if (p->is_int64() || p->is_uint64()) return static_cast<int>(api::AsInt(*p));
  if (!p->is_string() || !container) return 0;
  const std::string name(p->as_string());
  for (const auto& port : api::GetArray(*container, "ports")) {
    if (port.is_object() && api::GetString(port.as_object(), "name") == name) {
      return static_cast<int>(api::GetInt(port.as_object(), "containerPort"));
    }
  }
  return 0;
}

ProbeResult Exec(const json::object& action, const HandlerTarget& t, std::chrono::milliseconds timeout) {
  const std::vector<std::string> cmd = api::GetStrings(action, "command");
  const int64_t secs = std::max<int64_t>(1, (timeout.count() + 999) / 1000);
  auto r = t.runtime->ExecSync(t.container_id, cmd, secs);
  std::string joined;
  for (const auto& c : cmd) joined += (joined.empty() ? "" : " ") + c;
  if (!r.ok()) {
    if (r.status().code() == Code::kDeadlineExceeded) return Failure("command \"" + joined + "\" timed out");
    return Failure(r.status().message());
  }
  std::string out = r->stdout_ + r->stderr_;
  if (r->exit_code == 0) return Success(std::move(out));
  if (out.empty()) out = "command \"" + joined + "\" exited with " + std::to_string(r->exit_code);
  return Failure(std::move(out));
}

ProbeResult TcpSocket(const json::object& action, const HandlerTarget& t, std::chrono::milliseconds timeout) {
  std::string host = api::GetString(action, "host");
  if (host.empty()) host = t.pod_ip;
  const int port = Port(action, t.container);
  const std::string hp = JoinHostPort(host, port);
  if (port <= 0 || port > 65535) return Failure("dial tcp " + hp + ": invalid port");
  asio::io_context io;
  beast::tcp_stream s(io);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Failure("dial tcp " + hp + ": invalid address");
  s.expires_after(timeout);
  s.async_connect(tcp::endpoint(addr, static_cast<uint16_t>(port)), [&](boost::system::error_code e) { ec = e; });
  io.run();
  if (ec) return Failure(DialError(hp, ec));
  return Success();
}

template <typename Stream>
ProbeResult HttpExchange(Stream& stream, beast::tcp_stream& lower, const http::request<http::empty_body>& req,
                         const std::string& url, std::chrono::milliseconds timeout, asio::io_context& io) {
  boost::system::error_code ec;
  http::response<http::string_body> res;
  beast::flat_buffer buf;
  lower.expires_after(timeout);
  http::async_write(stream, req, [&](boost::system::error_code e, size_t) {
    ec = e;
    if (e) return;
    http::async_read(stream, buf, res, [&](boost::system::error_code e2, size_t) { ec = e2; });
  });
  io.restart();
  io.run();
  if (ec) return Failure("Get \"" + url + "\": " + (ec == beast::error::timeout ? "context deadline exceeded" : ec.message()));
  const unsigned code = res.result_int();
  if (code >= 200 && code < 400) return Success(res.body().substr(0, 10240));
  return Failure("HTTP probe failed with statuscode: " + std::to_string(code));
}

ProbeResult HttpGet(const json::object& action, const HandlerTarget& t, std::chrono::milliseconds timeout) {
  std::string host = api::GetString(action, "host");
  if (host.empty()) host = t.pod_ip;
  const int port = Port(action, t.container);
  std::string scheme = api::GetString(action, "scheme");
  for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme.empty()) scheme = "http";
  std::string path = api::GetString(action, "path");
  if (path.empty() || path[0] != '/') path = "/" + path;
  const std::string hp = JoinHostPort(host, port);
  const std::string url = scheme + "://" + hp + path;
  if (port <= 0 || port > 65535) return Failure("Get \"" + url + "\": invalid port");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Failure("Get \"" + url + "\": invalid address");

  http::request<http::empty_body> req(http::verb::get, path, 11);
  req.set(http::field::host, hp);
  req.set(http::field::user_agent, "kube-probe/1.32");
  req.set(http::field::accept, "*/*");
  req.set(http::field::connection, "close");
  for (const auto& h : api::GetArray(action, "httpHeaders")) {
    if (!h.is_object()) continue;
    const std::string name = api::GetString(h.as_object(), "name");
    if (!name.empty()) req.set(name, api::GetString(h.as_object(), "value"));
  }

  asio::io_context io;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - std::chrono::steady_clock::now()));
  };
  if (scheme == "https") {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);  // upstream's prober does not verify either
    beast::ssl_stream<beast::tcp_stream> s(io, ctx);
    auto& lower = beast::get_lowest_layer(s);
    lower.expires_after(left());
    lower.async_connect(tcp::endpoint(addr, static_cast<uint16_t>(port)), [&](boost::system::error_code e) {
      ec = e;
      if (e) return;
      s.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e2) { ec = e2; });
    });
    io.run();
    if (ec) return Failure("Get \"" + url + "\": " + DialError(hp, ec));
    return HttpExchange(s, lower, req, url, left(), io);
  }
  beast::tcp_stream s(io);
  s.expires_after(left());
  s.async_connect(tcp::endpoint(addr, static_cast<uint16_t>(port)), [&](boost::system::error_code e) { ec = e; });
  io.run();
  if (ec) return Failure("Get \"" + url + "\": " + DialError(hp, ec));
  return HttpExchange(s, s, req, url, left(), io);
}

}  // namespace

ProbeResult RunHandler(const json::object& handler, const HandlerTarget& t, std::chrono::milliseconds timeout) {
  if (const json::object* a = api::FindObject(handler, "exec")) return Exec(*a, t, timeout);
  if (const json::object* a = api::FindObject(handler, "httpGet")) return HttpGet(*a, t, timeout);
  if (const json::object* a = api::FindObject(handler, "tcpSocket")) return TcpSocket(*a, t, timeout);
  if (const json::object* a = api::FindObject(handler, "grpc")) return GrpcHealthCheck(*a, t, timeout);
  return Failure("no handler (exec, httpGet, tcpSocket or grpc)");
}

}  // namespace kite::kubelet
