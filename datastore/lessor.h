// Lessor: the in-memory table of leases — TTLs, expiry deadlines and the keys attached to each.
//
// Leases are durable (the SQLite store persists grants and revokes); deadlines are not: after a
// restart every lease gets its full TTL again, as etcd extends leases on leader change.
// Time comes from the Clock given at construction (its monotonic side), so a test expires
// leases by advancing a FakeClock.
// Threading: all methods lock the lessor's own mutex; safe from any thread. The store's writer
// calls Attach/Detach while applying writes (lock order: MVCC lock, then lessor).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "datastore/types.h"

namespace kite::datastore {

class Lessor {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Lessor(const kite::Clock* clock = kite::Clock::Real()) : clock_(clock) {}

  bool Exists(int64_t id) const;
  // Adds a lease (id must be new). Deadline is now + ttl.
  void Add(int64_t id, int64_t ttl);
  // Removes the lease; returns the keys that were attached (the caller deletes them).
  std::vector<std::string> Remove(int64_t id);
  // A new id that is not in use (positive, random like etcd's).
  int64_t NewId() const;

  void Attach(int64_t id, const std::string& key);
  void Detach(int64_t id, const std::string& key);

  Result<LeaseInfo> KeepAlive(int64_t id);
  Result<LeaseInfo> TimeToLive(int64_t id, bool keys) const;
  std::vector<int64_t> List() const;
  // Leases whose deadline passed and that were not handed out before; each once.
  std::vector<int64_t> TakeExpired();

 private:
  struct Lease {
    int64_t ttl = 0;
    Clock::time_point deadline;
    bool expiring = false;  // handed to the revoker; not handed out again
    std::set<std::string> keys;
  };
  const kite::Clock* const clock_;
  mutable std::mutex mu_;
  std::map<int64_t, Lease> leases_;  // guarded by mu_
};

}  // namespace kite::datastore
