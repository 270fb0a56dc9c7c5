#include "api/int128.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kite::api {
namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

TEST(Int128, ConstructsAndCompares) {
  EXPECT_EQ(Int128(-1), Int128::FromParts(-1, kMaxU64));
  EXPECT_EQ(Int128(kMinI64), Int128::FromParts(-1, uint64_t{1} << 63));
  EXPECT_EQ(Int128(kMaxU64), Int128::FromParts(0, kMaxU64));
  EXPECT_EQ(Int128(uint32_t{7}), Int128(7));
  EXPECT_LT(Int128(-1), Int128(0));
  EXPECT_LT(Int128::Min(), Int128(kMinI64));
  EXPECT_GT(Int128::Max(), Int128(kMaxU64));
  EXPECT_LT(Int128(kMaxU64), Int128::FromParts(1, 0));
  EXPECT_LT(Int128::FromParts(-2, kMaxU64), Int128::FromParts(-1, 0));
  EXPECT_EQ(Int128(0).Sign(), 0);
  EXPECT_EQ(Int128::FromParts(0, uint64_t{1} << 63).Sign(), 1);
  EXPECT_EQ(Int128::Min().Sign(), -1);
  EXPECT_TRUE(Int128(kMinI64).FitsInt64());
  EXPECT_TRUE(Int128(kMaxI64).FitsInt64());
  EXPECT_FALSE(Int128(uint64_t{1} << 63).FitsInt64());
  EXPECT_EQ(Int128(kMinI64).ToInt64(), kMinI64);
  EXPECT_EQ(-Int128(kMinI64), Int128(uint64_t{1} << 63));
  EXPECT_EQ(-Int128::Min(), Int128::Min());  // wraps
  EXPECT_EQ(Int128(-5).Abs(), Int128(5));
}

TEST(Int128, CheckedAddAndSubCarryAcrossHalves) {
  Int128 r;
  EXPECT_FALSE(AddOverflow(Int128(kMaxU64), Int128(1), &r));
  EXPECT_EQ(r, Int128::FromParts(1, 0));
  EXPECT_FALSE(SubOverflow(r, Int128(1), &r));
  EXPECT_EQ(r, Int128(kMaxU64));
  EXPECT_FALSE(SubOverflow(Int128(0), Int128(kMaxU64), &r));
  EXPECT_EQ(r, Int128::FromParts(-1, 1));
  EXPECT_FALSE(AddOverflow(Int128(kMinI64), Int128(kMinI64), &r));
  EXPECT_EQ(r, Int128::FromParts(-1, 0));
  EXPECT_FALSE(AddOverflow(Int128::Max(), Int128::Min(), &r));
  EXPECT_EQ(r, Int128(-1));
  EXPECT_TRUE(AddOverflow(Int128::Max(), Int128(1), &r));
  EXPECT_EQ(r, Int128::Min());
  EXPECT_TRUE(SubOverflow(Int128::Min(), Int128(1), &r));
  EXPECT_EQ(r, Int128::Max());
  EXPECT_TRUE(SubOverflow(Int128(0), Int128::Min(), &r));
  EXPECT_FALSE(SubOverflow(Int128(-1), Int128::Min(), &r));
  EXPECT_EQ(r, Int128::Max());
}

TEST(Int128, MulAddDivModAndText) {
  Int128 v = 0;
  for (char c : std::string_view("170141183460469231731687303715884105727")) ASSERT_TRUE(v.MulAdd(10, c - '0'));
  EXPECT_EQ(v, Int128::Max());
  EXPECT_FALSE(v.MulAdd(1, 1));
  EXPECT_EQ(v, Int128::Max());  // unchanged
  Int128 w = Int128::FromParts(0x0ccccccccccccccc, 0xcccccccccccccccc);  // floor(Max / 10)
  EXPECT_TRUE(Int128(w).MulAdd(10, 7));
  EXPECT_FALSE(Int128(w).MulAdd(10, 8));
  EXPECT_EQ(v.ToString(), "170141183460469231731687303715884105727");
  EXPECT_EQ(Int128::Min().ToString(), "-170141183460469231731687303715884105728");
  EXPECT_EQ(Int128::FromParts(1, 0).ToString(), "18446744073709551616");
  EXPECT_EQ(Int128(kMinI64).ToString(), "-9223372036854775808");
  EXPECT_EQ(Int128(0).ToString(), "0");
  EXPECT_EQ(v.DivMod(1000000000), 715884105727u % 1000000000);
  EXPECT_EQ(v.ToString(), "170141183460469231731687303715");
  Int128 two64 = Int128::FromParts(1, 0);
  EXPECT_EQ(two64.DivMod(0xffffffffu), 1u);  // 2^64 = (2^32+1)(2^32-1) + 1
  EXPECT_EQ(two64, Int128(uint64_t{0x100000001}));
}

TEST(Int128, ToDoubleRoundsToNearestEven) {
  const double two64 = std::ldexp(1.0, 64);
  EXPECT_EQ(Int128::FromParts(1, 0).ToDouble(), two64);
  EXPECT_EQ(Int128::FromParts(1, 1 << 11).ToDouble(), two64);  // a tie: to even
  EXPECT_EQ(Int128::FromParts(1, (1 << 11) + 1).ToDouble(), two64 + 4096);  // above the tie
  EXPECT_EQ(Int128::FromParts(1, 3 << 11).ToDouble(), two64 + 8192);  // a tie: to even (up)
  EXPECT_EQ(Int128::Max().ToDouble(), std::ldexp(1.0, 127));
  EXPECT_EQ(Int128::Min().ToDouble(), -std::ldexp(1.0, 127));
  EXPECT_EQ(Int128(-3).ToDouble(), -3.0);
  EXPECT_EQ(Int128(kMaxU64).ToDouble(), two64);
}

#ifdef __SIZEOF_INT128__
// Where the compiler has __int128, every operation must agree with it bit for bit.
using i128 = __int128;
using u128 = unsigned __int128;

i128 ToBuiltin(Int128 v) { return static_cast<i128>((static_cast<u128>(static_cast<uint64_t>(v.high())) << 64) | v.low()); }

std::string BuiltinToString(i128 v) {
  if (v == 0) return "0";
  u128 m = v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
  std::string out;
  for (; m != 0; m /= 10) out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
  return v < 0 ? "-" + out : out;
}

TEST(Int128, AgreesWithBuiltinInt128) {
  uint64_t state = 12345;
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  };
  auto value = [&] {  // every magnitude from 0 to 128 bits, both signs, and the edges
    uint64_t pick = next();
    switch (pick % 8) {
      case 0: return Int128::Max();
      case 1: return Int128::Min();
      case 2: return Int128(static_cast<int64_t>(next()) >> (pick % 64));
      default: {
        u128 v = (static_cast<u128>(next()) << 64) | next();
        int bits = static_cast<int>((pick >> 8) % 129);
        v = bits == 128 ? v : v >> (128 - bits);
        return Int128(static_cast<i128>(v));
      }
    }
  };
  for (int i = 0; i < 200000; ++i) {
    Int128 a = value(), b = value();
    i128 x = ToBuiltin(a), y = ToBuiltin(b);
    ASSERT_EQ(Int128(x), a);
    ASSERT_EQ(a < b, x < y);
    ASSERT_EQ(a == b, x == y);
    i128 want;
    Int128 got;
    ASSERT_EQ(AddOverflow(a, b, &got), __builtin_add_overflow(x, y, &want));
    ASSERT_TRUE(ToBuiltin(got) == want);
    ASSERT_EQ(SubOverflow(a, b, &got), __builtin_sub_overflow(x, y, &want));
    ASSERT_TRUE(ToBuiltin(got) == want);
    ASSERT_TRUE(ToBuiltin(-a) == static_cast<i128>(-static_cast<u128>(x)));
    ASSERT_EQ(a.ToString(), BuiltinToString(x));
    ASSERT_EQ(a.ToDouble(), static_cast<double>(x)) << a.ToString();
    ASSERT_EQ(a.FitsInt64(), x >= kMinI64 && x <= kMaxI64);
    if (x >= 0) {
      auto mul = static_cast<uint32_t>(next() >> (next() % 33));
      auto add = static_cast<uint32_t>(next());
      u128 result;
      bool fits = !__builtin_mul_overflow(static_cast<u128>(x), u128{mul}, &result) &&
                  !__builtin_add_overflow(result, u128{add}, &result) && result <= (~u128{0} >> 1);
      Int128 m = a;
      ASSERT_EQ(m.MulAdd(mul, add), fits) << a.ToString() << " * " << mul << " + " << add;
      if (fits) {
        ASSERT_TRUE(ToBuiltin(m) == static_cast<i128>(result));
      } else {
        ASSERT_EQ(m, a);
      }
      uint32_t divisor = static_cast<uint32_t>(next() >> (next() % 32)) | 1;
      Int128 q = a;
      uint32_t rem = q.DivMod(divisor);
      ASSERT_TRUE(ToBuiltin(q) == x / divisor);
      ASSERT_EQ(rem, static_cast<uint32_t>(x % divisor));
    }
  }
}
#endif

}  // namespace
}  // namespace kite::api
