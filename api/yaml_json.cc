#include "api/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

namespace kite::api {
namespace json = boost::json;

namespace {

constexpr int kMaxYamlDepth = 100;

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// The end of the run of digits starting at s[i].
size_t SkipDigits(std::string_view s, size_t i) {
  while (i < s.size() && IsAsciiDigit(s[i])) ++i;
  return i;
}

size_t SkipSign(std::string_view s) { return !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0; }

}  // namespace

// Hand-written rather than a regex engine: a scalar can be megabytes long, and the libstdc++
// regex executor used before recursed once per character (a 2 MB run of digits overflowed the
// stack). These scan once, left to right, without recursion.
bool IsYamlInt(std::string_view s) {
  size_t i = SkipSign(s);
  if (i == s.size() || !IsAsciiDigit(s[i])) return false;
  if (s[i] == '0') return i + 1 == s.size();
  return SkipDigits(s, i) == s.size();
}

bool IsYamlFloat(std::string_view s) {
  size_t i = SkipSign(s);
  if (i < s.size() && s[i] == '.') {
    size_t end = SkipDigits(s, i + 1);
    if (end == i + 1) return false;  // "." needs a digit after it when nothing comes before
    i = end;
  } else {
    if (i == s.size() || !IsAsciiDigit(s[i])) return false;
    i = s[i] == '0' ? i + 1 : SkipDigits(s, i);  // a leading zero stands alone ("08" is no number)
    if (i < s.size() && s[i] == '.') i = SkipDigits(s, i + 1);
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t start = i + 1;
    if (start < s.size() && (s[start] == '+' || s[start] == '-')) ++start;
    i = SkipDigits(s, start);
    if (i == start) return false;
  }
  return i == s.size();
}

namespace {

json::value Scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json::string(s);  // quoted: always a string
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (IsYamlInt(s)) {
    int64_t v = 0;
    const char* b = s.data() + (s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  if (s.find_first_of(".eE") != std::string::npos && IsYamlFloat(s)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return d;
  }
  return json::string(s);
}

// Aliases share nodes, so a small document can name an exponential tree ("billion laughs").
// Without aliases a document has fewer nodes than bytes, so converting stops after that many
// (plus slack): expansion stays linear in the input.
constexpr size_t kNodeSlack = 1024;

Result<json::value> Convert(const YAML::Node& n, int depth, size_t& budget) {
  if (depth > kMaxYamlDepth) return Status(Code::kInvalidArgument, "yaml: exceeded max depth of 100");
  if (budget == 0) return Status(Code::kInvalidArgument, "yaml: document expands to too many nodes");
  --budget;
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json::value(nullptr);
    case YAML::NodeType::Scalar:
      return Scalar(n);
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& item : n) {
        auto v = Convert(item, depth + 1, budget);
        if (!v.ok()) return v;
        a.push_back(std::move(v.value()));
      }
      return json::value(std::move(a));
    }
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return Status(Code::kInvalidArgument, "yaml: mapping keys must be strings");
        auto v = Convert(kv.second, depth + 1, budget);
        if (!v.ok()) return v;
        o[kv.first.Scalar()] = std::move(v.value());
      }
      return json::value(std::move(o));
    }
  }
  return json::value(nullptr);
}

}  // namespace

// yaml-cpp parses recursively; bound the nesting before handing it the text so a hostile body
// cannot exhaust the stack (flow brackets, and block nesting by indentation).
static bool TooDeep(std::string_view text) {
  int flow = 0;
  size_t indent = 0;
  bool at_line_start = true;
  for (char c : text) {
    if (c == '\n') {
      at_line_start = true;
      indent = 0;
      continue;
    }
    if (at_line_start && (c == ' ' || c == '-')) {
      if (++indent > 2 * kMaxYamlDepth) return true;
      continue;
    }
    at_line_start = false;
    if (c == '[' || c == '{') {
      if (++flow > kMaxYamlDepth) return true;
    } else if ((c == ']' || c == '}') && flow > 0) {
      --flow;
    }
  }
  return false;
}

// A "---" line after some content starts a second document.
static bool HasSecondDocument(std::string_view text) {
  bool content = false;
  size_t i = 0;
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    std::string_view line = text.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i);
    if (line.rfind("---", 0) == 0 && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r')) {
      if (content) return true;
    } else {
      size_t first = line.find_first_not_of(" \t\r");
      if (first != std::string_view::npos && line[first] != '#' && line.rfind("%", 0) != 0) content = true;
    }
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  return false;
}

// Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF) of printable characters, as
// the YAML spec requires.
static bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    // YAML's printable set: no C0 controls but tab, LF and CR (a NUL would also make yaml-cpp
    // guess UTF-16/32 from the first bytes).
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

Result<json::value> YamlToJson(std::string_view text) {
  if (!ValidUtf8(text)) return Status(Code::kInvalidArgument, "yaml: control characters or invalid UTF-8 in the document");
  if (TooDeep(text)) return Status(Code::kInvalidArgument, "yaml: exceeded max depth of 100");
  size_t budget = text.size() + kNodeSlack;
  try {
    // One document: YAML::Load reads the first. (yaml-cpp 0.7's LoadAll never ends on some
    // inputs, e.g. a lone ",", so a second document is detected by its marker instead.)
    if (HasSecondDocument(text)) {
      return Status(Code::kInvalidArgument, "yaml: only one document is accepted in a request body");
    }
    YAML::Node doc = YAML::Load(std::string(text));
    return Convert(doc, 0, budget);
  } catch (const YAML::Exception& e) {
    return Status(Code::kInvalidArgument, std::string("yaml: ") + e.what());
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("yaml: ") + e.what());
  }
}

}  // namespace kite::api
