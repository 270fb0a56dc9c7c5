#include "server/apiserver/filters/inflight.h"

#include <algorithm>
#include <cstdint>

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

// The widest LIST's seats.
constexpr int64_t kMaxSeats = 10;

int ListSeats(int64_t stored_objects, int64_t limit) {
  constexpr int64_t kObjectsPerSeat = 100;
  int64_t objects = stored_objects;
  if (limit > 0 && limit < objects) objects = limit;
  return static_cast<int>(std::clamp<int64_t>((objects + kObjectsPerSeat - 1) / kObjectsPerSeat, 1, kMaxSeats));
}

int WideListBudget(int max_readonly) {
  if (max_readonly <= 0) return 0;
  return std::max(max_readonly / 4, std::min(max_readonly, static_cast<int>(kMaxSeats)));
}

InflightLimiter::InflightLimiter(InflightOptions options)
    : options_(options), max_wide_(WideListBudget(options.max_readonly)) {
  InflightGauges::Get();
}

bool InflightLimiter::Take(std::atomic<int>& used, int limit, int n) {
  if (limit <= 0) {
    used.fetch_add(n, std::memory_order_relaxed);
    return true;
  }
  int now = used.load(std::memory_order_relaxed);
  for (;;) {
    // A request wider than the whole budget may still run alone.
    if (now > 0 && now + n > limit) return false;
    if (used.compare_exchange_weak(now, now + n, std::memory_order_relaxed)) return true;
  }
}

void InflightLimiter::Seats::Reset() {
  if (owner_) owner_->Release(mutating_, n_);
  owner_ = nullptr;
}

std::optional<InflightLimiter::Seats> InflightLimiter::TryAcquire(bool mutating, int seats) {
  const bool wide = !mutating && seats > 1;
  if (wide && !Take(wide_, max_wide_, seats)) return std::nullopt;
  if (!Take(mutating ? mutating_ : readonly_, mutating ? options_.max_mutating : options_.max_readonly, seats)) {
    if (wide) wide_.fetch_sub(seats, std::memory_order_relaxed);
    return std::nullopt;
  }
  auto& g = InflightGauges::Get();
  (mutating ? g.mutating : g.readonly).Increment(seats);
  return Seats(this, mutating, seats);
}

void InflightLimiter::Release(bool mutating, int n) {
  (mutating ? mutating_ : readonly_).fetch_sub(n, std::memory_order_relaxed);
  if (!mutating && n > 1) wide_.fetch_sub(n, std::memory_order_relaxed);
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
