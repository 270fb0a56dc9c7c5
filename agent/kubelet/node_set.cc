#include "agent/kubelet/node_set.h"

#include "base/log.h"

namespace kite::kubelet {

NodeSet::NodeSet(std::vector<Node> nodes) : nodes_(std::move(nodes)), uids_(nodes_.size()) {
  for (size_t i = 0; i < nodes_.size(); ++i) index_.emplace(nodes_[i].id.name, i);
}

const Node* NodeSet::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

void NodeSet::SetRegistered(const std::string& name, const std::string& uid, const std::string& pod_cidr) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uids_[it->second] = uid;
  }
  if (pod_cidr.empty()) return;
  const Node& node = nodes_[it->second];
  if (auto s = node.runtime->UpdateRuntimeConfig(pod_cidr); !s.ok()) {
    KITE_LOG(0) << "node " << name << ": runtime config with pod CIDR " << pod_cidr << ": " << s.message();
  }
}

std::string NodeSet::Uid(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return "";
  std::lock_guard<std::mutex> lock(mu_);
  return uids_[it->second];
}

}  // namespace kite::kubelet
