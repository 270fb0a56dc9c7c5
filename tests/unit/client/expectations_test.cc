// client/expectations.cc: a controller's expected creations and deletions per key, satisfied
// when observed or forgotten, and expiring on the given clock.
#include "client/expectations.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/testing/fake_clock.h"

namespace kite::client {
namespace {

TEST(ExpectationsTest, SatisfiedWhenObservedOrForgotten) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 2, 1);
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.CreationObserved("ns/a");
  e.CreationObserved("ns/a");
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.DeletionObserved("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 1, 0);
  e.Delete("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
}

TEST(ExpectationsTest, ExpireAfterFiveMinutesOfTheGivenClock) {
  kite::testing::FakeClock clock;
  Expectations e(&clock);
  e.Expect("ns/a", 1, 0);
  clock.Advance(std::chrono::minutes(5));
  EXPECT_FALSE(e.Satisfied("ns/a"));  // not older than the timeout yet
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(e.Satisfied("ns/a"));  // a lost watch event does not wedge the key
  e.Expect("ns/a", 1, 0);            // a new expectation starts from the clock's now
  EXPECT_FALSE(e.Satisfied("ns/a"));
}

}  // namespace
}  // namespace kite::client
