// CronJob schedules: parsing (fields, names, steps, descriptors, errors), next activation in
// UTC and across daylight-saving changes, missed-activation counting; the TZif/POSIX-rule
// time-zone reader.
#include <gtest/gtest.h>

#include "api/time.h"
#include "server/controllers/cronjob/cron_schedule.h"
#include "server/controllers/cronjob/time_zone.h"

namespace kite::controllers {
namespace {

int64_t At(const char* rfc3339) {
  auto t = api::ParseTime(rfc3339);
  EXPECT_TRUE(t) << rfc3339;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}
std::string Fmt(std::optional<int64_t> t) {
  return t ? api::FormatTime(api::Timestamp(std::chrono::seconds(*t))) : "never";
}
std::string NextUtc(const char* spec, const char* from) {
  auto s = CronSchedule::Parse(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status().message();
  if (!s.ok()) return "";
  return Fmt(s->Next(At(from), *TimeZone::Utc()));
}
std::shared_ptr<const TimeZone> Zone(const char* name) {
  auto z = TimeZone::Load(name);
  return z.ok() ? z.value() : nullptr;
}

TEST(CronSchedule, ParseErrorsReadLikeUpstream) {
  auto four = CronSchedule::Parse("* * * *");
  ASSERT_FALSE(four.ok());
  EXPECT_EQ(four.status().message(), "expected exactly 5 fields, found 4: [* * * *]");
  auto minute = CronSchedule::Parse("60 * * * *");
  ASSERT_FALSE(minute.ok());
  EXPECT_EQ(minute.status().message(), "end of range (60) above maximum (59): 60");
  EXPECT_FALSE(CronSchedule::Parse("* * 0 * *").ok());      // day of month starts at 1
  EXPECT_FALSE(CronSchedule::Parse("* * * * 7").ok());      // day of week ends at 6
  EXPECT_FALSE(CronSchedule::Parse("5-1 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("*/0 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("@every 5m").ok());
  EXPECT_FALSE(CronSchedule::Parse("x * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("").ok());
}

TEST(CronSchedule, NextInUtc) {
  EXPECT_EQ(NextUtc("*/15 * * * *", "2024-05-10T10:07:00Z"), "2024-05-10T10:15:00Z");
  EXPECT_EQ(NextUtc("*/1 * * * *", "2024-05-10T10:07:30Z"), "2024-05-10T10:08:00Z");
  // Strictly after: a time on the schedule moves to the next one.
  EXPECT_EQ(NextUtc("0 * * * *", "2024-05-10T10:00:00Z"), "2024-05-10T11:00:00Z");
  EXPECT_EQ(NextUtc("5/20 * * * *", "2024-05-10T10:26:00Z"), "2024-05-10T10:45:00Z");
  EXPECT_EQ(NextUtc("0 9 * * MON-FRI", "2024-05-10T10:00:00Z"), "2024-05-13T09:00:00Z");  // Fri → Mon
  EXPECT_EQ(NextUtc("0 0 1 jan,Jul *", "2024-05-10T10:00:00Z"), "2024-07-01T00:00:00Z");
  EXPECT_EQ(NextUtc("30 4 1,15 * *", "2024-05-10T10:00:00Z"), "2024-05-15T04:30:00Z");
  EXPECT_EQ(NextUtc("0 0 29 2 *", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(NextUtc("@hourly", "2024-05-10T10:07:00Z"), "2024-05-10T11:00:00Z");
  EXPECT_EQ(NextUtc("@daily", "2024-05-10T10:07:00Z"), "2024-05-11T00:00:00Z");
  EXPECT_EQ(NextUtc("@weekly", "2024-05-10T10:07:00Z"), "2024-05-12T00:00:00Z");  // Sunday
  EXPECT_EQ(NextUtc("@monthly", "2024-05-10T10:07:00Z"), "2024-06-01T00:00:00Z");
  EXPECT_EQ(NextUtc("@yearly", "2024-05-10T10:07:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 31 12 *", "2024-12-31T00:00:00Z"), "2025-12-31T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 30 2 *", "2024-01-01T00:00:00Z"), "never");
}

TEST(CronSchedule, DayOfMonthAndDayOfWeek) {
  // Both restricted: either matches (the 1st, or any Monday).
  EXPECT_EQ(NextUtc("0 0 1 * MON", "2024-05-10T10:00:00Z"), "2024-05-13T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 1 * MON", "2024-05-27T10:00:00Z"), "2024-06-01T00:00:00Z");
  // One is "*": both must match, so only Mondays.
  EXPECT_EQ(NextUtc("0 0 * * MON", "2024-05-27T10:00:00Z"), "2024-06-03T00:00:00Z");
  // A stepped "*" counts as a restriction, as in the library upstream uses.
  EXPECT_EQ(NextUtc("0 0 */10 * MON", "2024-05-10T10:00:00Z"), "2024-05-11T00:00:00Z");
}

TEST(CronSchedule, DaylightSavingInBerlin) {
  auto berlin = Zone("Europe/Berlin");
  if (!berlin) GTEST_SKIP() << "no tz database";
  auto s = CronSchedule::Parse("30 2 * * *").value();
  // 2024-03-31 has no 02:30 in Berlin: that day is skipped.
  EXPECT_EQ(Fmt(s.Next(At("2024-03-30T12:00:00Z"), *berlin)), "2024-04-01T00:30:00Z");
  // 2024-10-27 has 02:30 twice: the first (CEST, UTC+2) fires.
  EXPECT_EQ(Fmt(s.Next(At("2024-10-26T12:00:00Z"), *berlin)), "2024-10-27T00:30:00Z");
  auto nine = CronSchedule::Parse("0 9 * * *").value();
  EXPECT_EQ(Fmt(nine.Next(At("2024-07-01T00:00:00Z"), *berlin)), "2024-07-01T07:00:00Z");
  EXPECT_EQ(Fmt(nine.Next(At("2024-01-01T00:00:00Z"), *berlin)), "2024-01-01T08:00:00Z");
}

TEST(CronSchedule, MostRecentAndMissed) {
  auto every = CronSchedule::Parse("*/1 * * * *").value();
  const TimeZone& utc = *TimeZone::Utc();
  const int64_t t0 = At("2024-05-10T10:00:00Z");
  auto none = MostRecentSchedule(every, utc, t0, t0 + 30);
  EXPECT_FALSE(none.most_recent);
  EXPECT_EQ(none.missed, 0);
  auto three = MostRecentSchedule(every, utc, t0, t0 + 210);
  EXPECT_EQ(Fmt(three.most_recent), "2024-05-10T10:03:00Z");
  EXPECT_EQ(three.missed, 3);
  auto many = MostRecentSchedule(every, utc, t0, t0 + 3 * 3600 + 5);
  EXPECT_EQ(Fmt(many.most_recent), "2024-05-10T13:00:00Z");
  EXPECT_GT(many.missed, 100);
  // Weekdays only, far in the past: the jump ahead must not skip Friday's run on Monday morning.
  auto weekdays = CronSchedule::Parse("0 9 * * 1-5").value();
  auto friday = MostRecentSchedule(weekdays, utc, At("2023-01-01T00:00:00Z"), At("2024-05-13T08:00:00Z"));
  EXPECT_EQ(Fmt(friday.most_recent), "2024-05-10T09:00:00Z");
  EXPECT_GT(friday.missed, 100);
}

TEST(TimeZone, LoadsZonesAndRejectsBadNames) {
  EXPECT_EQ(TimeZone::Load("UTC").value()->OffsetAt(0), 0);
  EXPECT_EQ(TimeZone::Load("").value()->OffsetAt(0), 0);
  auto unknown = TimeZone::Load("Nowhere/Zone");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown time zone Nowhere/Zone");
  EXPECT_FALSE(TimeZone::Load("../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Load("/etc/localtime").ok());
  auto ny = Zone("America/New_York");
  if (!ny) GTEST_SKIP() << "no tz database";
  EXPECT_EQ(ny->OffsetAt(At("2024-07-01T00:00:00Z")), -4 * 3600);
  EXPECT_EQ(ny->OffsetAt(At("2024-01-01T00:00:00Z")), -5 * 3600);
  EXPECT_EQ(ny->OffsetAt(At("1880-01-01T00:00:00Z")), -(4 * 3600 + 56 * 60 + 2));  // local mean time
  auto kolkata = Zone("Asia/Kolkata");
  ASSERT_TRUE(kolkata);
  EXPECT_EQ(kolkata->OffsetAt(At("2024-07-01T00:00:00Z")), 5 * 3600 + 1800);
}

TEST(TimeZone, PosixRuleBeyondTheTransitions) {
  TimeZone::PosixRule r;
  ASSERT_TRUE(TimeZone::ParsePosixRule("CET-1CEST,M3.5.0,M10.5.0/3", &r));
  EXPECT_EQ(r.std_offset, 3600);
  EXPECT_EQ(r.dst_offset, 7200);
  // 2040: last Sunday of March is the 25th, of October the 28th.
  EXPECT_EQ(r.OffsetAt(At("2040-03-25T00:59:59Z")), 3600);
  EXPECT_EQ(r.OffsetAt(At("2040-03-25T01:00:00Z")), 7200);
  EXPECT_EQ(r.OffsetAt(At("2040-10-28T00:59:59Z")), 7200);
  EXPECT_EQ(r.OffsetAt(At("2040-10-28T01:00:00Z")), 3600);
  // Southern hemisphere: daylight time spans the new year.
  ASSERT_TRUE(TimeZone::ParsePosixRule("<-03>3<-02>,M9.1.6/24,M4.1.6/24", &r));
  EXPECT_EQ(r.OffsetAt(At("2040-01-15T12:00:00Z")), -2 * 3600);
  EXPECT_EQ(r.OffsetAt(At("2040-06-15T12:00:00Z")), -3 * 3600);
  ASSERT_TRUE(TimeZone::ParsePosixRule("<+0530>-5:30", &r));
  EXPECT_EQ(r.OffsetAt(0), 5 * 3600 + 1800);
  EXPECT_FALSE(TimeZone::ParsePosixRule("X1", &r));
  EXPECT_FALSE(TimeZone::ParsePosixRule("CET-1CEST,M13.5.0,M10.5.0", &r));
  auto berlin = Zone("Europe/Berlin");
  if (!berlin) GTEST_SKIP() << "no tz database";
  EXPECT_EQ(berlin->OffsetAt(At("2060-07-01T00:00:00Z")), 7200);
  EXPECT_EQ(berlin->OffsetAt(At("2060-12-01T00:00:00Z")), 3600);
}

TEST(TimeZone, CivilDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  for (int64_t d : {-800000, -1, 0, 59, 10957, 19782, 2932896}) {
    int64_t y;
    int m, day;
    CivilFromDays(d, &y, &m, &day);
    EXPECT_EQ(DaysFromCivil(y, m, day), d);
  }
}

}  // namespace
}  // namespace kite::controllers
