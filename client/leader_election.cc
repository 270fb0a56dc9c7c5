#include "client/leader_election.h"

#include <boost/json.hpp>

#include "api/time.h"
#include "base/log.h"

namespace kite::client {
namespace json = boost::json;

LeaderElector::LeaderElector(const Client* client, LeaderElectionConfig config, const kite::Clock* clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start(std::function<void()> on_started, std::function<void()> on_stopped) {
  on_started_ = std::move(on_started);
  on_stopped_ = std::move(on_stopped);
  thread_ = std::thread([this] { Run(); });
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

// One attempt: create the lease, renew ours, or take over one that has not moved for its
// leaseDurationSeconds by our clock. Optimistic concurrency on resourceVersion settles races.
bool LeaderElector::TryAcquireOrRenew() {
  const api::ResourceInfo* leases = api::FindResource("coordination.k8s.io", "v1", "leases");
  const auto now = clock_->SteadyNow();
  const std::string micro_now = api::FormatMicroTime(clock_->Now());
  const int64_t duration_s = std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  auto got = client_->Get(*leases, config_.lease_namespace, config_.lease_name);
  if (got.NotFound()) {
    json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata", json::object{{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
                       {"spec", json::object{{"holderIdentity", config_.identity},
                                             {"leaseDurationSeconds", duration_s},
                                             {"acquireTime", micro_now},
                                             {"renewTime", micro_now},
                                             {"leaseTransitions", 0}}}};
    auto created = client_->Create(*leases, config_.lease_namespace, lease);
    if (!created.ok()) return false;
    observed_rv_ = api::ResourceVersion(*created);
    observed_at_ = now;
    return true;
  }
  if (!got.ok()) return false;
  json::object lease = std::move(got.value());
  json::object spec;
  if (auto* s = lease.if_contains("spec"); s && s->is_object()) spec = s->as_object();
  std::string holder;
  if (auto* h = spec.if_contains("holderIdentity"); h && h->is_string()) holder = std::string(h->as_string());
  const std::string rv = api::ResourceVersion(lease);
  if (rv != observed_rv_) {  // someone wrote it: restart our clock for it
    observed_rv_ = rv;
    observed_at_ = now;
  }
  const bool ours = holder == config_.identity;
  // Another holder's lease lasts the leaseDurationSeconds it wrote (as client-go reads it), not
  // ours: holders may be configured differently.
  std::chrono::steady_clock::duration held_for = config_.lease_duration;
  if (auto* d = spec.if_contains("leaseDurationSeconds"); d && d->is_int64() && d->as_int64() > 0) {
    held_for = std::chrono::seconds(d->as_int64());
  }
  if (!ours && !holder.empty() && now - observed_at_ < held_for) return false;
  int64_t transitions = 0;
  if (auto* t = spec.if_contains("leaseTransitions"); t && t->is_int64()) transitions = t->as_int64();
  if (!ours) {
    spec["acquireTime"] = micro_now;
    spec["leaseTransitions"] = transitions + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = micro_now;
  lease["spec"] = std::move(spec);
  auto updated = client_->Update(*leases, config_.lease_namespace, lease);
  if (!updated.ok()) return false;
  observed_rv_ = api::ResourceVersion(*updated);
  observed_at_ = now;
  return true;
}

void LeaderElector::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const bool ok = TryAcquireOrRenew();
    const auto now = clock_->SteadyNow();
    lock.lock();
    if (ok) {
      renewed_at_ = now;
      if (!leader_) {
        leader_ = true;
        KITE_LOG(0) << "leader election: " << config_.identity << " now holds " << config_.lease_namespace << "/"
                    << config_.lease_name;
        lock.unlock();
        if (on_started_) on_started_();
        lock.lock();
      }
    } else if (leader_ && now - renewed_at_ >= config_.renew_deadline) {
      leader_ = false;
      KITE_LOG(0) << "leader election: lost " << config_.lease_namespace << "/" << config_.lease_name;
      lock.unlock();
      if (on_stopped_) on_stopped_();
      lock.lock();
    }
    cv_.wait_for(lock, config_.retry_period, [this] { return stopping_; });
  }
}

void LeaderElector::Stop() {
  bool was_leader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    was_leader = leader_;
    leader_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!was_leader) return;
  // Release: an empty holder lets a successor take over at once.
  const api::ResourceInfo* leases = api::FindResource("coordination.k8s.io", "v1", "leases");
  auto got = client_->Get(*leases, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) return;
  auto& spec = got->operator[]("spec");
  if (!spec.is_object()) return;
  if (auto* h = spec.as_object().if_contains("holderIdentity"); !h || !h->is_string() || h->as_string() != config_.identity) return;
  spec.as_object()["holderIdentity"] = "";
  spec.as_object()["leaseDurationSeconds"] = 1;
  // Best effort at stop: if the release is not written, a successor takes the lease once it
  // expires, as it would after a crash.
  (void)client_->Update(*leases, config_.lease_namespace, got.value());
}

}  // namespace kite::client
