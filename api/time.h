// Kubernetes timestamps: metav1.Time ("2006-01-02T15:04:05Z", whole seconds, UTC) and
// metav1.MicroTime ("…T15:04:05.000000Z"), as objects carry them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace kite::api {

using Timestamp = std::chrono::system_clock::time_point;

std::string FormatTime(Timestamp t);       // metav1.Time
std::string FormatMicroTime(Timestamp t);  // metav1.MicroTime
inline std::string NowTime() { return FormatTime(Clock::Real()->Now()); }

// A point in time with Go's range (years 1 to 9999), which system_clock's int64 nanoseconds
// cannot hold (they span about 1678 to 2262): metav1.Time's zero value is year 1.
struct Instant {
  int64_t unix_sec = 0;
  int32_t nanos = 0;  // 0 to 999'999'999
};
// RFC 3339 as Go's time.Parse(time.RFC3339) reads it: "2024-05-01T10:00:00Z", an optional
// fraction of up to nine digits (more are read and dropped), "Z" or a "+hh:mm"/"-hh:mm" offset;
// seconds 0-59. The one date parser of the project: everything else is built on it.
std::optional<Instant> ParseRfc3339(std::string_view s);
// ParseRfc3339 as a Timestamp; nullopt also when the instant is outside Timestamp's range.
std::optional<Timestamp> ParseTime(std::string_view s);

}  // namespace kite::api
