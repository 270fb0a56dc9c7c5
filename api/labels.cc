#include "api/labels.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace kite::api {
namespace {

Status Invalid(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }

// Go's strconv.ParseInt(s, 10, 64): one optional sign, then only digits, in int64 range.
std::optional<int64_t> GoParseInt64(std::string_view s) {
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (s[0] == '+') s.remove_prefix(1);  // from_chars rejects '+', Go accepts it
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool ParsesAsInt64(std::string_view s) { return GoParseInt64(s).has_value(); }

// A Go nil slice renders as null, which is what upstream shows for "no values".
std::string RenderValues(const std::vector<std::string>& values) {
  return values.empty() ? "null" : GoJsonStringArray(values);
}

// ---------------------------------------------------------------------------------------------
// Lexer and parser. The token set, the longest-match scanning of operator symbols and the
// treatment of a NUL byte as end of input follow upstream, so that the same inputs are
// accepted and the same error texts come out.

enum class Tok {
  kError, kEnd, kClosePar, kComma, kNot, kDoubleEquals, kEquals, kGreater, kIdentifier, kIn,
  kLess, kNotEquals, kNotIn, kOpenPar,
};

struct Item {
  Tok tok;
  std::string lit;
};

bool IsWhitespace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(unsigned char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::optional<Tok> SymbolToken(std::string_view s) {
  if (s == ")") return Tok::kClosePar;
  if (s == ",") return Tok::kComma;
  if (s == "!") return Tok::kNot;
  if (s == "==") return Tok::kDoubleEquals;
  if (s == "=") return Tok::kEquals;
  if (s == ">") return Tok::kGreater;
  if (s == "<") return Tok::kLess;
  if (s == "!=") return Tok::kNotEquals;
  if (s == "(") return Tok::kOpenPar;
  return std::nullopt;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Item Lex() {
    unsigned char ch = Read();
    while (IsWhitespace(ch)) ch = Read();
    if (ch == 0) return {Tok::kEnd, ""};
    Unread();
    return IsSpecial(ch) ? ScanSymbol() : ScanWord();
  }

 private:
  // Returns 0 at the end of input; a NUL byte in the input reads as 0 too.
  unsigned char Read() {
    if (pos_ >= s_.size()) return 0;
    return static_cast<unsigned char>(s_[pos_++]);
  }
  void Unread() { --pos_; }

  // Longest run of symbol characters that still spells a token ("!=" but "=" then "!").
  Item ScanSymbol() {
    std::string buffer;
    std::optional<Item> last;
    while (true) {
      unsigned char ch = Read();
      if (ch == 0) break;
      if (!IsSpecial(ch)) {
        Unread();
        break;
      }
      buffer.push_back(static_cast<char>(ch));
      if (auto tok = SymbolToken(buffer)) {
        last = Item{*tok, buffer};
      } else if (last) {
        Unread();
        break;
      }
    }
    if (!last) return {Tok::kError, "error expected: keyword found '" + buffer + "'"};
    return *last;
  }

  Item ScanWord() {
    std::string buffer;
    while (true) {
      unsigned char ch = Read();
      if (ch == 0) break;
      if (IsSpecial(ch) || IsWhitespace(ch)) {
        Unread();
        break;
      }
      buffer.push_back(static_cast<char>(ch));
    }
    if (buffer == "in") return {Tok::kIn, buffer};
    if (buffer == "notin") return {Tok::kNotIn, buffer};
    return {Tok::kIdentifier, buffer};
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// In value position "in" and "notin" are plain words.
enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view s) {
    Lexer lexer(s);
    while (true) {
      items_.push_back(lexer.Lex());
      if (items_.back().tok == Tok::kEnd) break;
    }
  }

  Result<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> reqs;
    while (true) {
      const Item& next = Peek(Context::kValues);
      if (next.tok == Tok::kEnd) return reqs;
      if (next.tok != Tok::kIdentifier && next.tok != Tok::kNot) {
        return Invalid("found '" + next.lit + "', expected: !, identifier, or 'end of string'");
      }
      auto r = ParseRequirement();
      if (!r.ok()) return Invalid("unable to parse requirement: " + r.status().message());
      reqs.push_back(std::move(r).value());
      Item after = Take(Context::kValues);
      if (after.tok == Tok::kEnd) return reqs;
      if (after.tok != Tok::kComma) {
        return Invalid("found '" + after.lit + "', expected: ',' or 'end of string'");
      }
      const Item& t2 = Peek(Context::kValues);
      if (t2.tok != Tok::kIdentifier && t2.tok != Tok::kNot) {
        return Invalid("found '" + t2.lit + "', expected: identifier after ','");
      }
    }
  }

 private:
  Item Adjust(Item item, Context ctx) const {
    if (ctx == Context::kValues && (item.tok == Tok::kIn || item.tok == Tok::kNotIn)) {
      item.tok = Tok::kIdentifier;
    }
    return item;
  }
  Item Peek(Context ctx) const { return Adjust(items_[std::min(pos_, items_.size() - 1)], ctx); }
  Item Take(Context ctx) {
    Item item = Peek(ctx);
    if (pos_ < items_.size() - 1) ++pos_;  // never past the end marker
    return item;
  }

  Result<LabelRequirement> ParseRequirement() {
    // Key, with "exists"/"does not exist" inferred when nothing follows it.
    std::optional<LabelOperator> op;
    Item key = Take(Context::kValues);
    if (key.tok == Tok::kNot) {
      op = LabelOperator::kDoesNotExist;
      key = Take(Context::kValues);
    }
    if (key.tok != Tok::kIdentifier) return Invalid("found '" + key.lit + "', expected: identifier");
    if (auto errs = IsQualifiedName(key.lit); !errs.empty()) {
      return Invalid("<nil>: Invalid value: " + GoQuote(key.lit) + ": " + JoinMessages(errs, "; "));
    }
    Tok following = Peek(Context::kValues).tok;
    if ((following == Tok::kEnd || following == Tok::kComma) && !op) op = LabelOperator::kExists;
    if (op) return LabelRequirement::Create(key.lit, *op, {});

    Item op_item = Take(Context::kKeyAndOperator);
    switch (op_item.tok) {
      case Tok::kIn: op = LabelOperator::kIn; break;
      case Tok::kNotIn: op = LabelOperator::kNotIn; break;
      case Tok::kEquals: op = LabelOperator::kEquals; break;
      case Tok::kDoubleEquals: op = LabelOperator::kDoubleEquals; break;
      case Tok::kNotEquals: op = LabelOperator::kNotEquals; break;
      case Tok::kGreater: op = LabelOperator::kGreaterThan; break;
      case Tok::kLess: op = LabelOperator::kLessThan; break;
      default:
        return Invalid("found '" + op_item.lit + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    Result<std::set<std::string>> values =
        (*op == LabelOperator::kIn || *op == LabelOperator::kNotIn) ? ParseValueSet()
                                                                      : ParseExactValue();
    if (!values.ok()) return values.status();
    return LabelRequirement::Create(key.lit, *op, {values->begin(), values->end()});
  }

  // "(" [values] ")"; empty entries are the empty string, duplicates collapse.
  Result<std::set<std::string>> ParseValueSet() {
    Item open = Take(Context::kValues);
    if (open.tok != Tok::kOpenPar) return Invalid("found '" + open.lit + "' expected: '('");
    Item first = Peek(Context::kValues);
    if (first.tok == Tok::kClosePar) {
      Take(Context::kValues);
      return std::set<std::string>{""};
    }
    if (first.tok != Tok::kIdentifier && first.tok != Tok::kComma) {
      return Invalid("found '" + first.lit + "', expected: ',', ')' or identifier");
    }
    auto list = ParseValueList();
    if (!list.ok()) return list;
    if (Take(Context::kValues).tok != Tok::kClosePar) {
      return Invalid("found '" + first.lit + "', expected: ')'");
    }
    return list;
  }

  Result<std::set<std::string>> ParseValueList() {
    std::set<std::string> values;
    while (true) {
      Item item = Take(Context::kValues);
      if (item.tok == Tok::kIdentifier) {
        values.insert(item.lit);
        Item next = Peek(Context::kValues);
        if (next.tok == Tok::kComma) continue;
        if (next.tok == Tok::kClosePar) return values;
        return Invalid("found '" + next.lit + "', expected: ',' or ')'");
      }
      if (item.tok != Tok::kComma) {
        return Invalid("found '" + item.lit + "', expected: ',', or identifier");
      }
      if (values.empty()) values.insert("");  // "(,"
      Tok next = Peek(Context::kValues).tok;
      if (next == Tok::kClosePar) {  // ",)"
        values.insert("");
        return values;
      }
      if (next == Tok::kComma) {  // ",,"
        Take(Context::kValues);
        values.insert("");
      }
    }
  }

  Result<std::set<std::string>> ParseExactValue() {
    Tok next = Peek(Context::kValues).tok;
    if (next == Tok::kEnd || next == Tok::kComma) return std::set<std::string>{""};
    Item item = Take(Context::kValues);
    if (item.tok == Tok::kIdentifier) return std::set<std::string>{item.lit};
    return Invalid("found '" + item.lit + "', expected: identifier");
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

void SortByKey(std::vector<LabelRequirement>* reqs) {
  std::stable_sort(reqs->begin(), reqs->end(),
                   [](const LabelRequirement& a, const LabelRequirement& b) { return a.key() < b.key(); });
}

std::string JsonKindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: return "object";
    case boost::json::kind::array: return "array";
    case boost::json::kind::string: return "string";
    case boost::json::kind::bool_: return "bool";
    case boost::json::kind::null: return "null";
    default: return "number";
  }
}

std::string TypeError(const boost::json::value& v, std::string_view go_type) {
  return "json: cannot unmarshal " + JsonKindName(v) + " into Go value of type " + std::string(go_type);
}

// Reads a JSON array of strings (null counts as empty); nullopt on a wrong type.
std::optional<std::vector<std::string>> StringList(const boost::json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return std::nullopt;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return std::nullopt;
    out.emplace_back(e.get_string());
  }
  return out;
}

}  // namespace

std::string_view LabelOperatorName(LabelOperator op) {
  switch (op) {
    case LabelOperator::kEquals: return "=";
    case LabelOperator::kDoubleEquals: return "==";
    case LabelOperator::kNotEquals: return "!=";
    case LabelOperator::kIn: return "in";
    case LabelOperator::kNotIn: return "notin";
    case LabelOperator::kExists: return "exists";
    case LabelOperator::kDoesNotExist: return "!";
    case LabelOperator::kGreaterThan: return "gt";
    case LabelOperator::kLessThan: return "lt";
  }
  return "";
}

Result<LabelRequirement> LabelRequirement::Create(std::string key, LabelOperator op,
                                                  std::vector<std::string> values) {
  std::vector<std::string> errs;
  if (auto msgs = IsQualifiedName(key); !msgs.empty()) {
    errs.push_back(FieldError{FieldError::Type::kInvalid, "key", GoQuote(key), JoinMessages(msgs, "; ")}.Error());
  }
  auto invalid_values = [&](std::string detail) {
    errs.push_back(FieldError{FieldError::Type::kInvalid, "values", RenderValues(values), std::move(detail)}.Error());
  };
  switch (op) {
    case LabelOperator::kIn:
    case LabelOperator::kNotIn:
      if (values.empty()) invalid_values("for 'in', 'notin' operators, values set can't be empty");
      break;
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals:
    case LabelOperator::kNotEquals:
      if (values.size() != 1) invalid_values("exact-match compatibility requires one single value");
      break;
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      if (!values.empty()) invalid_values("values set must be empty for exists and does not exist");
      break;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan:
      if (values.size() != 1) invalid_values("for 'Gt', 'Lt' operators, exactly one value is required");
      for (size_t i = 0; i < values.size(); ++i) {
        if (!ParsesAsInt64(values[i])) {
          errs.push_back(FieldError{FieldError::Type::kInvalid, "values[" + std::to_string(i) + "]",
                                    GoQuote(values[i]),
                                    "for 'Gt', 'Lt' operators, the value must be an integer"}
                             .Error());
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto msgs = IsValidLabelValue(values[i]); !msgs.empty()) {
      errs.push_back(FieldError{FieldError::Type::kInvalid,
                                "values[" + std::to_string(i) + "][" + key + "]", GoQuote(values[i]),
                                JoinMessages(msgs, "; ")}
                         .Error());
    }
  }
  if (!errs.empty()) return Invalid(AggregateErrors(errs));
  return LabelRequirement(std::move(key), op, std::move(values));
}

bool LabelRequirement::Matches(bool present, std::optional<std::string_view> value) const {
  auto has_value = [&] {
    return value && std::find(values_.begin(), values_.end(), *value) != values_.end();
  };
  switch (op_) {
    case LabelOperator::kIn:
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals:
      return present && has_value();
    case LabelOperator::kNotIn:
    case LabelOperator::kNotEquals:
      return !present || !has_value();
    case LabelOperator::kExists:
      return present;
    case LabelOperator::kDoesNotExist:
      return !present;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan: {
      if (!present || !value || values_.size() != 1) return false;
      auto have = GoParseInt64(*value);
      auto want = GoParseInt64(values_[0]);
      if (!have || !want) return false;
      return op_ == LabelOperator::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string LabelRequirement::String() const {
  std::string out;
  if (op_ == LabelOperator::kDoesNotExist) out += "!";
  out += key_;
  switch (op_) {
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      return out;
    case LabelOperator::kIn: out += " in "; break;
    case LabelOperator::kNotIn: out += " notin "; break;
    case LabelOperator::kGreaterThan: out += ">"; break;
    case LabelOperator::kLessThan: out += "<"; break;
    default: out += LabelOperatorName(op_);
  }
  bool set = op_ == LabelOperator::kIn || op_ == LabelOperator::kNotIn;
  if (set) out += "(";
  std::vector<std::string> sorted = values_;
  std::sort(sorted.begin(), sorted.end());
  out += JoinMessages(sorted, ",");
  if (set) out += ")";
  return out;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view selector) {
  Parser parser(selector);
  auto reqs = parser.Parse();
  if (!reqs.ok()) return reqs.status();
  LabelSelector s;
  s.requirements_ = std::move(reqs).value();
  SortByKey(&s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::FromLabelSelectorJson(const boost::json::value& selector) {
  if (selector.is_null()) return Nothing();
  if (!selector.is_object()) return Invalid(TypeError(selector, "v1.LabelSelector"));
  const auto& obj = selector.get_object();
  LabelSelector s;

  if (const auto* ml = obj.if_contains("matchLabels"); ml && !ml->is_null()) {
    if (!ml->is_object()) return Invalid(TypeError(*ml, "map[string]string"));
    // Sorted so that the first error reported does not depend on the input's member order.
    std::map<std::string, std::string> labels;
    for (const auto& [k, v] : ml->get_object()) {
      if (!v.is_string()) return Invalid(TypeError(v, "string"));
      labels.emplace(std::string(k), std::string(v.get_string()));
    }
    for (const auto& [k, v] : labels) {
      auto r = LabelRequirement::Create(k, LabelOperator::kEquals, {v});
      if (!r.ok()) return r.status();
      s.requirements_.push_back(std::move(r).value());
    }
  }
  if (const auto* me = obj.if_contains("matchExpressions"); me && !me->is_null()) {
    if (!me->is_array()) return Invalid(TypeError(*me, "[]v1.LabelSelectorRequirement"));
    for (const auto& e : me->get_array()) {
      if (!e.is_object()) return Invalid(TypeError(e, "v1.LabelSelectorRequirement"));
      const auto& expr = e.get_object();
      std::string key, op_name;
      for (auto [name, out] : {std::pair{"key", &key}, std::pair{"operator", &op_name}}) {
        const auto* v = expr.if_contains(name);
        if (v == nullptr || v->is_null()) continue;
        if (!v->is_string()) return Invalid(TypeError(*v, "string"));
        *out = std::string(v->get_string());
      }
      auto values = StringList(expr.if_contains("values"));
      if (!values) return Invalid(TypeError(*expr.if_contains("values"), "[]string"));
      LabelOperator op;
      if (op_name == "In") {
        op = LabelOperator::kIn;
      } else if (op_name == "NotIn") {
        op = LabelOperator::kNotIn;
      } else if (op_name == "Exists") {
        op = LabelOperator::kExists;
      } else if (op_name == "DoesNotExist") {
        op = LabelOperator::kDoesNotExist;
      } else {
        return Invalid(GoQuote(op_name) + " is not a valid label selector operator");
      }
      auto r = LabelRequirement::Create(key, op, std::move(*values));
      if (!r.ok()) return r.status();
      s.requirements_.push_back(std::move(r).value());
    }
  }
  SortByKey(&s.requirements_);
  return s;
}

LabelSelector LabelSelector::FromSet(const std::map<std::string, std::string>& labels) {
  LabelSelector s;
  for (const auto& [k, v] : labels) {
    s.requirements_.push_back(LabelRequirement(k, LabelOperator::kEquals, {v}));
  }
  return s;
}

bool LabelSelector::Matches(const boost::json::object& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    const auto* v = labels.if_contains(r.key());
    std::optional<std::string_view> value;
    if (v && v->is_string()) value = std::string_view(v->get_string());
    if (!r.Matches(v != nullptr, value)) return false;
  }
  return true;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key());
    std::optional<std::string_view> value;
    if (it != labels.end()) value = it->second;
    if (!r.Matches(it != labels.end(), value)) return false;
  }
  return true;
}

std::optional<std::string> LabelSelector::RequiresExactMatch(std::string_view key) const {
  for (const auto& r : requirements_) {
    if (r.key() != key) continue;
    bool exact = r.op() == LabelOperator::kEquals || r.op() == LabelOperator::kDoubleEquals ||
                 r.op() == LabelOperator::kIn;
    if (exact && r.values().size() == 1) return r.values()[0];
    return std::nullopt;
  }
  return std::nullopt;
}

std::string LabelSelector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i) out += ",";
    out += requirements_[i].String();
  }
  return out;
}

std::vector<FieldError> ValidateLabelSelector(const boost::json::value& selector,
                                              const std::string& path) {
  using Type = FieldError::Type;
  std::vector<FieldError> errs;
  if (selector.is_null()) return errs;
  if (!selector.is_object()) {
    errs.push_back({Type::kInvalid, path, GoJsonString(JsonKindName(selector)), "must be an object"});
    return errs;
  }
  const auto& obj = selector.get_object();
  if (const auto* ml = obj.if_contains("matchLabels"); ml && !ml->is_null()) {
    std::string fld = path + ".matchLabels";
    if (!ml->is_object()) {
      errs.push_back({Type::kInvalid, fld, GoJsonString(JsonKindName(*ml)), "must be an object"});
    } else {
      std::map<std::string, const boost::json::value*> sorted;
      for (const auto& [k, v] : ml->get_object()) sorted.emplace(std::string(k), &v);
      for (const auto& [k, v] : sorted) {
        for (auto& m : IsQualifiedName(k)) errs.push_back({Type::kInvalid, fld, GoQuote(k), m});
        if (!v->is_string()) {
          errs.push_back({Type::kInvalid, fld, GoJsonString(JsonKindName(*v)), "must be a string"});
          continue;
        }
        std::string value(v->get_string());
        for (auto& m : IsValidLabelValue(value)) errs.push_back({Type::kInvalid, fld, GoQuote(value), m});
      }
    }
  }
  if (const auto* me = obj.if_contains("matchExpressions"); me && !me->is_null()) {
    std::string list = path + ".matchExpressions";
    if (!me->is_array()) {
      errs.push_back({Type::kInvalid, list, GoJsonString(JsonKindName(*me)), "must be a list"});
      return errs;
    }
    const auto& arr = me->get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string fld = list + "[" + std::to_string(i) + "]";
      if (!arr[i].is_object()) {
        errs.push_back({Type::kInvalid, fld, GoJsonString(JsonKindName(arr[i])), "must be an object"});
        continue;
      }
      const auto& expr = arr[i].get_object();
      auto str = [&](const char* name) {
        const auto* v = expr.if_contains(name);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
      };
      std::string key = str("key"), op = str("operator");
      auto values = StringList(expr.if_contains("values"));
      if (!values) {
        errs.push_back({Type::kInvalid, fld + ".values", "null", "must be a list of strings"});
        values.emplace();
      }
      if (op == "In" || op == "NotIn") {
        if (values->empty()) {
          errs.push_back({Type::kRequired, fld + ".values", "",
                          "must be specified when `operator` is 'In' or 'NotIn'"});
        }
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values->empty()) {
          errs.push_back({Type::kForbidden, fld + ".values", "",
                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"});
        }
      } else {
        errs.push_back({Type::kInvalid, fld + ".operator", GoQuote(op), "not a valid selector operator"});
      }
      for (auto& m : IsQualifiedName(key)) errs.push_back({Type::kInvalid, fld + ".key", GoQuote(key), m});
      for (size_t j = 0; j < values->size(); ++j) {
        for (auto& m : IsValidLabelValue((*values)[j])) {
          errs.push_back({Type::kInvalid, fld + ".values[" + std::to_string(j) + "]",
                          GoQuote((*values)[j]), m});
        }
      }
    }
  }
  return errs;
}

}  // namespace kite::api
