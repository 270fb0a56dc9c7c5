#include "base/civil_time.h"

#include <cstdio>

namespace kite {

std::string FormatUtc(std::chrono::system_clock::time_point t, std::string_view layout) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  const auto sub = duration_cast<microseconds>(t - secs).count();  // 0 to 999'999
  std::string out;
  out.reserve(layout.size() + 16);
  char buf[16];
  for (size_t i = 0; i < layout.size(); ++i) {
    if (layout[i] != '%' || i + 1 == layout.size()) {
      out += layout[i];
      continue;
    }
    int n = 0;
    switch (layout[++i]) {
      case 'Y': n = std::snprintf(buf, sizeof buf, "%04d", static_cast<int>(ymd.year())); break;
      case 'm': n = std::snprintf(buf, sizeof buf, "%02u", static_cast<unsigned>(ymd.month())); break;
      case 'd': n = std::snprintf(buf, sizeof buf, "%02u", static_cast<unsigned>(ymd.day())); break;
      case 'H': n = std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(hms.hours().count())); break;
      case 'M': n = std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(hms.minutes().count())); break;
      case 'S': n = std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(hms.seconds().count())); break;
      case 'L': n = std::snprintf(buf, sizeof buf, "%03d", static_cast<int>(sub / 1000)); break;
      case 'f': n = std::snprintf(buf, sizeof buf, "%06d", static_cast<int>(sub)); break;
      case '%': n = std::snprintf(buf, sizeof buf, "%%"); break;
      default: n = std::snprintf(buf, sizeof buf, "%%%c", layout[i]); break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace kite
