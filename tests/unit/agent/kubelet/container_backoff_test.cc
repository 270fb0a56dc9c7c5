// CrashLoopBackOff's timing on a fake clock: 10 s doubling to 5 min, reset after 10 min.
#include <gtest/gtest.h>

#include "agent/kubelet/container_backoff.h"
#include "base/testing/fake_clock.h"

namespace kite::kubelet {
namespace {

using namespace std::chrono_literals;

TEST(ContainerBackoffTest, DoublesToTheCeilingAndResetsAfterLongRuns) {
  testing::FakeClock clock;
  ContainerBackoff b(&clock);
  // First crash: restart at once; then 10 s, 20 s, 40 s … 5 min.
  auto crash = clock.Now();
  EXPECT_FALSE(b.InBackoff("u/c", crash));
  b.Next("u/c", crash);
  std::vector<std::string> seen;
  for (int i = 0; i < 7; ++i) {
    clock.Advance(1s);  // it ran 1 s and crashed again
    crash = clock.Now();
    ContainerBackoff::Duration left{0}, delay{0};
    ASSERT_TRUE(b.InBackoff("u/c", crash, &left, &delay));
    EXPECT_EQ(left, delay);
    seen.push_back(GoDuration(delay));
    clock.Advance(delay - 1ms);
    EXPECT_TRUE(b.InBackoff("u/c", crash));
    clock.Advance(1ms);
    EXPECT_FALSE(b.InBackoff("u/c", crash));
    b.Next("u/c", crash);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s"}));
  // It ran for more than 10 min: the next crash restarts at once and backs off 10 s again.
  clock.Advance(10min + 1s);
  crash = clock.Now();
  EXPECT_FALSE(b.InBackoff("u/c", crash));
  b.Next("u/c", crash);
  clock.Advance(1s);
  ContainerBackoff::Duration delay{0};
  EXPECT_TRUE(b.InBackoff("u/c", clock.Now(), nullptr, &delay));
  EXPECT_EQ(delay, 10s);
  // Other keys are apart; a pod's keys go with it.
  EXPECT_FALSE(b.InBackoff("u/d", clock.Now()));
  b.ForgetPrefix("u/");
  EXPECT_FALSE(b.InBackoff("u/c", clock.Now()));
}

TEST(ContainerBackoffTest, GoDurations) {
  EXPECT_EQ(GoDuration(0ms), "0s");
  EXPECT_EQ(GoDuration(300ms), "300ms");
  EXPECT_EQ(GoDuration(1500ms), "1.5s");
  EXPECT_EQ(GoDuration(10s), "10s");
  EXPECT_EQ(GoDuration(80s), "1m20s");
  EXPECT_EQ(GoDuration(300s), "5m0s");
  EXPECT_EQ(GoDuration(3725s), "1h2m5s");
}

}  // namespace
}  // namespace kite::kubelet
