// CronSchedule: the standard 5-field cron syntax of CronJob spec.schedule, with the
// semantics of the cron library upstream uses (robfig/cron's ParseStandard):
// - fields minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of
//   week (0-6 or SUN-SAT), names case-insensitive; each a comma list of "*" or "?", "a",
//   "a-b", optionally "/step" ("a/step" means a through the maximum);
// - descriptors @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
//   @every <duration> is not supported (it is not cron syntax);
// - day of month and day of week: when either field is a plain "*" (or "?"), both must match;
//   otherwise either may (so "0 0 1 * MON" fires on the 1st and on Mondays);
// - times are local to a TimeZone: a local time skipped by a daylight-saving jump does not
//   fire that day, as upstream; a local time repeated when clocks go back fires once, at its
//   first occurrence (upstream's library fires at both, which runs a daily job twice).
// Thread-safety: immutable after Parse.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "server/controllers/cronjob/time_zone.h"

namespace kite::controllers {

class CronSchedule {
 public:
  // Errors read like the library's, e.g. "expected exactly 5 fields, found 4: [* * * *]".
  static Result<CronSchedule> Parse(const std::string& spec);

  // The first activation strictly after `unix_seconds`, in `tz`; nullopt if none within 5
  // years (e.g. "0 0 30 2 *").
  std::optional<int64_t> Next(int64_t unix_seconds, const TimeZone& tz) const;

  // Whether a local civil time matches (exposed for tests).
  bool Matches(int month, int day, int weekday, int hour, int minute) const;

 private:
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;
  std::bitset<13> month_;
  std::bitset<7> dow_;
  bool dom_star_ = false, dow_star_ = false;
};

// The most recent activation in (earliest, now] and how many activations that interval holds
// (`missed`; counting stops past 100, which is all upstream needs to know: more than 100 is
// the TooManyMissedTimes warning). No activation: most_recent is nullopt, missed 0.
struct MissedSchedules {
  std::optional<int64_t> most_recent;
  int64_t missed = 0;
};
MissedSchedules MostRecentSchedule(const CronSchedule& schedule, const TimeZone& tz, int64_t earliest, int64_t now);

}  // namespace kite::controllers
