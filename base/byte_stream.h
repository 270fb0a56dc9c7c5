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
#include <boost/asio/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

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
// ssl_stream over one, or a TlsSocket). Bytes the caller already read past an HTTP header go in
// `pending`: they are returned by the first reads.
//
// Over a beast::tcp_stream or a TlsSocket, reads and writes that can complete at once do so
// without suspending (bytes already arrived; a write the kernel takes whole): a relay's chunk
// then costs its recv() and send(), not two trips through the scheduler, each of which could
// hand the session to the other io thread and wake it. After kSyncRun such operations in a row
// one goes the asynchronous way, so a session that never blocks still lets the strand's other
// work (its other direction) and the thread's other connections run.
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
    if (read_run_ < kSyncRun) {
      boost::system::error_code ec;
      const size_t n = TryRead(data, size, ec);
      if (ec != boost::asio::error::would_block) {
        ++read_run_;
        co_return ec ? 0 : n;
      }
    }
    read_run_ = 0;
    auto buf = boost::asio::buffer(data, size);  // named: g++ 12 and temporaries in co_await
    auto [ec, n] = co_await s_.async_read_some(buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return 0;
    co_return n;
  }
  boost::asio::awaitable<bool> Write(std::string_view data) override {
    if (closed_) co_return false;
    if (write_run_ < kSyncRun) {
      boost::system::error_code ec;
      while (!data.empty()) {
        const size_t n = TryWrite(data.data(), data.size(), ec);
        if (ec == boost::asio::error::would_block) break;
        if (ec) co_return false;
        data.remove_prefix(n);
      }
      if (data.empty() && !Unsent()) {
        ++write_run_;
        co_return true;
      }
    }
    write_run_ = 0;
    // The rest, after what an earlier write left queued (a write of no bytes sends just that).
    auto buf = boost::asio::buffer(data.data(), data.size());
    boost::system::error_code ec;
    if (data.empty()) {
      std::tie(ec, std::ignore) = co_await s_.async_write_some(buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    } else {
      std::tie(ec, std::ignore) = co_await boost::asio::async_write(s_, buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return !ec;
  }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(s_).socket().close(ec);
  }

 private:
  static constexpr int kSyncRun = 16;  // 1 MiB of 64 KiB chunks

  // would_block when the operation must wait (or this stream has no way to try it).
  size_t TryRead(char* data, size_t size, boost::system::error_code& ec) {
    if constexpr (requires { s_.try_read_some(data, size, ec); }) {
      return s_.try_read_some(data, size, ec);
    } else if constexpr (std::is_same_v<S, boost::beast::tcp_stream>) {
      return TrySocket(::recv(s_.socket().native_handle(), data, size, MSG_DONTWAIT), ec, true);
    } else {
      ec = boost::asio::error::would_block;
      return 0;
    }
  }
  size_t TryWrite(const char* data, size_t size, boost::system::error_code& ec) {
    if constexpr (requires { s_.try_write_some(data, size, ec); }) {
      return s_.try_write_some(data, size, ec);
    } else if constexpr (std::is_same_v<S, boost::beast::tcp_stream>) {
      return TrySocket(::send(s_.socket().native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL), ec, false);
    } else {
      ec = boost::asio::error::would_block;
      return 0;
    }
  }
  bool Unsent() const {
    if constexpr (requires { s_.has_unsent(); }) {
      return s_.has_unsent();
    } else {
      return false;
    }
  }
  static size_t TrySocket(ssize_t n, boost::system::error_code& ec, bool reading) {
    ec = {};
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0 && reading) {
      ec = boost::asio::error::eof;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    } else {
      ec = boost::asio::error::would_block;
    }
    return 0;
  }

  S& s_;
  std::string pending_;
  bool closed_ = false;
  int read_run_ = 0, write_run_ = 0;  // operations done at once since the last that waited
};

// Pipes `a` and `b` into each other until either ends, then closes both. Runs both directions on
// the calling coroutine's executor.
boost::asio::awaitable<void> Relay(ByteStream& a, ByteStream& b);

}  // namespace kite
