#include "server/controllers/cronjob/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace kite::controllers {
namespace {

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}
int Weekday(int64_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }  // 1970-01-01: Thursday

uint32_t Be32(const std::string& b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) |
         uint32_t(uint8_t(b[at + 3]));
}
int64_t Be64(const std::string& b, size_t at) {
  return static_cast<int64_t>((uint64_t(Be32(b, at)) << 32) | Be32(b, at + 4));
}

// [+-]hh[:mm[:ss]] → seconds; advances *p. Returns false when no digits follow.
bool ParseHms(const std::string& s, size_t* p, int64_t* out) {
  int sign = 1;
  if (*p < s.size() && (s[*p] == '+' || s[*p] == '-')) sign = s[(*p)++] == '-' ? -1 : 1;
  int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (*p >= s.size() || s[*p] != ':') break;
      ++*p;
    }
    size_t start = *p;
    while (*p < s.size() && std::isdigit(static_cast<unsigned char>(s[*p])) && *p - start < 3) ++*p;
    if (*p == start) return false;
    parts[i] = std::stoll(s.substr(start, *p - start));
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseName(const std::string& s, size_t* p) {
  if (*p < s.size() && s[*p] == '<') {
    size_t close = s.find('>', *p);
    if (close == std::string::npos) return false;
    *p = close + 1;
    return true;
  }
  size_t start = *p;
  while (*p < s.size() && std::isalpha(static_cast<unsigned char>(s[*p]))) ++*p;
  return *p - start >= 3;
}

bool ParseDate(const std::string& s, size_t* p, TimeZone::PosixRule::Date* d) {
  auto number = [&](int* out) {
    size_t start = *p;
    while (*p < s.size() && std::isdigit(static_cast<unsigned char>(s[*p]))) ++*p;
    if (*p == start || *p - start > 3) return false;
    *out = std::stoi(s.substr(start, *p - start));
    return true;
  };
  if (*p < s.size() && s[*p] == 'J') {
    ++*p;
    d->kind = 'J';
    if (!number(&d->a) || d->a < 1 || d->a > 365) return false;
  } else if (*p < s.size() && s[*p] == 'M') {
    ++*p;
    d->kind = 'M';
    if (!number(&d->a) || *p >= s.size() || s[(*p)++] != '.' || !number(&d->b) || *p >= s.size() ||
        s[(*p)++] != '.' || !number(&d->c)) {
      return false;
    }
    if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c > 6) return false;
  } else {
    d->kind = 'D';
    if (!number(&d->a) || d->a > 365) return false;
  }
  d->time = 7200;
  if (*p < s.size() && s[*p] == '/') {
    ++*p;
    if (!ParseHms(s, p, &d->time)) return false;
  }
  return true;
}

// Seconds since the epoch of local midnight starting the rule's day in year y (local = UTC+0).
int64_t RuleDay(const TimeZone::PosixRule::Date& d, int64_t y) {
  int64_t jan1 = DaysFromCivil(y, 1, 1);
  int64_t day = 0;
  if (d.kind == 'J') {
    day = jan1 + d.a - 1 + (IsLeap(y) && d.a >= 60 ? 1 : 0);
  } else if (d.kind == 'D') {
    day = jan1 + d.a;
  } else {
    int64_t first = DaysFromCivil(y, d.a, 1);
    int64_t offset = (d.c - Weekday(first) + 7) % 7 + (d.b - 1) * 7;
    while (offset >= DaysInMonth(y, d.a)) offset -= 7;
    day = first + offset;
  }
  return day * 86400;
}

std::mutex g_cache_mu;  // guards g_cache
std::map<std::string, std::shared_ptr<const TimeZone>>* g_cache = new std::map<std::string, std::shared_ptr<const TimeZone>>();

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool TimeZone::ParsePosixRule(const std::string& s, PosixRule* out) {
  size_t p = 0;
  PosixRule r;
  if (!ParseName(s, &p)) return false;
  int64_t west = 0;
  if (!ParseHms(s, &p, &west)) return false;
  r.std_offset = -west;
  if (p == s.size()) {
    *out = r;
    return true;
  }
  if (!ParseName(s, &p)) return false;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p < s.size() && s[p] != ',') {
    if (!ParseHms(s, &p, &west)) return false;
    r.dst_offset = -west;
  }
  if (p == s.size()) {
    // No rule given: the POSIX default (US rules since 2007).
    r.start = {'M', 3, 2, 0, 7200};
    r.end = {'M', 11, 1, 0, 7200};
    *out = r;
    return true;
  }
  if (s[p++] != ',' || !ParseDate(s, &p, &r.start) || p >= s.size() || s[p++] != ',' || !ParseDate(s, &p, &r.end) ||
      p != s.size()) {
    return false;
  }
  *out = r;
  return true;
}

int64_t TimeZone::PosixRule::OffsetAt(int64_t t) const {
  if (!has_dst) return std_offset;
  int64_t y;
  int m, d;
  CivilFromDays((t + std_offset) / 86400 - ((t + std_offset) % 86400 < 0 ? 1 : 0), &y, &m, &d);
  // Start is given in standard local time, end in daylight local time.
  const int64_t start = RuleDay(this->start, y) + this->start.time - std_offset;
  const int64_t end = RuleDay(this->end, y) + this->end.time - dst_offset;
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? dst_offset : std_offset;
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> kUtc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return std::shared_ptr<const TimeZone>(std::move(z));
  }();
  return kUtc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(const std::string& name, const std::string& b) {
  auto bad = [&] { return Status(Code::kInvalidArgument, "malformed time zone file for " + name); };
  if (b.size() < 44 || b.compare(0, 4, "TZif") != 0) return bad();
  auto counts = [&](size_t at, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(b, at + 20 + 4 * static_cast<size_t>(i));
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t header = 0;
  size_t time_size = 4;
  size_t block = c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  if (b[4] >= '2') {
    header = 44 + block;
    if (b.size() < header + 44 || b.compare(header, 4, "TZif") != 0) return bad();
    counts(header, c);
    time_size = 8;
    block = c[3] * 8 + c[3] + c[4] * 6 + c[5] + c[2] * 12 + c[1] + c[0];
  }
  const size_t data = header + 44;
  if (b.size() < data + block || c[4] == 0) return bad();
  auto z = std::make_shared<TimeZone>();
  z->name_ = name;
  const size_t idx_at = data + c[3] * time_size;
  const size_t types_at = idx_at + c[3];
  auto type_offset = [&](uint32_t i) { return static_cast<int64_t>(static_cast<int32_t>(Be32(b, types_at + 6 * i))); };
  for (uint32_t i = 0; i < c[3]; ++i) {
    uint8_t type = static_cast<uint8_t>(b[idx_at + i]);
    if (type >= c[4]) return bad();
    z->transitions_.push_back(time_size == 8 ? Be64(b, data + 8 * i) : static_cast<int32_t>(Be32(b, data + 4 * i)));
    z->offsets_.push_back(type_offset(type));
  }
  z->initial_offset_ = type_offset(0);
  if (time_size == 8) {
    size_t footer = data + block;
    if (footer < b.size() && b[footer] == '\n') {
      size_t end = b.find('\n', footer + 1);
      std::string tz = b.substr(footer + 1, end == std::string::npos ? std::string::npos : end - footer - 1);
      if (!tz.empty() && ParsePosixRule(tz, &z->rule_)) z->has_rule_ = true;
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(z));
}

int64_t TimeZone::OffsetAt(int64_t t) const {
  if (transitions_.empty()) return has_rule_ ? rule_.OffsetAt(t) : initial_offset_;
  if (t < transitions_.front()) return initial_offset_;
  if (t >= transitions_.back() && has_rule_) return rule_.OffsetAt(t);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name) {
  if (name.empty() || name == "UTC") return Utc();
  {
    std::lock_guard<std::mutex> lock(g_cache_mu);
    if (auto it = g_cache->find(name); it != g_cache->end()) return it->second;
  }
  std::string bytes;
  Result<std::shared_ptr<const TimeZone>> zone = Status(Code::kNotFound, "unknown time zone " + name);
  if (name == "Local") {
    const char* tz = std::getenv("TZ");
    std::string want = tz ? tz : "";
    if (!want.empty() && want[0] == ':') want.erase(0, 1);
    if (tz == nullptr && ReadFile("/etc/localtime", &bytes)) {
      zone = FromTzif("Local", bytes);
    } else if (!want.empty() && want[0] == '/' && ReadFile(want, &bytes)) {
      zone = FromTzif("Local", bytes);
    } else if (!want.empty() && want != "Local") {
      zone = Load(want);
    }
    if (!zone.ok()) zone = Utc();
  } else if (name.find("..") != std::string::npos || name[0] == '/' || name[0] == '\\') {
    return Status(Code::kInvalidArgument, "time: invalid location name");
  } else {
    const char* dir = std::getenv("ZONEINFO");
    for (std::string base : {std::string(dir ? dir : ""), std::string("/usr/share/zoneinfo")}) {
      if (base.empty() || !ReadFile(base + "/" + name, &bytes)) continue;
      zone = FromTzif(name, bytes);
      if (zone.ok()) break;
    }
    if (!zone.ok()) return Status(Code::kNotFound, "unknown time zone " + name);
  }
  std::lock_guard<std::mutex> lock(g_cache_mu);
  (*g_cache)[name] = zone.value();
  return zone;
}

}  // namespace kite::controllers
