// Clock: the one seam for time (LevelDB's Env idea, for the clock only). Code that compares
// times — lease deadlines, work queue delays and back-off, leader election, controllers reading
// and writing timestamps — asks a `const Clock*` handed to it at construction instead of calling
// std::chrono's clocks, so a test can hand it a FakeClock (base/testing/fake_clock.h) and move
// time by hand instead of sleeping.
//
// What stays on std::chrono directly: waits of a thread on a condition variable or socket (they
// need the real clock to wake), and durations measured only for metrics or logs (steady_clock).
// The wall clock is read only through Clock (Clock::Real() where no clock is handed in), never
// std::chrono::system_clock::now(): on Debian 12 armhf that is libstdc++'s, built with a 32-bit
// time_t, and fails from 2038-01-19 on (clock.cc; docs/architecture/packaging.md).
//
// Threading: every implementation may be called from any thread at once.
#pragma once

#include <chrono>

namespace kite {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Wall-clock time: for timestamps written into objects or read from them (creationTimestamp,
  // lastTransitionTime, a CronJob's schedule). May jump.
  virtual WallTime Now() const = 0;
  // Monotonic time: for deadlines, delays and elapsed time inside the process. Never goes back.
  virtual SteadyTime SteadyNow() const = 0;

  // The process's real clock; never null, lives as long as the process.
  static const Clock* Real();
};

}  // namespace kite
