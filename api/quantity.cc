#include "api/quantity.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace kite::api {
namespace {

constexpr Int128 kMaxNanos = Int128::Max();
constexpr uint32_t kNanosPerUnit = 1000000000;
// (2^63-1) * 10^9: 2^63-1 units in nano-units.
constexpr Int128 kBinaryCapNanos = Int128::FromParts(0x1dcd64ff, 0xffffffffc4653600);

const char* const kErrFormat =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const char* const kErrSuffix = "unable to parse quantity's suffix";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Upstream's scanner: sign, numerator (leading zeros dropped), optional fraction, suffix.
struct Scanned {
  bool positive = true;
  std::string_view num;  // "0" when there are no significant integer digits
  std::string_view denom;
  std::string_view suffix;
};

std::optional<Scanned> Scan(std::string_view s) {
  Scanned out;
  size_t pos = 0, end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    out.positive = s[0] == '+';
    ++pos;
  }
  while (pos < end && s[pos] == '0') ++pos;
  if (pos >= end) {
    out.num = "0";
    return out;
  }
  size_t num_start = pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  out.num = s.substr(num_start, pos - num_start);
  if (pos >= end) return out;
  if (out.num.empty()) out.num = "0";
  if (s[pos] == '.') {
    ++pos;
    size_t denom_start = pos;
    while (pos < end && IsDigit(s[pos])) ++pos;
    out.denom = s.substr(denom_start, pos - denom_start);
    if (pos >= end) return out;
  }
  size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) ++pos;
  if (pos >= end) {
    out.suffix = s.substr(suffix_start);
    return out;
  }
  if (s[pos] == '-' || s[pos] == '+') ++pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  if (pos < end) return std::nullopt;  // something follows the exponent digits
  out.suffix = s.substr(suffix_start);
  return out;
}

struct Suffix {
  int base;  // 10 or 2
  int32_t exponent;
  Quantity::Format format;
};

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> GoParseInt(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  for (char c : s) if (!IsDigit(c)) return std::nullopt;
  uint64_t m;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), m);
  if (ec != std::errc() || m > (neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - m) : static_cast<int64_t>(m);
}

std::optional<Suffix> Interpret(std::string_view s) {
  using F = Quantity::Format;
  static const std::pair<std::string_view, int32_t> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::pair<std::string_view, int32_t> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (auto& [name, exp] : kDecimal) if (s == name) return Suffix{10, exp, F::kDecimalSI};
  for (auto& [name, exp] : kBinary) if (s == name) return Suffix{2, exp, F::kBinarySI};
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    auto e = GoParseInt(s.substr(1));
    if (!e) return std::nullopt;
    // Upstream narrows the exponent to int32 by truncation; so do we.
    return Suffix{10, static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(*e))), F::kDecimalExponent};
  }
  return std::nullopt;
}

// Doubles a decimal digit string in place.
void DoubleDigits(std::string* digits) {
  int carry = 0;
  for (size_t i = digits->size(); i-- > 0;) {
    int d = ((*digits)[i] - '0') * 2 + carry;
    (*digits)[i] = static_cast<char>('0' + d % 10);
    carry = d / 10;
  }
  if (carry) digits->insert(digits->begin(), static_cast<char>('0' + carry));
}

// Parses a digit string without leading zeros into a magnitude <= kMaxNanos.
std::optional<Int128> DigitsToMagnitude(std::string_view digits) {
  Int128 v = 0;
  for (char c : digits) {
    if (!v.MulAdd(10, static_cast<uint32_t>(c - '0'))) return std::nullopt;
  }
  return v;
}

// The remainder of a non-negative value divided by divisor.
uint32_t RemainderOf(Int128 v, uint32_t divisor) { return v.DivMod(divisor); }

// Exact magnitude in nano-units of digits * 10^exp10 * 2^exp2, rounded up when fractional.
// nullopt when it exceeds kMaxNanos.
std::optional<Int128> ToNanos(std::string digits, int64_t exp10, int exp2) {
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  digits.erase(0, first);
  for (int i = 0; i < exp2; ++i) DoubleDigits(&digits);
  int64_t k = exp10 + 9;  // power of ten that turns units into nano-units
  if (k >= 0) {
    if (static_cast<int64_t>(digits.size()) + k > 40) return std::nullopt;
    digits.append(static_cast<size_t>(k), '0');
    return DigitsToMagnitude(digits);
  }
  auto drop = static_cast<uint64_t>(-k);
  if (drop >= digits.size()) return 1;  // non-zero and below one nano: rounds up to 1n
  size_t keep = digits.size() - static_cast<size_t>(drop);
  bool fraction = digits.find_first_not_of('0', keep) != std::string::npos;
  auto v = DigitsToMagnitude(std::string_view(digits).substr(0, keep));
  if (!v) return std::nullopt;
  if (fraction && !v->MulAdd(1, 1)) return std::nullopt;
  return v;
}

// Whether upstream's fast path would keep the input text as the quantity's string.
bool UpstreamKeepsText(const Scanned& sc, const Suffix& suffix) {
  size_t digits = sc.num.size() + sc.denom.size();
  if (suffix.format == Quantity::Format::kBinarySI) {
    if (suffix.exponent < 0 || !sc.denom.empty()) return false;
    int precision = 15 - static_cast<int>(sc.num.size()) - suffix.exponent * 3 / 10 - 1;
    if (precision < 0) return false;
    auto value = GoParseInt(sc.num);
    return value && suffix.exponent % 10 == 0 && (*value & 0x07) != 0;
  }
  if (18 - static_cast<int64_t>(digits) < 0) return false;
  int64_t scale = static_cast<int64_t>(suffix.exponent) - static_cast<int64_t>(sc.denom.size());
  if (scale < -9) return false;
  std::string shifted = std::string(sc.num) + std::string(sc.denom);
  bool ends_000 = shifted.size() >= 3 && shifted.compare(shifted.size() - 3, 3, "000") == 0;
  return scale % 3 == 0 && !ends_000 && shifted[0] != '0';
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return Status(Code::kInvalidArgument, kErrFormat);
  Quantity q;
  if (text == "0") {
    q.original_ = "0";
    return q;
  }
  auto sc = Scan(text);
  if (!sc) return Status(Code::kInvalidArgument, kErrFormat);
  auto suffix = Interpret(sc->suffix);
  if (!suffix) return Status(Code::kInvalidArgument, kErrSuffix);

  int64_t exp10 = -static_cast<int64_t>(sc->denom.size());
  int exp2 = 0;
  if (suffix->base == 10) {
    exp10 += suffix->exponent;
  } else {
    exp2 = suffix->exponent;
  }
  auto magnitude = ToNanos(std::string(sc->num) + std::string(sc->denom), exp10, exp2);
  if (!magnitude) return Status(Code::kOutOfRange, "quantity too large to represent");
  q.format_ = suffix->format;
  if (q.format_ == Format::kBinarySI) {
    if (*magnitude > kBinaryCapNanos) magnitude = kBinaryCapNanos;
    // A binary quantity strictly between 0 and 1 cannot be written with a binary suffix.
    if (*magnitude > 0 && *magnitude < kNanosPerUnit) q.format_ = Format::kDecimalSI;
  }
  q.nanos_ = sc->positive ? *magnitude : -*magnitude;
  if (UpstreamKeepsText(*sc, *suffix)) q.original_ = std::string(text);
  return q;
}

Result<Quantity> Quantity::FromJson(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return Quantity();
    case boost::json::kind::string: {
      std::string_view s = v.get_string();
      constexpr std::string_view kSpace = " \t\n\r\v\f";
      size_t first = s.find_first_not_of(kSpace);
      if (first == std::string_view::npos) return Parse("");
      return Parse(s.substr(first, s.find_last_not_of(kSpace) - first + 1));
    }
    case boost::json::kind::int64:
      return Parse(std::to_string(v.get_int64()));
    case boost::json::kind::uint64:
      return Parse(std::to_string(v.get_uint64()));
    case boost::json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.get_double());
      if (ec != std::errc()) return Status(Code::kInvalidArgument, kErrFormat);
      return Parse(std::string_view(buf, static_cast<size_t>(end - buf)));
    }
    default:
      return Status(Code::kInvalidArgument, kErrFormat);
  }
}

namespace {

// value * factor, exact: |value| <= 2^63 and factor < 2^32 stay far below 2^127.
Int128 TimesFactor(int64_t value, uint32_t factor) {
  Int128 m = Int128(value).Abs();
  m.MulAdd(factor, 0);
  return value < 0 ? -m : m;
}

}  // namespace

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q;
  q.nanos_ = TimesFactor(value, kNanosPerUnit);
  q.format_ = format;
  return q;
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  Quantity q;
  q.nanos_ = TimesFactor(milli, 1000000);
  q.format_ = format;
  return q;
}

std::string Quantity::String() const {
  if (!original_.empty()) return original_;
  if (nanos_ == 0) return "0";
  Format format = format_;
  // Computed on the magnitude; the sign is put back on the mantissa.
  const bool negative = nanos_.IsNegative();
  const Int128 magnitude = nanos_.Abs();
  if (format == Format::kBinarySI) {
    bool small = magnitude < int64_t{1024} * kNanosPerUnit;
    bool integral = RemainderOf(magnitude, kNanosPerUnit) == 0;
    if (small || !integral) format = Format::kDecimalSI;  // no precision lost, no rounding
  }
  if (format == Format::kBinarySI) {
    Int128 n = magnitude;
    n.DivMod(kNanosPerUnit);
    int power = 0;
    while (power < 6 && RemainderOf(n, 1024) == 0) {
      n.DivMod(1024);
      ++power;
    }
    static const char* const kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return (negative ? -n : n).ToString() + kBinary[power];
  }
  // Mantissa and exponent with all factors of ten in the exponent, then the exponent lowered to
  // a multiple of three (which can only shrink the mantissa back towards |nanos_|: no overflow).
  Int128 m = magnitude;
  int exp = -9;
  while (RemainderOf(m, 10) == 0) {
    m.DivMod(10);
    ++exp;
  }
  while (exp % 3 != 0) {
    m.MulAdd(10, 0);
    --exp;
  }
  std::string suffix;
  if (format == Format::kDecimalSI && exp >= -9 && exp <= 18) {
    static const char* const kDecimal[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    suffix = kDecimal[(exp + 9) / 3];
  } else if (exp != 0) {
    suffix = "e" + std::to_string(exp);  // beyond "E" DecimalSI falls back to an exponent
  }
  return (negative ? -m : m).ToString() + suffix;
}

int64_t Quantity::ScaledValue(int scale) const {
  // Units of 10^scale are 10^(scale+9) nano-units.
  const Int128 mag = nanos_.Abs();
  const Int128 kMaxI64 = std::numeric_limits<int64_t>::max();
  int64_t shift = static_cast<int64_t>(scale) + 9;
  Int128 q = mag;
  if (shift > 38) {
    q = mag == 0 ? 0 : 1;  // any non-zero value rounds away from zero to one unit
  } else if (shift >= 0) {
    // Dividing by ten `shift` times floors as one division by 10^shift would; a non-zero
    // remainder at any step means the quotient rounds up.
    bool remainder = false;
    for (int64_t i = 0; i < shift; ++i) remainder |= q.DivMod(10) != 0;
    if (remainder) q.MulAdd(1, 1);
  } else {
    for (int64_t i = 0; i < -shift && q <= kMaxI64; ++i) q.MulAdd(10, 0);  // <= 10 * (2^63-1)
  }
  if (q > kMaxI64) {
    return nanos_ < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return nanos_ < 0 ? -q.ToInt64() : q.ToInt64();
}

double Quantity::AsApproximateDouble() const { return nanos_.ToDouble() / 1e9; }

int Quantity::Cmp(const Quantity& other) const {
  return nanos_ < other.nanos_ ? -1 : (nanos_ > other.nanos_ ? 1 : 0);
}

Status Quantity::Add(const Quantity& y) {
  Int128 sum;
  if (AddOverflow(nanos_, y.nanos_, &sum) || sum > kMaxNanos || sum < -kMaxNanos) {
    return Status(Code::kOutOfRange, "quantity too large to represent");
  }
  if (nanos_ == 0) format_ = y.format_;
  nanos_ = sum;
  original_.clear();
  return Status::Ok();
}

Status Quantity::Sub(const Quantity& y) {
  Int128 diff;
  if (SubOverflow(nanos_, y.nanos_, &diff) || diff > kMaxNanos || diff < -kMaxNanos) {
    return Status(Code::kOutOfRange, "quantity too large to represent");
  }
  if (nanos_ == 0) format_ = y.format_;
  nanos_ = diff;
  original_.clear();
  return Status::Ok();
}

void Quantity::Neg() {
  nanos_ = -nanos_;  // |nanos_| <= kMaxNanos, so this cannot overflow
  original_.clear();
}

}  // namespace kite::api
