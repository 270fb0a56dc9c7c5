// Wall-clock times as text in UTC, computed in 64-bit arithmetic on every architecture: the one
// formatter behind kite's timestamps (api/time.h's metav1.Time, log lines, file names, certificate
// validity).
//
// Why not gmtime_r/strftime: they go through time_t, which is 32 bits wide on Debian 12's armhf
// unless a program is built with _TIME_BITS=64, and the libraries kite links there still are not;
// std::chrono's calendar (C++20 year_month_day) needs no time_t at all, so a time past
// 2038-01-19 formats the same on armhf as on amd64 (docs/architecture/packaging.md).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace kite {

// `layout` copied with each directive replaced by the UTC field of `t`:
//   %Y year (at least 4 digits)   %m month  %d day  %H hour  %M minute  %S second (2 digits each)
//   %L milliseconds (3 digits)    %f microseconds (6 digits)            %% a '%'
// Any other character after '%' is copied with the '%'. Times before 1970 format as well.
std::string FormatUtc(std::chrono::system_clock::time_point t, std::string_view layout);

}  // namespace kite
