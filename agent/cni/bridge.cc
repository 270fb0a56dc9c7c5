// The bridge plugin with host-local IPAM, for the configurations kite writes (plugin.h).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "agent/cni/bridge_conf.h"
#include "agent/cni/host_local.h"
#include "agent/cni/plugin.h"
#include "agent/network/netlink.h"
#include "api/object.h"

namespace kite::cni {
namespace json = boost::json;
namespace nl = network::netlink;

namespace {

nl::Ip4 Net(uint32_t host_order) { return nl::Ip4{htonl(host_order)}; }

std::string RandomVethName() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<uint32_t>(getpid()) * 2654435761u ^ static_cast<uint32_t>(time(nullptr));
  char buf[16];
  std::snprintf(buf, sizeof buf, "veth%08x", r);
  return buf;
}

Failure Fail(const std::string& what, const Status& s) { return {kErrInternal, what + ": " + s.message()}; }

// The bridge, made when missing, up, with the gateway address when it is the gateway.
std::expected<nl::Link, Failure> EnsureBridge(nl::Socket& sock, const BridgeConf& b) {
  auto link = sock.LinkByName(b.bridge);
  if (!link.ok()) return std::unexpected(Fail("look up bridge " + b.bridge, link.error()));
  if (!*link) {
    Status s = sock.Do(nl::BuildNewBridge(b.bridge, b.mtu));
    if (!s.ok() && !s.IsAlreadyExists()) return std::unexpected(Fail("create bridge " + b.bridge, s));
    link = sock.LinkByName(b.bridge);
    if (!link.ok() || !*link) return std::unexpected(Failure{kErrInternal, "bridge " + b.bridge + " vanished after its creation"});
  }
  nl::Link br = **link;
  if (br.kind != "bridge") return std::unexpected(Failure{kErrInternal, b.bridge + " already exists but is not a bridge"});
  if (!(br.flags & IFF_UP)) {
    if (Status s = sock.Do(nl::BuildSetLinkUp(br.index)); !s.ok()) return std::unexpected(Fail("set " + b.bridge + " up", s));
  }
  if (b.is_gateway) {
    auto addrs = sock.Addresses();
    if (!addrs.ok()) return std::unexpected(Fail("list addresses", addrs.error()));
    bool have = false;
    for (const auto& a : *addrs) {
      if (a.index != br.index) continue;
      const uint32_t ip = ntohl(a.ip.be);
      if (ip == b.range.gateway) {
        have = true;
      } else if (b.range.subnet.Contains(ip)) {
        return std::unexpected(Failure{kErrInternal, b.bridge + " already has an IP address " + FormatIpv4(ip) +
                                                         " in the pods' subnet (not the gateway " +
                                                         FormatIpv4(b.range.gateway) + ")"});
      }
    }
    if (!have) {
      Status s = sock.Do(nl::BuildAddAddress({br.index, Net(b.range.gateway), b.range.subnet.prefix}));
      if (!s.ok() && !s.IsAlreadyExists()) return std::unexpected(Fail("add the gateway address to " + b.bridge, s));
      // The bridge keeps its own MAC from now on, instead of taking its lowest port's, which
      // changes as pods come and go (and with it every pod's ARP entry for the gateway).
      (void)sock.Do(nl::BuildSetMac(br.index, br.mac));
    }
    // The node forwards the pods' packets.
    const int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      char c = 0;
      if (read(fd, &c, 1) == 1 && c != '1') (void)!pwrite(fd, "1\n", 2, 0);
      close(fd);
    }
  }
  return br;
}

json::object Interface(const std::string& name, const nl::Mac& mac, const std::string& sandbox = "") {
  json::object o{{"name", name}, {"mac", nl::MacToString(mac)}};
  if (!sandbox.empty()) o["sandbox"] = sandbox;
  return o;
}

Outcome Add(const Invocation& inv, const BridgeConf& b) {
  if (inv.netns.empty()) return std::unexpected(Failure{kErrInvalidEnvironment, "CNI_NETNS is required for ADD"});
  HostLocalStore store(b.data_dir + "/" + b.network, b.range);
  auto ip = store.Allocate(inv.container_id, inv.ifname);
  if (!ip.ok()) return std::unexpected(Failure{kErrInternal, "failed to allocate for range 0: " + ip.error().message()});
  std::string host;
  bool in_pod = false;  // this process has moved into the pod's namespace
  // A failed ADD leaves nothing: the pair (deleting either end deletes both; from inside the
  // pod only its end is visible) and the address.
  auto undo = [&](Failure f) -> Outcome {
    if (!host.empty()) {
      if (auto s = nl::Socket::Open(); s.ok()) {
        if (auto l = s->LinkByName(in_pod ? inv.ifname : host); l.ok() && *l) (void)s->Do(nl::BuildDeleteLink((*l)->index));
      }
    }
    (void)store.Release(inv.container_id, inv.ifname);
    return std::unexpected(std::move(f));
  };
  const int ns_fd = open(inv.netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) return undo({kErrInvalidEnvironment, "open netns " + inv.netns + ": " + std::strerror(errno)});
  struct CloseFd {
    int fd;
    ~CloseFd() { close(fd); }
  } close_ns{ns_fd};
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return undo(Fail("netlink", sock.error()));
  auto br = EnsureBridge(*sock, b);
  if (!br) return undo(br.error());
  host = RandomVethName();
  if (Status s = sock->Do(nl::BuildNewVeth(host, inv.ifname, ns_fd, b.mtu)); !s.ok()) {
    const std::string name = host;
    host.clear();  // not made: nothing to delete
    return undo(Fail("create veth pair " + name + " / " + inv.ifname + " (in " + inv.netns + ")", s));
  }
  auto hl = sock->LinkByName(host);
  if (!hl.ok() || !*hl) return undo({kErrInternal, "veth " + host + " vanished after its creation"});
  const nl::Link host_link = **hl;
  if (Status s = sock->Do(nl::BuildSetMaster(host_link.index, br->index)); !s.ok()) {
    return undo(Fail("attach " + host + " to " + b.bridge, s));
  }
  if (b.hairpin) {
    if (Status s = sock->Do(nl::BuildSetHairpin(host_link.index, true)); !s.ok()) return undo(Fail("hairpin mode on " + host, s));
  }
  if (Status s = sock->Do(nl::BuildSetLinkUp(host_link.index)); !s.ok()) return undo(Fail("set " + host + " up", s));

  // Inside the pod: the address, the link up, the routes.
  if (Status s = EnterNetns(inv.netns); !s.ok()) return undo(Fail("enter the pod's namespace", s));
  in_pod = true;
  auto in = nl::Socket::Open();
  if (!in.ok()) return undo(Fail("netlink in " + inv.netns, in.error()));
  auto cl = in->LinkByName(inv.ifname);
  if (!cl.ok() || !*cl) return undo({kErrInternal, inv.ifname + " is not in " + inv.netns + " after its creation"});
  const nl::Link pod_link = **cl;
  if (Status s = in->Do(nl::BuildAddAddress({pod_link.index, Net(*ip), b.range.subnet.prefix})); !s.ok()) {
    return undo(Fail("add " + FormatIpv4(*ip) + " to " + inv.ifname, s));
  }
  if (Status s = in->Do(nl::BuildSetLinkUp(pod_link.index)); !s.ok()) return undo(Fail("set " + inv.ifname + " up", s));
  json::array routes;
  for (const RouteConf& r : b.routes) {
    nl::Route route;
    route.dst = Net(r.dst.base);
    route.dst_len = r.dst.prefix;
    route.gateway = Net(r.gw ? r.gw : b.range.gateway);
    route.oif = pod_link.index;
    route.protocol = RTPROT_BOOT;
    if (Status s = in->Do(nl::BuildReplaceRoute(route)); !s.ok()) {
      return undo(Fail("add route " + FormatIpv4Cidr(r.dst) + " in " + inv.netns, s));
    }
    json::object ro{{"dst", FormatIpv4Cidr(r.dst)}};
    if (r.gw) ro["gw"] = FormatIpv4(r.gw);
    routes.push_back(std::move(ro));
  }
  const bool v1 = b.version.empty() || b.version >= "1.0.0";
  json::object ipo{{"interface", 2},
                   {"address", FormatIpv4(*ip) + "/" + std::to_string(b.range.subnet.prefix)},
                   {"gateway", FormatIpv4(b.range.gateway)}};
  if (!v1) ipo["version"] = "4";
  json::object result{
      {"cniVersion", b.version.empty() ? "1.0.0" : b.version},
      {"interfaces", json::array{Interface(b.bridge, br->mac), Interface(host, host_link.mac),
                                 Interface(inv.ifname, pod_link.mac, inv.netns)}},
      {"ips", json::array{std::move(ipo)}},
      {"routes", std::move(routes)},
      {"dns", b.dns.is_object() ? b.dns : json::value(json::object{})},
  };
  return json::serialize(result);
}

Outcome Del(const Invocation& inv, const BridgeConf& b) {
  HostLocalStore store(b.data_dir + "/" + b.network, b.range);
  if (Status s = store.Release(inv.container_id, inv.ifname); !s.ok()) return std::unexpected(Fail("release", s));
  if (inv.netns.empty()) return std::string();
  Status in = EnterNetns(inv.netns);
  if (in.IsNotFound()) return std::string();  // the namespace is gone, and its interfaces with it
  if (!in.ok()) return std::unexpected(Fail("enter the pod's namespace", in));
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return std::unexpected(Fail("netlink", sock.error()));
  auto link = sock->LinkByName(inv.ifname);
  if (!link.ok()) return std::unexpected(Fail("look up " + inv.ifname, link.error()));
  if (!*link) return std::string();
  // Deleting the pod's end deletes the pair (and so the bridge port).
  if (Status s = sock->Do(nl::BuildDeleteLink((*link)->index)); !s.ok() && !s.IsNotFound()) {
    return std::unexpected(Fail("delete " + inv.ifname, s));
  }
  return std::string();
}

}  // namespace

std::optional<Outcome> Bridge(const Invocation& inv) {
  if (inv.command != "ADD" && inv.command != "DEL") return std::nullopt;  // CHECK: the real plugin
  const char* env_args = getenv("CNI_ARGS");
  auto conf = ParseBridgeConf(inv.config, env_args ? env_args : "");
  if (!conf) return std::nullopt;
  if (!conf->has_value()) return Outcome(std::unexpected(conf->error()));
  return inv.command == "ADD" ? Add(inv, **conf) : Del(inv, **conf);
}

}  // namespace kite::cni
