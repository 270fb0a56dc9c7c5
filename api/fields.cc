#include "api/fields.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "api/validation.h"

namespace kite::api {
namespace {

Status InvalidSelector(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }

// Splits at commas not preceded by an escaping backslash. Multi-byte UTF-8 never contains the
// bytes ',' or '\\', so scanning bytes finds the same split points as scanning runes.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

struct SplitTerm {
  std::string_view lhs;
  std::string_view op;
  std::string_view rhs;
};

// The first position where "!=", "==" or "=" starts (tried in that order at each position).
std::optional<SplitTerm> SplitAtOperator(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    for (std::string_view op : {std::string_view("!="), std::string_view("=="), std::string_view("=")}) {
      if (term.substr(i, op.size()) == op) {
        return SplitTerm{term.substr(0, i), op, term.substr(i + op.size())};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> FieldValueFromObject(const boost::json::value& object, std::string_view path) {
  const boost::json::value* cur = &object;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    const auto* obj = cur->if_object();
    if (obj == nullptr) return std::nullopt;
    cur = obj->if_contains(part);
    if (cur == nullptr) return std::nullopt;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  switch (cur->kind()) {
    case boost::json::kind::string: return std::string(cur->get_string());
    case boost::json::kind::bool_: return cur->get_bool() ? "true" : "false";
    case boost::json::kind::int64: return std::to_string(cur->get_int64());
    case boost::json::kind::uint64: return std::to_string(cur->get_uint64());
    default: return std::nullopt;
  }
}

std::string EscapeFieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<std::string> UnescapeFieldValue(std::string_view s) {
  if (s.find_first_of("\\,=") == std::string_view::npos) return std::string(s);
  // Upstream walks runes and re-encodes them, so invalid UTF-8 comes out as U+FFFD here.
  std::string out;
  bool escaped = false;
  for (size_t i = 0; i < s.size();) {
    size_t width;
    char32_t r = DecodeRune(s, i, &width);
    i += width;
    if (escaped) {
      escaped = false;
      if (r == '\\' || r == ',' || r == '=') {
        out.push_back(static_cast<char>(r));
        continue;
      }
      std::string seq = "\\";
      AppendRune(&seq, r);
      return InvalidSelector("invalid field selector: invalid escape sequence: " + seq);
    }
    if (r == '\\') {
      escaped = true;
    } else if (r == ',' || r == '=') {
      return InvalidSelector("invalid field selector: unescaped character in value: " +
                     std::to_string(static_cast<int>(r)));
    } else {
      AppendRune(&out, r);
    }
  }
  if (escaped) return InvalidSelector("invalid field selector: invalid escape sequence: \\");
  return out;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view selector) {
  std::vector<std::string_view> terms = SplitTerms(selector);
  std::sort(terms.begin(), terms.end());
  FieldSelector out;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    auto split = SplitAtOperator(term);
    if (!split) {
      return InvalidSelector("invalid selector: '" + std::string(selector) + "'; can't understand '" +
                     std::string(term) + "'");
    }
    auto value = UnescapeFieldValue(split->rhs);
    if (!value.ok()) return value.status();
    FieldRequirement r;
    r.field = std::string(split->lhs);
    r.op = split->op == "!=" ? FieldRequirement::Op::kNotEquals : FieldRequirement::Op::kEquals;
    r.value = std::move(value).value();
    out.requirements_.push_back(std::move(r));
  }
  // Upstream keeps the order of the sorted raw terms; ordering the parsed terms instead makes
  // String() independent of how the input was spelled ("a==b" vs "a=b", escapes).
  std::sort(out.requirements_.begin(), out.requirements_.end(),
            [](const FieldRequirement& a, const FieldRequirement& b) {
              return std::tie(a.field, a.op, a.value) < std::tie(b.field, b.op, b.value);
            });
  return out;
}

bool FieldSelector::Matches(const FieldLookup& field) const {
  for (const auto& r : requirements_) {
    std::string have = field(r.field).value_or("");
    bool equal = have == r.value;
    if (equal != (r.op == FieldRequirement::Op::kEquals)) return false;
  }
  return true;
}

bool FieldSelector::Matches(const std::map<std::string, std::string>& fields) const {
  return Matches([&](std::string_view name) -> std::optional<std::string> {
    auto it = fields.find(std::string(name));
    if (it == fields.end()) return std::nullopt;
    return it->second;
  });
}

std::vector<std::string> FieldSelector::Fields() const {
  std::set<std::string> names;
  for (const auto& r : requirements_) names.insert(r.field);
  return {names.begin(), names.end()};
}

Status FieldSelector::CheckSupported(const std::vector<std::string_view>& supported) const {
  for (const auto& r : requirements_) {
    if (std::find(supported.begin(), supported.end(), r.field) == supported.end()) {
      return InvalidSelector("field label not supported: " + r.field);
    }
  }
  return Status::Ok();
}

std::optional<std::string> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const auto& r : requirements_) {
    if (r.field == field && r.op == FieldRequirement::Op::kEquals) return r.value;
  }
  return std::nullopt;
}

std::string FieldSelector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    const auto& r = requirements_[i];
    if (i) out += ",";
    out += r.field;
    out += r.op == FieldRequirement::Op::kEquals ? "=" : "!=";
    out += EscapeFieldValue(r.value);
  }
  return out;
}

}  // namespace kite::api
