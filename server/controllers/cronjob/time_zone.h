// TimeZone: UTC offsets of a zone from the system's tz database (TZif files, RFC 8536, under
// /usr/share/zoneinfo), for CronJob spec.timeZone.
//
// Written here because g++ 12's libstdc++ has no std::chrono::tzdb, and the C library's
// zones are reachable only through the process-wide TZ variable (setenv + tzset race with
// every other thread that formats a local time). A zone is read once: transitions from the
// file's 64-bit section, and for instants after the last one the POSIX TZ rule in its footer
// (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), so "slim" TZif files work as well as "fat" ones.
//
// Names follow Go's time.LoadLocation, which upstream's CronJob controller uses: "" and "UTC"
// are UTC, "Local" is the process's zone ($TZ, else /etc/localtime, else UTC); a name with
// ".." or a leading '/' is invalid; an unknown name fails with "unknown time zone <name>".
// Thread-safety: a loaded TimeZone is immutable; Load caches zones and is safe to call from
// any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::controllers {

class TimeZone {
 public:
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name);
  static std::shared_ptr<const TimeZone> Utc();
  // Parses TZif bytes (exposed for tests); `name` is only for messages.
  static Result<std::shared_ptr<const TimeZone>> FromTzif(const std::string& name, const std::string& bytes);

  // Seconds east of UTC in effect at `unix_seconds`.
  int64_t OffsetAt(int64_t unix_seconds) const;
  const std::string& name() const { return name_; }

  // The POSIX TZ rule of a footer; public for tests. Offsets are seconds east of UTC.
  struct PosixRule {
    int64_t std_offset = 0, dst_offset = 0;
    bool has_dst = false;
    // A transition date: kind 'J' (Jn, 1..365, no Feb 29), 'D' (n, 0..365) or 'M' (Mm.w.d).
    struct Date {
      char kind = 'M';
      int a = 0, b = 0, c = 0;  // J/D: a = day; M: a = month, b = week, c = weekday
      int64_t time = 7200;      // seconds after local midnight (may be negative or > 24 h)
    } start, end;
    int64_t OffsetAt(int64_t unix_seconds) const;
  };
  static bool ParsePosixRule(const std::string& text, PosixRule* out);

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // ascending
  std::vector<int64_t> offsets_;      // offset in effect from transitions_[i]
  int64_t initial_offset_ = 0;        // before the first transition
  bool has_rule_ = false;
  PosixRule rule_;
};

// Civil-calendar helpers (proleptic Gregorian, days since 1970-01-01).
int64_t DaysFromCivil(int64_t y, int m, int d);
void CivilFromDays(int64_t days, int64_t* y, int* m, int* d);

}  // namespace kite::controllers
