// The writing side of agent/network/netlink: one rtnetlink request being built. Internal to the
// netlink client's files (netlink.cc, netlink_links.cc); users call the Build* functions.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace kite::network::netlink::detail {

// One request: nlmsghdr, the family's fixed header, then attributes (nested ones by Begin/End).
class Message {
 public:
  Message(uint16_t type, uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    Append(&h, sizeof h);
  }
  template <class T>
  void Fixed(const T& header) {
    Append(&header, sizeof header);
  }
  void Attr(uint16_t type, const void* data, size_t len) {
    nlattr a{};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    a.nla_type = type;
    Append(&a, sizeof a);
    Append(data, len);
  }
  void U8(uint16_t type, uint8_t v) { Attr(type, &v, sizeof v); }
  void U16(uint16_t type, uint16_t v) { Attr(type, &v, sizeof v); }
  void U32(uint16_t type, uint32_t v) { Attr(type, &v, sizeof v); }
  void Str(uint16_t type, const std::string& s) { Attr(type, s.c_str(), s.size() + 1); }
  size_t Begin(uint16_t type) {
    const size_t at = buf_.size();
    nlattr a{};
    a.nla_type = static_cast<uint16_t>(type | NLA_F_NESTED);
    Append(&a, sizeof a);
    return at;
  }
  void End(size_t at) {
    const auto len = static_cast<uint16_t>(buf_.size() - at);
    std::memcpy(buf_.data() + at + offsetof(nlattr, nla_len), &len, sizeof len);
  }
  std::string Finish() {
    const auto len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
    return std::move(buf_);
  }

 private:
  // Appends and pads to the 4-byte alignment every netlink header and attribute keeps.
  void Append(const void* data, size_t len) {
    buf_.append(static_cast<const char*>(data), len);
    buf_.append((4 - len % 4) % 4, '\0');
  }
  std::string buf_;
};

inline ifinfomsg LinkHeader(int index) {
  ifinfomsg h{};
  h.ifi_family = AF_UNSPEC;
  h.ifi_index = index;
  return h;
}

}  // namespace kite::network::netlink::detail
