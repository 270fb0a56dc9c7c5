// Where kite-dns forwards to: upstream resolvers as written in flags and resolv.conf files.
#pragma once

#include <boost/asio/ip/udp.hpp>

#include <string>
#include <vector>

#include "base/status.h"

namespace kite::dns {

// Upstream servers from a resolv.conf ("nameserver" lines), as "ip:53" / "[v6]:53". Link-local
// addresses with a zone are left out (not supported).
std::vector<std::string> ReadResolvConf(const std::string& path);

// "ip", "ip:port" or "[v6]:port" (`default_port` when none is written).
Result<boost::asio::ip::udp::endpoint> ParseEndpoint(const std::string& text, int default_port);

}  // namespace kite::dns
