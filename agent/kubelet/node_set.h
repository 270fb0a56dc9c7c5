// NodeSet: the nodes one kubelet process runs, each with its container runtime, and what is
// learnt about them at run time: the uid of each Node object once registered (leases are owned
// by it). A kubelet runs one node; kite-hollow runs thousands in one process, with one set of
// managers and worker threads for all of them (no thread per node). Thread-safe; the list of
// nodes itself never changes.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/kubelet/node_objects.h"

namespace kite::kubelet {

struct Node {
  NodeIdentity id;
  cri::RuntimeService* runtime = nullptr;  // borrowed; outlives the NodeSet
  cri::ImageService* images = nullptr;
  // Why pod sandboxes may not start yet ("" when they may); empty: never held back. The pod
  // workers ask before RunPodSandbox and say in an Event why a pod waits.
  std::function<std::string()> sandbox_gate;
};

class NodeSet {
 public:
  explicit NodeSet(std::vector<Node> nodes);

  const std::vector<Node>& nodes() const { return nodes_; }
  // Ours, or nullptr.
  const Node* Find(std::string_view name) const;

  // After (re-)registration: the Node's uid and the pod CIDR it ended up with (an existing Node
  // keeps the one it had), which goes to the node's runtime (CRI UpdateRuntimeConfig).
  void SetRegistered(const std::string& name, const std::string& uid, const std::string& pod_cidr);
  // "" until registered.
  std::string Uid(const std::string& name) const;

 private:
  std::vector<Node> nodes_;
  std::unordered_map<std::string_view, size_t> index_;  // name (in nodes_) → position in nodes_
  mutable std::mutex mu_;                               // guards uids_
  std::vector<std::string> uids_;                       // parallel to nodes_
};

}  // namespace kite::kubelet
