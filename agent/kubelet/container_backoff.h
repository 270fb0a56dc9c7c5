// ContainerBackoff: the kubelet's restart back-off (upstream's flowcontrol.Backoff as the kubelet
// uses it for CrashLoopBackOff and ImagePullBackOff). One entry per key (pod uid + container
// name, or + image): the first failure may be retried at once and sets the delay to `initial`;
// each retry after the next failure doubles it, up to `max`; a failure more than 2 × max after
// the last retry (upstream's expiry: 10 min with the kubelet's 5 min ceiling, i.e. a container
// that ran for 10 min) starts again from `initial`.
//
// Times are wall-clock (a container's finishedAt is), read from the Clock given.
// Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace kite::kubelet {

class ContainerBackoff {
 public:
  using Duration = std::chrono::milliseconds;
  // Upstream's kubelet: 10 s doubling to 5 min, for crashes and for image pulls alike.
  static constexpr Duration kInitial{10000}, kMax{300000};

  ContainerBackoff(const Clock* clock, Duration initial = kInitial, Duration max = kMax)
      : clock_(clock), initial_(initial), max_(max) {}

  // Whether a retry of `key` after a failure at `failed_at` must still wait; *remaining (when
  // given) says how long, *delay the current back-off (the message's "back-off 20s").
  bool InBackoff(const std::string& key, Clock::WallTime failed_at, Duration* remaining = nullptr,
                 Duration* delay = nullptr) const;
  // Records a retry of `key` now, after a failure at `failed_at`: the next failure waits longer.
  void Next(const std::string& key, Clock::WallTime failed_at);
  // Forgets every key starting with `prefix` (a pod's uid when the pod goes).
  void ForgetPrefix(const std::string& prefix);

 private:
  struct Entry {
    Duration delay{0};
    Clock::WallTime last{};  // failure time of the last retry
  };
  const Clock* clock_;
  const Duration initial_, max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// A duration as Go prints one (time.Duration.String: "10s", "1m20s", "5m0s", "300ms"), the
// shape upstream's messages have ("back-off 1m20s restarting failed container=…").
std::string GoDuration(std::chrono::milliseconds d);

}  // namespace kite::kubelet
