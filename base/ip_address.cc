#include "base/ip_address.h"

#include <arpa/inet.h>

namespace kite {

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::optional<uint32_t> ParseIpv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

Result<Ipv4Cidr> ParseIpv4Cidr(const std::string& text, HostBits host_bits) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return Status(Code::kInvalidArgument, text + " is not a CIDR (address/prefix)");
  const auto base = ParseIpv4(text.substr(0, slash));
  if (!base) return Status(Code::kInvalidArgument, text + " is not an IPv4 CIDR");
  int prefix = -1;
  const std::string digits = text.substr(slash + 1);
  if (!digits.empty() && digits.size() <= 2 && digits.find_first_not_of("0123456789") == std::string::npos) {
    prefix = std::stoi(digits);
  }
  if (prefix < 0 || prefix > 32) return Status(Code::kInvalidArgument, text + ": the prefix must be 0 to 32");
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  if ((*base & ~mask) != 0 && host_bits == HostBits::kRefuse) {
    return Status(Code::kInvalidArgument, text + " has host bits set");
  }
  return Ipv4Cidr{*base & mask, prefix};
}

std::string FormatIpv4(uint32_t address) {
  in_addr a{};
  a.s_addr = htonl(address);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string FormatIpv4Cidr(const Ipv4Cidr& c) { return FormatIpv4(c.base) + "/" + std::to_string(c.prefix); }

namespace {

Status CheckIpv6Cidr(const std::string& text) {
  const auto slash = text.find('/');
  in6_addr a{};
  if (slash == std::string::npos || inet_pton(AF_INET6, text.substr(0, slash).c_str(), &a) != 1) {
    return Status(Code::kInvalidArgument, text + " is not an IPv6 CIDR");
  }
  const std::string digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(digits) > 128) {
    return Status(Code::kInvalidArgument, text + ": the prefix must be 0 to 128");
  }
  const int prefix = std::stoi(digits);
  for (int bit = prefix; bit < 128; ++bit) {
    if (a.s6_addr[bit / 8] & (0x80 >> (bit % 8))) return Status(Code::kInvalidArgument, text + " has host bits set");
  }
  return Status::Ok();
}

}  // namespace

Result<DualStackCidrs> SplitDualStackCidrs(const std::string& text) {
  DualStackCidrs out;
  size_t at = 0;
  int parts = 0;
  while (at <= text.size()) {
    const size_t comma = text.find(',', at);
    std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? text.size() + 1 : comma + 1;
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (++parts > 2) return Status(Code::kInvalidArgument, text + ": at most two CIDRs (one IPv4, one IPv6)");
    if (part.empty()) return Status(Code::kInvalidArgument, "\"" + text + "\": an empty CIDR");
    if (part.find(':') != std::string::npos) {
      if (!out.ipv6.empty()) return Status(Code::kInvalidArgument, text + ": two IPv6 CIDRs");
      if (Status s = CheckIpv6Cidr(part); !s.ok()) return s;
      out.ipv6 = part;
    } else {
      if (!out.ipv4.empty()) return Status(Code::kInvalidArgument, text + ": two IPv4 CIDRs");
      if (auto c = ParseIpv4Cidr(part); !c.ok()) return c.status();
      out.ipv4 = part;
    }
  }
  return out;
}

namespace {

// A port number in decimal: 1 to 65535, nothing else around it.
std::optional<int> ParsePort(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace

Result<PortRange> ParsePortRange(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return Status(Code::kInvalidArgument, "\"" + text + "\" is not a port range: " + why);
  };
  const size_t sep = text.find_first_of("-+");
  const auto first = ParsePort(text.substr(0, sep));
  if (!first) return bad("ports are numbers from 1 to 65535 (as in 30000-32767)");
  if (sep == std::string::npos) return PortRange{*first, *first};
  const std::string rest = text.substr(sep + 1);
  if (text[sep] == '+') {
    if (rest.empty() || rest.size() > 5 || rest.find_first_not_of("0123456789") != std::string::npos) {
      return bad("the offset after + is a number");
    }
    const int last = *first + std::stoi(rest);
    if (last > 65535) return bad("it ends past port 65535");
    return PortRange{*first, last};
  }
  const auto last = ParsePort(rest);
  if (!last) return bad("ports are numbers from 1 to 65535 (as in 30000-32767)");
  if (*last < *first) return bad("it ends before it starts");
  return PortRange{*first, *last};
}

}  // namespace kite
