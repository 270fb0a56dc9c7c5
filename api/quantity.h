// resource.Quantity: fixed-point amounts such as "100m", "1.5Gi", "1e3" (requests, limits,
// capacity, quota).
//
// Contract (matches upstream apimachinery `resource.ParseQuantity` and its serialisation):
//  - Syntax: [+-] digits [. digits] suffix, where the suffix is a decimal SI one
//    (n u m "" k M G T P E), a binary SI one (Ki Mi Gi Ti Pi Ei) or a decimal exponent
//    (e<int> / E<int>). Upstream's scanner is reproduced with its leniencies ("1.", ".5", "+1",
//    even "-" and "." parse as 0).
//  - Errors (kInvalidArgument), upstream's texts:
//      quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'
//      unable to parse quantity's suffix
//    plus kOutOfRange "quantity too large to represent" beyond +-(2^127-1) nano-units (about
//    1.7e29; upstream has no bound, kite stores 128-bit integers, api/int128.h).
//  - The value is exact, an integer count of nano-units (10^-9): finer values are rounded away
//    from zero ("0.1n" is 1n), as upstream does. No floating point is involved.
//  - Binary SI values are capped at 2^63-1 (upstream's silent cap): "8Ei" is 9223372036854775807.
//  - The format (the kind of suffix) is remembered and used by String(), which gives upstream's
//    canonical form: "1000m" -> "1", "0.1" -> "100m", "1.5Gi" -> "1536Mi", "1e3" -> "1e3"
//    (a decimal exponent stays an exponent), "1000E" -> "1e21". Like upstream, an input already
//    in canonical form is returned as it was written (so "+1" stays "+1").
//  - Comparison and equality are by value: "1k" == "1000" == "1e3".
// Thread-safety: a value type; const methods are safe to call concurrently.
#pragma once

#include <boost/json/value.hpp>

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/int128.h"
#include "base/status.h"

namespace kite::api {

class Quantity {
 public:
  enum class Format { kDecimalExponent, kBinarySI, kDecimalSI };

  Quantity() = default;  // zero, DecimalSI

  static Result<Quantity> Parse(std::string_view text);
  // A quantity field as found in a JSON object, decoded like upstream's UnmarshalJSON: a string
  // (surrounding whitespace trimmed) or a bare number (kubectl turns YAML `cpu: 1` into 1);
  // null is zero. A double is read back through its shortest decimal spelling, so a literal
  // written as 1e3 comes back as "1k" where upstream, which sees the literal, keeps "1e3".
  static Result<Quantity> FromJson(const boost::json::value& v);
  static Quantity FromInt(int64_t value, Format format);
  static Quantity FromMilli(int64_t milli, Format format);

  // Canonical form (see above).
  std::string String() const;
  Format format() const { return format_; }

  // The value rounded away from zero to an integer / to thousandths, saturating at the int64
  // range (upstream overflows instead).
  int64_t Value() const { return ScaledValue(0); }
  int64_t MilliValue() const { return ScaledValue(-3); }
  // The value in units of 10^scale, rounded away from zero, saturating.
  int64_t ScaledValue(int scale) const;
  // Exact value in nano-units.
  Int128 Nanos() const { return nanos_; }
  double AsApproximateDouble() const;

  bool IsZero() const { return nanos_ == 0; }
  int Sign() const { return nanos_ < 0 ? -1 : (nanos_ > 0 ? 1 : 0); }
  int Cmp(const Quantity& other) const;

  // Arithmetic; on overflow returns kOutOfRange and leaves *this unchanged. A zero receiver
  // takes the other operand's format (as upstream).
  Status Add(const Quantity& y);
  Status Sub(const Quantity& y);
  void Neg();

  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nanos_ == b.nanos_; }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    return a.nanos_ <=> b.nanos_;
  }

 private:
  Int128 nanos_ = 0;
  Format format_ = Format::kDecimalSI;
  std::string original_;  // the parsed text, kept when upstream deems it canonical
};

}  // namespace kite::api
