#include "agent/netpol/netpol_controller.h"

#include <fstream>

#include "api/object.h"
#include "base/log.h"

namespace kite::netpol {
namespace {

namespace json = boost::json;
constexpr char kSyncKey[] = "sync";

proxy::Iptables::Jump ForwardJump() {
  return {"filter", "FORWARD", kForwardChain, {"-m", "comment", "--comment", "kite network policies"}};
}

// What of a pod the rules depend on (a status-only write that changes none of it is no change).
bool SamePolicyView(const json::object& a, const json::object& b) {
  return api::GetObject(a, {"metadata", "labels"}) == api::GetObject(b, {"metadata", "labels"}) &&
         api::GetString(a, {"status", "podIP"}) == api::GetString(b, {"status", "podIP"}) &&
         api::GetString(a, {"status", "phase"}) == api::GetString(b, {"status", "phase"}) &&
         api::GetString(a, {"spec", "nodeName"}) == api::GetString(b, {"spec", "nodeName"});
}

}  // namespace

NetpolController::NetpolController(NetpolOptions options)
    : client::Controller("network-policy", 1),
      opts_(std::move(options)),
      exec_(opts_.exec ? opts_.exec : proxy::Exec(proxy::RunCommand)) {}

void NetpolController::Init(client::InformerFactory& informers) {
  const proxy::Backend backend = opts_.backend ? *opts_.backend : proxy::DetectBackend(exec_);
  iptables_ = std::make_unique<proxy::Iptables>(backend, exec_);
  KITE_LOG(0) << "network policies: enforced on node " << opts_.node_name << " (" << proxy::BackendName(backend)
              << " backend)";
  // Pods of this node talk over the bridge: their packets meet FORWARD only with br_netfilter's
  // bridge-nf-call-iptables on (k3s's agent sets it too; the install checks for the module).
  if (std::ofstream f("/proc/sys/net/bridge/bridge-nf-call-iptables"); !(f << "1\n")) {
    KITE_LOG(0) << "network policies: no br_netfilter (net.bridge.bridge-nf-call-iptables): traffic between pods of this "
                   "node is not policed";
  }
  policies_ = informers.For("networking.k8s.io", "v1", "networkpolicies");
  pods_ = informers.For("", "v1", "pods");
  namespaces_ = informers.For("", "v1", "namespaces");
  auto any = [this](const client::ObjectPtr&) { queue_.Add(kSyncKey); };
  client::EventHandler policy{any, [this](const client::ObjectPtr&, const client::ObjectPtr&) { queue_.Add(kSyncKey); }, any};
  policies_->AddHandler(std::move(policy));
  client::EventHandler pod{any,
                           [this](const client::ObjectPtr& before, const client::ObjectPtr& after) {
                             if (!SamePolicyView(*before, *after)) queue_.Add(kSyncKey);
                           },
                           any};
  pods_->AddHandler(std::move(pod));
  client::EventHandler ns{any,
                          [this](const client::ObjectPtr& before, const client::ObjectPtr& after) {
                            if (api::GetObject(*before, {"metadata", "labels"}) != api::GetObject(*after, {"metadata", "labels"})) {
                              queue_.Add(kSyncKey);
                            }
                          },
                          any};
  namespaces_->AddHandler(std::move(ns));
  queue_.Add(kSyncKey);
}

Status NetpolController::Reconcile(const std::string&) {
  const auto since = std::chrono::steady_clock::now() - last_sync_;
  if (since < opts_.min_sync_period) {
    queue_.AddAfter(kSyncKey, opts_.min_sync_period - since);
    return Status::Ok();
  }
  Status s = Sync();
  // The next write that happens whatever changes: sync_period after the last one.
  const auto since_write = std::chrono::steady_clock::now() - last_write_;
  queue_.AddAfter(kSyncKey, since_write < opts_.sync_period
                                ? std::chrono::duration_cast<std::chrono::milliseconds>(opts_.sync_period - since_write)
                                : opts_.sync_period);
  return s;
}

Status NetpolController::Sync() {
  const auto now = std::chrono::steady_clock::now();
  last_sync_ = now;
  if (!known_) {
    // Chains an earlier process wrote: deleted unless still wanted.
    auto save = iptables_->Save("filter");
    if (!save.ok()) return save.status();
    written_.clear();
    for (const std::string& c : proxy::ChainsOf(*save)) {
      if (IsNetpolChain(c)) written_.insert(c);
    }
  }
  std::vector<client::ObjectPtr> policies = policies_->List(), pods = pods_->List(), namespaces = namespaces_->List();
  ClusterState state;
  for (const auto& p : policies) state.policies.push_back(p.get());
  for (const auto& p : pods) state.pods.push_back(p.get());
  for (const auto& n : namespaces) state.namespaces.push_back(n.get());
  NetpolRules rules = GenerateNetpolRules(state, opts_.node_name, written_);
  // The same rules as the last write, which is younger than sync_period: nothing to do. Pods
  // come and go on every node all day; most changes (a pod no policy selects, one of another
  // node) change nothing here, and an iptables-restore plus an iptables -C per change cost a
  // node two process starts (2 % of the CPU of a burst of 30 pods).
  if (known_ && rules.text == written_text_ && now - last_write_ < opts_.sync_period) return Status::Ok();
  last_write_ = now;
  Status s = iptables_->Restore(rules.text);
  if (s.ok()) {
    s = iptables_->EnsureJumps({ForwardJump()}, /*first=*/true);
  }
  if (!s.ok()) {
    known_ = false;
    KITE_LOG(0) << "network policies: sync failed: " << s.message();
    return s;
  }
  known_ = true;
  written_ = std::move(rules.chains);
  written_text_ = std::move(rules.text);
  for (const std::string& cut : rules.truncated) {
    KITE_LOG(0) << "network policies: " << cut << " allows more peers and ports than " << kMaxAllowRulesPerChain
                << " rules (or all pods' more than " << kMaxAllowRules << "): the rest is dropped";
  }
  if (rules.isolated_pods != isolated_pods_) {
    KITE_LOG(1) << "network policies: " << rules.isolated_pods << " pods of this node isolated by " << policies.size()
                << " policies";
  }
  isolated_pods_ = rules.isolated_pods;
  return Status::Ok();
}

Status RemoveNetpolRules(const proxy::Exec& exec) {
  const proxy::Iptables iptables(proxy::DetectBackend(exec), exec);
  auto save = iptables.Save("filter");
  if (!save.ok()) return save.status();
  std::vector<std::string> ours;
  for (const std::string& c : proxy::ChainsOf(*save)) {
    if (IsNetpolChain(c)) ours.push_back(c);
  }
  if (ours.empty()) return Status::Ok();
  if (Status s = iptables.RemoveJump(ForwardJump()); !s.ok()) return s;
  std::string text = "*filter\n";
  for (const std::string& c : ours) text += ":" + c + " - [0:0]\n";  // flushed first: no reference is left
  for (const std::string& c : ours) text += "-X " + c + "\n";
  text += "COMMIT\n";
  if (Status s = iptables.Restore(text); !s.ok()) return s;
  KITE_LOG(0) << "network policies: not enforced (--disable-network-policy); " << ours.size() << " chains of before deleted";
  return Status::Ok();
}

}  // namespace kite::netpol
