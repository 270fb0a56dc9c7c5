#include "agent/hollow/hollow_node.h"

#include <cstdint>
#include <cstdio>

namespace kite::hollow {

namespace {

// The Kubernetes release hollow nodes claim to run, marked so that it cannot pass for a kubelet.
constexpr const char* kKubeletVersion = "v1.32.4-hollow";

std::string Ipv4(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return buf;
}

}  // namespace

kubelet::NodeIdentity MakeNodeIdentity(const std::string& prefix, int index) {
  kubelet::NodeIdentity id;
  id.index = index;
  id.name = prefix + std::to_string(index);
  id.internal_ip = Ipv4((10u << 24 | 200u << 16) + static_cast<uint32_t>(index) + 1);
  const uint32_t cidr = 10u << 24 | (64u + static_cast<uint32_t>(index) / 256) << 16 | (static_cast<uint32_t>(index) % 256) << 8;
  id.pod_cidr = Ipv4(cidr) + "/24";
  return id;
}

kubelet::NodeTemplate HollowNodeTemplate(const std::string& container_runtime_version) {
  kubelet::NodeTemplate t;
  t.labels.emplace_back("node.kubernetes.io/instance-type", "hollow");
  t.kubelet_version = kKubeletVersion;
  t.kernel_version = "hollow";
  t.os_image = "kite-hollow (simulated node)";
  t.container_runtime_version = container_runtime_version;
  return t;
}

}  // namespace kite::hollow
