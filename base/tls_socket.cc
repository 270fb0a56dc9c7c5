#include "base/tls_socket.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <boost/asio/ssl/error.hpp>

namespace kite {

// The BIO under the SSL object: recv/send on the socket's descriptor through the TlsSocket.
struct TlsSocketBio {
  static TlsSocket* Owner(BIO* b) { return static_cast<TlsSocket*>(BIO_get_data(b)); }
  static int Read(BIO* b, char* data, int size) {
    BIO_clear_retry_flags(b);
    const int n = Owner(b)->BioRead(data, size);
    if (n < 0 && Owner(b)->last_errno_ == EAGAIN) BIO_set_retry_read(b);
    return n;
  }
  static int Write(BIO* b, const char* data, int size) {
    BIO_clear_retry_flags(b);
    return Owner(b)->BioWrite(data, size);
  }
  static long Ctrl(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // writes are never buffered in the BIO
  }
  static int Create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }
  static BIO_METHOD* Method() {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kite tls socket");
      BIO_meth_set_read(m, Read);
      BIO_meth_set_write(m, Write);
      BIO_meth_set_ctrl(m, Ctrl);
      BIO_meth_set_create(m, Create);
      return m;
    }();
    return method;
  }
};

TlsSocket::TlsSocket(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx,
                     boost::asio::ssl::stream_base::handshake_type role)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), ssl_(SSL_new(ctx)) {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  // Partial writes and moving buffers as Asio's engine sets them; buffers released when empty
  // (HttpsServer turns that off for busy request/response connections); read-ahead so a record
  // is one recv, not a header and a body.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  BIO* bio = BIO_new(TlsSocketBio::Method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);
  if (role == boost::asio::ssl::stream_base::client) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
}

void TlsSocket::set_read_buffer_size(size_t bytes) {
  SSL_set_default_read_buffer_len(ssl_, bytes);
  SSL_free_buffers(ssl_);  // reallocated at the new size by the next read (fails, harmlessly, when in use)
}

bool TlsSocket::set_peer_name(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str()) == 1;
  return SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1 && SSL_set1_host(ssl_, host.c_str()) == 1;
}

TlsSocket::~TlsSocket() {
  *alive_ = false;
  SSL_free(ssl_);
}

void TlsSocket::expires_after(std::chrono::steady_clock::duration d) {
  const uint64_t generation = ++deadline_generation_;
  expired_ = false;
  timer_.expires_after(d);
  timer_.async_wait([this, alive = alive_, generation](const boost::system::error_code& ec) {
    // A deadline replaced or a stream destroyed after the timer fired must not close anything.
    if (ec || !*alive || generation != deadline_generation_) return;
    expired_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  });
}

void TlsSocket::expires_never() {
  ++deadline_generation_;
  timer_.cancel();
}

void TlsSocket::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

boost::system::error_code TlsSocket::Closed() const {
  return expired_ ? error_code(boost::beast::error::timeout) : error_code(boost::asio::error::bad_descriptor);
}

int TlsSocket::BioRead(char* data, int size) {
  if (!socket_.is_open()) {
    last_errno_ = EBADF;
    return -1;
  }
  const ssize_t n = ::recv(socket_.native_handle(), data, static_cast<size_t>(size), 0);
  if (n < 0) {
    last_errno_ = (errno == EWOULDBLOCK || errno == EINTR) ? EAGAIN : errno;
    return -1;
  }
  return static_cast<int>(n);
}

namespace {

// The records of one batched Write, gathered for one send: per io thread, so neither a connection
// keeps this memory nor does each write allocate (and fault in) a fresh buffer.
std::string& Batch() {
  static thread_local std::string batch;
  return batch;
}

}  // namespace

int TlsSocket::BioWrite(const char* data, int size) {
  if (!socket_.is_open()) {
    last_errno_ = EBADF;
    return -1;
  }
  const size_t len = static_cast<size_t>(size);
  if (batching_) {
    Batch().append(data, len);
    return size;
  }
  size_t sent = 0;
  if (stash_.empty() && !flushing_) {  // else the bytes must queue behind the stash
    const ssize_t n = ::send(socket_.native_handle(), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent = static_cast<size_t>(n);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      last_errno_ = errno;
      return -1;
    }
  }
  stash_.append(data + sent, len - sent);
  return size;
}

TlsSocket::Step TlsSocket::Outcome(int rc) {
  const int err = SSL_get_error(ssl_, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return Step{true, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return Step{false, 0, boost::asio::error::eof};
    case SSL_ERROR_SYSCALL:
      if (!socket_.is_open()) return Step{false, 0, Closed()};
      if (last_errno_ != 0 && last_errno_ != EAGAIN) return Step{false, 0, error_code(last_errno_, boost::system::system_category())};
      return Step{false, 0, boost::asio::ssl::error::stream_truncated};
    default: {
      const unsigned long e = ERR_get_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return Step{false, 0, boost::asio::ssl::error::stream_truncated};
      if (e == 0) return Step{false, 0, boost::asio::error::fault};
      return Step{false, 0, error_code(static_cast<int>(e), boost::asio::error::get_ssl_category())};
    }
  }
}

TlsSocket::Step TlsSocket::Handshake() {
  if (!socket_.is_open()) return Step{false, 0, Closed()};
  ERR_clear_error();
  last_errno_ = 0;
  const int rc = SSL_do_handshake(ssl_);
  return rc == 1 ? Step{} : Outcome(rc);
}

TlsSocket::Step TlsSocket::Shutdown() {
  if (!socket_.is_open()) return Step{false, 0, Closed()};
  ERR_clear_error();
  last_errno_ = 0;
  // 0 (close_notify sent, the peer's not yet received) is as good as 1 here: nothing is read
  // after it.
  const int rc = SSL_shutdown(ssl_);
  if (rc >= 0) return {};
  Step s = Outcome(rc);
  s.want_read = false;
  return s;
}

TlsSocket::Step TlsSocket::Read(void* data, size_t size) {
  if (!socket_.is_open()) return Step{false, 0, Closed()};
  ERR_clear_error();
  last_errno_ = 0;
  size_t n = 0;
  const int rc = SSL_read_ex(ssl_, data, size, &n);
  if (rc == 1) {
    // More whole records already read from the socket: taken now, not one per operation (a
    // relayed stream's 64 KiB arrive as four records). A partial one stays for the next read.
    auto* out = static_cast<char*>(data);
    size_t more = 0;
    while (n < size && SSL_has_pending(ssl_) && SSL_read_ex(ssl_, out + n, size - n, &more) == 1) n += more;
    ERR_clear_error();  // the last try may have wanted more input: not an error of this read
  }
  TrySendStash();  // a TLS 1.3 key update or alert may have produced output
  if (rc == 1) return Step{false, n, {}};
  return Outcome(rc);
}

TlsSocket::Step TlsSocket::Write(const void* data, size_t size) {
  if (!socket_.is_open()) return Step{false, 0, Closed()};
  ERR_clear_error();
  last_errno_ = 0;
  // With partial writes OpenSSL returns after each record: all of them are made here and leave
  // in one send() (a 64 KiB write was four sends and four operations).
  const auto* in = static_cast<const char*>(data);
  size_t n = 0, done = 0;
  int rc = 1;
  batching_ = size > kRecord;
  while (done < size && (rc = SSL_write_ex(ssl_, in + done, size - done, &n)) == 1) done += n;
  if (batching_) {
    batching_ = false;
    std::string& batch = Batch();
    size_t sent = 0;
    if (stash_.empty() && !flushing_ && socket_.is_open()) {  // else behind the stash, in order
      const ssize_t k = ::send(socket_.native_handle(), batch.data(), batch.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) sent = static_cast<size_t>(k);
    }
    stash_.append(batch, sent);  // what the kernel did not take: the operation flushes it
    batch.clear();
  }
  if (done > 0) return Step{false, done, {}};
  return Outcome(rc);
}

size_t TlsSocket::try_read_some(void* data, size_t size, error_code& ec) {
  ec = {};
  if (size == 0) return 0;
  const Step step = Read(data, size);
  ec = step.want_read ? error_code(boost::asio::error::would_block) : step.ec;
  return ec ? 0 : step.n;
}

size_t TlsSocket::try_write_some(const void* data, size_t size, error_code& ec) {
  ec = {};
  if (size == 0) return 0;
  if (has_unsent()) {
    ec = boost::asio::error::would_block;
    return 0;
  }
  const Step step = Write(data, std::min(size, kMaxWrite));
  ec = step.ec;
  return ec ? 0 : step.n;
}

boost::asio::const_buffer TlsSocket::BeginFlush() {
  flushing_ = true;
  out_.swap(stash_);
  return boost::asio::buffer(out_);
}

void TlsSocket::EndFlush() {
  flushing_ = false;
  std::string().swap(out_);  // a blocked writer's bytes are gone: give the memory back
}

void TlsSocket::TrySendStash() {
  if (stash_.empty() || flushing_ || !socket_.is_open()) return;
  const ssize_t n = ::send(socket_.native_handle(), stash_.data(), stash_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;  // the flush will report it
  if (n > 0 && static_cast<size_t>(n) == stash_.size()) {
    std::string().swap(stash_);  // an idle connection keeps no write memory
  } else if (n > 0) {
    stash_.erase(0, static_cast<size_t>(n));
  }
}

void teardown(boost::beast::role_type, TlsSocket& stream, boost::system::error_code& ec) {
  ec = {};
  stream.close();
}

void beast_close_socket(TlsSocket& stream) { stream.close(); }

}  // namespace kite
