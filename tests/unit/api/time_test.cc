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

// Past 2038-01-19 (32-bit time_t's end, as on Debian 12 armhf) and leap days format exactly.
TEST(TimeTest, FormatsTimesPast2038) {
  using std::chrono::seconds;
  EXPECT_EQ(FormatTime(Timestamp{seconds(2147483648)}), "2038-01-19T03:14:08Z");
  EXPECT_EQ(FormatTime(Timestamp{seconds(4102444800)}), "2100-01-01T00:00:00Z");
  EXPECT_EQ(FormatMicroTime(Timestamp{seconds(951782400)} + std::chrono::microseconds(12)),
            "2000-02-29T00:00:00.000012Z");
  EXPECT_EQ(FormatTime(*ParseTime("2200-12-31T23:59:59Z")), "2200-12-31T23:59:59Z");
}

TEST(TimeTest, RejectsWhatGoRejects) {
  for (const char* s : {"", "2024-05-01", "2024-05-01T10:00:00", "2024-05-01T10:00:60Z", "2024-02-30T10:00:00Z",
                        "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+24:00", "2024-05-01T10:00:00Zx"}) {
    EXPECT_FALSE(ParseRfc3339(s)) << s;
  }
}

}  // namespace
}  // namespace kite::api
