#include "base/clock.h"

#include <time.h>

namespace kite {

// kite's own code is built with a 64-bit time_t on every architecture (CMakeLists.txt: _TIME_BITS=64
// on 32-bit targets); a build that lost the flag would wrap its times on 2038-01-19.
static_assert(sizeof(time_t) == 8, "kite needs a 64-bit time_t: build 32-bit targets with -D_TIME_BITS=64");

namespace {

class RealClock final : public Clock {
 public:
  // clock_gettime here rather than std::chrono::system_clock::now(): libstdc++'s now() is compiled
  // into the shared libstdc++ of the target, which on Debian 12 armhf reads the clock with a
  // 32-bit time_t and so fails from 2038-01-19 on; this call is kite's own, 64-bit.
  WallTime Now() const override {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                   std::chrono::nanoseconds(ts.tv_nsec)));
  }
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

const Clock* Clock::Real() {
  static const RealClock kReal;
  return &kReal;
}

}  // namespace kite
