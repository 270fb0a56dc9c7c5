#include "agent/hollow/node_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

namespace kite::hollow {

namespace {

bool ParseIpv4(const std::string& text, uint32_t* out) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

std::string FormatIpv4(uint32_t v) {
  in_addr a{};
  a.s_addr = htonl(v);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
}

}  // namespace

NodeSet::NodeSet(const std::string& name_prefix, int count) : runtime_(static_cast<size_t>(std::max(0, count))) {
  for (int i = 0; i < count; ++i) {
    nodes_.push_back(MakeNodeIdentity(name_prefix, i));
    index_.emplace(nodes_.back().name, nodes_.size() - 1);
    SetCidrLocked(runtime_[static_cast<size_t>(i)], nodes_.back().pod_cidr);
  }
}

const NodeIdentity* NodeSet::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

void NodeSet::SetCidrLocked(Runtime& rt, const std::string& cidr) {
  rt.cidr = cidr;
  rt.cidr_base = 0;
  rt.cidr_hosts = 0;
  auto slash = cidr.find('/');
  uint32_t addr = 0;
  if (slash == std::string::npos || !ParseIpv4(cidr.substr(0, slash), &addr)) return;
  int len = std::atoi(cidr.c_str() + slash + 1);
  if (len < 8 || len > 30) return;  // too wide to be a node's range, or no room for pods
  const uint32_t mask = ~uint32_t{0} << (32 - len);
  rt.cidr_base = addr & mask;
  rt.cidr_hosts = std::min<uint32_t>((~mask) - 1, 65534);
}

void NodeSet::SetRegistered(const std::string& name, const std::string& uid, const std::string& pod_cidr) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Runtime& rt = runtime_[it->second];
  rt.uid = uid;
  if (pod_cidr.empty() || pod_cidr == rt.cidr) return;
  SetCidrLocked(rt, pod_cidr);
  rt.used.clear();
  std::erase_if(pod_ips_, [&](const auto& entry) { return entry.second.node == name; });
}

std::string NodeSet::Uid(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return "";
  std::lock_guard<std::mutex> lock(mu_);
  return runtime_[it->second].uid;
}

std::string NodeSet::PodIp(const std::string& node, const std::string& pod_key) {
  auto it = index_.find(node);
  if (it == index_.end()) return "";
  std::lock_guard<std::mutex> lock(mu_);
  Runtime& rt = runtime_[it->second];
  if (auto have = pod_ips_.find(pod_key); have != pod_ips_.end() && have->second.node == node) {
    return FormatIpv4(rt.cidr_base + have->second.offset);
  }
  // .1 is the node's bridge, as with the bridge CNI plugin; pods start at .2.
  for (uint32_t off = 2; off <= rt.cidr_hosts; ++off) {
    if (rt.used.count(off)) continue;
    rt.used.insert(off);
    pod_ips_[pod_key] = Assigned{node, off};
    return FormatIpv4(rt.cidr_base + off);
  }
  return "";
}

void NodeSet::AdoptPodIp(const std::string& node, const std::string& pod_key, const std::string& ip) {
  auto it = index_.find(node);
  uint32_t addr = 0;
  if (it == index_.end() || !ParseIpv4(ip, &addr)) return;
  std::lock_guard<std::mutex> lock(mu_);
  Runtime& rt = runtime_[it->second];
  if (addr <= rt.cidr_base || addr - rt.cidr_base > rt.cidr_hosts || pod_ips_.count(pod_key)) return;
  rt.used.insert(addr - rt.cidr_base);
  pod_ips_[pod_key] = Assigned{node, addr - rt.cidr_base};
}

void NodeSet::ReleasePodIp(const std::string& pod_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto have = pod_ips_.find(pod_key);
  if (have == pod_ips_.end()) return;
  auto it = index_.find(have->second.node);
  if (it != index_.end()) runtime_[it->second].used.erase(have->second.offset);
  pod_ips_.erase(have);
}

}  // namespace kite::hollow
