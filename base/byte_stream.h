// ByteStream: one side of a connection taken over after an HTTP upgrade (SPDY/3.1, or a
// WebSocket relayed as bytes), and Relay, which pipes two of them into each other. This is how
// `kubectl exec/attach/port-forward/cp` travel: kubectl <-> API server <-> kubelet <-> the
// runtime's stream server, each hop relaying the bytes of the session it did not terminate
// (upstream's UpgradeAwareHandler does the same).
//
// Contract:
// - ReadSome/Write run on the executor of the connection (its strand); Close may be called there
//   while a ReadSome or Write is pending, which then ends (0 / false).
// - Relay returns when either side ends (end of stream, error, Close): it then closes both, so no
//   coroutine, socket or buffer outlives the session. Whatever one side sent before it ended has
//   been written to the other.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace kite {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Up to `size` bytes into `data`: how many arrived; 0 at the end of the stream or on an error.
  virtual boost::asio::awaitable<size_t> ReadSome(char* data, size_t size) = 0;
  // All of `data`; false when the peer is gone.
  virtual boost::asio::awaitable<bool> Write(std::string_view data) = 0;
  // Drops the connection at once (no TLS close_notify): pending operations end.
  virtual void Close() = 0;
};

// A ByteStream over an Asio/Beast stream the caller keeps alive (a beast::tcp_stream, or an
// ssl_stream over one). Bytes the caller already read past an HTTP header go in `pending`: they
// are returned by the first reads.
template <class S>
class StreamOf final : public ByteStream {
 public:
  explicit StreamOf(S& s, std::string pending = {}) : s_(s), pending_(std::move(pending)) {}

  boost::asio::awaitable<size_t> ReadSome(char* data, size_t size) override {
    if (closed_) co_return 0;
    if (!pending_.empty()) {
      const size_t n = std::min(size, pending_.size());
      pending_.copy(data, n);
      pending_.erase(0, n);
      co_return n;
    }
    auto buf = boost::asio::buffer(data, size);  // named: g++ 12 and temporaries in co_await
    auto [ec, n] = co_await s_.async_read_some(buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return 0;
    co_return n;
  }
  boost::asio::awaitable<bool> Write(std::string_view data) override {
    if (closed_) co_return false;
    auto buf = boost::asio::buffer(data.data(), data.size());
    auto [ec, n] = co_await boost::asio::async_write(s_, buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return !ec;
  }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(s_).socket().close(ec);
  }

 private:
  S& s_;
  std::string pending_;
  bool closed_ = false;
};

// Pipes `a` and `b` into each other until either ends, then closes both. Runs both directions on
// the calling coroutine's executor.
boost::asio::awaitable<void> Relay(ByteStream& a, ByteStream& b);

}  // namespace kite
