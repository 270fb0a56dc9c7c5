// Dialing a peer from a coroutine, and the failure in the words of Go's net package, so that the
// messages upstream passes on (probe output, webhook and aggregator errors, the kubelet proxy's)
// read the same from kite: "dial tcp 10.0.0.7:443: connect: connection refused",
// "dial tcp 10.0.0.7:443: i/o timeout", "dial tcp: lookup web.example: <reason>", "tls: <reason>".
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <string>

#include "base/https_client.h"
#include "base/status.h"

namespace kite {

// host:port, an IPv6 host in brackets (Go's net.JoinHostPort).
std::string JoinHostPort(const std::string& host, int port);

// Go's text for a failed connect to `hostport` (JoinHostPort's form).
std::string DialError(const std::string& hostport, const boost::system::error_code& ec);

// Connects `s` to host:port and completes a client TLS handshake, the peer's certificate checked
// for `server_name` (PrepareTlsStream: an IP address or a DNS name; SNI for names). `host` is an
// IP address or a name looked up first (the first address is dialed). The deadline is the
// caller's: arm it on get_lowest_layer(s) before. On failure kUnavailable with Go's text above.
boost::asio::awaitable<Status> DialTls(TlsStream& s, const std::string& host, int port, const std::string& server_name);

}  // namespace kite
