// The max-in-flight filter: kube-apiserver's bound on requests served at once, so that a burst
// of clients gets 429s instead of taking the server's memory (`--max-requests-inflight`,
// `--max-mutating-requests-inflight`).
//
// Semantics, as upstream's filter (staging/.../server/filters/maxinflight.go):
// - Long-running requests (watches, and the exec/attach/portforward/proxy/log subresources) are
//   not counted: they would hold a seat for hours.
// - get/list/watch are read-only and share one budget; every other verb shares the mutating one.
// - A request that finds its budget spent gets 429 TooManyRequests with `Retry-After: 1`, unless
//   its user is in system:masters (upstream: "a super-admin or a loopback connection should
//   always get an answer") or it comes from kite's in-process components through the local
//   transport (they run under their upstream identities, not system:masters; the check is in
//   apiserver.cc).
// - 0 switches a budget off.
// One addition from upstream's priority-and-fairness work estimator: a LIST costs seats in
// proportion to the objects it may return (one per 100 stored objects of the resource, at most
// 10), so a few hundred big LISTs cannot each build a response of megabytes at the same time.
// The object counts are those of `apiserver_storage_objects`, refreshed every 10 s.
// And one from its priority levels, which keep workloads apart: such wide LISTs (more than one
// seat) also draw from their own budget, a quarter of the read-only one (at least one widest
// LIST), so a crowd of big LISTs is refused early and cheaply while three quarters of the
// read-only seats stay for everything else.
//
// Thread-safe: counters are atomics, the object counts sit behind a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/apiserver/filters/request_info.h"

namespace kite::apiserver {

struct InflightOptions {
  int max_readonly = 200;  // --max-requests-inflight (upstream's default is 400; see server/main.cc)
  int max_mutating = 100;  // --max-mutating-requests-inflight (upstream: 200)
};

// True for requests the filter does not count (upstream's BasicLongRunningRequestCheck).
bool IsLongRunning(const RequestInfo& info);
// True for verbs outside get/list/watch.
bool IsMutating(const std::string& verb);
// Seats a LIST takes: ceil(objects / 100) in [1, 10], where `objects` is the stored count capped
// by `limit` when the client pages (limit > 0).
int ListSeats(int64_t stored_objects, int64_t limit);
// The wide LISTs' own budget for a read-only budget of `max_readonly` (0: none).
int WideListBudget(int max_readonly);

class InflightLimiter {
 public:
  explicit InflightLimiter(InflightOptions options);

  // A held share of a budget, released when destroyed. Empty when nothing was taken.
  class Seats {
   public:
    Seats() = default;
    Seats(Seats&& o) noexcept : owner_(o.owner_), mutating_(o.mutating_), n_(o.n_) { o.owner_ = nullptr; }
    Seats& operator=(Seats&& o) noexcept {
      if (this != &o) {
        Reset();
        owner_ = o.owner_;
        mutating_ = o.mutating_;
        n_ = o.n_;
        o.owner_ = nullptr;
      }
      return *this;
    }
    Seats(const Seats&) = delete;
    ~Seats() { Reset(); }
    void Reset();

   private:
    friend class InflightLimiter;
    Seats(InflightLimiter* owner, bool mutating, int n) : owner_(owner), mutating_(mutating), n_(n) {}
    InflightLimiter* owner_ = nullptr;
    bool mutating_ = false;
    int n_ = 0;
  };

  // Takes `seats` from the read-only or mutating budget (and, for a read-only request of more
  // than one seat, from the wide LISTs' budget too). Nullopt (and nothing taken) when it would
  // pass a limit; a request wider than a whole budget still runs when that budget is idle.
  std::optional<Seats> TryAcquire(bool mutating, int seats);

  // The object count behind ListSeats, per resource (its storage prefix).
  void SetStoredObjects(const std::string& prefix, int64_t count);
  int64_t StoredObjects(const std::string& prefix) const;

 private:
  void Release(bool mutating, int n);
  // Takes n from `used` within `limit` (0: unbounded); false when it would pass the limit.
  static bool Take(std::atomic<int>& used, int limit, int n);
  const InflightOptions options_;
  const int max_wide_;
  std::atomic<int> readonly_{0}, mutating_{0}, wide_{0};
  mutable std::mutex counts_mu_;
  std::map<std::string, int64_t> counts_;  // guarded by counts_mu_
};

}  // namespace kite::apiserver
