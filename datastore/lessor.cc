#include "datastore/lessor.h"

#include <random>

#include "datastore/errors.h"

namespace kite::datastore {

bool Lessor::Exists(int64_t id) const {
  std::lock_guard lock(mu_);
  return leases_.count(id) > 0;
}

void Lessor::Add(int64_t id, int64_t ttl) {
  std::lock_guard lock(mu_);
  Lease& l = leases_[id];
  l.ttl = ttl;
  l.deadline = clock_->SteadyNow() + std::chrono::seconds(ttl);
}

std::vector<std::string> Lessor::Remove(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return {};
  std::vector<std::string> keys(it->second.keys.begin(), it->second.keys.end());
  leases_.erase(it);
  return keys;
}

int64_t Lessor::NewId() const {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu_);
  for (;;) {
    int64_t id = static_cast<int64_t>(rng() >> 1);  // positive int63, as etcd's generator
    if (id != 0 && !leases_.count(id)) return id;
  }
}

void Lessor::Attach(int64_t id, const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = leases_.find(id); it != leases_.end()) it->second.keys.insert(key);
}

void Lessor::Detach(int64_t id, const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = leases_.find(id); it != leases_.end()) it->second.keys.erase(key);
}

Result<LeaseInfo> Lessor::KeepAlive(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.expiring) return errors::LeaseNotFound();
  it->second.deadline = clock_->SteadyNow() + std::chrono::seconds(it->second.ttl);
  return LeaseInfo{id, it->second.ttl, it->second.ttl, {}};
}

Result<LeaseInfo> Lessor::TimeToLive(int64_t id, bool keys) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return errors::LeaseNotFound();
  LeaseInfo info;
  info.id = id;
  info.granted_ttl = it->second.ttl;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.deadline - clock_->SteadyNow()).count();
  // etcd rounds the remaining time up to whole seconds and reports at least 0.
  info.ttl = left <= 0 ? 0 : (left + 999) / 1000;
  if (keys) info.keys.assign(it->second.keys.begin(), it->second.keys.end());
  return info;
}

std::vector<int64_t> Lessor::List() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> ids;
  for (const auto& [id, l] : leases_) ids.push_back(id);
  return ids;
}

std::vector<int64_t> Lessor::TakeExpired() {
  const auto now = clock_->SteadyNow();
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (auto& [id, l] : leases_) {
    if (!l.expiring && l.deadline <= now) {
      l.expiring = true;
      out.push_back(id);
    }
  }
  return out;
}

}  // namespace kite::datastore
