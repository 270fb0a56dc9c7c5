#include "agent/hollow/node_lease_controller.h"

#include <boost/json.hpp>

#include "agent/hollow/backoff.h"
#include "base/log.h"

namespace kite::hollow {
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

namespace {

const api::ResourceInfo& Leases() { return *api::FindResource("coordination.k8s.io", "v1", "leases"); }
constexpr const char* kLeaseNamespace = "kube-node-lease";

}  // namespace

NodeLeaseController::NodeLeaseController(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                                         std::chrono::milliseconds renew_interval, int workers)
    : Controller("hollow-node-lease", workers),
      client_(client),
      tmpl_(tmpl),
      nodes_(nodes),
      interval_(std::max(renew_interval, std::chrono::milliseconds(1))),
      epoch_(Steady::now()) {}

Steady::time_point NodeLeaseController::NextSlot(int index) const {
  const auto n = static_cast<int64_t>(std::max<size_t>(1, nodes_->nodes().size()));
  const Steady::duration period = interval_;
  const Steady::duration phase = period * index / n;
  const auto since = Steady::now() - epoch_ - phase;
  const int64_t k = since < Steady::duration::zero() ? 0 : since / period + 1;
  return epoch_ + phase + period * k;
}

// One write of the lease with renewTime = now: an update of the lease we wrote last, or, when
// we hold none (first time, after a conflict), an update of the stored one or a create.
kite::Result<json::object> NodeLeaseController::Renew(const std::string& node, const std::string& uid) {
  const auto now = WallClock::now();
  json::object fresh = BuildLease(*tmpl_, node, uid, now);
  json::object lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = latest_.find(node); it != latest_.end()) lease = it->second;
  }
  if (lease.empty()) {
    auto got = client_->Get(Leases(), kLeaseNamespace, node);
    if (got.NotFound()) return client_->Create(Leases(), kLeaseNamespace, fresh);
    if (!got.ok()) return got;
    lease = std::move(got.value());
  }
  // Ours again, whatever it said: holder, duration, owner (the node may have been re-created).
  lease["spec"] = fresh["spec"];
  lease["metadata"].as_object()["ownerReferences"] = fresh["metadata"].as_object()["ownerReferences"];
  return client_->Update(Leases(), kLeaseNamespace, lease);
}

Status NodeLeaseController::Reconcile(const std::string& node) {
  const NodeIdentity* id = nodes_->Find(node);
  const std::string uid = nodes_->Uid(node);
  if (!id || uid.empty()) return Status::Ok();  // NodeRegistered brings it back
  auto res = Renew(node, uid);
  std::lock_guard<std::mutex> lock(mu_);
  if (res.ok()) {
    latest_[node] = std::move(res.value());
    failures_.erase(node);
    queue_.AddAfter(node, NextSlot(id->index) - Steady::now());
    return Status::Ok();
  }
  latest_.erase(node);  // a conflict or a deleted lease: start from the stored state next time
  int n = failures_[node]++;
  KITE_LOG(n == 0 ? 0 : 2) << "lease " << node << ": " << res.error().http_code() << " " << res.error().reason() << " "
                           << res.error().message() << " (retrying)";
  queue_.AddAfter(node, RetryDelay(n));
  return Status::Ok();
}

}  // namespace kite::hollow
