#include "base/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/log.h"

namespace kite {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Status ServePath(std::vector<std::unique_ptr<HttpServer>>& servers, const std::string& listen, const std::string& path,
                 HttpServer::Handler handler) {
  if (listen.empty()) return Status::Ok();
  auto srv = std::make_unique<HttpServer>();
  srv->Route(path, std::move(handler));
  if (Status s = srv->Start(listen); !s.ok()) return Status(s.code(), path + " on " + listen + ": " + s.message());
  servers.push_back(std::move(srv));
  return Status::Ok();
}

Result<std::pair<std::string, int>> SplitHostPort(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status(Code::kInvalidArgument, "missing port in address " + host_port);
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(host_port.substr(colon + 1), &used);
    if (used != host_port.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Status(Code::kInvalidArgument, "invalid port in address " + host_port);
  }
  return std::make_pair(host, port);
}

struct HttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::map<std::string, Handler> routes;
  std::thread thread;
  int port = 0;

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request<http::string_body> req;
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 * 1024);
        co_await http::async_read(socket, buffer, parser, asio::use_awaitable);
        req = parser.release();
        HttpReply reply;
        std::string target(req.target());
        if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
        auto it = routes.find(target);
        if (it == routes.end()) it = routes.find("*");
        if (it == routes.end()) {
          reply.status = 404;
          reply.body = "404 page not found\n";
        } else {
          reply = it->second();
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
        res.set(http::field::content_type, reply.content_type);
        for (const auto& [name, value] : reply.headers) res.set(name, value);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(reply.body);
        res.prepare_payload();
        co_await http::async_write(socket, res, asio::use_awaitable);
        if (!res.keep_alive()) break;
      }
    } catch (const std::exception&) {
      // Client went away or sent garbage: drop the connection, the server carries on.
    }
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io, Session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& path, Handler handler) { impl_->routes[path] = std::move(handler); }

Status HttpServer::Start(const std::string& host_port) {
  auto hp = SplitHostPort(host_port);
  if (!hp.ok()) return hp.status();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->first, ec);
  if (ec) return Status(Code::kInvalidArgument, "invalid address " + hp->first);
  tcp::endpoint ep(addr, static_cast<unsigned short>(hp->second));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kUnavailable, "listen " + host_port + ": " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return Status::Ok();
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace kite
