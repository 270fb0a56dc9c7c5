// Table conversion: Accept negotiation, the Table envelope, the default convertor, and the time,
// JSON and formatting helpers the per-kind printers (tables_kinds.cc) share.
#include "server/apiserver/printers/tables.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>

#include "api/labels.h"
#include "api/object.h"
#include "api/quantity.h"
#include "api/time.h"
#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver {
namespace tables {

// ---- time ----------------------------------------------------------------------------------------

namespace {

constexpr int64_t kNanosPerSec = 1'000'000'000;
// Seconds from 0001-01-01T00:00:00Z to the Unix epoch.
constexpr int64_t kGoZeroUnix = -62135596800;

}  // namespace

bool IsGoZeroTime(const Instant& t) { return t.unix_sec == kGoZeroUnix && t.nanos == 0; }

std::chrono::nanoseconds Between(const Instant& from, const Instant& to) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  // Exact in 64 bits with overflow checks (32-bit ARM has no __int128), saturating. The nanosecond
  // part is first given the sign of the seconds, so an overflow of sec * 10^9 or of the sum means
  // the exact difference is out of range too, on that side.
  int64_t sec;
  if (__builtin_sub_overflow(to.unix_sec, from.unix_sec, &sec)) {
    return std::chrono::nanoseconds(to.unix_sec > from.unix_sec ? kMax : kMin);
  }
  int64_t nanos = int64_t{to.nanos} - from.nanos;  // |nanos| < 2^32
  if (__builtin_add_overflow(sec, nanos / kNanosPerSec, &sec)) return std::chrono::nanoseconds(nanos > 0 ? kMax : kMin);
  nanos %= kNanosPerSec;
  if (sec > 0 && nanos < 0) {
    --sec;
    nanos += kNanosPerSec;
  } else if (sec < 0 && nanos > 0) {
    ++sec;
    nanos -= kNanosPerSec;
  }
  int64_t ns;
  if (__builtin_mul_overflow(sec, kNanosPerSec, &ns) || __builtin_add_overflow(ns, nanos, &ns)) {
    return std::chrono::nanoseconds(sec > 0 ? kMax : kMin);
  }
  return std::chrono::nanoseconds(ns);
}

Instant FromClock(Clock::time_point t) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t sec = ns / kNanosPerSec, rem = ns % kNanosPerSec;
  if (rem < 0) {
    rem += kNanosPerSec;
    --sec;
  }
  return Instant{sec, static_cast<int32_t>(rem)};
}

std::string FormatRfc3339(const Instant& t) {
  int64_t days = t.unix_sec / 86400, secs = t.unix_sec % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return buf;
}

std::string HumanDuration(std::chrono::nanoseconds d) {
  auto n = [](int64_t v) { return std::to_string(v); };
  const int64_t ns = d.count();
  const int64_t seconds = ns / kNanosPerSec;  // truncates toward zero, as Go's int(d.Seconds())
  if (seconds < -1) return "<invalid>";  // 2s or more in the future: clocks disagree too much
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return n(seconds) + "s";
  const int64_t minutes = ns / (60 * kNanosPerSec);
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? n(minutes) + "m" : n(minutes) + "m" + n(s) + "s";
  }
  if (minutes < 60 * 3) return n(minutes) + "m";
  const int64_t hours = ns / (3600 * kNanosPerSec);
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? n(hours) + "h" : n(hours) + "h" + n(m) + "m";
  }
  if (hours < 48) return n(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? n(hours / 24) + "d" : n(hours / 24) + "d" + n(h) + "h";
  }
  if (hours < 24 * 365 * 2) return n(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = hours / 24 % 365;
    return dy == 0 ? n(hours / 24 / 365) + "y" : n(hours / 24 / 365) + "y" + n(dy) + "d";
  }
  return n(hours / 24 / 365) + "y";
}

std::string AgeOf(const json::value* ts, Clock::time_point now) {
  if (!ts || !ts->is_string()) return "<unknown>";
  return HumanAge(ts->get_string(), now);
}

// ---- reading objects -----------------------------------------------------------------------------

size_t Size(const json::object& o, std::string_view key) {
  const json::value* v = api::Find(o, key);
  if (!v) return 0;
  if (v->is_object()) return v->get_object().size();
  if (v->is_array()) return v->get_array().size();
  return 0;
}

// ---- formatting ----------------------------------------------------------------------------------

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FormatLabels(const json::object& labels) {
  if (labels.empty()) return "<none>";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : labels) sorted[std::string(kv.key())] = api::AsString(kv.value());
  std::vector<std::string> parts;
  for (const auto& [k, v] : sorted) parts.push_back(k + "=" + v);
  return Join(parts, ",");
}

namespace {
const json::value kNull;
}

std::string FormatLabelSelector(const json::value* selector) {
  auto s = api::LabelSelector::FromLabelSelectorJson(selector ? *selector : kNull);
  if (!s.ok()) return "<error>";
  std::string out = s->String();
  return out.empty() ? "<none>" : out;
}

std::string LabelSelectorString(const json::value* selector) {
  auto s = api::LabelSelector::FromLabelSelectorJson(selector ? *selector : kNull);
  return s.ok() ? s->String() : "<invalid>";
}

std::string IntOrString(const json::value* v) {
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) return std::to_string(static_cast<int64_t>(v->get_double()));
  return "";
}

std::string QuantityString(const json::value* v) {
  if (!v) return "0";
  auto q = api::Quantity::FromJson(*v);
  if (q.ok()) return q->String();
  return v->is_string() ? std::string(v->get_string()) : "0";
}

void ContainerCells(const json::object& pod_spec, std::string* names, std::string* images) {
  std::vector<std::string> n, i;
  for (const json::value& c : api::GetArray(pod_spec, "containers")) {
    n.push_back(api::GetString(api::AsObject(c), "name"));
    i.push_back(api::GetString(api::AsObject(c), "image"));
  }
  *names = Join(n, ",");
  *images = Join(i, ",");
}

// ---- object accessors and row building -----------------------------------------------------------

std::string Age(const json::object& o, const PrintContext& ctx) {
  return AgeOf(api::Find(api::Metadata(o), "creationTimestamp"), ctx.now);
}

std::optional<Instant> Time(const json::object& o, std::string_view key) {
  const json::value* v = api::Find(o, key);
  if (!v || !v->is_string()) return std::nullopt;
  auto t = api::ParseRfc3339(v->get_string());
  if (!t || IsGoZeroTime(*t)) return std::nullopt;
  return t;
}

bool After(const Instant& a, const Instant& b) {
  return a.unix_sec != b.unix_sec ? a.unix_sec > b.unix_sec : a.nanos > b.nanos;
}

const json::object* Condition(const json::array& conditions, std::string_view type) {
  for (const json::value& c : conditions) {
    if (api::GetString(api::AsObject(c), "type") == type) return c.if_object();
  }
  return nullptr;
}

bool ConditionTrue(const json::array& conditions, std::string_view type) {
  const json::object* c = Condition(conditions, type);
  return c && api::GetString(*c, "status") == "True";
}

PrintedRow Row(std::initializer_list<json::value> cells) {
  PrintedRow r;
  for (const json::value& c : cells) r.cells.push_back(c);
  return r;
}

void Append(PrintedRow& r, std::initializer_list<json::value> cells) {
  for (const json::value& c : cells) r.cells.push_back(c);
}

std::string NoneIfEmpty(std::string s) { return s.empty() ? "<none>" : s; }
std::string Ratio(int64_t a, int64_t b) { return std::to_string(a) + "/" + std::to_string(b); }

}  // namespace tables

// ---- public API ----------------------------------------------------------------------------------

namespace {

namespace json = boost::json;
using tables::Column;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct MediaRange {
  std::string type;  // lower case "type/subtype"
  std::map<std::string, std::string> params;  // keys lower case, values unquoted
  double q = 1.0;
  size_t order = 0;
};

std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  size_t order = 0;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view clause = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    MediaRange m;
    m.order = order++;
    bool first = true;
    while (true) {
      size_t semi = clause.find(';');
      std::string_view part = Trim(clause.substr(0, semi));
      if (first) {
        m.type = tables::ToLower(part);
        first = false;
      } else if (size_t eq = part.find('='); eq != std::string_view::npos) {
        std::string key = tables::ToLower(Trim(part.substr(0, eq)));
        std::string_view value = Trim(part.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        if (key == "q") {
          double q = 1.0;
          auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
          m.q = ec == std::errc() ? q : 0.0;
        } else {
          m.params[key] = std::string(value);
        }
      }
      if (semi == std::string_view::npos) break;
      clause = clause.substr(semi + 1);
    }
    if (!m.type.empty() && m.q > 0) out.push_back(std::move(m));
  }
  // Preference: higher q first, then concrete types before wildcards, then as written.
  auto rank = [](const MediaRange& m) {
    return (m.type.starts_with("*/") ? 2 : 0) + (m.type.ends_with("/*") ? 1 : 0);
  };
  std::stable_sort(out.begin(), out.end(), [&](const MediaRange& a, const MediaRange& b) {
    if (a.q != b.q) return a.q > b.q;
    return rank(a) < rank(b);
  });
  return out;
}

bool ServedType(const std::string& t) {
  return t == "application/json" || t == "application/yaml" || t == "application/vnd.kubernetes.protobuf" ||
         t == "application/*" || t == "*/*";
}

// ---- default convertor ---------------------------------------------------------------------------

constexpr Column kDefaultColumns[] = {
    tables::kNameCol,
    {"Created At", "date", "", "When the object was created (UTC).", 0},
};

tables::PrintedRow DefaultRow(const json::object& obj) {
  const json::object& md = api::Metadata(obj);
  tables::Instant created{-62135596800, 0};  // Go's zero time when unset
  if (auto t = api::ParseRfc3339(api::GetString(md, "creationTimestamp"))) created = *t;
  tables::PrintedRow row;
  row.cells = {json::value(api::GetString(md, "name")), json::value(tables::FormatRfc3339(created))};
  return row;
}

json::object WithTypeMeta(const api::ResourceInfo& r, const json::object& obj) {
  if (obj.contains("kind") && obj.contains("apiVersion")) return obj;
  json::object out;
  out["kind"] = obj.contains("kind") ? obj.at("kind") : json::value(r.kind);
  out["apiVersion"] = obj.contains("apiVersion") ? obj.at("apiVersion") : json::value(r.group_version());
  for (const auto& kv : obj) {
    if (kv.key() != "kind" && kv.key() != "apiVersion") out[kv.key()] = kv.value();
  }
  return out;
}

}  // namespace

std::string WantedTableVersion(std::string_view accept) {
  for (const MediaRange& m : ParseAccept(accept)) {
    if (!ServedType(m.type)) continue;
    auto as = m.params.find("as");
    if (as == m.params.end()) return "";  // a plain representation is preferred
    if (as->second != "Table") return "";  // another conversion (PartialObjectMetadata...): not ours
    auto g = m.params.find("g");
    auto v = m.params.find("v");
    bool table_ok = m.type == "application/json" && g != m.params.end() && g->second == "meta.k8s.io" &&
                    v != m.params.end() && (v->second == "v1" || v->second == "v1beta1");
    if (table_ok) return "meta.k8s.io/" + v->second;
    // A Table we cannot serve in this form: upstream skips the range and tries the next one.
  }
  return "";
}

IncludeObject ParseIncludeObject(std::string_view v) {
  if (v == "None") return IncludeObject::kNone;
  if (v == "Object") return IncludeObject::kObject;
  return IncludeObject::kMetadata;
}

bool IsValidIncludeObject(std::string_view v) {
  return v.empty() || v == "None" || v == "Metadata" || v == "Object";
}

std::string HumanAge(std::string_view rfc3339_timestamp, std::chrono::system_clock::time_point now) {
  auto t = api::ParseRfc3339(rfc3339_timestamp);
  if (!t || tables::IsGoZeroTime(*t)) return "<unknown>";
  return tables::HumanDuration(tables::Between(*t, tables::FromClock(now)));
}

json::object ToTable(const api::ResourceInfo& r, const json::object& obj_or_list, IncludeObject include,
                     std::string_view table_version, std::chrono::system_clock::time_point now,
                     bool no_headers) {
  const tables::Printer* printer = tables::FindPrinter(r.group, r.resource);
  std::span<const Column> columns = printer ? printer->columns : std::span<const Column>(kDefaultColumns);
  tables::PrintContext ctx{now, &r};

  std::string kind = api::GetString(obj_or_list, "kind");
  const json::array* items = api::FindArray(obj_or_list, "items");
  bool is_list = kind.ends_with("List") && items;

  json::object table;
  table["kind"] = "Table";
  table["apiVersion"] = table_version;
  json::object md;
  const json::object& src_md = api::Metadata(obj_or_list);
  if (std::string rv = api::GetString(src_md, "resourceVersion"); !rv.empty()) md["resourceVersion"] = rv;
  if (is_list) {
    if (std::string c = api::GetString(src_md, "continue"); !c.empty()) md["continue"] = c;
    if (const json::value* n = api::Find(src_md, "remainingItemCount"); n && n->is_number()) {
      md["remainingItemCount"] = *n;
    }
  }
  table["metadata"] = std::move(md);

  if (no_headers) {
    table["columnDefinitions"] = nullptr;
  } else {
    json::array defs;
    for (const Column& c : columns) {
      defs.push_back(json::object{{"name", c.name},
                                  {"type", c.type},
                                  {"format", c.format},
                                  {"description", c.description},
                                  {"priority", c.priority}});
    }
    table["columnDefinitions"] = std::move(defs);
  }

  json::array rows;
  auto add_row = [&](const json::object& obj) {
    tables::PrintedRow printed = printer ? printer->print(obj, ctx) : DefaultRow(obj);
    json::object row;
    row["cells"] = std::move(printed.cells);
    if (!printed.conditions.empty()) row["conditions"] = std::move(printed.conditions);
    switch (include) {
      case IncludeObject::kNone:
        break;
      case IncludeObject::kMetadata: {
        row["object"] = json::object{{"kind", "PartialObjectMetadata"},
                                     {"apiVersion", table_version},
                                     {"metadata", api::Metadata(obj)}};
        break;
      }
      case IncludeObject::kObject:
        row["object"] = WithTypeMeta(r, obj);
        break;
    }
    rows.push_back(std::move(row));
  };
  if (is_list) {
    for (const json::value& item : *items) {
      if (item.is_object()) add_row(item.get_object());
    }
  } else {
    add_row(obj_or_list);
  }
  table["rows"] = std::move(rows);
  return table;
}

}  // namespace kite::apiserver
