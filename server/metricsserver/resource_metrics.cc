#include "server/metricsserver/resource_metrics.h"

#include <charconv>
#include <cmath>
#include <vector>

namespace kite::metricsserver {
namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

struct Sample {
  std::string_view name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

void SkipBlanks(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::optional<double> ParseValue(std::string_view v) {
  if (v == "NaN") return std::nan("");
  if (v == "+Inf" || v == "Inf") return HUGE_VAL;
  if (v == "-Inf") return -HUGE_VAL;
  std::string_view digits = v;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  double d = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return d;
}

// One sample line: name [{label="value",...}] value [timestamp].
bool ParseSample(std::string_view line, Sample* out) {
  size_t i = 0;
  if (i >= line.size() || !NameStart(line[i])) return false;
  while (i < line.size() && NameChar(line[i])) ++i;
  out->name = line.substr(0, i);
  SkipBlanks(line, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      SkipBlanks(line, i);
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      size_t start = i;
      if (i >= line.size() || !NameStart(line[i])) return false;
      while (i < line.size() && NameChar(line[i])) ++i;
      std::string key(line.substr(start, i - start));
      SkipBlanks(line, i);
      if (i >= line.size() || line[i] != '=') return false;
      ++i;
      SkipBlanks(line, i);
      if (i >= line.size() || line[i] != '"') return false;
      ++i;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) return false;
          char e = line[i++];
          if (e == 'n') value += '\n';
          else if (e == '\\' || e == '"') value += e;
          else return false;
          continue;
        }
        value += c;
      }
      if (!closed) return false;
      out->labels.emplace_back(std::move(key), std::move(value));
      SkipBlanks(line, i);
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return false;
    }
  }
  SkipBlanks(line, i);
  size_t vstart = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
  auto value = ParseValue(line.substr(vstart, i - vstart));
  if (!value) return false;
  out->value = *value;
  SkipBlanks(line, i);
  if (i < line.size()) {
    size_t tstart = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    int64_t ts = 0;
    std::string_view t = line.substr(tstart, i - tstart);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ts);
    if (ec != std::errc() || p != t.data() + t.size()) return false;
    out->timestamp_ms = ts;
    SkipBlanks(line, i);
    if (i < line.size()) return false;
  }
  return true;
}

std::string Label(const Sample& s, std::string_view key) {
  for (const auto& [k, v] : s.labels) {
    if (k == key) return v;
  }
  return "";
}

// What was read of one node or container before the pair (CPU, memory) is complete.
struct Partial {
  std::optional<double> cpu, memory;
  int64_t cpu_ts = 0;
  double start = 0;
};

}  // namespace

Result<NodeResourceMetrics> ParseResourceMetrics(std::string_view text, int64_t scrape_time_ms) {
  std::optional<Partial> node;
  std::map<ContainerKey, Partial> containers;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = 0;
    SkipBlanks(line, first);
    line.remove_prefix(first);
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    if (!ParseSample(line, &s)) {
      return Status(Code::kInvalidArgument, "resource metrics: line " + std::to_string(line_no) + " is not in the Prometheus text format");
    }
    const bool is_node = s.name == "node_cpu_usage_seconds_total" || s.name == "node_memory_working_set_bytes";
    const bool is_container = s.name == "container_cpu_usage_seconds_total" ||
                              s.name == "container_memory_working_set_bytes" || s.name == "container_start_time_seconds";
    if (!is_node && !is_container) continue;
    if (!std::isfinite(s.value) || s.value < 0) {
      return Status(Code::kInvalidArgument, "resource metrics: line " + std::to_string(line_no) + ": " +
                                                std::string(s.name) + " is negative or not a number");
    }
    const int64_t ts = s.timestamp_ms.value_or(scrape_time_ms);
    Partial* p = nullptr;
    if (is_node) {
      if (!node) node.emplace();
      p = &*node;
    } else {
      ContainerKey key{Label(s, "namespace"), Label(s, "pod"), Label(s, "container")};
      if (key.namespace_.empty() || key.pod.empty() || key.container.empty()) continue;
      p = &containers[std::move(key)];
    }
    if (s.name.ends_with("_cpu_usage_seconds_total")) {
      p->cpu = s.value;
      p->cpu_ts = ts;
    } else if (s.name.ends_with("_memory_working_set_bytes")) {
      p->memory = s.value;
    } else {
      p->start = s.value;
    }
  }
  NodeResourceMetrics out;
  auto complete = [](const Partial& p) -> std::optional<MetricPoint> {
    if (!p.cpu || !p.memory) return std::nullopt;
    return MetricPoint{*p.cpu, p.cpu_ts, *p.memory, p.start};
  };
  if (node) out.node = complete(*node);
  for (auto& [key, p] : containers) {
    if (auto point = complete(p)) out.containers.emplace(key, *point);
  }
  return out;
}

}  // namespace kite::metricsserver
