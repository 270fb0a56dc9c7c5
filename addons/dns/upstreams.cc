#include "addons/dns/upstreams.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kite::dns {

namespace asio = boost::asio;
using asio::ip::udp;

std::vector<std::string> ReadResolvConf(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (value.find('%') != std::string::npos) continue;  // link-local with a zone: not supported
    out.push_back(value.find(':') != std::string::npos ? "[" + value + "]:53" : value + ":53");
  }
  return out;
}

Result<udp::endpoint> ParseEndpoint(const std::string& text, int default_port) {
  std::string host = text, port = std::to_string(default_port);
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return Status(Code::kInvalidArgument, "bad address " + text);
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status(Code::kInvalidArgument, "bad address " + text);
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    return Status(Code::kInvalidArgument, "bad port in " + text);
  }
  if (p < 0 || p > 65535) return Status(Code::kInvalidArgument, "bad port in " + text);
  return udp::endpoint(addr, static_cast<uint16_t>(p));
}


}  // namespace kite::dns
