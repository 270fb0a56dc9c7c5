#include "agent/kubelet/container_backoff.h"

#include <algorithm>

namespace kite::kubelet {

bool ContainerBackoff::InBackoff(const std::string& key, Clock::WallTime failed_at, Duration* remaining,
                                 Duration* delay) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  const Entry& e = it->second;
  if (failed_at - e.last > 2 * max_) return false;  // expired: the next retry starts over
  const auto since = std::chrono::duration_cast<Duration>(clock_->Now() - failed_at);
  if (delay) *delay = e.delay;
  if (since >= e.delay) return false;
  if (remaining) *remaining = e.delay - since;
  return true;
}

void ContainerBackoff::Next(const std::string& key, Clock::WallTime failed_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (fresh || failed_at - e.last > 2 * max_) {
    e.delay = initial_;
  } else {
    e.delay = std::min(e.delay * 2, max_);
  }
  e.last = failed_at;
}

void ContainerBackoff::ForgetPrefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
}

std::string GoDuration(std::chrono::milliseconds d) {
  using namespace std::chrono;
  const int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  std::string sec = std::to_string(s);
  if (frac != 0) {
    std::string f = std::to_string(frac + 1000).substr(1);  // 3 digits, leading zeros kept
    while (!f.empty() && f.back() == '0') f.pop_back();
    sec += "." + f;
  }
  sec += "s";
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m" + sec;
  if (m > 0) return std::to_string(m) + "m" + sec;
  return sec;
}

}  // namespace kite::kubelet
