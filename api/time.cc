#include "api/time.h"

#include "base/civil_time.h"

#include <cctype>
#include <limits>

namespace kite::api {
namespace {

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

// base/civil_time.h: 64-bit calendar arithmetic, so times past 2038 format on 32-bit ARM too.
std::string FormatTime(Timestamp t) { return FormatUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }
std::string FormatMicroTime(Timestamp t) { return FormatUtc(t, "%Y-%m-%dT%H:%M:%S.%fZ"); }

std::optional<Instant> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 1'000'000'000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (scale > 1) {
        scale /= 10;
        nanos += (s[pos] - '0') * scale;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return Instant{days * 86400 + h * 3600 + mi * 60 + sec - offset, static_cast<int32_t>(nanos)};
}

std::optional<Timestamp> ParseTime(std::string_view s) {
  auto t = ParseRfc3339(s);
  if (!t) return std::nullopt;
  // Timestamp counts nanoseconds in an int64 on Linux: about +-292 years around 1970.
  using Limits = std::numeric_limits<Timestamp::rep>;
  constexpr int64_t kPerSec = Timestamp::period::den / Timestamp::period::num;
  if (t->unix_sec > Limits::max() / kPerSec - 1 || t->unix_sec < Limits::min() / kPerSec + 1) return std::nullopt;
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::seconds(t->unix_sec) +
                                                                   std::chrono::nanoseconds(t->nanos)));
}

}  // namespace kite::api
