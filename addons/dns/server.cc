#include "addons/dns/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <cstring>
#include <chrono>
#include <deque>
#include <random>
#include <unordered_map>

#include "addons/dns/responder.h"
#include "addons/dns/server_metrics.h"
#include "addons/dns/upstreams.h"
#include "base/log.h"
#include "base/metrics.h"

namespace kite::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxPending = 4096;
constexpr size_t kMaxTcpConnections = 1024;
constexpr size_t kMaxTcpQueued = 256;  // replies waiting to be written to one TCP client
constexpr auto kTcpIdle = std::chrono::seconds(10);
constexpr auto kSweep = std::chrono::milliseconds(250);

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}


}  // namespace

class TcpSession;

class DnsServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, ServerOptions o, std::shared_ptr<const Zone> zone)
      : io_(io),
        options_(std::move(o)),
        responder_(std::move(zone), !options_.upstreams.empty(), options_.udp_size),
        cache_(options_.cache),
        udp_(io),
        acceptor_(io),
        sweep_(io),
        rng_(std::random_device{}()) {}

  Status Start();
  void Stop() {
    boost::system::error_code ec;
    udp_.close(ec);
    acceptor_.close(ec);
    sweep_.cancel();
    for (auto& u : upstreams_) u->sock.close(ec);
  }
  // One TCP message from `session` (its reply is sent through session->Send).
  void OnTcpMessage(const std::shared_ptr<TcpSession>& session, const uint8_t* msg, size_t len, bool v6);
  void TcpClosed() { --tcp_count_; }

  asio::io_context& io_;
  ServerOptions options_;
  Responder responder_;
  AnswerCache cache_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  asio::steady_timer sweep_;
  std::mt19937 rng_;
  std::unique_ptr<ServerMetrics> metrics_;

 private:
  struct Upstream {
    explicit Upstream(asio::io_context& io) : sock(io) {}
    size_t index = 0;  // in upstreams_
    udp::endpoint ep;
    udp::socket sock;
    std::array<uint8_t, 65536> buf;
    prometheus::Counter* requests = nullptr;
  };
  struct Pending {
    Query q;
    std::string question;              // the client's question octets
    std::weak_ptr<TcpSession> tcp;     // the client, when it asked over TCP
    udp::endpoint client;              // the client, over UDP
    bool over_tcp = false, v6 = false;
    Clock::time_point start, deadline;
    size_t upstream = 0, tries = 0;
    std::string wire;                  // the query as sent upstream
    std::shared_ptr<tcp::socket> upstream_tcp;  // during a TCP retry
  };

  void ReceiveUdp();
  // Answers one datagram; true when `reply` holds an answer to send back to `peer` (false:
  // dropped, or forwarded, whose answer is sent when it arrives).
  bool OnUdp(const uint8_t* msg, size_t n, const udp::endpoint& peer, std::string* reply);
  void DrainUdp();
  void Accept();
  void ReceiveUpstream(Upstream* u);
  void Forward(const Query& q, const uint8_t* req, Clock::time_point start, const udp::endpoint* client,
               const std::shared_ptr<TcpSession>& session, bool v6);
  // Sends p to its upstream, else (a send error) to the next ones it has not tried; false when
  // none took it (the caller answers ServFail).
  bool SendUpstream(Pending& p);
  // Answers p SERVFAIL now (the caller erases it).
  void ServFail(Pending& p);
  // The upstream at `index` said it cannot be reached (an ICMP error on its connected socket):
  // its queries in flight move on to the next upstream at once, or are answered SERVFAIL.
  void UpstreamFailed(size_t index);
  void OnUpstreamReply(uint16_t id, const uint8_t* msg, size_t len, bool via_tcp);
  void RetryOverTcp(uint16_t id, Pending& p);
  void Reply(Pending& p, std::string& reply);
  void ReplyTo(bool over_tcp, const udp::endpoint& client, const std::shared_ptr<TcpSession>& session,
               std::string& reply);
  void Sweep();

  std::array<uint8_t, 65536> udp_buf_;
  udp::endpoint udp_peer_;
  // Batches for recvmmsg/sendmmsg: under load a burst of queries costs two system calls.
  // Queries longer than kBatchBuffer (never seen from a stub resolver) are dropped there.
  static constexpr size_t kBatch = 32, kBatchBuffer = 4096;
  std::array<std::array<uint8_t, kBatchBuffer>, kBatch> batch_in_;
  std::array<sockaddr_storage, kBatch> batch_peers_;
  std::array<iovec, kBatch> batch_iov_, batch_out_iov_;
  std::array<mmsghdr, kBatch> batch_msgs_, batch_out_msgs_;
  std::array<std::string, kBatch> batch_replies_;
  std::string out_;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::unordered_map<uint16_t, Pending> pending_;
  size_t next_upstream_ = 0;
  size_t tcp_count_ = 0;
};

// One TCP client: length-prefixed messages in, replies out in the order they are ready
// (RFC 7766 allows out of order), closed after kTcpIdle without a message.
class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(std::shared_ptr<DnsServer::Impl> server, tcp::socket sock)
      : server_(std::move(server)), sock_(std::move(sock)), idle_(server_->io_) {}
  ~TcpSession() { server_->TcpClosed(); }

  void Start() {
    boost::system::error_code ec;
    const auto peer = sock_.remote_endpoint(ec);
    v6_ = !ec && peer.address().is_v6() && !peer.address().to_v6().is_v4_mapped();
    ReadLength();
  }
  void Send(const std::string& reply) {
    if (!sock_.is_open()) return;
    if (writes_.size() >= kMaxTcpQueued) return Close();
    std::string framed(2, '\0');
    Put16(reinterpret_cast<uint8_t*>(framed.data()), static_cast<uint16_t>(reply.size()));
    framed += reply;
    writes_.push_back(std::move(framed));
    if (writes_.size() == 1) WriteNext();
  }

 private:
  void Close() {
    boost::system::error_code ec;
    sock_.close(ec);
    idle_.cancel();
  }
  void ArmIdle() {
    idle_.expires_after(kTcpIdle);
    idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Close();
    });
  }
  void ReadLength() {
    ArmIdle();
    asio::async_read(sock_, asio::buffer(len_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      const size_t n = Get16(self->len_.data());
      if (n < kHeaderSize) return self->Close();  // nothing answerable
      self->body_.resize(n);
      asio::async_read(self->sock_, asio::buffer(self->body_), [self](boost::system::error_code ec2, size_t) {
        if (ec2) return self->Close();
        self->server_->OnTcpMessage(self, self->body_.data(), self->body_.size(), self->v6_);
        self->ReadLength();
      });
    });
  }
  void WriteNext() {
    asio::async_write(sock_, asio::buffer(writes_.front()), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      self->writes_.pop_front();
      if (!self->writes_.empty()) self->WriteNext();
    });
  }

  std::shared_ptr<DnsServer::Impl> server_;
  tcp::socket sock_;
  asio::steady_timer idle_;
  std::array<uint8_t, 2> len_;
  std::vector<uint8_t> body_;
  std::deque<std::string> writes_;
  bool v6_ = false;
};

Status DnsServer::Impl::Start() {
  auto listen = ParseEndpoint(options_.address, options_.port);
  if (!listen.ok()) return listen.status();
  boost::system::error_code ec;
  udp_.open(listen->protocol(), ec);
  if (!ec && listen->address().is_v6()) udp_.set_option(asio::ip::v6_only(false), ec);
  if (!ec) udp_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  if (!ec) udp_.bind(*listen, ec);
  if (ec) return Status(Code::kUnavailable, "udp " + options_.address + ":" + std::to_string(options_.port) + ": " + ec.message());
  udp_.non_blocking(true, ec);
  const tcp::endpoint tcp_ep(listen->address(), udp_.local_endpoint().port());
  acceptor_.open(tcp_ep.protocol(), ec);
  if (!ec && tcp_ep.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(tcp_ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kUnavailable, "tcp port " + std::to_string(tcp_ep.port()) + ": " + ec.message());

  const std::string server = "dns://:" + std::to_string(udp_.local_endpoint().port());
  metrics_ = std::make_unique<ServerMetrics>(server);
  for (const auto& text : options_.upstreams) {
    auto ep = ParseEndpoint(text, 53);
    if (!ep.ok()) return ep.status();
    auto u = std::make_unique<Upstream>(io_);
    u->index = upstreams_.size();
    u->ep = *ep;
    u->sock.open(ep->protocol(), ec);
    if (!ec) u->sock.connect(*ep, ec);  // connected: replies from anywhere else are not ours
    if (ec) return Status(Code::kUnavailable, "upstream " + text + ": " + ec.message());
    u->requests = &metrics_->forward_family->Add({{"to", ep->address().to_string() + ":" + std::to_string(ep->port())}});
    upstreams_.push_back(std::move(u));
  }
  ReceiveUdp();
  Accept();
  for (auto& u : upstreams_) ReceiveUpstream(u.get());
  Sweep();
  return Status::Ok();
}

void DnsServer::Impl::ReceiveUdp() {
  udp_.async_receive_from(asio::buffer(udp_buf_), udp_peer_, [self = shared_from_this()](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted || !self->udp_.is_open()) return;
    if (!ec && self->OnUdp(self->udp_buf_.data(), n, self->udp_peer_, &self->out_)) {
      boost::system::error_code e;
      self->udp_.send_to(asio::buffer(self->out_), self->udp_peer_, 0, e);  // non-blocking: a full buffer drops it
    }
    // Then what else is queued, in batches, before going back to the reactor.
    self->DrainUdp();
    self->ReceiveUdp();
  });
}

void DnsServer::Impl::DrainUdp() {
  const int fd = udp_.native_handle();
  for (int round = 0; round < 16; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      batch_iov_[i] = iovec{batch_in_[i].data(), kBatchBuffer};
      batch_msgs_[i] = mmsghdr{};
      batch_msgs_[i].msg_hdr.msg_name = &batch_peers_[i];
      batch_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      batch_msgs_[i].msg_hdr.msg_iov = &batch_iov_[i];
      batch_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(fd, batch_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    unsigned replies = 0;
    udp::endpoint peer;
    for (int i = 0; i < got; ++i) {
      const auto& h = batch_msgs_[static_cast<size_t>(i)].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) continue;
      std::memcpy(peer.data(), h.msg_name, h.msg_namelen);
      peer.resize(h.msg_namelen);
      std::string& reply = batch_replies_[replies];
      if (!OnUdp(batch_in_[static_cast<size_t>(i)].data(), batch_msgs_[static_cast<size_t>(i)].msg_len, peer, &reply)) continue;
      batch_out_iov_[replies] = iovec{reply.data(), reply.size()};
      batch_out_msgs_[replies] = mmsghdr{};
      batch_out_msgs_[replies].msg_hdr.msg_name = const_cast<void*>(h.msg_name);
      batch_out_msgs_[replies].msg_hdr.msg_namelen = h.msg_namelen;
      batch_out_msgs_[replies].msg_hdr.msg_iov = &batch_out_iov_[replies];
      batch_out_msgs_[replies].msg_hdr.msg_iovlen = 1;
      ++replies;
    }
    for (unsigned sent = 0; sent < replies;) {
      const int n = ::sendmmsg(fd, batch_out_msgs_.data() + sent, replies - sent, MSG_DONTWAIT);
      if (n <= 0) break;  // a full socket buffer drops the rest, as UDP may
      sent += static_cast<unsigned>(n);
    }
    if (static_cast<size_t>(got) < kBatch) return;
  }
}

bool DnsServer::Impl::OnUdp(const uint8_t* msg, size_t n, const udp::endpoint& peer, std::string* reply) {
  const auto start = Clock::now();
  const bool v6 = peer.address().is_v6() && !peer.address().to_v6().is_v4_mapped();
  switch (responder_.Respond(msg, n, Transport::kUdp, reply)) {
    case Action::kDrop:
      return false;
    case Action::kForward: {
      const Query& q = responder_.query();
      Forward(q, msg, start, &peer, nullptr, v6);
      return false;
    }
    case Action::kReply:
      break;
  }
  metrics_->Record(false, v6, responder_.query().qtype, Get16(reinterpret_cast<const uint8_t*>(reply->data()) + 2) & 0xF,
                   start);
  return true;
}

void DnsServer::Impl::OnTcpMessage(const std::shared_ptr<TcpSession>& session, const uint8_t* msg, size_t len, bool v6) {
  const auto start = Clock::now();
  switch (responder_.Respond(msg, len, Transport::kTcp, &out_)) {
    case Action::kDrop:
      return;
    case Action::kForward: {
      const Query& q = responder_.query();
      Forward(q, msg, start, nullptr, session, v6);
      return;
    }
    case Action::kReply:
      break;
  }
  session->Send(out_);
  metrics_->Record(true, v6, responder_.query().qtype, Get16(reinterpret_cast<const uint8_t*>(out_.data()) + 2) & 0xF,
                   start);
}

void DnsServer::Impl::Accept() {
  acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      if (self->tcp_count_ >= kMaxTcpConnections) {
        sock.close(ec);
      } else {
        ++self->tcp_count_;
        std::make_shared<TcpSession>(self, std::move(sock))->Start();
      }
    }
    self->Accept();
  });
}

void DnsServer::Impl::ReplyTo(bool over_tcp, const udp::endpoint& client, const std::shared_ptr<TcpSession>& session,
                              std::string& reply) {
  if (over_tcp) {
    if (session) session->Send(reply);
  } else {
    boost::system::error_code ec;
    udp_.send_to(asio::buffer(reply), client, 0, ec);
  }
}

void DnsServer::Impl::Forward(const Query& q, const uint8_t* req, Clock::time_point start, const udp::endpoint* client,
                              const std::shared_ptr<TcpSession>& session, bool v6) {
  const bool over_tcp = client == nullptr;
  const udp::endpoint peer = client ? *client : udp::endpoint();
  metrics_->cache_req->Increment();
  AnswerCache::Kind kind;
  if (cache_.Get(q, req, NowSeconds(), &out_, &kind)) {
    (kind == AnswerCache::Kind::kSuccess ? metrics_->hit_success : metrics_->hit_denial)->Increment();
    responder_.Finish(q, responder_.Limit(q, over_tcp ? Transport::kTcp : Transport::kUdp), &out_);
    ReplyTo(over_tcp, peer, session, out_);
    metrics_->Record(over_tcp, v6, q.qtype, Get16(reinterpret_cast<const uint8_t*>(out_.data()) + 2) & 0xF, start);
    return;
  }
  metrics_->miss->Increment();
  if (pending_.size() >= kMaxPending) {
    BuildError(req, q, kServFail, options_.udp_size, &out_);
    ReplyTo(over_tcp, peer, session, out_);
    metrics_->Record(over_tcp, v6, q.qtype, kServFail, start);
    return;
  }
  uint16_t id;
  do {
    id = static_cast<uint16_t>(rng_());
  } while (pending_.contains(id));
  Pending& p = pending_[id];
  p.q = q;
  p.question.assign(reinterpret_cast<const char*>(req) + kHeaderSize, q.question_end - kHeaderSize);
  p.tcp = session;
  p.client = peer;
  p.over_tcp = over_tcp;
  p.v6 = v6;
  p.start = start;
  p.upstream = next_upstream_++ % upstreams_.size();
  // Our own query: a fresh id, recursion desired, the client's CD, our EDNS payload size.
  p.wire.assign(kHeaderSize, '\0');
  auto* h = reinterpret_cast<uint8_t*>(p.wire.data());
  Put16(h, id);
  Put16(h + 2, static_cast<uint16_t>(kFlagRD | (q.flags & kFlagCD)));
  Put16(h + 4, 1);
  Put16(h + 10, 1);
  p.wire += p.question;
  AppendOpt(options_.udp_size, 0, &p.wire);
  if (!SendUpstream(p)) {
    ServFail(p);
    pending_.erase(id);
  }
}

bool DnsServer::Impl::SendUpstream(Pending& p) {
  for (;;) {
    Upstream& u = *upstreams_[p.upstream];
    ++p.tries;
    p.deadline = Clock::now() + options_.upstream_timeout;
    u.requests->Increment();
    boost::system::error_code ec;
    u.sock.send(asio::buffer(p.wire), 0, ec);
    // An error here (no route, or the ICMP refusal of an earlier query reported now) means
    // this upstream cannot answer: waiting out the timeout would only keep the client waiting.
    if (!ec) return true;
    if (p.tries >= upstreams_.size()) return false;
    p.upstream = (p.upstream + 1) % upstreams_.size();
  }
}

void DnsServer::Impl::ServFail(Pending& p) {
  if (p.upstream_tcp) {
    boost::system::error_code ec;
    p.upstream_tcp->close(ec);
  }
  BuildError(reinterpret_cast<const uint8_t*>(p.wire.data()), p.q, kServFail, options_.udp_size, &out_);
  // (our wire carries the client's question at the same offsets; q has the client's id)
  Reply(p, out_);
}

void DnsServer::Impl::UpstreamFailed(size_t index) {
  std::vector<uint16_t> ids;
  for (const auto& [id, p] : pending_) {
    if (p.upstream == index && !p.upstream_tcp) ids.push_back(id);
  }
  for (const uint16_t id : ids) {
    Pending& p = pending_.at(id);
    bool sent = false;
    if (p.tries < upstreams_.size()) {
      p.upstream = (p.upstream + 1) % upstreams_.size();
      sent = SendUpstream(p);
    }
    if (!sent) {
      ServFail(p);
      pending_.erase(id);
    }
  }
}

void DnsServer::Impl::ReceiveUpstream(Upstream* u) {
  u->sock.async_receive(asio::buffer(u->buf), [self = shared_from_this(), u](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted || !u->sock.is_open()) return;
    if (!ec) {
      self->OnUpstreamReply(Get16(u->buf.data()), u->buf.data(), n, false);
    } else if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
               ec == asio::error::network_unreachable) {
      self->UpstreamFailed(u->index);
    }
    self->ReceiveUpstream(u);
  });
}

void DnsServer::Impl::OnUpstreamReply(uint16_t id, const uint8_t* msg, size_t len, bool via_tcp) {
  if (len < kHeaderSize || !(Get16(msg + 2) & kFlagQR)) return;
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (p.upstream_tcp && !via_tcp) return;  // a late UDP reply while the TCP retry runs
  // The reply must be to our question (an off-path guess of the id alone is not enough).
  size_t pos = kHeaderSize;
  std::string name;
  if (Get16(msg + 4) != 1 || !ReadName(msg, len, &pos, &name) || pos + 4 > len || name != p.q.name ||
      Get16(msg + pos) != p.q.qtype || Get16(msg + pos + 2) != p.q.qclass) {
    return;
  }
  ResponseInfo info;
  if (!InspectResponse(msg, len, &info)) {
    ServFail(p);
    pending_.erase(it);
    return;
  }
  if (info.rcode == kRefused) {
    // This upstream will not resolve for us (not a recursive resolver for us, or has none
    // itself): the next one may; when none is left the client gets SERVFAIL, as a recursive
    // resolver reports a forwarder's refusal.
    bool sent = false;
    if (!via_tcp && p.tries < upstreams_.size()) {
      p.upstream = (p.upstream + 1) % upstreams_.size();
      sent = SendUpstream(p);
    }
    if (!sent) {
      ServFail(p);
      pending_.erase(it);
    }
    return;
  }
  if (info.truncated && p.over_tcp && !via_tcp) return RetryOverTcp(id, p);
  cache_.Put(p.q, msg, len, NowSeconds());
  metrics_->entries_success->Set(static_cast<double>(cache_.size()));
  if (!AnswerCache::Adapt(p.q, reinterpret_cast<const uint8_t*>(p.question.data()), msg, len, &out_)) {
    BuildError(reinterpret_cast<const uint8_t*>(p.wire.data()), p.q, kServFail, options_.udp_size, &out_);
  } else {
    responder_.Finish(p.q, responder_.Limit(p.q, p.over_tcp ? Transport::kTcp : Transport::kUdp), &out_);
  }
  Reply(p, out_);
  pending_.erase(it);
}

void DnsServer::Impl::Reply(Pending& p, std::string& reply) {
  ReplyTo(p.over_tcp, p.client, p.tcp.lock(), reply);
  metrics_->Record(p.over_tcp, p.v6, p.q.qtype, Get16(reinterpret_cast<const uint8_t*>(reply.data()) + 2) & 0xF, p.start);
}

void DnsServer::Impl::RetryOverTcp(uint16_t id, Pending& p) {
  // The upstream's UDP reply was truncated and the client asked over TCP: ask again over TCP.
  struct Exchange {
    std::array<uint8_t, 2> len;
    std::vector<uint8_t> body;
    std::string framed;
  };
  auto sock = std::make_shared<tcp::socket>(io_);
  p.upstream_tcp = sock;
  p.deadline = Clock::now() + options_.upstream_timeout;
  auto x = std::make_shared<Exchange>();
  x->framed.assign(2, '\0');
  Put16(reinterpret_cast<uint8_t*>(x->framed.data()), static_cast<uint16_t>(p.wire.size()));
  x->framed += p.wire;
  const auto& uep = upstreams_[p.upstream]->ep;
  const tcp::endpoint ep(uep.address(), uep.port());
  upstreams_[p.upstream]->requests->Increment();
  auto self = shared_from_this();
  sock->async_connect(ep, [self, sock, x, id](boost::system::error_code ec) {
    if (ec) return;  // the sweep answers SERVFAIL at the deadline
    asio::async_write(*sock, asio::buffer(x->framed), [self, sock, x, id](boost::system::error_code ec2, size_t) {
      if (ec2) return;
      asio::async_read(*sock, asio::buffer(x->len), [self, sock, x, id](boost::system::error_code ec3, size_t) {
        if (ec3) return;
        x->body.resize(Get16(x->len.data()));
        asio::async_read(*sock, asio::buffer(x->body), [self, sock, x, id](boost::system::error_code ec4, size_t) {
          if (ec4) return;
          auto it = self->pending_.find(id);
          if (it == self->pending_.end() || it->second.upstream_tcp != sock) return;
          boost::system::error_code ignored;
          sock->close(ignored);
          self->OnUpstreamReply(id, x->body.data(), x->body.size(), true);
        });
      });
    });
  });
}

void DnsServer::Impl::Sweep() {
  const auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (now < p.deadline) {
      ++it;
      continue;
    }
    if (!p.upstream_tcp && p.tries < upstreams_.size()) {
      p.upstream = (p.upstream + 1) % upstreams_.size();
      if (SendUpstream(p)) {
        ++it;
        continue;
      }
    }
    ServFail(p);
    it = pending_.erase(it);
  }
  sweep_.expires_after(kSweep);
  sweep_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->Sweep();
  });
}

DnsServer::DnsServer(asio::io_context& io, ServerOptions options, std::shared_ptr<const Zone> zone)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(zone))) {}

DnsServer::~DnsServer() {
  // Sockets close on the io thread if it still runs; else here (nothing else touches them).
  impl_->Stop();
}

Status DnsServer::Start() { return impl_->Start(); }

int DnsServer::port() const {
  boost::system::error_code ec;
  return impl_->udp_.local_endpoint(ec).port();
}

void DnsServer::SetZone(std::shared_ptr<const Zone> zone) {
  asio::post(impl_->io_, [impl = impl_, zone = std::move(zone)]() mutable { impl->responder_.SetZone(std::move(zone)); });
}

}  // namespace kite::dns
