#include "agent/network/pod_network.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <net/if.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <fstream>

#include "api/object.h"
#include "api/resources.h"
#include "base/log.h"
#include "base/pki.h"
#include "client/client.h"

namespace kite::network {

namespace json = boost::json;
using netlink::FdbEntry;
using netlink::Ip4;
using netlink::Mac;
using netlink::Neighbour;
using netlink::Route;

namespace {

const api::ResourceInfo& Nodes() { return *api::FindResource("", "v1", "nodes"); }

constexpr const char* kSyncKey = "pod-network";

uint32_t HostOrder(Ip4 ip) { return ntohl(ip.be); }
Ip4 FromHost(uint32_t v) { return Ip4{htonl(v)}; }
uint32_t Mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

std::string RouteText(const Route& r) {
  return Cidr{r.dst, r.dst_len}.ToString() + " via " + r.gateway.ToString() + (r.onlink ? " onlink" : "") + " dev #" +
         std::to_string(r.oif);
}

// Removes what `have` holds that `want` lacks, adds what `want` holds that `have` lacks (by value).
template <class T>
void DiffList(const std::vector<T>& want, const std::vector<T>& have, std::vector<T>* remove, std::vector<T>* add) {
  for (const T& h : have) {
    if (std::find(want.begin(), want.end(), h) == want.end()) remove->push_back(h);
  }
  for (const T& w : want) {
    if (std::find(have.begin(), have.end(), w) == have.end()) add->push_back(w);
  }
}

}  // namespace

Result<Backend> ParseBackend(const std::string& name) {
  if (name == "vxlan") return Backend::kVxlan;
  if (name == "host-gw") return Backend::kHostGw;
  if (name == "none") return Backend::kNone;
  return kite::Status(Code::kInvalidArgument, "--flannel-backend \"" + name + "\": want vxlan, host-gw or none");
}

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kVxlan: return "vxlan";
    case Backend::kHostGw: return "host-gw";
    case Backend::kNone: return "none";
  }
  return "none";
}

// ---- CIDRs and nodes -----------------------------------------------------------------------------

std::optional<Cidr> Cidr::Parse(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto ip = Ip4::Parse(text.substr(0, slash));
  int prefix = -1;
  const char* first = text.data() + slash + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, prefix);
  if (!ip || ec != std::errc() || end != last || first == last || prefix < 0 || prefix > 32) return std::nullopt;
  return Cidr{FromHost(HostOrder(*ip) & Mask(prefix)), prefix};
}

bool Cidr::Contains(Ip4 ip) const { return (HostOrder(ip) & Mask(prefix)) == HostOrder(net); }

std::string Cidr::ToString() const { return net.ToString() + "/" + std::to_string(prefix); }

NodeNetwork ReadNodeNetwork(const json::object& node) {
  NodeNetwork n;
  n.name = api::Name(node);
  n.pod_cidr = Cidr::Parse(api::GetString(node, {"spec", "podCIDR"}));
  const json::object& ann = api::Annotations(node);
  n.backend_type = api::GetString(ann, kAnnotationBackendType);
  if (auto ip = Ip4::Parse(api::GetString(ann, kAnnotationPublicIp))) n.public_ip = *ip;
  if (n.public_ip.empty()) {
    for (const auto& a : api::GetArray(node, {"status", "addresses"})) {
      if (!a.is_object() || api::GetString(a.as_object(), "type") != "InternalIP") continue;
      if (auto ip = Ip4::Parse(api::GetString(a.as_object(), "address"))) {
        n.public_ip = *ip;
        break;
      }
    }
  }
  const std::string data = api::GetString(ann, kAnnotationBackendData);
  if (!data.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);  // another agent's text: never trusted to parse
    if (!ec && v.is_object()) {
      if (const json::value* mac = v.as_object().if_contains("VtepMAC"); mac && mac->is_string()) {
        n.vtep = netlink::ParseMac(std::string(mac->as_string()));
      }
    }
  }
  return n;
}

Mac VtepMac(const std::string& node_name) {
  const std::string hex = pki::Sha256Hex("kite vtep " + node_name);
  Mac m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(std::stoul(hex.substr(i * 2, 2), nullptr, 16));
  m[0] = static_cast<uint8_t>((m[0] & 0xfe) | 0x02);  // unicast, locally administered
  return m;
}

std::map<std::string, std::string> NodeAnnotations(Backend b, Ip4 public_ip, const Mac& vtep) {
  std::map<std::string, std::string> a;
  a[kAnnotationBackendType] = BackendName(b);
  a[kAnnotationPublicIp] = public_ip.ToString();
  a[kAnnotationSubnetManager] = "true";
  if (b == Backend::kVxlan) {
    a[kAnnotationBackendData] =
        json::serialize(json::object{{"VNI", kVxlanVni}, {"VtepMAC", netlink::MacToString(vtep)}});
  } else {
    a[kAnnotationBackendData] = "null";  // what flannel's host-gw publishes
  }
  return a;
}

Dataplane Desired(Backend b, const std::string& self, const std::vector<NodeNetwork>& nodes, int vxlan_index,
                  int uplink_index) {
  Dataplane d;
  if (b == Backend::kNone) return d;
  for (const NodeNetwork& n : nodes) {
    if (n.name == self || !n.pod_cidr || n.public_ip.empty()) continue;
    if (!n.backend_type.empty() && n.backend_type != BackendName(b)) continue;
    if (b == Backend::kVxlan) {
      if (!n.vtep || n.backend_type.empty()) continue;
      // The remote VTEP's address is the network address of its podCIDR (flannel's choice).
      const Ip4 gw = n.pod_cidr->net;
      d.routes.push_back(Route{n.pod_cidr->net, n.pod_cidr->prefix, gw, vxlan_index, true, netlink::kRouteProtocol});
      d.neighbours.push_back(Neighbour{vxlan_index, gw, *n.vtep, NUD_PERMANENT});
      d.fdb.push_back(FdbEntry{vxlan_index, *n.vtep, n.public_ip, NUD_PERMANENT});
    } else {
      d.routes.push_back(Route{n.pod_cidr->net, n.pod_cidr->prefix, n.public_ip, uplink_index, false, netlink::kRouteProtocol});
    }
  }
  return d;
}

bool Changes::empty() const {
  return remove.routes.empty() && remove.neighbours.empty() && remove.fdb.empty() && add.routes.empty() &&
         add.neighbours.empty() && add.fdb.empty();
}

Changes Diff(const Dataplane& want, const Dataplane& have) {
  Changes c;
  DiffList(want.routes, have.routes, &c.remove.routes, &c.add.routes);
  DiffList(want.neighbours, have.neighbours, &c.remove.neighbours, &c.add.neighbours);
  DiffList(want.fdb, have.fdb, &c.remove.fdb, &c.add.fdb);
  // A route whose destination is still wanted is replaced in place, not deleted first (no
  // moment without a route); likewise an FDB entry (keyed by MAC) and a neighbour (by address).
  std::erase_if(c.remove.routes, [&](const Route& r) {
    return std::any_of(c.add.routes.begin(), c.add.routes.end(),
                       [&](const Route& a) { return a.dst == r.dst && a.dst_len == r.dst_len; });
  });
  std::erase_if(c.remove.neighbours, [&](const Neighbour& n) {
    return std::any_of(c.add.neighbours.begin(), c.add.neighbours.end(),
                       [&](const Neighbour& a) { return a.ip == n.ip && a.index == n.index; });
  });
  std::erase_if(c.remove.fdb, [&](const FdbEntry& f) {
    return std::any_of(c.add.fdb.begin(), c.add.fdb.end(),
                       [&](const FdbEntry& a) { return a.mac == f.mac && a.index == f.index; });
  });
  return c;
}

// ---- the uplink ----------------------------------------------------------------------------------

Result<Uplink> FindUplink(netlink::Socket& nl, const std::string& iface, const std::string& node_ip) {
  auto links = nl.Links();
  if (!links.ok()) return links.error();
  auto addrs = nl.Addresses();
  if (!addrs.ok()) return addrs.error();
  auto link_by = [&](auto pred) -> const netlink::Link* {
    for (const auto& l : *links) {
      if (pred(l)) return &l;
    }
    return nullptr;
  };
  auto first_address = [&](int index) -> Ip4 {
    for (const auto& a : *addrs) {
      if (a.index == index) return a.ip;
    }
    return Ip4{};
  };
  const netlink::Link* link = nullptr;
  Ip4 ip;
  if (!iface.empty()) {
    link = link_by([&](const netlink::Link& l) { return l.name == iface; });
    if (!link) return kite::Status(Code::kNotFound, "--flannel-iface " + iface + ": no such interface");
    ip = first_address(link->index);
    if (ip.empty()) return kite::Status(Code::kNotFound, "--flannel-iface " + iface + " has no IPv4 address");
  } else if (auto want = Ip4::Parse(node_ip)) {
    for (const auto& a : *addrs) {
      if (a.ip == *want) link = link_by([&](const netlink::Link& l) { return l.index == a.index; });
    }
    if (!link) return kite::Status(Code::kNotFound, "no interface holds the node IP " + node_ip);
    ip = *want;
  } else {
    auto routes = nl.Routes();
    if (!routes.ok()) return routes.error();
    for (const auto& r : *routes) {
      if (r.dst_len == 0 && r.oif) link = link_by([&](const netlink::Link& l) { return l.index == r.oif; });
      if (link) break;
    }
    if (!link) return kite::Status(Code::kNotFound, "no default route and no --node-ip or --flannel-iface");
    ip = first_address(link->index);
  }
  return Uplink{link->name, link->index, link->mtu, ip};
}

int PodMtu(const PodNetworkOptions& o) {
  if (o.backend == Backend::kNone) return 0;
  auto nl = netlink::Socket::Open();
  if (!nl.ok()) return 0;
  auto up = FindUplink(*nl, o.iface, o.node_ip);
  if (!up.ok() || up->mtu == 0) return 0;
  return static_cast<int>(o.backend == Backend::kVxlan ? up->mtu - kVxlanOverhead : up->mtu);
}

// ---- the controller ------------------------------------------------------------------------------

PodNetwork::PodNetwork(const client::Client* client, PodNetworkOptions options)
    : Controller("pod-network", 1), client_(client), options_(std::move(options)) {}

void PodNetwork::Init(client::InformerFactory& informers) {
  nodes_ = informers.For(Nodes());
  client::EventHandler h;
  h.on_add = [this](const client::ObjectPtr&) { queue_.Add(kSyncKey); };
  // Status heartbeats change nothing here: only what ReadNodeNetwork reads triggers a sync.
  h.on_update = [this](const client::ObjectPtr& old_obj, const client::ObjectPtr& new_obj) {
    if (!(ReadNodeNetwork(*old_obj) == ReadNodeNetwork(*new_obj))) queue_.Add(kSyncKey);
  };
  h.on_delete = [this](const client::ObjectPtr&) { queue_.Add(kSyncKey); };
  nodes_->AddHandler(std::move(h));
  queue_.Add(kSyncKey);
}

kite::Status PodNetwork::EnsureVxlanDevice(const Uplink& up, const Cidr& own, int* index) {
  netlink::VxlanSpec spec;
  spec.name = kVxlanDevice;
  spec.info = netlink::VxlanInfo{kVxlanVni, up.ip, up.index, kVxlanPort, false};
  spec.mtu = up.mtu > kVxlanOverhead ? up.mtu - kVxlanOverhead : 0;
  spec.mac = VtepMac(options_.node_name);
  auto links = nl_->Links();
  if (!links.ok()) return links.error();
  const netlink::Link* have = nullptr;
  for (const auto& l : *links) {
    if (l.name == kVxlanDevice) have = &l;
  }
  const auto same = [&](const netlink::Link& l) {
    return l.vxlan && l.vxlan->vni == spec.info.vni && l.vxlan->local == spec.info.local &&
           l.vxlan->link == spec.info.link && l.vxlan->port == spec.info.port && !l.vxlan->learning && l.mac == spec.mac;
  };
  if (have && !same(*have)) {  // another setup (an uplink that changed, another flannel): start over
    KITE_LOG(0) << "pod network: recreating " << kVxlanDevice << " (its settings differ)";
    if (kite::Status s = nl_->Do(netlink::BuildDeleteLink(have->index)); !s.ok()) return s.Annotate("deleting flannel.1");
    have = nullptr;
  }
  if (!have) {
    if (kite::Status s = nl_->Do(netlink::BuildNewVxlan(spec)); !s.ok()) return s.Annotate("creating flannel.1");
    links = nl_->Links();
    if (!links.ok()) return links.error();
    for (const auto& l : *links) {
      if (l.name == kVxlanDevice) have = &l;
    }
    if (!have) return kite::Status(Code::kInternal, "flannel.1 vanished after its creation");
    KITE_LOG(0) << "pod network: created " << kVxlanDevice << " (VNI " << kVxlanVni << ", UDP " << kVxlanPort << ", local "
                << up.ip.ToString() << " on " << up.name << ", MTU " << spec.mtu << ", MAC " << netlink::MacToString(spec.mac)
                << ")";
  }
  *index = have->index;
  if (spec.mtu && have->mtu != spec.mtu) {
    if (kite::Status s = nl_->Do(netlink::BuildSetLinkMtu(have->index, spec.mtu)); !s.ok()) return s.Annotate("flannel.1 MTU");
  }
  // The device's address is its own podCIDR's network address, as flannel gives it.
  const netlink::Address want{have->index, own.net, 32};
  auto addrs = nl_->Addresses();
  if (!addrs.ok()) return addrs.error();
  bool found = false;
  for (const auto& a : *addrs) {
    if (a.index != have->index) continue;
    if (a == want) {
      found = true;
    } else if (kite::Status s = nl_->Do(netlink::BuildDeleteAddress(a)); !s.ok() && !s.IsNotFound()) {
      return s.Annotate("flannel.1 old address");
    }
  }
  if (!found) {
    if (kite::Status s = nl_->Do(netlink::BuildAddAddress(want)); !s.ok()) return s.Annotate("flannel.1 address");
  }
  if (!(have->flags & IFF_UP)) {
    if (kite::Status s = nl_->Do(netlink::BuildSetLinkUp(have->index)); !s.ok()) return s.Annotate("flannel.1 up");
  }
  return kite::Status::Ok();
}

kite::Status PodNetwork::EnsureAnnotations(const json::object& node, const Uplink& up) {
  const auto want = NodeAnnotations(options_.backend, up.ip, VtepMac(options_.node_name));
  const json::object& have = api::Annotations(node);
  json::object patch_ann;
  for (const auto& [k, v] : want) {
    if (api::GetString(have, k) != v) patch_ann[k] = v;
  }
  if (patch_ann.empty()) return kite::Status::Ok();
  json::object patch{{"metadata", json::object{{"annotations", std::move(patch_ann)}}}};
  auto r = client_->Patch(Nodes(), "", options_.node_name, client::PatchType::kMerge, json::serialize(patch));
  if (!r.ok()) return r.error().Annotate("publishing the node's flannel annotations");
  KITE_LOG(0) << "pod network: node " << options_.node_name << " published backend " << BackendName(options_.backend)
              << ", public IP " << up.ip.ToString();
  return kite::Status::Ok();
}

kite::Status PodNetwork::Apply(const Changes& c) {
  kite::Status first;
  auto note = [&](kite::Status s, const std::string& what) {
    if (s.ok() || s.IsNotFound()) return;
    KITE_LOG(0) << "pod network: " << what << ": " << s.message();
    if (first.ok()) first = s.Annotate(what);
  };
  for (const auto& r : c.remove.routes) {
    kite::Status s = nl_->Do(netlink::BuildDeleteRoute(r));
    note(s, "deleting route " + RouteText(r));
    if (s.ok()) KITE_LOG(0) << "pod network: removed route " << RouteText(r);
  }
  for (const auto& n : c.remove.neighbours) note(nl_->Do(netlink::BuildDeleteNeighbour(n)), "deleting neighbour " + n.ip.ToString());
  for (const auto& f : c.remove.fdb) note(nl_->Do(netlink::BuildDeleteFdb(f)), "deleting FDB entry " + netlink::MacToString(f.mac));
  // Neighbour and FDB entries before the route that needs them.
  for (const auto& f : c.add.fdb) note(nl_->Do(netlink::BuildReplaceFdb(f)), "FDB entry " + netlink::MacToString(f.mac));
  for (const auto& n : c.add.neighbours) note(nl_->Do(netlink::BuildReplaceNeighbour(n)), "neighbour " + n.ip.ToString());
  for (const auto& r : c.add.routes) {
    kite::Status s = nl_->Do(netlink::BuildReplaceRoute(r));
    note(s, "route " + RouteText(r));
    if (s.ok()) KITE_LOG(0) << "pod network: route " << RouteText(r);
  }
  return first;
}

kite::Status PodNetwork::Reconcile(const std::string& key) {
  if (options_.backend == Backend::kNone) return kite::Status::Ok();
  const client::ObjectPtr self = nodes_->Get("", options_.node_name);
  if (!self) return kite::Status::Ok();  // not registered yet: its add event syncs again
  const auto own = Cidr::Parse(api::GetString(*self, {"spec", "podCIDR"}));
  if (!own) return kite::Status::Ok();  // no podCIDR yet: the update that brings it syncs again
  if (!nl_) {
    auto s = netlink::Socket::Open();
    if (!s.ok()) return s.error();
    nl_.emplace(std::move(*s));
    // Pods' packets to other nodes are routed by this node.
    std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1\n";
  }
  auto up = FindUplink(*nl_, options_.iface, options_.node_ip);
  if (!up.ok()) return up.error().Annotate("pod network");

  int vxlan_index = 0;
  if (options_.backend == Backend::kVxlan) {
    if (kite::Status s = EnsureVxlanDevice(*up, *own, &vxlan_index); !s.ok()) return s;
  }
  if (kite::Status s = EnsureAnnotations(*self, *up); !s.ok()) return s;

  std::vector<NodeNetwork> nodes;
  for (const auto& n : nodes_->List()) nodes.push_back(ReadNodeNetwork(*n));
  const Dataplane want = Desired(options_.backend, options_.node_name, nodes, vxlan_index, up->index);
  Dataplane have;
  auto routes = nl_->Routes();
  if (!routes.ok()) return routes.error();
  for (const auto& r : *routes) {
    if (r.protocol == netlink::kRouteProtocol) have.routes.push_back(r);
  }
  if (vxlan_index) {
    auto neigh = nl_->Neighbours();
    if (!neigh.ok()) return neigh.error();
    for (const auto& n : *neigh) {
      if (n.index == vxlan_index && n.state == NUD_PERMANENT) have.neighbours.push_back(n);
    }
    auto fdb = nl_->Fdb();
    if (!fdb.ok()) return fdb.error();
    for (const auto& f : *fdb) {
      if (f.index == vxlan_index && f.state == NUD_PERMANENT) have.fdb.push_back(f);
    }
  }
  kite::Status applied = Apply(Diff(want, have));

  // Masquerade: written whole at every sync, so a rule deleted by hand comes back.
  if (!iptables_) iptables_ = DetectIptables();
  if (kite::Status s = EnsureMasquerade(*iptables_, options_.cluster_cidr, own->ToString()); !s.ok()) {
    KITE_LOG(0) << "pod network: masquerade rules: " << s.message();
    if (applied.ok()) applied = s;
  }
  if (applied.ok()) queue_.AddAfter(key, options_.resync);
  return applied;
}

}  // namespace kite::network
