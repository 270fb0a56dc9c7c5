#include "api/json_schema.h"

#include <re2/re2.h>

#include <memory>
#include <unordered_map>

#include "api/object.h"
#include "api/validation.h"

namespace kite::api {
namespace json = boost::json;

namespace {

constexpr int kMaxSchemaDepth = 64;

std::string Shown(const json::value& v) {
  if (v.is_string()) return json::serialize(v);
  if (v.is_object()) return "\"object\"";
  if (v.is_array()) return "\"array\"";
  return json::serialize(v);
}

// Compiled patterns, per thread (no lock on the request path). Bounded: past kMaxCachedPatterns
// distinct patterns the cache starts over, so a stream of CRDs cannot grow it without end; and
// each RE2 may use kPatternMaxMem for its program and lazily built DFA (past that it matches
// with its NFA, still in linear time), so the cache holds at most 256 MiB per thread even for
// hostile patterns. 1 MiB compiles any pattern a CRD plausibly carries (a 253-way repetition of
// a class is ~8 KiB).
constexpr size_t kMaxCachedPatterns = 256;
constexpr int64_t kPatternMaxMem = 1 << 20;

struct CompiledPattern {
  std::unique_ptr<RE2> re;
  std::string error;  // Go's text; empty when `re` compiled
};

std::string GoRegexpErrorText(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    case RE2::ErrorPatternTooLarge: return "expression too large";
    default: return "regexp/syntax: internal error";
  }
}

// Go's regexp syntax spelled for RE2 where the two differ (RE2 as packaged, 2022-06): Go (1.22
// on, which Kubernetes 1.32 is built with) also takes (?<name>re) for a named group, which RE2
// spells (?P<name>re); RE2 takes \C (any byte), which Go refuses. Escapes, \Q...\E and
// character classes are copied as they are. Sets `error` (Go's text) for what Go refuses.
std::string ToRe2Syntax(std::string_view go, std::string* error) {
  std::string out;
  out.reserve(go.size() + 8);
  bool in_class = false;
  for (size_t i = 0; i < go.size();) {
    const char c = go[i];
    if (c == '\\' && i + 1 < go.size()) {
      if (go[i + 1] == 'C') {
        *error = "error parsing regexp: invalid escape sequence: `\\C`";
        return out;
      }
      if (go[i + 1] == 'Q' && !in_class) {  // literal text up to \E (or the end)
        size_t end = go.find("\\E", i + 2);
        end = end == std::string_view::npos ? go.size() : end + 2;
        out.append(go.substr(i, end - i));
        i = end;
        continue;
      }
      out.append(go.substr(i, 2));
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < go.size() && go[i + 1] == ':') {  // [:alpha:] inside a class
        size_t end = go.find(":]", i + 2);
        end = end == std::string_view::npos ? i + 1 : end + 2;
        out.append(go.substr(i, end - i));
        i = end;
        continue;
      }
      in_class = c != ']';
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      ++i;
      if (i < go.size() && go[i] == '^') out.push_back(go[i++]);
      if (i < go.size() && go[i] == ']') out.push_back(go[i++]);  // a leading ] is literal
      continue;
    }
    if (go.substr(i, 3) == "(?<" && i + 3 < go.size() && go[i + 3] != '=' && go[i + 3] != '!') {
      out.append("(?P<");
      i += 3;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

const CompiledPattern& Compiled(std::string_view pattern) {
  thread_local std::unordered_map<std::string, CompiledPattern> cache;
  if (auto it = cache.find(std::string(pattern)); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedPatterns) cache.clear();
  // RE2's defaults are Go's regexp.Compile: Perl classes and \b, UTF-8, ^/$ at the ends of the
  // text, leftmost-first matching.
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(kPatternMaxMem);
  CompiledPattern c;
  const std::string re2_syntax = ToRe2Syntax(pattern, &c.error);
  if (!c.error.empty()) return cache.emplace(std::string(pattern), std::move(c)).first->second;
  c.re = std::make_unique<RE2>(re2_syntax, opts);
  if (!c.re->ok()) {
    c.error = "error parsing regexp: " + GoRegexpErrorText(c.re->error_code()) + ": `" + c.re->error_arg() + "`";
    c.re.reset();
  }
  return cache.emplace(std::string(pattern), std::move(c)).first->second;
}

void CollectPatternErrors(const json::object& s, const std::string& path, int depth, std::vector<SchemaError>* out) {
  if (depth > kMaxSchemaDepth) return;
  if (auto it = s.find("pattern"); it != s.end() && it->value().is_string() && !it->value().as_string().empty()) {
    const std::string_view pat = it->value().as_string();
    if (auto err = PatternError(pat)) {
      out->push_back({path + ".pattern", "FieldValueInvalid",
                      "Invalid value: " + GoQuote(pat) + ": must be a valid regular expression, but isn't: " + *err});
    }
  }
  if (const json::object* props = FindObject(s, "properties")) {
    for (const auto& kv : *props) {
      if (kv.value().is_object()) {
        CollectPatternErrors(kv.value().as_object(), path + ".properties[" + std::string(kv.key()) + "]", depth + 1, out);
      }
    }
  }
  for (const char* k : {"items", "additionalProperties", "not"}) {
    if (const json::object* sub = FindObject(s, k)) CollectPatternErrors(*sub, path + "." + k, depth + 1, out);
  }
  for (const char* k : {"allOf", "anyOf", "oneOf"}) {
    auto it = s.find(k);
    if (it == s.end() || !it->value().is_array()) continue;
    const auto& arr = it->value().as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      if (arr[i].is_object()) {
        CollectPatternErrors(arr[i].as_object(), path + "." + k + "[" + std::to_string(i) + "]", depth + 1, out);
      }
    }
  }
}

class SchemaChecker {
 public:
  JsonSchemaResult out;

  void Value(json::value& v, const json::object& s, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) return;
    if (v.is_null()) {
      if (!GetBool(s, "nullable") && !GetString(s, "type").empty()) Invalid(path, v, "in body must be of type " + GetString(s, "type"));
      return;
    }
    const std::string type = GetString(s, "type");
    if (GetBool(s, "x-kubernetes-int-or-string")) {
      if (!v.is_string() && !v.is_int64() && !v.is_uint64()) Invalid(path, v, "in body must be of type integer,string");
    } else if (type == "object") {
      if (!v.is_object()) return TypeError(path, v, type);
      Object(v.as_object(), s, path, depth);
    } else if (type == "array") {
      if (!v.is_array()) return TypeError(path, v, type);
      auto& a = v.as_array();
      if (auto it = s.find("minItems"); it != s.end() && it->value().is_int64() && int64_t(a.size()) < it->value().as_int64()) {
        Invalid(path, v, "in body should have at least " + json::serialize(it->value()) + " items");
      }
      if (auto it = s.find("maxItems"); it != s.end() && it->value().is_int64() && int64_t(a.size()) > it->value().as_int64()) {
        out.errors.push_back({path, "FieldValueTooMany", "Too many: " + std::to_string(a.size()) + ": must have at most " +
                                                             json::serialize(it->value()) + " items"});
      }
      if (const json::object* items = FindObject(s, "items")) {
        for (size_t i = 0; i < a.size(); ++i) Value(a[i], *items, path + "[" + std::to_string(i) + "]", depth + 1);
      }
    } else if (type == "string") {
      if (!v.is_string()) return TypeError(path, v, type);
      const auto& str = v.as_string();
      if (auto it = s.find("maxLength"); it != s.end() && it->value().is_int64() && int64_t(str.size()) > it->value().as_int64()) {
        out.errors.push_back({path, "FieldValueTooLong", "Too long: may not be more than " + json::serialize(it->value()) + " bytes"});
      }
      if (auto it = s.find("minLength"); it != s.end() && it->value().is_int64() && int64_t(str.size()) < it->value().as_int64()) {
        Invalid(path, v, "in body should be at least " + json::serialize(it->value()) + " chars long");
      }
      if (std::string pat = GetString(s, "pattern"); !pat.empty() && !SchemaPatternMatches(pat, str)) {
        Invalid(path, v, "in body should match '" + pat + "'");
      }
    } else if (type == "integer") {
      if (v.is_double() && v.as_double() == static_cast<double>(static_cast<int64_t>(v.as_double()))) {
        v = static_cast<int64_t>(v.as_double());
      }
      if (!v.is_int64() && !v.is_uint64()) return TypeError(path, v, type);
      Bounds(v, s, path);
    } else if (type == "number") {
      if (!v.is_number()) return TypeError(path, v, type);
      Bounds(v, s, path);
    } else if (type == "boolean") {
      if (!v.is_bool()) return TypeError(path, v, type);
    } else if (type.empty() && v.is_object() && !GetBool(s, "x-kubernetes-preserve-unknown-fields") && s.contains("properties")) {
      Object(v.as_object(), s, path, depth);
    }
    if (auto it = s.find("enum"); it != s.end() && it->value().is_array()) {
      bool ok = false;
      std::string allowed;
      for (const auto& e : it->value().as_array()) {
        ok |= e == v;
        allowed += (allowed.empty() ? "" : ", ") + json::serialize(e);
      }
      if (!ok) {
        out.errors.push_back({path, "FieldValueNotSupported", "Unsupported value: " + json::serialize(v) +
                                                                  ": supported values: " + allowed});
      }
    }
  }

  void Object(json::object& o, const json::object& s, const std::string& path, int depth, bool top = false) {
    const json::object* props = FindObject(s, "properties");
    const bool preserve = GetBool(s, "x-kubernetes-preserve-unknown-fields");
    auto ap = s.find("additionalProperties");
    const json::object* additional = ap != s.end() && ap->value().is_object() ? &ap->value().as_object() : nullptr;
    const bool additional_any = ap != s.end() && ap->value().is_bool() && ap->value().as_bool();
    for (auto it = o.begin(); it != o.end();) {
      const std::string key(it->key());
      const std::string child = path.empty() ? key : path + "." + key;
      if (top && (key == "apiVersion" || key == "kind" || key == "metadata")) {
        ++it;
        continue;
      }
      const json::object* ps = props ? FindObject(*props, key.c_str()) : nullptr;
      if (ps) {
        Value(it->value(), *ps, child, depth + 1);
      } else if (additional) {
        Value(it->value(), *additional, child, depth + 1);
      } else if (!preserve && !additional_any) {
        out.unknown_fields.push_back(child);
        it = o.erase(it);
        continue;
      }
      ++it;
    }
    if (auto req = s.find("required"); req != s.end() && req->value().is_array()) {
      for (const auto& r : req->value().as_array()) {
        if (r.is_string() && !o.contains(r.as_string())) {
          out.errors.push_back({path.empty() ? std::string(r.as_string()) : path + "." + std::string(r.as_string()),
                                "FieldValueRequired", "Required value"});
        }
      }
    }
  }

  void Top(json::object& o, const json::object& s) { Object(o, s, "", 0, true); }

 private:
  void Invalid(const std::string& path, const json::value& v, const std::string& what) {
    out.errors.push_back({path, "FieldValueInvalid", "Invalid value: " + Shown(v) + ": " + path + " " + what});
  }
  void TypeError(const std::string& path, const json::value& v, const std::string& type) {
    std::string got = v.is_string() ? "string" : v.is_bool() ? "boolean" : v.is_object() ? "object" : v.is_array() ? "array" : "number";
    out.errors.push_back({path, "FieldValueTypeInvalid", "Invalid value: \"" + got + "\": " + path +
                                                             " in body must be of type " + type + ": \"" + got + "\""});
  }
  void Bounds(const json::value& v, const json::object& s, const std::string& path) {
    double d = v.is_int64() ? double(v.as_int64()) : v.is_uint64() ? double(v.as_uint64()) : v.as_double();
    if (auto it = s.find("minimum"); it != s.end() && it->value().is_number() && d < it->value().to_number<double>()) {
      Invalid(path, v, "in body should be greater than or equal to " + json::serialize(it->value()));
    }
    if (auto it = s.find("maximum"); it != s.end() && it->value().is_number() && d > it->value().to_number<double>()) {
      Invalid(path, v, "in body should be less than or equal to " + json::serialize(it->value()));
    }
  }
};

// One step of a path: field name, index, wildcard or filter.
struct Step {
  enum Kind { kField, kIndex, kAll, kFilter } kind = kField;
  std::string name;
  size_t index = 0;
  std::string filter_key;
  json::value filter_value;
};

bool ParsePath(std::string_view p, std::vector<Step>& steps) {
  if (!p.empty() && p.front() == '{' && p.back() == '}') p = p.substr(1, p.size() - 2);
  size_t i = 0;
  if (i < p.size() && p[i] == '$') ++i;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      size_t j = i;
      while (j < p.size() && p[j] != '.' && p[j] != '[') ++j;
      if (j == i) return false;
      Step s;
      s.name = std::string(p.substr(i, j - i));
      steps.push_back(std::move(s));
      i = j;
    } else if (p[i] == '[') {
      size_t j = p.find(']', i);
      if (j == std::string_view::npos) return false;
      std::string_view in = p.substr(i + 1, j - i - 1);
      Step s;
      if (in == "*") {
        s.kind = Step::kAll;
      } else if (in.rfind("?(@.", 0) == 0 && in.back() == ')') {
        std::string_view cond = in.substr(4, in.size() - 5);
        size_t eq = cond.find("==");
        if (eq == std::string_view::npos) return false;
        s.kind = Step::kFilter;
        s.filter_key = std::string(cond.substr(0, eq));
        std::string_view val = cond.substr(eq + 2);
        if (val.size() >= 2 && (val.front() == '"' || val.front() == '\'') && val.back() == val.front()) {
          s.filter_value = json::string(val.substr(1, val.size() - 2));
        } else {
          boost::system::error_code ec;
          s.filter_value = json::parse(val, ec);
          if (ec) return false;
        }
      } else if (!in.empty() && in.find_first_not_of("0123456789") == std::string_view::npos && in.size() < 9) {
        s.kind = Step::kIndex;
        s.index = std::stoul(std::string(in));
      } else if (in.size() >= 2 && (in.front() == '\'' || in.front() == '"') && in.back() == in.front()) {
        s.kind = Step::kField;
        s.name = std::string(in.substr(1, in.size() - 2));
      } else {
        return false;
      }
      steps.push_back(std::move(s));
      i = j + 1;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

bool SchemaPatternMatches(std::string_view pattern, std::string_view value) {
  const CompiledPattern& c = Compiled(pattern);
  return !c.re || RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *c.re);
}

std::optional<std::string> PatternError(std::string_view pattern) {
  const CompiledPattern& c = Compiled(pattern);
  if (c.re) return std::nullopt;
  return c.error;
}

void CheckSchemaPatterns(const json::object& schema, const std::string& path, std::vector<SchemaError>* out) {
  CollectPatternErrors(schema, path, 0, out);
}

JsonSchemaResult CheckAgainstJsonSchema(json::object& obj, const json::object& schema) {
  SchemaChecker c;
  c.Top(obj, schema);
  return std::move(c.out);
}

std::vector<json::value> EvalJsonPath(const json::value& root, std::string_view path) {
  std::vector<Step> steps;
  if (!ParsePath(path, steps)) return {};
  std::vector<const json::value*> cur{&root};
  for (const auto& s : steps) {
    std::vector<const json::value*> next;
    for (const json::value* v : cur) {
      switch (s.kind) {
        case Step::kField:
          if (v->is_object()) {
            if (auto it = v->as_object().find(s.name); it != v->as_object().end()) next.push_back(&it->value());
          }
          break;
        case Step::kIndex:
          if (v->is_array() && s.index < v->as_array().size()) next.push_back(&v->as_array()[s.index]);
          break;
        case Step::kAll:
          if (v->is_array()) {
            for (const auto& x : v->as_array()) next.push_back(&x);
          }
          break;
        case Step::kFilter:
          if (v->is_array()) {
            for (const auto& x : v->as_array()) {
              if (!x.is_object()) continue;
              auto it = x.as_object().find(s.filter_key);
              if (it != x.as_object().end() && it->value() == s.filter_value) next.push_back(&x);
            }
          }
          break;
      }
    }
    cur = std::move(next);
  }
  std::vector<json::value> out;
  for (const json::value* v : cur) out.push_back(*v);
  return out;
}

}  // namespace kite::api
