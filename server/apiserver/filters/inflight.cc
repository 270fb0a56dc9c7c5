#include "server/apiserver/filters/inflight.h"

#include <algorithm>

#include "base/metrics.h"

namespace kite::apiserver {
namespace {

// apiserver_current_inflight_requests{request_kind="readOnly"|"mutating"}: seats held now.
struct InflightGauges {
  prometheus::Gauge& readonly;
  prometheus::Gauge& mutating;
  static InflightGauges& Get() {
    static auto& family = prometheus::BuildGauge()
                              .Name("apiserver_current_inflight_requests")
                              .Help("Maximal number of currently used inflight request limit of this apiserver per request kind in last second.")
                              .Register(metrics::Default());
    static InflightGauges g{family.Add({{"request_kind", "readOnly"}}), family.Add({{"request_kind", "mutating"}})};
    return g;
  }
};

}  // namespace

bool IsLongRunning(const RequestInfo& info) {
  if (info.verb == "watch" || info.verb == "proxy") return true;
  const std::string& s = info.subresource;
  return s == "attach" || s == "exec" || s == "proxy" || s == "log" || s == "portforward";
}

bool IsMutating(const std::string& verb) { return verb != "get" && verb != "list" && verb != "watch"; }

int ListSeats(int64_t stored_objects, int64_t limit) {
  constexpr int64_t kObjectsPerSeat = 100;
  constexpr int64_t kMaxSeats = 10;
  int64_t objects = stored_objects;
  if (limit > 0 && limit < objects) objects = limit;
  return static_cast<int>(std::clamp<int64_t>((objects + kObjectsPerSeat - 1) / kObjectsPerSeat, 1, kMaxSeats));
}

InflightLimiter::InflightLimiter(InflightOptions options) : options_(options) { InflightGauges::Get(); }

void InflightLimiter::Seats::Reset() {
  if (owner_) owner_->Release(mutating_, n_);
  owner_ = nullptr;
}

std::optional<InflightLimiter::Seats> InflightLimiter::TryAcquire(bool mutating, int seats) {
  const int limit = mutating ? options_.max_mutating : options_.max_readonly;
  std::atomic<int>& used = mutating ? mutating_ : readonly_;
  if (limit > 0) {
    int now = used.load(std::memory_order_relaxed);
    for (;;) {
      // A request wider than the whole budget may still run alone.
      if (now > 0 && now + seats > limit) return std::nullopt;
      if (used.compare_exchange_weak(now, now + seats, std::memory_order_relaxed)) break;
    }
  } else {
    used.fetch_add(seats, std::memory_order_relaxed);
  }
  auto& g = InflightGauges::Get();
  (mutating ? g.mutating : g.readonly).Increment(seats);
  return Seats(this, mutating, seats);
}

void InflightLimiter::Release(bool mutating, int n) {
  (mutating ? mutating_ : readonly_).fetch_sub(n, std::memory_order_relaxed);
  auto& g = InflightGauges::Get();
  (mutating ? g.mutating : g.readonly).Decrement(n);
}

void InflightLimiter::SetStoredObjects(const std::string& prefix, int64_t count) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  counts_[prefix] = count;
}

int64_t InflightLimiter::StoredObjects(const std::string& prefix) const {
  std::lock_guard<std::mutex> lock(counts_mu_);
  auto it = counts_.find(prefix);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace kite::apiserver
