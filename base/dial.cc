// Go-worded dialing (dial.h).
#include "base/dial.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <cctype>

namespace kite {
namespace asio = boost::asio;
namespace beast = boost::beast;

std::string JoinHostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string DialError(const std::string& hostport, const boost::system::error_code& ec) {
  const std::string head = "dial tcp " + hostport + ": ";
  if (ec == beast::error::timeout || ec == asio::error::timed_out) return head + "i/o timeout";
  if (ec.category() != boost::system::system_category()) return head + ec.message();
  // Go names the failed system call and prints errno's text in lower case.
  std::string text = ec.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return head + "connect: " + text;
}

asio::awaitable<Status> DialTls(TlsStream& s, const std::string& host, int port, const std::string& server_name) {
  boost::system::error_code ec;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) {
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    const std::string service = std::to_string(port);
    auto [rec, found] = co_await resolver.async_resolve(host, service, asio::as_tuple(asio::use_awaitable));
    if (rec || found.empty()) {
      co_return Status(Code::kUnavailable, "dial tcp: lookup " + host + ": " + (rec ? rec.message() : "no such host"));
    }
    addr = found.begin()->endpoint().address();
  }
  PrepareTlsStream(s, server_name);
  const asio::ip::tcp::endpoint to(addr, static_cast<unsigned short>(port));
  auto [cec] = co_await beast::get_lowest_layer(s).async_connect(to, asio::as_tuple(asio::use_awaitable));
  if (cec) co_return Status(Code::kUnavailable, DialError(JoinHostPort(addr.to_string(), port), cec));
  auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) co_return Status(Code::kUnavailable, "tls: " + hec.message());
  co_return Status::Ok();
}

}  // namespace kite
