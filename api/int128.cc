#include "api/int128.h"

#include <cmath>

namespace kite::api {
namespace {

// The value as four 32-bit limbs, least significant first: every step below multiplies or
// divides a 64-bit intermediate by a 32-bit number, which 32-bit targets do natively or with one
// libgcc call.
struct Int128Limbs {
  uint32_t v[4];
};

Int128Limbs SplitInt128(uint64_t hi, uint64_t lo) {
  return {{static_cast<uint32_t>(lo), static_cast<uint32_t>(lo >> 32), static_cast<uint32_t>(hi),
           static_cast<uint32_t>(hi >> 32)}};
}

uint64_t HighOfLimbs(const Int128Limbs& l) { return (static_cast<uint64_t>(l.v[3]) << 32) | l.v[2]; }
uint64_t LowOfLimbs(const Int128Limbs& l) { return (static_cast<uint64_t>(l.v[1]) << 32) | l.v[0]; }

// Unsigned: l = l / divisor, returns the remainder.
uint32_t DivModInt128Limbs(Int128Limbs* l, uint32_t divisor) {
  uint64_t rem = 0;
  for (int i = 3; i >= 0; --i) {
    uint64_t cur = (rem << 32) | l->v[i];
    l->v[i] = static_cast<uint32_t>(cur / divisor);
    rem = cur % divisor;
  }
  return static_cast<uint32_t>(rem);
}

}  // namespace

bool Int128::MulAdd(uint32_t mul, uint32_t add) {
  Int128Limbs l = SplitInt128(hi_, lo_);
  uint64_t carry = add;
  for (uint32_t& limb : l.v) {
    uint64_t p = static_cast<uint64_t>(limb) * mul + carry;  // < 2^64: (2^32-1)^2 + 2^32 - 1
    limb = static_cast<uint32_t>(p);
    carry = p >> 32;
  }
  if (carry != 0 || (l.v[3] >> 31) != 0) return false;
  hi_ = HighOfLimbs(l);
  lo_ = LowOfLimbs(l);
  return true;
}

uint32_t Int128::DivMod(uint32_t divisor) {
  Int128Limbs l = SplitInt128(hi_, lo_);
  uint32_t rem = DivModInt128Limbs(&l, divisor);
  hi_ = HighOfLimbs(l);
  lo_ = LowOfLimbs(l);
  return rem;
}

double Int128::ToDouble() const {
  // The magnitude as an unsigned 128-bit number (2^127 for Min()).
  uint64_t hi = hi_, lo = lo_;
  if (IsNegative()) {
    hi = ~hi + (lo == 0 ? 1 : 0);
    lo = ~lo + 1;
  }
  double d;
  if (hi == 0) {
    d = static_cast<double>(lo);
  } else {
    // Keep the top 64 significant bits and fold every bit below them into the lowest one (a
    // sticky bit): converting those 64 bits rounds exactly as converting all 128 would, and
    // scaling by a power of two is exact.
    int shift = 64 - __builtin_clzll(hi);  // 1..64: the bits of hi
    uint64_t top = shift == 64 ? hi : (hi << (64 - shift)) | (lo >> shift);
    uint64_t dropped = shift == 64 ? lo : lo << (64 - shift);
    d = std::ldexp(static_cast<double>(top | (dropped != 0 ? 1 : 0)), shift);
  }
  return IsNegative() ? -d : d;
}

std::string Int128::ToString() const {
  uint64_t hi = hi_, lo = lo_;
  if (IsNegative()) {
    hi = ~hi + (lo == 0 ? 1 : 0);
    lo = ~lo + 1;
  }
  Int128Limbs l = SplitInt128(hi, lo);
  std::string out;
  do {
    out.push_back(static_cast<char>('0' + DivModInt128Limbs(&l, 10)));
  } while ((l.v[0] | l.v[1] | l.v[2] | l.v[3]) != 0);
  if (IsNegative()) out.push_back('-');
  return {out.rbegin(), out.rend()};
}

}  // namespace kite::api
