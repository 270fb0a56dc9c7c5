// FakeClock: a Clock (base/clock.h) that moves only when a test says so. Both times start at
// fixed points (wall: 2026-01-01T00:00:00Z) so timestamps a test writes are reproducible.
//
// Threading: safe from any thread (code under test may read it on its own threads).
#pragma once

#include <chrono>
#include <mutex>

#include "base/clock.h"

namespace kite::testing {

class FakeClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z.
  static constexpr std::chrono::seconds kStartUnix{1767225600};

  FakeClock() : wall_(kStartUnix), steady_(std::chrono::hours(24)) {}

  WallTime Now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  SteadyTime SteadyNow() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }

  // Moves both clocks forward by `d` (d >= 0).
  template <typename Rep, typename Period>
  void Advance(std::chrono::duration<Rep, Period> d) {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
  }
  // Sets wall time only (a wall clock may jump; the monotonic one does not follow).
  void SetWall(WallTime t) {
    std::lock_guard lock(mu_);
    wall_ = t;
  }

 private:
  mutable std::mutex mu_;
  WallTime wall_;
  SteadyTime steady_;
};

}  // namespace kite::testing
