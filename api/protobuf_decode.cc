// Hand-written: the wire format is a few dozen lines (varints, lengths, four wire types), and
// the schema that gives the bytes meaning is kite's own (api/schema.h), so a protobuf library
// and generated code for ~700 upstream messages would add a build step without removing any
// of the JSON mapping below.
#include "api/protobuf_decode.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "api/json_text.h"
#include "api/quantity.h"
#include "api/resources.h"
#include "api/validation.h"
#include "base/encoding.h"

namespace kite::api {
namespace {

namespace json = boost::json;
using schema::Field;
using schema::Type;
using schema::ValueKind;

constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr const char kTruncatedVarint[] = "truncated varint";

// A cursor over one message's bytes. Every read checks the bounds; failures name what was cut.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // Returns nullptr on success, else what went wrong. Up to ten bytes; bits past 64 are
  // dropped, as Go's decoders do.
  const char* Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return kTruncatedVarint;
      const auto b = static_cast<uint8_t>(*p_++);
      if (shift < 64) result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *v = result;
        return nullptr;
      }
    }
    return "varint longer than 10 bytes";
  }

  const char* Fixed(size_t n, uint64_t* v) {
    if (static_cast<size_t>(end_ - p_) < n) return "truncated fixed-width value";
    uint64_t result = 0;
    for (size_t i = 0; i < n; ++i) result |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += n;
    *v = result;
    return nullptr;
  }

  const char* Bytes(std::string_view* out) {
    uint64_t n = 0;
    if (const char* e = Varint(&n)) return e == kTruncatedVarint ? "truncated length" : e;
    if (n > static_cast<uint64_t>(end_ - p_)) return "length runs past the end of the message";
    *out = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return nullptr;
  }

  // Reads the next tag. Field numbers are 1..2^29-1; wire types 0, 1, 2 and 5 (groups, 3 and 4,
  // are not used by Kubernetes and are rejected).
  const char* Tag(int* number, int* wire) {
    uint64_t tag = 0;
    if (const char* e = Varint(&tag)) return e == kTruncatedVarint ? "truncated field tag" : e;
    const uint64_t n = tag >> 3;
    if (n == 0 || n > (uint64_t{1} << 29) - 1) return "invalid field number";
    *number = static_cast<int>(n);
    *wire = static_cast<int>(tag & 7);
    if (*wire != kVarint && *wire != kFixed64 && *wire != kLengthDelimited && *wire != kFixed32) {
      return "invalid wire type";
    }
    return nullptr;
  }

  const char* Skip(int wire) {
    uint64_t ignored = 0;
    std::string_view ignored_bytes;
    switch (wire) {
      case kVarint: return Varint(&ignored);
      case kFixed64: return Fixed(8, &ignored);
      case kFixed32: return Fixed(4, &ignored);
      default: return Bytes(&ignored_bytes);
    }
  }

 private:
  const char* p_;
  const char* end_;
};

const char* KindName(ValueKind k) {
  switch (k) {
    case ValueKind::kString: return "string";
    case ValueKind::kBytes: return "bytes";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt32: return "int32";
    case ValueKind::kInt64: return "int64";
    case ValueKind::kDouble: return "double";
    case ValueKind::kMessage: return "message";
    case ValueKind::kQuantity: return "Quantity";
    case ValueKind::kIntOrString: return "IntOrString";
    case ValueKind::kTime: return "Time";
    case ValueKind::kMicroTime: return "MicroTime";
    case ValueKind::kDuration: return "Duration";
    case ValueKind::kRawExtension: return "RawExtension";
    case ValueKind::kFieldsV1: return "FieldsV1";
    case ValueKind::kJson: return "JSON";
  }
  return "value";
}

int WireTypeOf(ValueKind k) {
  switch (k) {
    case ValueKind::kBool:
    case ValueKind::kInt32:
    case ValueKind::kInt64: return kVarint;
    case ValueKind::kDouble: return kFixed64;
    default: return kLengthDelimited;
  }
}

bool Packable(ValueKind k) { return WireTypeOf(k) != kLengthDelimited; }

// Strings as Go's encoding/json writes them: invalid UTF-8 bytes become U+FFFD each (gogo does
// not check UTF-8 when decoding, and JSON text must be valid UTF-8).
std::string Utf8(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0, width = 1; i < s.size(); i += width) AppendRune(&out, DecodeRune(s, i, &width));
  return out;
}

// Go's time.Duration.String(): "0s", "1.5s", "1h0m0s", "300ms", "2µs", "-1m30s".
std::string GoDuration(int64_t d) {
  char buf[32];
  int w = sizeof buf;
  const bool neg = d < 0;
  uint64_t u = static_cast<uint64_t>(d);
  if (neg) u = ~u + 1;
  // Writes the fraction of v with `prec` digits, trailing zeros (and a bare '.') omitted.
  auto frac = [&](uint64_t v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      const auto digit = static_cast<char>(v % 10);
      print = print || digit != 0;
      if (print) buf[--w] = static_cast<char>('0' + digit);
      v /= 10;
    }
    if (print) buf[--w] = '.';
    return v;
  };
  auto integer = [&](uint64_t v) {
    if (v == 0) buf[--w] = '0';
    for (; v > 0; v /= 10) buf[--w] = static_cast<char>('0' + v % 10);
  };
  constexpr uint64_t kMicro = 1000, kMilli = 1000 * kMicro, kSecond = 1000 * kMilli;
  if (u < kSecond) {
    buf[--w] = 's';
    int prec = 0;
    if (u == 0) {
      buf[--w] = '0';
      return std::string(buf + w, sizeof buf - w);
    } else if (u < kMicro) {
      buf[--w] = 'n';
    } else if (u < kMilli) {
      prec = 3;
      buf[--w] = '\xb5';  // U+00B5 MICRO SIGN in UTF-8
      buf[--w] = '\xc2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    integer(frac(u, prec));
  } else {
    buf[--w] = 's';
    u = frac(u, 9);
    integer(u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      integer(u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        integer(u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, sizeof buf - w);
}

// RFC 3339 in UTC ("2024-01-02T03:04:05Z", with ".000000" before the Z for MicroTime). False
// outside years 0000..9999, which have no RFC 3339 spelling.
bool FormatTime(int64_t seconds, int32_t nanos, bool micro, std::string* out) {
  constexpr int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMin - 3 || seconds > kMax + 3) return false;
  // Nanos outside [0, 1e9) carry into the seconds, as Go's time.Unix normalises them.
  int64_t ns = nanos;
  int64_t carry = ns / 1000000000;
  ns %= 1000000000;
  if (ns < 0) ns += 1000000000, --carry;
  seconds += carry;
  if (seconds < kMin || seconds > kMax) return false;
  int64_t days = seconds / 86400;
  int64_t sod = seconds % 86400;
  if (sod < 0) sod += 86400, --days;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(year),
                        static_cast<int>(month), static_cast<int>(day), static_cast<int>(sod / 3600),
                        static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  if (micro) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06d", static_cast<int>(ns / 1000));
  }
  out->assign(buf, static_cast<size_t>(n));
  out->push_back('Z');
  return true;
}

// The JSON value of a map entry whose value is missing (Go's zero value of the type).
json::value ZeroValue(ValueKind kind, const Type* type) {
  switch (kind) {
    case ValueKind::kString:
    case ValueKind::kBytes: return json::string();
    case ValueKind::kBool: return false;
    case ValueKind::kInt32:
    case ValueKind::kInt64: return int64_t{0};
    case ValueKind::kDouble: return 0.0;
    case ValueKind::kMessage:
      if (type != nullptr && type->wrapper) return json::array();
      return json::object();
    case ValueKind::kQuantity: return "0";
    case ValueKind::kIntOrString: return int64_t{0};
    case ValueKind::kDuration: return "0s";
    default: return nullptr;  // zero Time, empty raw: null in Go's JSON
  }
}

class Decoder {
 public:
  Status Error() const {
    std::string where;
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      if (!where.empty() && (*it)[0] != '[') where += '.';
      where += *it;
    }
    return Status(Code::kInvalidArgument,
                  "protobuf: " + (where.empty() ? std::string() : where + ": ") + message_);
  }

  // Decodes the fields of a message of type `t` into `out` (which inline fields share with
  // their parent). `depth` counts this message.
  bool Message(std::string_view bytes, const Type& t, json::object& out, int depth) {
    if (depth > kMaxProtobufDepth) {
      return Fail("messages nested deeper than " + std::to_string(kMaxProtobufDepth));
    }
    Reader r(bytes);
    while (!r.done()) {
      int number = 0, wire = 0;
      if (const char* e = r.Tag(&number, &wire)) return Fail(std::string(e) + " in " + t.name);
      const Field* f = t.FindNumber(number);
      if (f == nullptr) {  // unknown field: skip it (a newer client's addition)
        if (const char* e = r.Skip(wire)) return Fail(std::string(e) + " in unknown field " + std::to_string(number));
        continue;
      }
      if (!OneField(*f, wire, r, out, depth)) return false;
    }
    return true;
  }

 private:
  bool Fail(std::string message) {
    message_ = std::move(message);
    return false;
  }

  bool WrongWire(const Field& f, int wire, int expected) {
    return Fail("wrong wire type " + std::to_string(wire) + " for field " + std::to_string(f.number) + " (" +
                KindName(f.kind) + (f.repeated ? " list" : f.map ? " map" : "") + ", expects " +
                std::to_string(expected) + ")");
  }

  // One occurrence of field `f` of a message at `depth`.
  bool OneField(const Field& f, int wire, Reader& r, json::object& out, int depth) {
    if (f.map) {
      if (!MapEntry(f, wire, r, out, depth)) return false;
      return true;
    }
    if (f.repeated) {
      json::value& slot = out[f.name];
      if (!slot.is_array()) slot = json::array();
      json::array& list = slot.get_array();
      if (wire == kLengthDelimited && Packable(f.kind)) {
        std::string_view packed;
        if (const char* e = r.Bytes(&packed)) return FailAt(f.name, e);
        Reader pr(packed);
        while (!pr.done()) {
          json::value v;
          bool zero = false, absent = false;
          if (!Value(f, WireTypeOf(f.kind), pr, depth, v, zero, absent)) return At(f.name + "[" + std::to_string(list.size()) + "]");
          list.push_back(std::move(v));
        }
        return true;
      }
      json::value v;
      bool zero = false, absent = false;
      if (!Value(f, wire, r, depth, v, zero, absent)) return At(f.name + "[" + std::to_string(list.size()) + "]");
      list.push_back(absent ? json::value(nullptr) : std::move(v));
      return true;
    }
    if (f.inline_ && f.kind == ValueKind::kMessage && f.type != nullptr) {
      if (wire != kLengthDelimited) return WrongWire(f, wire, kLengthDelimited);
      std::string_view sub;
      if (const char* e = r.Bytes(&sub)) return FailAt(f.name, e);
      return Message(sub, *f.type, out, depth + 1);  // its fields land in this object
    }
    json::value v;
    bool zero = false, absent = false;
    if (!Value(f, wire, r, depth, v, zero, absent)) return At(f.name);
    if (absent || (zero && !f.pointer)) {
      out.erase(f.name);  // unset (a later zero overrides an earlier value, last one wins)
    } else {
      out[f.name] = std::move(v);
    }
    return true;
  }

  bool MapEntry(const Field& f, int wire, Reader& r, json::object& out, int depth) {
    if (wire != kLengthDelimited) return WrongWire(f, wire, kLengthDelimited) || At(f.name);
    std::string_view entry;
    if (const char* e = r.Bytes(&entry)) return FailAt(f.name, e);
    if (depth + 1 > kMaxProtobufDepth) {
      return FailAt(f.name, "messages nested deeper than " + std::to_string(kMaxProtobufDepth));
    }
    json::value& slot = out[f.name];
    if (!slot.is_object()) slot = json::object();
    std::string key;
    json::value value;
    bool have_value = false;
    Reader er(entry);
    while (!er.done()) {
      int number = 0, w = 0;
      if (const char* e = er.Tag(&number, &w)) return FailAt(f.name, std::string(e) + " in map entry");
      if (number == 1) {
        std::string_view k;
        if (w != kLengthDelimited) return FailAt(f.name, "map key has wire type " + std::to_string(w) + ", expects 2");
        if (const char* e = er.Bytes(&k)) return FailAt(f.name, std::string(e) + " in map key");
        key = Utf8(k);
      } else if (number == 2) {
        bool zero = false, absent = false;
        json::value v;
        if (!Value(f, w, er, depth + 1, v, zero, absent)) return At(f.name + "[" + key + "]");
        value = absent ? json::value(nullptr) : std::move(v);
        have_value = true;
      } else if (const char* e = er.Skip(w)) {
        return FailAt(f.name, std::string(e) + " in map entry");
      }
    }
    slot.get_object()[key] = have_value ? std::move(value) : ZeroValue(f.kind, f.type);
    return true;
  }

  // One value of field f's kind (an element for lists, the value for maps) that arrived with
  // wire type `wire`, from a message at `depth`. `zero`: Go's zero value of a scalar (dropped
  // for non-pointer singular fields); `absent`: nothing to say in JSON (zero Time, empty raw).
  bool Value(const Field& f, int wire, Reader& r, int depth, json::value& out, bool& zero, bool& absent) {
    const int expected = WireTypeOf(f.kind);
    if (wire != expected) return WrongWire(f, wire, expected);
    uint64_t u = 0;
    std::string_view bytes;
    switch (f.kind) {
      case ValueKind::kBool:
      case ValueKind::kInt32:
      case ValueKind::kInt64:
        if (const char* e = r.Varint(&u)) return Fail(e);
        zero = u == 0;
        if (f.kind == ValueKind::kBool) {
          out = u != 0;
        } else if (f.kind == ValueKind::kInt32) {
          out = static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(u)));
          zero = static_cast<uint32_t>(u) == 0;
        } else {
          out = static_cast<int64_t>(u);
        }
        return true;
      case ValueKind::kDouble: {
        if (const char* e = r.Fixed(8, &u)) return Fail(e);
        double d = 0;
        std::memcpy(&d, &u, sizeof d);
        if (!std::isfinite(d)) return Fail("double is not a finite number");
        zero = d == 0;
        out = d;
        return true;
      }
      default:
        break;
    }
    if (const char* e = r.Bytes(&bytes)) return Fail(e);
    switch (f.kind) {
      case ValueKind::kString:
        zero = bytes.empty();
        out = json::string(Utf8(bytes));
        return true;
      case ValueKind::kBytes:
        zero = bytes.empty();
        out = json::string(Base64Encode(bytes));
        return true;
      case ValueKind::kMessage: {
        if (f.type == nullptr) return Fail("field has no message type");
        json::object obj;
        if (!Message(bytes, *f.type, obj, depth + 1)) return false;
        if (f.type->wrapper) {
          // A Go named slice: {1: repeated items} on the wire, the bare array in JSON.
          json::value items = json::array();
          if (!f.type->fields.empty()) {
            if (json::value* v = obj.if_contains(f.type->fields.front().name)) items = std::move(*v);
          }
          out = std::move(items);
        } else {
          out = std::move(obj);
        }
        return true;
      }
      default:
        if (depth + 1 > kMaxProtobufDepth) {
          return Fail("messages nested deeper than " + std::to_string(kMaxProtobufDepth));
        }
        return Special(f.kind, bytes, out, absent);
    }
  }

  // The apimachinery types with JSON forms of their own; `bytes` is the message's content.
  bool Special(ValueKind kind, std::string_view bytes, json::value& out, bool& absent) {
    // Their fields: at most three, scalars or bytes; the last occurrence wins.
    uint64_t ints[4] = {0, 0, 0, 0};
    std::string_view strs[4];
    int wires[4] = {-1, -1, -1, -1};  // the wire type of each field's last occurrence; -1 unseen
    Reader r(bytes);
    while (!r.done()) {
      int number = 0, wire = 0;
      if (const char* e = r.Tag(&number, &wire)) return Fail(std::string(e) + " in " + KindName(kind));
      const char* e = nullptr;
      if (number >= 1 && number <= 3 && wire == kVarint) {
        e = r.Varint(&ints[number]);
      } else if (number >= 1 && number <= 3 && wire == kLengthDelimited) {
        e = r.Bytes(&strs[number]);
      } else if (number >= 1 && number <= 3) {
        return Fail(std::string(KindName(kind)) + " field " + std::to_string(number) + " has wire type " +
                    std::to_string(wire));
      } else {
        e = r.Skip(wire);
        number = 0;
      }
      if (e != nullptr) return Fail(std::string(e) + " in " + KindName(kind));
      wires[number] = wire;
    }
    // Which field is which wire type is fixed per kind.
    auto want = [&](int number, int expected) {
      if (wires[number] < 0 || wires[number] == expected) return true;
      return Fail(std::string(KindName(kind)) + " field " + std::to_string(number) + " has wire type " +
                  std::to_string(wires[number]) + ", expects " + std::to_string(expected));
    };
    auto seen = [&](int number) { return wires[number] >= 0; };
    switch (kind) {
      case ValueKind::kQuantity: {
        if (!want(1, kLengthDelimited)) return false;
        if (!seen(1)) {
          out = "0";
          return true;
        }
        auto q = Quantity::Parse(strs[1]);
        if (!q.ok()) return Fail("Quantity " + q.status().message());
        out = json::string(q->String());
        return true;
      }
      case ValueKind::kIntOrString: {
        if (!want(1, kVarint) || !want(2, kVarint) || !want(3, kLengthDelimited)) return false;
        if (ints[1] == 0) {
          out = static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(ints[2])));
        } else if (ints[1] == 1) {
          out = json::string(Utf8(strs[3]));
        } else {
          return Fail("IntOrString type " + std::to_string(ints[1]) + " is neither 0 (int) nor 1 (string)");
        }
        return true;
      }
      case ValueKind::kTime:
      case ValueKind::kMicroTime: {
        if (!want(1, kVarint) || !want(2, kVarint)) return false;
        const auto seconds = static_cast<int64_t>(ints[1]);
        const auto nanos = static_cast<int32_t>(static_cast<uint32_t>(ints[2]));
        // Go writes its zero time as an empty message; an explicit 0001-01-01 is zero too.
        if (nanos == 0 && (seconds == 0 || seconds == -62135596800)) {
          absent = true;
          return true;
        }
        std::string text;
        if (!FormatTime(seconds, nanos, kind == ValueKind::kMicroTime, &text)) {
          return Fail(std::string(KindName(kind)) + " " + std::to_string(seconds) + "s is outside years 0000-9999");
        }
        out = json::string(text);
        return true;
      }
      case ValueKind::kDuration:
        if (!want(1, kVarint)) return false;
        out = json::string(GoDuration(static_cast<int64_t>(ints[1])));
        return true;
      case ValueKind::kRawExtension:
      case ValueKind::kFieldsV1:
      case ValueKind::kJson: {
        if (!want(1, kLengthDelimited)) return false;
        if (strs[1].empty()) {
          absent = true;
          return true;
        }
        auto parsed = ParseJson(strs[1]);
        if (!parsed.ok()) {
          return Fail(std::string(KindName(kind)) + " holds no JSON (" + parsed.status().message() + ")");
        }
        out = std::move(*parsed);
        return true;
      }
      default:
        return Fail("unexpected value kind");
    }
  }

  // Unwinding: records one path segment (innermost first) and keeps the failure.
  bool At(std::string segment) {
    path_.push_back(std::move(segment));
    return false;
  }
  bool FailAt(const std::string& segment, std::string message) {
    Fail(std::move(message));
    return At(segment);
  }

  std::string message_;
  std::vector<std::string> path_;
};

// schema::TypeForKind finds a type's package from the group's first label only
// ("authorization.k8s.io" → authorization), so the group itself is checked here: one of the
// built-in API groups (those of the resource table, with their subresources), or meta.k8s.io.
bool KnownGroup(std::string_view group) {
  static const std::set<std::string, std::less<>> groups = [] {
    std::set<std::string, std::less<>> g{"meta.k8s.io"};
    for (const auto& r : BuiltinResources()) {
      g.insert(r.group);
      for (const auto& sub : r.subresources) {
        if (!sub.group.empty()) g.insert(sub.group);
      }
    }
    return g;
  }();
  return groups.count(group) > 0;
}

Status EnvelopeError(std::string message) {
  return Status(Code::kInvalidArgument, "protobuf envelope: " + std::move(message));
}

}  // namespace

Result<json::object> DecodeProtobufMessage(std::string_view bytes, const schema::Type& t) {
  if (t.kind != ValueKind::kMessage) {
    return Status(Code::kInvalidArgument, "protobuf: " + t.name + " is not a message type");
  }
  Decoder d;
  json::object out;
  if (!d.Message(bytes, t, out, 1)) return d.Error();
  return out;
}

Result<DecodedObject> DecodeProtobufEnvelope(std::string_view body) {
  if (body.size() < kProtobufMagic.size() || body.substr(0, kProtobufMagic.size()) != kProtobufMagic) {
    return EnvelopeError("body does not start with the k8s\\x00 magic");
  }
  // runtime.Unknown {1 TypeMeta, 2 raw, 3 contentEncoding, 4 contentType}; the last of each wins.
  std::string_view type_meta, raw, content_encoding, content_type;
  Reader r(body.substr(kProtobufMagic.size()));
  while (!r.done()) {
    int number = 0, wire = 0;
    if (const char* e = r.Tag(&number, &wire)) return EnvelopeError(e);
    std::string_view* slot = number == 1 ? &type_meta : number == 2 ? &raw : number == 3 ? &content_encoding
                             : number == 4 ? &content_type : nullptr;
    if (slot == nullptr) {
      if (const char* e = r.Skip(wire)) return EnvelopeError(e);
      continue;
    }
    if (wire != kLengthDelimited) {
      return EnvelopeError("field " + std::to_string(number) + " has wire type " + std::to_string(wire) + ", expects 2");
    }
    if (const char* e = r.Bytes(slot)) return EnvelopeError(e);
  }
  DecodedObject out;
  Reader tr(type_meta);
  while (!tr.done()) {
    int number = 0, wire = 0;
    if (const char* e = tr.Tag(&number, &wire)) return EnvelopeError(std::string(e) + " in TypeMeta");
    if (number != 1 && number != 2) {
      if (const char* e = tr.Skip(wire)) return EnvelopeError(std::string(e) + " in TypeMeta");
      continue;
    }
    if (wire != kLengthDelimited) return EnvelopeError("TypeMeta field " + std::to_string(number) + " is not a string");
    std::string_view s;
    if (const char* e = tr.Bytes(&s)) return EnvelopeError(std::string(e) + " in TypeMeta");
    (number == 1 ? out.api_version : out.kind).assign(s);
  }
  if (!content_encoding.empty()) {
    return EnvelopeError("unsupported contentEncoding \"" + Utf8(content_encoding) + "\"");
  }
  if (!content_type.empty() && content_type != "application/vnd.kubernetes.protobuf") {
    return EnvelopeError("unsupported contentType \"" + Utf8(content_type) + "\"");
  }
  if (out.api_version.empty() || out.kind.empty()) return EnvelopeError("apiVersion and kind are required");
  // "v1" is the core group; "apps/v1" group apps, version v1.
  std::string_view group, version = out.api_version;
  if (size_t slash = version.find('/'); slash != std::string_view::npos) {
    group = version.substr(0, slash);
    version = version.substr(slash + 1);
  }
  const schema::Type* type = nullptr;
  if (!version.empty() && version.find('/') == std::string_view::npos && KnownGroup(group)) {
    type = schema::TypeForKind(group, version, out.kind);
  }
  if (type == nullptr) {
    return Status(Code::kInvalidArgument, "protobuf: no protobuf schema for kind \"" + Utf8(out.kind) + "\" in \"" +
                                              Utf8(out.api_version) + "\"");
  }
  auto decoded = DecodeProtobufMessage(raw, *type);
  if (!decoded.ok()) return decoded.status();
  out.object.reserve(decoded->size() + 2);
  out.object["apiVersion"] = out.api_version;
  out.object["kind"] = out.kind;
  for (auto& member : *decoded) out.object[member.key()] = std::move(member.value());
  return out;
}

}  // namespace kite::api
