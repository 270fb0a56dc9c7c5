// api/time.h: the one RFC 3339 parser (Go's range and rules) and metav1.Time formatting.
#include "api/time.h"

#include <gtest/gtest.h>

namespace kite::api {
namespace {

TEST(TimeTest, ParsesRfc3339WithFractionAndOffset) {
  auto t = ParseRfc3339("2024-05-01T10:00:00.5+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_sec, 1714521600 + 8 * 3600);  // 10:00 at +02:00 is 08:00Z
  EXPECT_EQ(t->nanos, 500'000'000);
  EXPECT_EQ(FormatTime(*ParseTime("2024-05-01T10:00:00Z")), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatMicroTime(*ParseTime("2024-05-01T10:00:00.1234567Z")), "2024-05-01T10:00:00.123456Z");
}

TEST(TimeTest, GoZeroTimeIsAnInstantButNoTimestamp) {
  auto zero = ParseRfc3339("0001-01-01T00:00:00Z");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->unix_sec, -62135596800);
  EXPECT_FALSE(ParseTime("0001-01-01T00:00:00Z"));
}

TEST(TimeTest, RejectsWhatGoRejects) {
  for (const char* s : {"", "2024-05-01", "2024-05-01T10:00:00", "2024-05-01T10:00:60Z", "2024-02-30T10:00:00Z",
                        "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+24:00", "2024-05-01T10:00:00Zx"}) {
    EXPECT_FALSE(ParseRfc3339(s)) << s;
  }
}

}  // namespace
}  // namespace kite::api
