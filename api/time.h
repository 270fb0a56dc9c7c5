// Kubernetes timestamps: metav1.Time ("2006-01-02T15:04:05Z", whole seconds, UTC) and
// metav1.MicroTime ("…T15:04:05.000000Z"), as objects carry them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kite::api {

using Timestamp = std::chrono::system_clock::time_point;

std::string FormatTime(Timestamp t);       // metav1.Time
std::string FormatMicroTime(Timestamp t);  // metav1.MicroTime
inline std::string NowTime() { return FormatTime(std::chrono::system_clock::now()); }
// Accepts RFC 3339 in UTC ("Z") or with an offset, with or without fractional seconds.
std::optional<Timestamp> ParseTime(std::string_view s);

}  // namespace kite::api
