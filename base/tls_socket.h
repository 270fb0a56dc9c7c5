// TlsSocket: TLS over a TCP socket, with OpenSSL doing the record work and the socket read and
// written directly (no intermediate record buffers). Used by HttpsServer as its connection
// stream (server side) and by the API server's connections to kubelets for streamed sessions
// (client side); Beast's HTTP and WebSocket code take it as any AsyncStream.
//
// Why not asio::ssl::stream: that engine keeps two 17 KiB record buffers and a 2 x 17 KiB BIO
// pair for the connection's whole life (~80 KiB per idle connection, most of what 1,000 idle
// watchers cost; bench/run_watch_memory.sh). Here an idle connection holds only OpenSSL's SSL
// object (its record buffers are released whenever they drain, SSL_MODE_RELEASE_BUFFERS) and the
// bytes the kernel would not take yet.
//
// How it works:
// - Reads: SSL_read pulls from the socket with recv(). When it needs more, the operation waits
//   with a 1-byte MSG_PEEK receive (speculative in Asio's reactor, so no readiness edge is lost
//   between the failed recv and the wait, as an async_wait could lose it with two io threads).
//   One read returns every whole record OpenSSL already holds that fits (read-ahead takes
//   several from one recv), not just the first.
// - Writes: records go to the socket with send(MSG_NOSIGNAL); what the kernel does not take is
//   kept in `stash_` and the write completes once Asio has written it (so a client that stops
//   reading blocks its writer, which is how watches notice slow clients). One write takes at most
//   kMaxWrite bytes, its records leaving in one send(); scattered buffers starting with a small
//   one (Beast's chunk framing, a WebSocket frame header) are joined first, up to kMaxWrite.
// - Deadlines as beast::tcp_stream has them: after expires_after(d), once d passes the socket is
//   closed and pending or later operations fail with beast::error::timeout.
// - Contract as Asio streams: at most one read and one write operation at a time, all on the
//   socket's executor (a strand); close() may be called there at any time, and no OpenSSL call
//   touches the file descriptor after it (its number may be reused at once).
// - async_shutdown sends close_notify and does not wait for the peer's.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace kite {

class TlsSocket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using error_code = boost::system::error_code;

  // `socket` is connected; `ctx` holds the certificate, ciphers and verification settings;
  // `role`: which side of the handshake this end takes.
  TlsSocket(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx,
            boost::asio::ssl::stream_base::handshake_type role = boost::asio::ssl::stream_base::server);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  SSL* native_handle() { return ssl_; }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  void expires_after(std::chrono::steady_clock::duration d);
  void expires_never();
  void close();
  // Client side: the peer's certificate must name `host` (an IP address or a DNS name, sent as
  // SNI); call before the handshake.
  bool set_peer_name(const std::string& host);
  // Room for `bytes` of records in OpenSSL's read-ahead buffer (default: one record), so one recv
  // takes several: for bulk streams (port-forward). Takes effect once the buffer is empty.
  void set_read_buffer_size(size_t bytes);

  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type, Token&& token) {
    return Start<false, true>(HandshakeAct{}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_shutdown(Token&& token) {
    return Start<false, true>(ShutdownAct{}, std::forward<Token>(token));
  }
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return Start<true, false>(ReadAct<MutableBuffers>{buffers}, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return Start<true, true>(WriteAct<ConstBuffers>{buffers, {}}, std::forward<Token>(token));
  }

  // Without waiting, on the socket's executor, while no read (try_read_some) or no write
  // (try_write_some) operation is pending: the bytes OpenSSL holds or the socket has (would_block
  // when there are none, eof at the peer's close_notify), or the plaintext taken for sending (at
  // most kMaxWrite; would_block while earlier records still wait for the socket). Records the
  // kernel did not take stay queued (has_unsent): a write operation (one of no bytes will do)
  // sends them. For relays, which so skip the scheduler while bytes keep flowing.
  size_t try_read_some(void* data, size_t size, error_code& ec);
  size_t try_write_some(const void* data, size_t size, error_code& ec);
  bool has_unsent() const { return !stash_.empty() || flushing_; }

  // Plaintext bytes one write passes to OpenSSL at most (four records), and below which a first
  // buffer is joined with the next ones.
  static constexpr size_t kMaxWrite = 64 * 1024;
  static constexpr size_t kRecord = 16 * 1024;  // TLS's largest record
  static constexpr size_t kJoin = 16 * 1024;

 private:
  // The outcome of one OpenSSL call: done (with `ec`/`n`), or waiting for the socket to be
  // readable.
  struct Step {
    bool want_read = false;
    size_t n = 0;
    error_code ec;
  };
  Step Handshake();
  Step Shutdown();
  Step Read(void* data, size_t size);
  Step Write(const void* data, size_t size);
  Step Outcome(int rc);
  error_code Closed() const;
  boost::asio::const_buffer BeginFlush();  // moves the stash into out_
  void EndFlush();
  void TrySendStash();  // non-blocking, for a read that produced protocol output

  friend struct TlsSocketBio;
  int BioRead(char* data, int size);
  int BioWrite(const char* data, int size);

  struct HandshakeAct {
    Step operator()(TlsSocket& s) { return s.Handshake(); }
  };
  struct ShutdownAct {
    Step operator()(TlsSocket& s) { return s.Shutdown(); }
  };
  template <class B>
  struct ReadAct {
    B buffers;
    Step operator()(TlsSocket& s) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::mutable_buffer b(*it);
        if (b.size() > 0) return s.Read(b.data(), b.size());
      }
      return {};
    }
  };
  template <class B>
  struct WriteAct {
    B buffers;
    std::string joined;
    Step operator()(TlsSocket& s) {
      auto it = boost::asio::buffer_sequence_begin(buffers), end = boost::asio::buffer_sequence_end(buffers);
      while (it != end && boost::asio::const_buffer(*it).size() == 0) ++it;
      if (it == end) return {};
      boost::asio::const_buffer first(*it);
      joined.clear();
      if (first.size() >= kJoin || std::next(it) == end) {
        return s.Write(first.data(), std::min(first.size(), kMaxWrite));
      }
      for (; it != end && joined.size() < kMaxWrite; ++it) {
        boost::asio::const_buffer b(*it);
        joined.append(static_cast<const char*>(b.data()), std::min(b.size(), kMaxWrite - joined.size()));
      }
      Step step = s.Write(joined.data(), joined.size());
      std::string().swap(joined);  // encrypted now: not kept while the write waits for the socket
      return step;
    }
  };

  // One operation: runs `act` (an OpenSSL call), writes out what it left in the stash (when
  // kFlush; a read only tries a non-blocking send, since a write may be flushing meanwhile),
  // waits for readability and runs `act` again while it asks for more input.
  template <class Act, bool kSized, bool kFlush>
  struct Op {
    TlsSocket* s;
    Act act;
    enum State { kStart, kPosted, kFlushing, kWaitingRead, kRunning } state = kStart;
    Step step{};

    template <class Self>
    void operator()(Self& self, error_code ec = {}, size_t = 0) {
      const bool first = state == kStart;
      switch (state) {
        case kPosted:
          return Finish(self, step.ec);
        case kFlushing:
          s->EndFlush();
          if (ec) return Finish(self, s->expired_ ? error_code(boost::beast::error::timeout) : ec);
          return Advance(self, false);
        case kWaitingRead:
          // End of stream: the next OpenSSL call sees it and says whether it was a clean close.
          if (ec && ec != boost::asio::error::eof) {
            return Finish(self, s->expired_ ? error_code(boost::beast::error::timeout) : ec);
          }
          break;
        default:
          break;
      }
      state = kRunning;
      step = act(*s);
      Advance(self, first);
    }

    template <class Self>
    void Advance(Self& self, bool first) {
      if (kFlush && !s->stash_.empty() && !s->flushing_ && s->socket_.is_open()) {
        state = kFlushing;
        auto buf = s->BeginFlush();
        return boost::asio::async_write(s->socket_, buf, std::move(self));
      }
      if (step.want_read && s->socket_.is_open()) {
        state = kWaitingRead;
        auto buf = boost::asio::buffer(&s->peek_, 1);
        return s->socket_.async_receive(buf, boost::asio::socket_base::message_peek, std::move(self));
      }
      if (step.want_read) step.ec = s->Closed();
      if (first) {  // never complete inside the initiating call
        state = kPosted;
        auto ex = s->get_executor();
        // defer, not post: the caller's continuation, run by this thread once the current
        // handler returns, rather than handed to (and woken up on) another io thread.
        return boost::asio::defer(ex, std::move(self));
      }
      Finish(self, step.ec);
    }

    template <class Self>
    void Finish(Self& self, error_code ec) {
      if constexpr (kSized) {
        self.complete(ec, ec ? 0 : step.n);
      } else {
        self.complete(ec);
      }
    }
  };

  template <bool kSized, bool kFlush, class Act, class Token>
  auto Start(Act act, Token&& token) {
    if constexpr (kSized) {
      return boost::asio::async_compose<Token, void(error_code, size_t)>(Op<Act, kSized, kFlush>{this, std::move(act)},
                                                                         token, socket_);
    } else {
      return boost::asio::async_compose<Token, void(error_code)>(Op<Act, kSized, kFlush>{this, std::move(act)}, token,
                                                                 socket_);
    }
  }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  SSL* ssl_ = nullptr;
  std::string stash_;  // records the kernel did not take yet
  std::string out_;    // the stash being written by a flush
  bool flushing_ = false;
  bool batching_ = false;  // a Write in progress: records gather in a per-thread buffer for one send
  bool expired_ = false;
  int last_errno_ = 0;
  char peek_ = 0;
  uint64_t deadline_generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for a deadline firing late
};

// For beast::websocket::stream<TlsSocket&> (found by argument-dependent lookup): closing a
// WebSocket sends close_notify.
void teardown(boost::beast::role_type role, TlsSocket& stream, boost::system::error_code& ec);
// For Beast's timeouts and failures (beast::close_socket).
void beast_close_socket(TlsSocket& stream);
template <class Handler>
void async_teardown(boost::beast::role_type, TlsSocket& stream, Handler&& handler) {
  stream.async_shutdown(std::forward<Handler>(handler));
}

}  // namespace kite
