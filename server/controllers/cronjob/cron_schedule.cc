#include "server/controllers/cronjob/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <vector>

namespace kite::controllers {
namespace {

struct Bounds {
  int min, max;
  const std::map<std::string, int>* names;
};

const std::map<std::string, int> kMonths = {{"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
                                            {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, int> kDays = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                          {"thu", 4}, {"fri", 5}, {"sat", 6}};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Result<int> Number(const std::string& s, const Bounds& b) {
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (b.names) {
    if (auto it = b.names->find(lower); it != b.names->end()) return it->second;
  }
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return Status(Code::kInvalidArgument, "failed to parse int from " + s + ": strconv.Atoi: parsing \"" + s +
                                              "\": invalid syntax");
  }
  return std::stoi(s);
}

// One field into `bits`; *star when it is a plain "*"/"?" (step 1).
template <size_t N>
Status Field(const std::string& field, const Bounds& b, std::bitset<N>* bits, bool* star) {
  for (const std::string& expr : Split(field, ',')) {
    auto range_step = Split(expr, '/');
    if (range_step.size() > 2) return Status(Code::kInvalidArgument, "too many slashes: " + expr);
    auto low_high = Split(range_step[0], '-');
    int start = 0, end = 0, step = 1;
    bool is_star = false;
    if (low_high[0] == "*" || low_high[0] == "?") {
      if (low_high.size() > 1) return Status(Code::kInvalidArgument, "too many hyphens: " + expr);
      start = b.min;
      end = b.max;
      is_star = true;
    } else {
      auto lo = Number(low_high[0], b);
      if (!lo.ok()) return lo.status();
      start = end = lo.value();
      if (low_high.size() == 2) {
        auto hi = Number(low_high[1], b);
        if (!hi.ok()) return hi.status();
        end = hi.value();
      } else if (low_high.size() > 2) {
        return Status(Code::kInvalidArgument, "too many hyphens: " + expr);
      }
    }
    if (range_step.size() == 2) {
      auto s = Number(range_step[1], Bounds{0, 0, nullptr});
      if (!s.ok()) return s.status();
      step = s.value();
      if (low_high.size() == 1) end = b.max;  // "a/step": from a to the maximum
      if (step > 1) is_star = false;
    }
    if (start < b.min) {
      return Status(Code::kInvalidArgument, "beginning of range (" + std::to_string(start) + ") below minimum (" +
                                                std::to_string(b.min) + "): " + expr);
    }
    if (end > b.max) {
      return Status(Code::kInvalidArgument, "end of range (" + std::to_string(end) + ") above maximum (" +
                                                std::to_string(b.max) + "): " + expr);
    }
    if (start > end) {
      return Status(Code::kInvalidArgument, "beginning of range (" + std::to_string(start) +
                                                ") beyond end of range (" + std::to_string(end) + "): " + expr);
    }
    if (step == 0) return Status(Code::kInvalidArgument, "step of range should be a positive number: " + expr);
    for (int i = start; i <= end; i += step) bits->set(static_cast<size_t>(i));
    *star = *star || is_star;
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& spec_in) {
  std::string spec = spec_in;
  spec.erase(0, spec.find_first_not_of(" \t\n"));
  if (spec.empty()) return Status(Code::kInvalidArgument, "empty spec string");
  if (spec[0] == '@') {
    static const std::map<std::string, std::string> kDescriptors = {
        {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"}};
    std::string d = spec.substr(0, spec.find_last_not_of(" \t\n") + 1);
    if (auto it = kDescriptors.find(d); it != kDescriptors.end()) return Parse(it->second);
    return Status(Code::kInvalidArgument, "unrecognized descriptor: " + d);
  }
  std::istringstream in(spec);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    std::string shown;
    for (const auto& f : fields) shown += (shown.empty() ? "" : " ") + f;
    return Status(Code::kInvalidArgument,
                  "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": [" + shown + "]");
  }
  CronSchedule s;
  bool ignored = false;
  if (auto st = Field(fields[0], Bounds{0, 59, nullptr}, &s.minute_, &ignored); !st.ok()) return st;
  if (auto st = Field(fields[1], Bounds{0, 23, nullptr}, &s.hour_, &ignored); !st.ok()) return st;
  if (auto st = Field(fields[2], Bounds{1, 31, nullptr}, &s.dom_, &s.dom_star_); !st.ok()) return st;
  if (auto st = Field(fields[3], Bounds{1, 12, &kMonths}, &s.month_, &ignored); !st.ok()) return st;
  if (auto st = Field(fields[4], Bounds{0, 6, &kDays}, &s.dow_, &s.dow_star_); !st.ok()) return st;
  return s;
}

bool CronSchedule::Matches(int month, int day, int weekday, int hour, int minute) const {
  if (!month_[static_cast<size_t>(month)] || !hour_[static_cast<size_t>(hour)] || !minute_[static_cast<size_t>(minute)]) {
    return false;
  }
  const bool dom = dom_[static_cast<size_t>(day)], dow = dow_[static_cast<size_t>(weekday)];
  return dom_star_ || dow_star_ ? dom && dow : dom || dow;
}

std::optional<int64_t> CronSchedule::Next(int64_t t, const TimeZone& tz) const {
  // Walk local civil time forward, skipping whole months, days and hours that cannot match,
  // then map the matching local minute back to UTC.
  auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
  int64_t local = t + tz.OffsetAt(t);
  local = floor_div(local, 60) * 60 + 60;  // the next whole local minute
  int64_t y0;
  int m0, d0;
  CivilFromDays(floor_div(local, 86400), &y0, &m0, &d0);
  const int64_t limit = y0 + 5;
  for (int guard = 0; guard < 200000; ++guard) {
    int64_t days = floor_div(local, 86400);
    int64_t y;
    int m, d;
    CivilFromDays(days, &y, &m, &d);
    if (y > limit) return std::nullopt;
    const int64_t sod = local - days * 86400;
    const int hour = static_cast<int>(sod / 3600), minute = static_cast<int>(sod % 3600 / 60);
    if (!month_[static_cast<size_t>(m)]) {
      local = DaysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
      continue;
    }
    const int weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);
    const bool dom = dom_[static_cast<size_t>(d)], dow = dow_[static_cast<size_t>(weekday)];
    if (!(dom_star_ || dow_star_ ? dom && dow : dom || dow)) {
      local = (days + 1) * 86400;
      continue;
    }
    if (!hour_[static_cast<size_t>(hour)]) {
      local = days * 86400 + (hour + 1) * 3600;
      continue;
    }
    if (!minute_[static_cast<size_t>(minute)]) {
      local += 60;
      continue;
    }
    // The UTC instants showing this local time lie within 14 h of it (the largest offset);
    // the offsets in force at both ends of that window are the candidates (zones change
    // offset at most once in a day). None fits in a spring-forward gap; in a fall-back
    // overlap both do and the earlier one after t wins.
    std::optional<int64_t> best;
    for (int64_t probe : {local - 14 * 3600, local + 14 * 3600}) {
      const int64_t u = local - tz.OffsetAt(probe);
      if (u + tz.OffsetAt(u) == local && u > t && (!best || u < *best)) best = u;
    }
    if (best) return best;
    local += 60;
  }
  return std::nullopt;
}

MissedSchedules MostRecentSchedule(const CronSchedule& schedule, const TimeZone& tz, int64_t earliest, int64_t now) {
  MissedSchedules out;
  auto t = schedule.Next(earliest, tz);
  if (!t || *t > now) return out;
  out.most_recent = t;
  out.missed = 1;
  auto second = schedule.Next(*t, tz);
  const int64_t interval = second ? *second - *t : 0;
  while (true) {
    auto n = schedule.Next(*t, tz);
    if (!n || *n > now) break;
    out.most_recent = t = n;
    if (out.missed <= 100 && ++out.missed > 100) {
      // Too many to walk one by one: jump close to now. Allow a week plus two intervals for
      // schedules with uneven gaps (weekdays only, …) so the most recent one is not skipped.
      const int64_t resume = now - 2 * interval - 8 * 86400;
      if (resume > *t) t = resume;
    }
  }
  return out;
}

}  // namespace kite::controllers
