// A signed 128-bit integer for exact fixed-point values (Quantity's nano-units), the same on
// every target: g++ has no __int128 on 32-bit ARM, so kite never relies on it.
//
// Contract:
//  - Two's complement over [-2^127, 2^127-1]; comparison and equality by value.
//  - Converts implicitly from every integer type of up to 64 bits and, where the compiler has
//    one, from __int128 (so tests can state expectations in it); never back to a wider type.
//  - Only the operations kite needs: checked Add/Sub (overflow reported as by
//    __builtin_add_overflow, the operand left unchanged), wrapping negation, and on
//    non-negative values a checked multiply-add and a division by a 32-bit divisor.
//  - ToDouble rounds to nearest (ties to even), as the compiler's conversion of a 128-bit
//    integer does; ToString is the decimal text with a leading '-' when negative.
// Thread-safety: a value type.
#pragma once

#include <compare>
#include <concepts>
#include <cstdint>
#include <string>

namespace kite::api {

class Int128 {
 public:
  constexpr Int128() = default;
  template <std::integral T>
    requires(sizeof(T) <= sizeof(int64_t))
  constexpr Int128(T v)  // NOLINT(google-explicit-constructor): an integer widening
      : lo_(static_cast<uint64_t>(v)) {
    if constexpr (std::signed_integral<T>) {
      if (v < 0) hi_ = ~uint64_t{0};
    }
  }
#ifdef __SIZEOF_INT128__
  constexpr Int128(__int128 v)  // NOLINT(google-explicit-constructor)
      : hi_(static_cast<uint64_t>(static_cast<unsigned __int128>(v) >> 64)), lo_(static_cast<uint64_t>(v)) {}
#endif
  static constexpr Int128 FromParts(int64_t hi, uint64_t lo) { return Int128(static_cast<uint64_t>(hi), lo, 0); }
  static constexpr Int128 Max() { return FromParts(INT64_MAX, ~uint64_t{0}); }
  static constexpr Int128 Min() { return FromParts(INT64_MIN, 0); }

  constexpr int64_t high() const { return static_cast<int64_t>(hi_); }
  constexpr uint64_t low() const { return lo_; }
  constexpr bool IsNegative() const { return (hi_ >> 63) != 0; }
  constexpr int Sign() const { return IsNegative() ? -1 : ((hi_ | lo_) != 0 ? 1 : 0); }
  // Whether the value is within int64_t's range (then ToInt64 is exact).
  constexpr bool FitsInt64() const { return hi_ == ((lo_ >> 63) != 0 ? ~uint64_t{0} : 0); }
  constexpr int64_t ToInt64() const { return static_cast<int64_t>(lo_); }  // the low 64 bits
  double ToDouble() const;
  std::string ToString() const;

  // Wrapping: -Min() is Min().
  constexpr Int128 operator-() const { return Int128(~hi_ + (lo_ == 0 ? 1 : 0), ~lo_ + 1, 0); }
  // |value| as a non-negative Int128; wraps for Min().
  constexpr Int128 Abs() const { return IsNegative() ? -*this : *this; }

  // *out = a + b / a - b; true on overflow (*out then holds the wrapped result).
  friend constexpr bool AddOverflow(Int128 a, Int128 b, Int128* out) {
    uint64_t lo = a.lo_ + b.lo_;
    Int128 r(a.hi_ + b.hi_ + (lo < a.lo_ ? 1 : 0), lo, 0);
    *out = r;
    return a.IsNegative() == b.IsNegative() && r.IsNegative() != a.IsNegative();
  }
  friend constexpr bool SubOverflow(Int128 a, Int128 b, Int128* out) {
    uint64_t lo = a.lo_ - b.lo_;
    Int128 r(a.hi_ - b.hi_ - (a.lo_ < b.lo_ ? 1 : 0), lo, 0);
    *out = r;
    return a.IsNegative() != b.IsNegative() && r.IsNegative() != a.IsNegative();
  }

  // For a non-negative value: *this = *this * mul + add; false (and *this unchanged) when the
  // result would exceed Max().
  bool MulAdd(uint32_t mul, uint32_t add);
  // For a non-negative value and divisor > 0: *this /= divisor; returns the remainder.
  uint32_t DivMod(uint32_t divisor);

  friend constexpr bool operator==(const Int128& a, const Int128& b) { return a.hi_ == b.hi_ && a.lo_ == b.lo_; }
  friend constexpr std::strong_ordering operator<=>(const Int128& a, const Int128& b) {
    if (a.hi_ != b.hi_) return a.high() <=> b.high();
    return a.lo_ <=> b.lo_;
  }

 private:
  constexpr Int128(uint64_t hi, uint64_t lo, int) : hi_(hi), lo_(lo) {}

  uint64_t hi_ = 0;  // the high 64 bits, the sign bit on top
  uint64_t lo_ = 0;
};

}  // namespace kite::api
