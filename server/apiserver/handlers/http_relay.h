// The API server as an HTTP proxy (services/proxy and pods/proxy to a pod, aggregated APIs to
// their servers): one request relayed on a connected upstream stream and the answer streamed back
// to the client as it arrives.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <string>

#include "base/client_watch.h"
#include "base/https_server.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

// Request headers (lower case) a proxy never passes on: hop-by-hop ones (RFC 9110 7.6.1), Host
// and Content-Length (set again), and the caller's credentials for kite (Authorization).
bool HopByHopOrCredential(const std::string& lower);

// `req` (method, headers but those HopByHopOrCredential or `drop` names, body) sent as `target`
// with Host `host` and the `extra` headers on `s` (connected: a beast::tcp_stream or TLS over
// one, on the handler's executor, whose deadline covers the request and the answer's header);
// then the answer relayed to `res` (status, headers, the body piece by piece) until either side
// ends; `code` (when given) gets the status the client was sent. An error (503, "error trying
// to reach service: …") only when nothing reached the client.
template <class Stream, class Drop>
boost::asio::awaitable<Status> RelayExchange(Stream& s, const HttpsRequest& req, const std::string& target,
                                             const std::string& host, const HttpsResponder::Headers& extra,
                                             Drop drop, HttpsResponder& res, int* code = nullptr) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto unreachable = [](const std::string& why) {
    return Status::Api(503, "ServiceUnavailable", "error trying to reach service: " + why);
  };
  http::request<http::string_body> rq{http::string_to_verb(req.method), target, 11};
  if (rq.method() == http::verb::unknown) rq.method_string(req.method);
  for (const auto& [k, v] : req.headers) {
    if (!HopByHopOrCredential(k) && !drop(k)) rq.set(k, v);
  }
  for (const auto& [k, v] : extra) rq.insert(k, v);
  rq.set(http::field::host, host);
  rq.body() = req.body;
  rq.prepare_payload();
  auto [wec, wn] = co_await http::async_write(s, rq, asio::as_tuple(asio::use_awaitable));
  if (wec) co_return unreachable(wec.message());
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);
  auto [rec, rn] = co_await http::async_read_header(s, buf, p, asio::as_tuple(asio::use_awaitable));
  if (rec) co_return unreachable(rec.message());
  beast::get_lowest_layer(s).expires_never();  // a watch or a followed stream lasts
  const int status = static_cast<int>(p.get().result_int());
  if (code) *code = status;
  std::string content_type(p.get()[http::field::content_type]);
  HttpsResponder::Headers headers;
  for (const auto& f : p.get()) {
    std::string name(f.name_string());
    std::string lower = name;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!HopByHopOrCredential(lower) && lower != "content-type") headers.emplace_back(std::move(name), std::string(f.value()));
  }
  if (!co_await res.BeginStream(status, std::move(content_type), std::move(headers))) co_return Status::Ok();
  // An upstream stream that goes quiet (a watch, server-sent events) after its client left.
  co_await RelayAnswerBody(s, buf, p, res);
  co_return Status::Ok();
}

}  // namespace kite::apiserver
