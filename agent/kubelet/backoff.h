// How long the kubelet's managers wait before trying a failed write again: 200 ms doubling to
// 7 s, the kubelet's ceiling for node-lease retries. The managers reschedule failed keys themselves
// with this instead of the work queue's rate limiter, whose ceiling (1000 s) suits controllers
// but would leave a node without heartbeats for minutes.
#pragma once

#include <algorithm>
#include <chrono>

namespace kite::kubelet {

inline std::chrono::milliseconds RetryDelay(int failures) {
  const int doublings = std::clamp(failures, 0, 6);
  return std::min(std::chrono::milliseconds(200) * (1 << doublings), std::chrono::milliseconds(7000));
}

}  // namespace kite::kubelet
