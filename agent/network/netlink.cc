#include "agent/network/netlink.h"

#include "agent/network/netlink_message.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

namespace kite::network::netlink {

using detail::LinkHeader;
using detail::Message;

namespace {

constexpr uint16_t kCreate = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;


rtmsg RouteHeader(const Route& r) {
  rtmsg h{};
  h.rtm_family = AF_INET;
  h.rtm_dst_len = static_cast<unsigned char>(r.dst_len);
  h.rtm_table = RT_TABLE_MAIN;
  h.rtm_protocol = r.protocol ? r.protocol : kRouteProtocol;
  h.rtm_scope = RT_SCOPE_UNIVERSE;
  h.rtm_type = RTN_UNICAST;
  if (r.onlink) h.rtm_flags = RTNH_F_ONLINK;
  return h;
}

void RouteAttrs(Message& m, const Route& r) {
  m.Attr(RTA_DST, &r.dst.be, 4);
  if (!r.gateway.empty()) m.Attr(RTA_GATEWAY, &r.gateway.be, 4);
  if (r.oif) m.U32(RTA_OIF, static_cast<uint32_t>(r.oif));
}

ndmsg NeighHeader(uint8_t family, int index, uint16_t state, uint8_t flags) {
  ndmsg h{};
  h.ndm_family = family;
  h.ndm_ifindex = index;
  h.ndm_state = state;
  h.ndm_flags = flags;
  return h;
}

ifaddrmsg AddressHeader(const Address& a) {
  ifaddrmsg h{};
  h.ifa_family = AF_INET;
  h.ifa_prefixlen = static_cast<unsigned char>(a.prefix);
  h.ifa_scope = RT_SCOPE_UNIVERSE;
  h.ifa_index = static_cast<unsigned>(a.index);
  return h;
}

std::string Dump(uint16_t type, uint8_t family) {
  Message m(type, NLM_F_DUMP);
  if (type == RTM_GETLINK) {
    m.Fixed(LinkHeader(0));
  } else if (type == RTM_GETADDR) {
    ifaddrmsg h{};
    h.ifa_family = family;
    m.Fixed(h);
  } else if (type == RTM_GETROUTE) {
    rtmsg h{};
    h.rtm_family = family;
    m.Fixed(h);
  } else {
    m.Fixed(NeighHeader(family, 0, 0, 0));
  }
  return m.Finish();
}

// ---- reading -------------------------------------------------------------------------------------

// The fixed header of a message of `type` (any of `types`), or null when it is not one or is short.
template <class T>
const T* Header(std::string_view msg, std::initializer_list<uint16_t> types) {
  if (msg.size() < NLMSG_HDRLEN + sizeof(T)) return nullptr;
  nlmsghdr h;
  std::memcpy(&h, msg.data(), sizeof h);
  if (h.nlmsg_len > msg.size() || h.nlmsg_len < NLMSG_HDRLEN + sizeof(T)) return nullptr;
  bool known = false;
  for (uint16_t t : types) known = known || h.nlmsg_type == t;
  if (!known) return nullptr;
  return reinterpret_cast<const T*>(msg.data() + NLMSG_HDRLEN);
}

// Calls fn(type, payload) for each attribute in `attrs` (the nested flag masked off).
void ForEachAttr(std::string_view attrs, const std::function<void(uint16_t, std::string_view)>& fn) {
  while (attrs.size() >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, attrs.data(), sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > attrs.size()) return;
    fn(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), attrs.substr(NLA_HDRLEN, a.nla_len - NLA_HDRLEN));
    const size_t step = NLA_ALIGN(a.nla_len);
    if (step >= attrs.size()) return;
    attrs.remove_prefix(step);
  }
}

template <class T>
std::string_view AttrsAfter(std::string_view msg) {
  nlmsghdr h;
  std::memcpy(&h, msg.data(), sizeof h);
  const size_t start = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(T));
  return start >= h.nlmsg_len ? std::string_view() : msg.substr(start, h.nlmsg_len - start);
}

uint32_t U32(std::string_view p) {
  uint32_t v = 0;
  if (p.size() >= 4) std::memcpy(&v, p.data(), 4);
  return v;
}
uint16_t U16(std::string_view p) {
  uint16_t v = 0;
  if (p.size() >= 2) std::memcpy(&v, p.data(), 2);
  return v;
}
Ip4 AddrOf(std::string_view p) { return p.size() == 4 ? Ip4{U32(p)} : Ip4{}; }
Mac MacOf(std::string_view p) {
  Mac m{};
  if (p.size() == m.size()) std::memcpy(m.data(), p.data(), m.size());
  return m;
}

std::string_view View(const std::string& s) { return std::string_view(s); }

}  // namespace

// ---- values --------------------------------------------------------------------------------------

std::optional<Ip4> Ip4::Parse(std::string_view dotted) {
  const std::string s(dotted);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return Ip4{a.s_addr};
}

std::string Ip4::ToString() const {
  char buf[INET_ADDRSTRLEN] = {};
  in_addr a{};
  a.s_addr = be;
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string MacToString(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

std::optional<Mac> ParseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac m{};
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = text[i * 3 + j];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else return std::nullopt;
    }
    m[i] = static_cast<uint8_t>(v);
  }
  return m;
}

// ---- requests ------------------------------------------------------------------------------------

std::string BuildGetLinks() { return Dump(RTM_GETLINK, AF_UNSPEC); }

std::string BuildNewVxlan(const VxlanSpec& s) {
  Message m(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  m.Fixed(LinkHeader(0));
  m.Str(IFLA_IFNAME, s.name);
  if (s.mtu) m.U32(IFLA_MTU, s.mtu);
  if (s.mac != Mac{}) m.Attr(IFLA_ADDRESS, s.mac.data(), s.mac.size());
  const size_t info = m.Begin(IFLA_LINKINFO);
  m.Str(IFLA_INFO_KIND, "vxlan");
  const size_t data = m.Begin(IFLA_INFO_DATA);
  m.U32(IFLA_VXLAN_ID, s.info.vni);
  if (!s.info.local.empty()) m.Attr(IFLA_VXLAN_LOCAL, &s.info.local.be, 4);
  if (s.info.link) m.U32(IFLA_VXLAN_LINK, static_cast<uint32_t>(s.info.link));
  m.U16(IFLA_VXLAN_PORT, htons(s.info.port));
  m.U8(IFLA_VXLAN_LEARNING, s.info.learning ? 1 : 0);
  m.End(data);
  m.End(info);
  return m.Finish();
}

std::string BuildSetLinkUp(int index) {
  Message m(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg h = LinkHeader(index);
  h.ifi_flags = IFF_UP;
  h.ifi_change = IFF_UP;
  m.Fixed(h);
  return m.Finish();
}

std::string BuildSetLinkMtu(int index, uint32_t mtu) {
  Message m(RTM_NEWLINK, NLM_F_ACK);
  m.Fixed(LinkHeader(index));
  m.U32(IFLA_MTU, mtu);
  return m.Finish();
}

std::string BuildDeleteLink(int index) {
  Message m(RTM_DELLINK, NLM_F_ACK);
  m.Fixed(LinkHeader(index));
  return m.Finish();
}

std::string BuildGetAddresses() { return Dump(RTM_GETADDR, AF_INET); }

std::string BuildAddAddress(const Address& a) {
  Message m(RTM_NEWADDR, kCreate);
  m.Fixed(AddressHeader(a));
  m.Attr(IFA_LOCAL, &a.ip.be, 4);
  m.Attr(IFA_ADDRESS, &a.ip.be, 4);
  return m.Finish();
}

std::string BuildDeleteAddress(const Address& a) {
  Message m(RTM_DELADDR, NLM_F_ACK);
  m.Fixed(AddressHeader(a));
  m.Attr(IFA_LOCAL, &a.ip.be, 4);
  m.Attr(IFA_ADDRESS, &a.ip.be, 4);
  return m.Finish();
}

std::string BuildGetRoutes() { return Dump(RTM_GETROUTE, AF_INET); }

std::string BuildReplaceRoute(const Route& r) {
  Message m(RTM_NEWROUTE, kCreate);
  m.Fixed(RouteHeader(r));
  RouteAttrs(m, r);
  return m.Finish();
}

std::string BuildDeleteRoute(const Route& r) {
  Message m(RTM_DELROUTE, NLM_F_ACK);
  rtmsg h = RouteHeader(r);
  h.rtm_scope = RT_SCOPE_NOWHERE;  // any scope; the protocol still restricts it to ours
  m.Fixed(h);
  RouteAttrs(m, r);
  return m.Finish();
}

std::string BuildGetNeighbours() { return Dump(RTM_GETNEIGH, AF_INET); }

std::string BuildReplaceNeighbour(const Neighbour& n) {
  Message m(RTM_NEWNEIGH, kCreate);
  m.Fixed(NeighHeader(AF_INET, n.index, n.state ? n.state : NUD_PERMANENT, 0));
  m.Attr(NDA_DST, &n.ip.be, 4);
  m.Attr(NDA_LLADDR, n.mac.data(), n.mac.size());
  return m.Finish();
}

std::string BuildDeleteNeighbour(const Neighbour& n) {
  Message m(RTM_DELNEIGH, NLM_F_ACK);
  m.Fixed(NeighHeader(AF_INET, n.index, 0, 0));
  m.Attr(NDA_DST, &n.ip.be, 4);
  return m.Finish();
}

std::string BuildGetFdb() { return Dump(RTM_GETNEIGH, AF_BRIDGE); }

std::string BuildReplaceFdb(const FdbEntry& f) {
  Message m(RTM_NEWNEIGH, kCreate);
  m.Fixed(NeighHeader(AF_BRIDGE, f.index, f.state ? f.state : NUD_PERMANENT, NTF_SELF));
  m.Attr(NDA_LLADDR, f.mac.data(), f.mac.size());
  m.Attr(NDA_DST, &f.dst.be, 4);
  return m.Finish();
}

std::string BuildDeleteFdb(const FdbEntry& f) {
  Message m(RTM_DELNEIGH, NLM_F_ACK);
  m.Fixed(NeighHeader(AF_BRIDGE, f.index, 0, NTF_SELF));
  m.Attr(NDA_LLADDR, f.mac.data(), f.mac.size());
  m.Attr(NDA_DST, &f.dst.be, 4);
  return m.Finish();
}

// ---- kernel messages -----------------------------------------------------------------------------

std::optional<Link> ParseLink(std::string_view msg) {
  const auto* h = Header<ifinfomsg>(msg, {RTM_NEWLINK});
  if (!h) return std::nullopt;
  Link l;
  l.index = h->ifi_index;
  l.flags = h->ifi_flags;
  ForEachAttr(AttrsAfter<ifinfomsg>(msg), [&](uint16_t type, std::string_view p) {
    if (type == IFLA_IFNAME) {
      l.name = std::string(p.substr(0, p.find('\0')));
    } else if (type == IFLA_MTU) {
      l.mtu = U32(p);
    } else if (type == IFLA_ADDRESS) {
      l.mac = MacOf(p);
    } else if (type == IFLA_LINKINFO) {
      std::string_view data;
      ForEachAttr(p, [&](uint16_t t, std::string_view q) {
        if (t == IFLA_INFO_KIND) l.kind = std::string(q.substr(0, q.find('\0')));
        if (t == IFLA_INFO_DATA) data = q;
      });
      if (l.kind != "vxlan") return;
      VxlanInfo v;
      ForEachAttr(data, [&](uint16_t t, std::string_view q) {
        if (t == IFLA_VXLAN_ID) v.vni = U32(q);
        if (t == IFLA_VXLAN_LOCAL) v.local = AddrOf(q);
        if (t == IFLA_VXLAN_LINK) v.link = static_cast<int>(U32(q));
        if (t == IFLA_VXLAN_PORT) v.port = ntohs(U16(q));
        if (t == IFLA_VXLAN_LEARNING && !q.empty()) v.learning = q[0] != 0;
      });
      l.vxlan = v;
    }
  });
  return l;
}

std::optional<Address> ParseAddress(std::string_view msg) {
  const auto* h = Header<ifaddrmsg>(msg, {RTM_NEWADDR});
  if (!h || h->ifa_family != AF_INET) return std::nullopt;
  Address a;
  a.index = static_cast<int>(h->ifa_index);
  a.prefix = h->ifa_prefixlen;
  Ip4 address;
  ForEachAttr(AttrsAfter<ifaddrmsg>(msg), [&](uint16_t type, std::string_view p) {
    if (type == IFA_LOCAL) a.ip = AddrOf(p);
    if (type == IFA_ADDRESS) address = AddrOf(p);
  });
  if (a.ip.empty()) a.ip = address;  // point-to-point links carry the peer in IFA_ADDRESS
  return a;
}

std::optional<Route> ParseRoute(std::string_view msg) {
  const auto* h = Header<rtmsg>(msg, {RTM_NEWROUTE});
  if (!h || h->rtm_family != AF_INET) return std::nullopt;
  uint32_t table = h->rtm_table;
  Route r;
  r.dst_len = h->rtm_dst_len;
  r.protocol = h->rtm_protocol;
  r.onlink = (h->rtm_flags & RTNH_F_ONLINK) != 0;
  ForEachAttr(AttrsAfter<rtmsg>(msg), [&](uint16_t type, std::string_view p) {
    if (type == RTA_TABLE) table = U32(p);
    if (type == RTA_DST) r.dst = AddrOf(p);
    if (type == RTA_GATEWAY) r.gateway = AddrOf(p);
    if (type == RTA_OIF) r.oif = static_cast<int>(U32(p));
  });
  if (table != RT_TABLE_MAIN) return std::nullopt;
  return r;
}

std::optional<Neighbour> ParseNeighbour(std::string_view msg) {
  const auto* h = Header<ndmsg>(msg, {RTM_NEWNEIGH});
  if (!h || h->ndm_family != AF_INET) return std::nullopt;
  Neighbour n;
  n.index = h->ndm_ifindex;
  n.state = h->ndm_state;
  ForEachAttr(AttrsAfter<ndmsg>(msg), [&](uint16_t type, std::string_view p) {
    if (type == NDA_DST) n.ip = AddrOf(p);
    if (type == NDA_LLADDR) n.mac = MacOf(p);
  });
  return n;
}

std::optional<FdbEntry> ParseFdb(std::string_view msg) {
  const auto* h = Header<ndmsg>(msg, {RTM_NEWNEIGH});
  if (!h || h->ndm_family != AF_BRIDGE) return std::nullopt;
  FdbEntry f;
  f.index = h->ndm_ifindex;
  f.state = h->ndm_state;
  ForEachAttr(AttrsAfter<ndmsg>(msg), [&](uint16_t type, std::string_view p) {
    if (type == NDA_DST) f.dst = AddrOf(p);
    if (type == NDA_LLADDR) f.mac = MacOf(p);
  });
  return f;
}

// ---- the socket ----------------------------------------------------------------------------------

namespace {

kite::Status Errno(int err, const std::string& what) {
  Code code = Code::kInternal;
  if (err == EEXIST) code = Code::kAlreadyExists;
  if (err == ENOENT || err == ESRCH || err == ENODEV) code = Code::kNotFound;
  if (err == EPERM || err == EACCES) code = Code::kPermissionDenied;
  return kite::Status(code, what + ": " + std::strerror(err));
}

const char* TypeName(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_DELLINK: return "RTM_DELLINK";
    case RTM_NEWADDR: return "RTM_NEWADDR";
    case RTM_DELADDR: return "RTM_DELADDR";
    case RTM_NEWROUTE: return "RTM_NEWROUTE";
    case RTM_DELROUTE: return "RTM_DELROUTE";
    case RTM_NEWNEIGH: return "RTM_NEWNEIGH";
    case RTM_DELNEIGH: return "RTM_DELNEIGH";
    default: return "netlink request";
  }
}

// Parses every message of a dump with `parse`, keeping what it accepts.
template <class T>
Result<std::vector<T>> DumpOf(Socket& s, std::string request, std::optional<T> (*parse)(std::string_view)) {
  auto msgs = s.Dump(std::move(request));
  if (!msgs.ok()) return msgs.error();
  std::vector<T> out;
  for (const auto& m : *msgs) {
    if (auto v = parse(View(m))) out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace

Result<Socket> Socket::Open() {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return Errno(errno, "netlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    close(fd);
    return Errno(err, "netlink bind");
  }
  // Dumps of big tables arrive in many datagrams; a roomy buffer keeps the kernel from dropping.
  const int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return Socket(fd);
}

Socket::Socket(Socket&& o) noexcept : fd_(o.fd_), seq_(o.seq_) { o.fd_ = -1; }
Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    seq_ = o.seq_;
    o.fd_ = -1;
  }
  return *this;
}
Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

// Sends `request` with the next sequence number, then reads until the answer to it is complete:
// for a plain request its ACK (and what came before it: a GET's answer), for a dump every
// message before NLMSG_DONE, concatenated (each still a whole nlmsghdr).
Result<std::string> Socket::Send(std::string& request) {
  nlmsghdr h;
  std::memcpy(&h, request.data(), sizeof h);
  const uint32_t seq = ++seq_;
  std::memcpy(request.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof seq);
  const std::string what = TypeName(h.nlmsg_type);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    return Errno(errno, what);
  }
  std::string out;
  std::string buf(64 * 1024, '\0');
  for (;;) {
    const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, what);
    }
    std::string_view rest(buf.data(), static_cast<size_t>(n));
    while (rest.size() >= NLMSG_HDRLEN) {
      nlmsghdr r;
      std::memcpy(&r, rest.data(), sizeof r);
      if (r.nlmsg_len < NLMSG_HDRLEN || r.nlmsg_len > rest.size()) break;
      const std::string_view one = rest.substr(0, r.nlmsg_len);
      rest.remove_prefix(std::min<size_t>(NLMSG_ALIGN(r.nlmsg_len), rest.size()));
      if (r.nlmsg_seq != seq) continue;  // a late answer to an earlier request
      if (r.nlmsg_type == NLMSG_DONE) return out;
      if (r.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e{};
        if (one.size() >= NLMSG_HDRLEN + sizeof(int)) std::memcpy(&e.error, one.data() + NLMSG_HDRLEN, sizeof(int));
        if (e.error == 0) return out;
        return Errno(-e.error, what);
      }
      out.append(one);  // a dump's messages, or a plain request's answer (RTM_GETLINK by name)
    }
  }
}

kite::Status Socket::Do(std::string request) {
  auto r = Send(request);
  return r.ok() ? kite::Status::Ok() : r.error();
}

Result<std::vector<std::string>> Socket::Dump(std::string request) {
  auto all = Send(request);
  if (!all.ok()) return all.error();
  std::vector<std::string> msgs;
  std::string_view rest(*all);
  while (rest.size() >= NLMSG_HDRLEN) {
    nlmsghdr r;
    std::memcpy(&r, rest.data(), sizeof r);
    msgs.emplace_back(rest.substr(0, r.nlmsg_len));
    rest.remove_prefix(std::min<size_t>(r.nlmsg_len, rest.size()));
  }
  return msgs;
}

Result<std::vector<Link>> Socket::Links() { return DumpOf<Link>(*this, BuildGetLinks(), &ParseLink); }
Result<std::vector<Address>> Socket::Addresses() { return DumpOf<Address>(*this, BuildGetAddresses(), &ParseAddress); }
Result<std::vector<Route>> Socket::Routes() { return DumpOf<Route>(*this, BuildGetRoutes(), &ParseRoute); }
Result<std::vector<Neighbour>> Socket::Neighbours() {
  return DumpOf<Neighbour>(*this, BuildGetNeighbours(), &ParseNeighbour);
}
Result<std::vector<FdbEntry>> Socket::Fdb() { return DumpOf<FdbEntry>(*this, BuildGetFdb(), &ParseFdb); }

}  // namespace kite::network::netlink
