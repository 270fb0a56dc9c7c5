// The network policy controller (k3s runs kube-router's in every node; `--disable-network-policy`
// turns it off): a controller on the agent's runner that watches NetworkPolicies, every Pod and
// every Namespace, and keeps the filter table's rules for this node's pods (policy_rules.h)
// matching them.
//
// - Handlers enqueue the one key "sync" for a policy's change, a pod's labels, IP, phase or node,
//   and a namespace's labels; status-only pod writes do not. A sync rewrites every chain of ours
//   in one `iptables-restore --noflush` batch (the filter table only) and deletes the chains it
//   wrote before that nothing wants now; syncs start at most every `min_sync_period`. A sync whose
//   rules are the ones last written writes nothing, unless that write is `sync_period` old: at
//   least every `sync_period` the rules are written whatever changed (rules deleted by hand come
//   back then).
// - The first sync, and the one after a failure, lists the filter table's chains and deletes ours
//   that nothing wants (an earlier process's).
// - Every sync makes sure FORWARD's first rule jumps to KUBE-ROUTER-FORWARD (kube-proxy and the
//   pod network insert ACCEPT rules into FORWARD too; a policy must see packets before them).
// - The same iptables backend as kube-proxy's (proxy::DetectBackend); net.bridge.bridge-nf-call-
//   iptables set to 1 at start, so pods of one node (one bridge) are policed too.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "agent/netpol/policy_rules.h"
#include "agent/proxy/iptables.h"
#include "client/controller.h"

namespace kite::netpol {

struct NetpolOptions {
  std::string node_name;
  std::chrono::milliseconds sync_period{30'000};
  std::chrono::milliseconds min_sync_period{200};
  proxy::Exec exec;                       // empty: RunCommand
  std::optional<proxy::Backend> backend;  // empty: DetectBackend
};

class NetpolController : public client::Controller {
 public:
  explicit NetpolController(NetpolOptions options);

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // One sync now (tests).
  Status Sync();
  // Local pods with a policy chain after the last successful sync.
  size_t isolated_pods() const { return isolated_pods_; }

 private:
  NetpolOptions opts_;
  proxy::Exec exec_;
  std::unique_ptr<proxy::Iptables> iptables_;
  client::Informer* policies_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* namespaces_ = nullptr;
  // Worker only.
  std::set<std::string> written_;  // our chains in the table
  bool known_ = false;             // written_ is what the table holds
  std::string written_text_;       // the last batch restored
  std::chrono::steady_clock::time_point last_sync_{}, last_write_{};
  size_t isolated_pods_ = 0;
};

// A node where policies were enforced and now are not (--disable-network-policy): the FORWARD
// jump and every chain of ours deleted, so no rule of an old policy keeps dropping packets.
// Nothing of ours there: no change.
Status RemoveNetpolRules(const proxy::Exec& exec = proxy::RunCommand);

}  // namespace kite::netpol
