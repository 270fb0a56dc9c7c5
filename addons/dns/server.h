// DnsServer: kite-dns's sockets. UDP and TCP on one address and port, answered on the one
// thread that runs the io_context (the Responder answers from the precomputed Zone without
// locks or allocation in the common case); names outside the cluster go to the upstream
// resolvers over UDP (over TCP when the upstream's UDP reply was truncated and the client asked
// over TCP), through the AnswerCache.
//
// Threading: every member runs on the io_context's thread, except SetZone, which may be called
// from any thread (it posts). Bounded: at most kMaxPending forwarded queries in flight (more are
// answered SERVFAIL), at most kMaxTcpConnections TCP clients (more are closed), TCP clients
// idle for 10 s closed, each query forwarded at most once per upstream with a 2 s timeout
// (none when the upstream refuses: then SERVFAIL at once, not after the timeout).
// Metrics under CoreDNS's names (coredns_dns_*, coredns_cache_*, coredns_forward_*).
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "addons/dns/cache.h"
#include "addons/dns/zone.h"
#include "base/status.h"

namespace kite::dns {

struct ServerOptions {
  std::string address = "0.0.0.0";
  int port = 53;                       // 0 picks a free one (tests)
  std::vector<std::string> upstreams;  // "ip", "ip:port", "[v6]:port"; empty: no forwarding
  AnswerCache::Options cache;
  uint16_t udp_size = 1232;
  // How long one upstream may take before the next is asked (or SERVFAIL). An upstream that
  // says it cannot be reached (ICMP refused/unreachable) or answers REFUSED is left at once.
  std::chrono::milliseconds upstream_timeout{2000};
};

class DnsServer {
 public:
  DnsServer(boost::asio::io_context& io, ServerOptions options, std::shared_ptr<const Zone> zone);
  ~DnsServer();

  // Binds the UDP socket and the TCP listener (the same port; with port 0 the UDP socket's
  // port is taken for TCP too) and the upstream sockets; starts serving once io runs.
  Status Start();
  int port() const;
  // Thread-safe: the next queries are answered from `zone`.
  void SetZone(std::shared_ptr<const Zone> zone);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kite::dns
