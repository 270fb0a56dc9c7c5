// Noticing that the client of a streamed answer went away while there is nothing to send it.
//
// ClientGone: whether the client of `res` has closed or reset its connection, without reading
// from it. Always false for in-process responders. Call it on the executor the handler runs on.
//
// ClientWatch: while a relay waits on its upstream (a kubelet's followed log, a pod) with
// nothing to send, it checks every `period` whether its client went away and then calls
// `on_gone` once (which closes the upstream connection, so the wait ends and the relay
// returns). Without it an idle `kubectl logs -f` whose kubectl was killed would hold its
// connections until the container's next line. Runs on the executor it is started from (a
// connection's strand, so `on_gone` never races the relay); destroying the watch stops it,
// after which neither `res` nor `on_gone` is touched.
//
// RelayAnswerBody: the relay itself, for a proxy that has read an upstream's answer header
// (the API server's pods/log and nodes/proxy to a kubelet, services/proxy and pods/proxy to a
// pod): the body goes to `res`, whose stream has begun, piece by piece as it arrives (a followed
// log trickles: whatever one read returns is one chunk, never held back to fill a buffer), under
// a ClientWatch that closes the upstream when the client leaves while it is idle; a failed write
// to the client ends it too. Ends the client's stream (EndStream) and closes the upstream.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/https_server.h"

namespace kite {

bool ClientGone(HttpsResponder& res);

class ClientWatch {
 public:
  ClientWatch(boost::asio::any_io_executor executor, HttpsResponder& res, std::function<void()> on_gone,
              std::chrono::milliseconds period = std::chrono::milliseconds(500));
  ~ClientWatch();
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// `upstream` is a Beast stream (beast::tcp_stream, or TLS over one) on the handler's executor;
// `buf` and `p` are what read its answer's header.
template <class Stream>
boost::asio::awaitable<void> RelayAnswerBody(Stream& upstream, boost::beast::flat_buffer& buf,
                                             boost::beast::http::response_parser<boost::beast::http::buffer_body>& p,
                                             HttpsResponder& res) {
  namespace http = boost::beast::http;
  auto& tcp = boost::beast::get_lowest_layer(upstream);
  auto executor = co_await boost::asio::this_coro::executor;
  ClientWatch watch(executor, res, [&tcp] { tcp.close(); });
  constexpr size_t kPiece = 64 * 1024;
  auto piece = std::make_unique<char[]>(kPiece);
  while (!p.is_done()) {
    p.get().body().data = piece.get();
    p.get().body().size = kPiece;
    // read_some: whatever has arrived, not a full buffer.
    auto [ec, n] = co_await http::async_read_some(upstream, buf, p, boost::asio::as_tuple(boost::asio::use_awaitable));
    const size_t got = kPiece - p.get().body().size;
    if (got > 0) {
      std::string data(piece.get(), got);
      if (!co_await res.WriteChunk(std::move(data))) break;  // the client went away
    }
    if (ec && ec != http::error::need_buffer) break;
  }
  co_await res.EndStream();
  tcp.close();
}

}  // namespace kite
