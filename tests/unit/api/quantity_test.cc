#include "api/quantity.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <limits>

namespace kite::api {
namespace {

using Format = Quantity::Format;

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();

Quantity Q(std::string_view s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().message();
  return q.ok() ? *q : Quantity();
}

struct ParseCase {
  const char* input;
  const char* canonical;
  int64_t value;
  int64_t milli;
};

class QuantityParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(QuantityParse, CanonicalFormAndValues) {
  const auto& c = GetParam();
  auto q = Quantity::Parse(c.input);
  ASSERT_TRUE(q.ok()) << c.input << ": " << q.status().message();
  EXPECT_EQ(q->String(), c.canonical) << c.input;
  EXPECT_EQ(q->Value(), c.value) << c.input;
  EXPECT_EQ(q->MilliValue(), c.milli) << c.input;
  auto again = Quantity::Parse(q->String());
  ASSERT_TRUE(again.ok()) << q->String();
  EXPECT_EQ(*again, *q) << c.input << " -> " << q->String();
  EXPECT_EQ(again->String(), q->String());
}

INSTANTIATE_TEST_SUITE_P(
    Decimal, QuantityParse,
    ::testing::Values(
        ParseCase{"0", "0", 0, 0}, ParseCase{"1", "1", 1, 1000}, ParseCase{"1000m", "1", 1, 1000},
        ParseCase{"100m", "100m", 1, 100}, ParseCase{"0.1", "100m", 1, 100}, ParseCase{"1.5", "1500m", 2, 1500},
        ParseCase{"250m", "250m", 1, 250}, ParseCase{"0.25", "250m", 1, 250}, ParseCase{".5", "500m", 1, 500},
        ParseCase{"1000", "1k", 1000, 1000000}, ParseCase{"1000000k", "1G", 1000000000, 1000000000000},
        ParseCase{"1k", "1k", 1000, 1000000}, ParseCase{"1M", "1M", 1000000, 1000000000},
        ParseCase{"1G", "1G", 1000000000, 1000000000000}, ParseCase{"1T", "1T", 1000000000000, 1000000000000000},
        ParseCase{"1P", "1P", 1000000000000000, 1000000000000000000}, ParseCase{"1E", "1E", 1000000000000000000, kMaxI64},
        ParseCase{"1n", "1n", 1, 1}, ParseCase{"1u", "1u", 1, 1}, ParseCase{"1500u", "1500u", 1, 2},
        ParseCase{"1000n", "1u", 1, 1}, ParseCase{"0.1n", "1n", 1, 1} /* rounded up to nano */,
        ParseCase{"1.0000000001", "1000000001n", 2, 1001},
        ParseCase{"12345678901234567890", "12345678901234567890", kMaxI64, kMaxI64},
        ParseCase{"1000E", "1e21", kMaxI64, kMaxI64} /* no suffix above E: exponent */,
        ParseCase{"1.2345", "1234500u", 2, 1235}, ParseCase{"100.50", "100500m", 101, 100500}));

INSTANTIATE_TEST_SUITE_P(
    SignsAndLeniency, QuantityParse,
    ::testing::Values(ParseCase{"-1", "-1", -1, -1000}, ParseCase{"-1000m", "-1", -1, -1000},
                      ParseCase{"-0.1", "-100m", -1, -100}, ParseCase{"-1.5", "-1500m", -2, -1500},
                      ParseCase{"-0", "0", 0, 0}, ParseCase{"00", "0", 0, 0}, ParseCase{"0.0", "0", 0, 0},
                      ParseCase{"-", "0", 0, 0}, ParseCase{"+", "0", 0, 0}, ParseCase{".", "0", 0, 0},
                      // Upstream keeps text it deems canonical verbatim, sign and leading zeros included.
                      ParseCase{"+1", "+1", 1, 1000}, ParseCase{"01", "01", 1, 1000}, ParseCase{"1.", "1.", 1, 1000},
                      ParseCase{"1.500", "1.500", 2, 1500}, ParseCase{"+1000", "1k", 1000, 1000000},
                      ParseCase{"1.G", "1.G", 1000000000, 1000000000000}));

INSTANTIATE_TEST_SUITE_P(
    Exponent, QuantityParse,
    ::testing::Values(ParseCase{"1e3", "1e3", 1000, 1000000}, ParseCase{"1E3", "1E3", 1000, 1000000},
                      ParseCase{"1000e0", "1e3", 1000, 1000000}, ParseCase{"1e0", "1e0", 1, 1000},
                      ParseCase{"10e2", "1e3", 1000, 1000000}, ParseCase{"1e-3", "1e-3", 1, 1},
                      ParseCase{"1e+3", "1e+3", 1000, 1000000}, ParseCase{"1e-10", "1e-9", 1, 1},
                      ParseCase{"1.5e3", "1500", 1500, 1500000}, ParseCase{"15e-1", "1500e-3", 2, 1500},
                      ParseCase{"1e4294967296", "1e4294967296", 1, 1000} /* upstream truncates the exponent to int32 */,
                      ParseCase{"1e-2147483648", "1e-9", 1, 1}));

INSTANTIATE_TEST_SUITE_P(
    Binary, QuantityParse,
    ::testing::Values(
        ParseCase{"1Ki", "1Ki", 1024, 1024000}, ParseCase{"1Mi", "1Mi", 1048576, 1048576000},
        ParseCase{"1Gi", "1Gi", 1073741824, 1073741824000}, ParseCase{"1.5Gi", "1536Mi", 1610612736, 1610612736000},
        ParseCase{"1024Mi", "1Gi", 1073741824, 1073741824000}, ParseCase{"1025Mi", "1025Mi", 1074790400, 1074790400000},
        ParseCase{"8Ki", "8Ki", 8192, 8192000}, ParseCase{"0.5Gi", "512Mi", 536870912, 536870912000},
        ParseCase{"0.5Ki", "512", 512, 512000} /* below 1024: decimal */,
        ParseCase{"1.1Ki", "1126400m", 1127, 1126400} /* fractional: decimal */,
        ParseCase{"0.0001Ki", "102400u", 1, 103}, ParseCase{"100Ti", "100Ti", 109951162777600, 109951162777600000},
        ParseCase{"1Pi", "1Pi", 1125899906842624, 1125899906842624000}, ParseCase{"7Ei", "7Ei", 8070450532247928832, kMaxI64},
        ParseCase{"8Ei", "9223372036854775807", kMaxI64, kMaxI64} /* capped at 2^63-1 */,
        ParseCase{"-8Ei", "-9223372036854775807", -kMaxI64, kMinI64}, ParseCase{"-1Ki", "-1Ki", -1024, -1024000},
        ParseCase{"0Ki", "0", 0, 0}, ParseCase{"2048Ki", "2Mi", 2097152, 2097152000}));

struct ErrorCase {
  std::string input;
  std::string error;
};

class QuantityError : public ::testing::TestWithParam<ErrorCase> {};

const char* const kFormatError =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const char* const kSuffixError = "unable to parse quantity's suffix";

TEST_P(QuantityError, FailsWithUpstreamText) {
  const auto& c = GetParam();
  auto q = Quantity::Parse(c.input);
  ASSERT_FALSE(q.ok()) << c.input << " parsed as " << q->String();
  EXPECT_EQ(q.status().message(), c.error) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, QuantityError,
    ::testing::Values(ErrorCase{"", kFormatError}, ErrorCase{"abc", kFormatError}, ErrorCase{"1.2.3", kFormatError},
                      ErrorCase{"1Gb", kFormatError}, ErrorCase{"1 Gi", kFormatError}, ErrorCase{" 1", kFormatError},
                      ErrorCase{"1k ", kFormatError}, ErrorCase{"1e3.5", kFormatError}, ErrorCase{"1e3k", kFormatError},
                      ErrorCase{"0x10", kFormatError}, ErrorCase{"1e", kSuffixError}, ErrorCase{"1ee", kSuffixError},
                      ErrorCase{"1i", kSuffixError}, ErrorCase{"1Ki3", kSuffixError}, ErrorCase{"1mi", kSuffixError},
                      ErrorCase{"1KiB", kFormatError}, ErrorCase{"--1", kSuffixError}, ErrorCase{"1K", kSuffixError},
                      ErrorCase{"1e99999999999999999999", kSuffixError}, ErrorCase{"1m-3", kSuffixError},
                      ErrorCase{"1e30", "quantity too large to represent"},
                      ErrorCase{"200000000000000000000000000000", "quantity too large to represent"}));

TEST(Quantity, ComparesByValue) {
  EXPECT_EQ(Q("1k"), Q("1000"));
  EXPECT_EQ(Q("1k"), Q("1e3"));
  EXPECT_EQ(Q("0.5"), Q("500m"));
  EXPECT_GT(Q("1Ki"), Q("1k"));
  EXPECT_LT(Q("-1"), Q("0"));
  EXPECT_EQ(Q("1Gi").Cmp(Q("1G")), 1);
  EXPECT_EQ(Q("1G").Cmp(Q("1Gi")), -1);
  EXPECT_EQ(Q("2").Cmp(Q("2000m")), 0);
  EXPECT_TRUE(Q("0").IsZero());
  EXPECT_EQ(Q("-3m").Sign(), -1);
}

TEST(Quantity, Arithmetic) {
  Quantity a = Q("1");
  ASSERT_TRUE(a.Add(Q("500m")).ok());
  EXPECT_EQ(a.String(), "1500m");
  Quantity mem = Q("1Gi");
  ASSERT_TRUE(mem.Sub(Q("512Mi")).ok());
  EXPECT_EQ(mem.String(), "512Mi");
  Quantity zero;
  ASSERT_TRUE(zero.Add(Q("1Ki")).ok());
  EXPECT_EQ(zero.format(), Format::kBinarySI);  // a zero receiver takes the operand's format
  EXPECT_EQ(zero.String(), "1Ki");
  Quantity kept = Q("+1");
  ASSERT_TRUE(kept.Add(Q("0")).ok());
  EXPECT_EQ(kept.String(), "1");  // arithmetic drops the remembered text
  Quantity neg = Q("100m");
  neg.Neg();
  EXPECT_EQ(neg.String(), "-100m");

  Quantity big = Q("1e29");
  Status s = big.Add(Q("1e29"));
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_EQ(big, Q("1e29"));
  Quantity low = Q("-1e29");
  EXPECT_EQ(low.Sub(Q("1e29")).code(), Code::kOutOfRange);
}

TEST(Quantity, ScaledValuesRoundAwayFromZero) {
  EXPECT_EQ(Q("1G").ScaledValue(6), 1000);
  EXPECT_EQ(Q("1500k").ScaledValue(6), 2);
  EXPECT_EQ(Q("-1500k").ScaledValue(6), -2);
  EXPECT_EQ(Q("1").ScaledValue(-9), 1000000000);
  EXPECT_EQ(Q("1n").ScaledValue(3), 1);
  EXPECT_EQ(Q("1").ScaledValue(60), 1);
  EXPECT_EQ(Q("0").ScaledValue(60), 0);
  EXPECT_EQ(Q("1e20").Value(), kMaxI64);
  EXPECT_EQ(Q("-1e20").Value(), kMinI64);
  EXPECT_EQ(Q("1e20").ScaledValue(-20), kMaxI64);
  EXPECT_DOUBLE_EQ(Q("1.5Gi").AsApproximateDouble(), 1610612736.0);
}

TEST(Quantity, Constructors) {
  EXPECT_EQ(Quantity::FromInt(1024, Format::kBinarySI).String(), "1Ki");
  EXPECT_EQ(Quantity::FromInt(1000, Format::kDecimalSI).String(), "1k");
  EXPECT_EQ(Quantity::FromInt(1000, Format::kDecimalExponent).String(), "1e3");
  EXPECT_EQ(Quantity::FromMilli(1500, Format::kDecimalSI).String(), "1500m");
  EXPECT_EQ(Quantity::FromMilli(1500, Format::kBinarySI).String(), "1500m");
  EXPECT_EQ(Quantity::FromInt(kMinI64, Format::kDecimalSI).Value(), kMinI64);
  EXPECT_EQ(Quantity().String(), "0");
}

}  // namespace
}  // namespace kite::api

namespace kite::api {
namespace {

// Upstream's TestQuantityString / TestQuantityParseEmit tables: each canonical text is kept as
// written when parsed, and each alternate spelling canonicalises to it; negatives likewise.
TEST(QuantityUpstreamSuite, CanonicalAndAlternateSpellings) {
  struct Case {
    const char* canonical;
    const char* alternate;  // "" when none
  };
  const Case cases[] = {
      {"1Gi", "1024Mi"}, {"300Mi", "307200Ki"}, {"6Ki", ""}, {"1001Gi", "1025024Mi"}, {"1Ti", "1024Gi"},
      {"5", "5000m"}, {"500m", "0.5"}, {"1G", "1000M"}, {"1G", "0.001T"}, {"1m", "1000u"}, {"80m", ""},
      {"1080m", "1.08"}, {"1080m", "1080000000n"}, {"300M", ""}, {"1T", ""}, {"1E", ""}, {"1e21", "1000E"},
      {"5e21", "5000E"}, {"1e24", "1000000E"}, {"1234567M", ""}, {"1234567m", ""}, {"3k", ""}, {"1025", ""},
      {"1e9", ".001e12"}, {"1e-3", "0.001e0"}, {"1e-9", "1000e-12"}, {"80e-3", ""}, {"300e6", ""},
      {"1e12", ""}, {"1e3", ""}, {"3e3", ""}, {"0", "00"}, {"1n", ""}, {"80n", ""}, {"1080n", ""}, {"1u", ""},
      {"80u", ""}, {"1080u", ""}, {"1Ki", ""}, {"1Mi", ""}, {"1Gi", "1024Mi"}, {"1G", "1000M"},
      {"1024m", ".001Ki"}, {"1024u", ".000001Ki"}, {"1024n", ".000000001Ki"}, {"2n", ".000000000001Ki"}};
  for (const Case& c : cases) {
    EXPECT_EQ(Q(c.canonical).String(), c.canonical);
    if (*c.alternate != '\0') {
      EXPECT_EQ(Q(c.alternate).String(), c.canonical) << c.alternate;
      EXPECT_EQ(Q(c.alternate), Q(c.canonical)) << c.alternate;
    }
    if (std::string_view(c.canonical) != "0") {
      std::string neg = std::string("-") + (*c.alternate ? c.alternate : c.canonical);
      EXPECT_EQ(Q(neg).String(), std::string("-") + c.canonical) << neg;
    }
  }
}

// Upstream's TestQuantityParse table: exact value and remembered format.
TEST(QuantityUpstreamSuite, ParsedValuesAndFormats) {
  struct Case {
    const char* input;
    __int128 nanos;
    Format format;
  };
  const __int128 kG = 1000000000;
  const Case cases[] = {
      {"0", 0, Format::kDecimalSI}, {"0n", 0, Format::kDecimalSI}, {"0Ki", 0, Format::kBinarySI},
      {"0T", 0, Format::kDecimalSI}, {"7Mi", 7 * 1048576 * kG, Format::kBinarySI},
      {"3Ei", __int128{3} * (__int128{1} << 60) * kG, Format::kBinarySI}, {"50k", 50000 * kG, Format::kDecimalSI},
      {"1E-3", 1000000, Format::kDecimalExponent}, {"1E18", __int128{1000000000000000000} * kG, Format::kDecimalExponent},
      {"100.035k", 100035 * kG, Format::kDecimalSI}, {"0.0005k", 500000000, Format::kDecimalSI},
      {"0.5e-2", 5000000, Format::kDecimalExponent}, {"1.3E+6", 1300000 * kG, Format::kDecimalExponent},
      {"6.987654321G", 6987654321 * kG, Format::kDecimalSI}, {"1.01E", __int128{1010000000000000000} * kG, Format::kDecimalSI},
      {"3.001n", 4, Format::kDecimalSI}, {"1.1E-9", 2, Format::kDecimalExponent},
      {"0.0000000005", 1, Format::kDecimalSI}, {"0.00000012345", 124, Format::kDecimalSI},
      {"0.00000012354", 124, Format::kDecimalSI}, {"9Ei", __int128{kMaxI64} * kG, Format::kBinarySI},
      {"9223372036854775807Ki", __int128{kMaxI64} * kG, Format::kBinarySI},
      {"12E", __int128{12000000000000000000u} * kG, Format::kDecimalSI},
      {"100.035Ki", __int128{10243584} * 10000000, Format::kBinarySI}, {"0.5Mi", 524288 * kG, Format::kBinarySI},
      {"0.05Gi", __int128{536870912} * 100000000, Format::kBinarySI},
      {"0.000000000001Ki", 2, Format::kDecimalSI}, {".0001k", 100000000, Format::kDecimalSI},
      {"1.", kG, Format::kDecimalSI}, {"1.G", kG * kG, Format::kDecimalSI}};
  for (const Case& c : cases) {
    Quantity q = Q(c.input);
    EXPECT_TRUE(q.Nanos() == c.nanos) << c.input << ": " << q.String();
    EXPECT_EQ(q.format(), c.format) << c.input;
    Quantity neg = Q(std::string("-") + c.input);
    EXPECT_TRUE(neg.Nanos() == -c.nanos) << c.input;
    EXPECT_EQ(neg.format(), c.format) << c.input;
    Quantity plus = Q(std::string("+") + c.input);
    EXPECT_TRUE(plus.Nanos() == c.nanos) << c.input;
  }
  for (const char* bad : {"1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 "}) {
    EXPECT_FALSE(Quantity::Parse(bad).ok()) << bad;
  }
}

TEST(QuantityUpstreamSuite, NewMilliAndNew) {
  EXPECT_EQ(Quantity::FromMilli(1, Format::kDecimalSI).String(), "1m");
  EXPECT_EQ(Quantity::FromMilli(1000, Format::kDecimalSI).String(), "1");
  EXPECT_EQ(Quantity::FromMilli(1234000, Format::kDecimalSI).String(), "1234");
  EXPECT_EQ(Quantity::FromMilli(1024, Format::kBinarySI).String(), "1024m");
  EXPECT_EQ(Quantity::FromMilli(1024 * 1024, Format::kBinarySI).String(), "1048576m");
  EXPECT_EQ(Quantity::FromInt(1234000, Format::kDecimalSI).String(), "1234k");
  EXPECT_EQ(Quantity::FromInt(1024 * 1024, Format::kBinarySI).String(), "1Mi");
  EXPECT_EQ(Quantity::FromInt(1000000, Format::kDecimalExponent).String(), "1e6");
  // TestQuantityAddZeroPreservesSuffix / SubZero.
  for (const char* v : {"100m", "1Gi"}) {
    Quantity a = Q(v);
    ASSERT_TRUE(a.Add(Q("0")).ok());
    EXPECT_EQ(a.String(), v);
    Quantity b = Q("0");
    ASSERT_TRUE(b.Add(Q(v)).ok());
    EXPECT_EQ(b.String(), v);
    Quantity c = Q("0");
    ASSERT_TRUE(c.Sub(Q(v)).ok());
    EXPECT_EQ(c.String(), std::string("-") + v);
  }
  EXPECT_EQ(Q("10000T").Cmp(Q("100Gi")), 1);
}

}  // namespace
}  // namespace kite::api


namespace kite::api {
namespace {

TEST(QuantityFromJson, StringsNumbersAndNull) {
  struct Case {
    const char* json;
    const char* canonical;  // nullptr: error
  };
  // Upstream's TestJSONWhitespace cases first.
  for (const Case& c : std::vector<Case>{{R"(" 1")", "1"}, {R"("1 ")", "1"}, {"1", "1"}, {" 1", "1"}, {"1 ", "1"},
                                         {"10", "10"}, {"-1", "-1"}, {" -1", "-1"}, {R"("1.5Gi")", "1536Mi"},
                                         {"0.5", "500m"}, {"18446744073709551615", "18446744073709551615"},
                                         {"null", "0"}, {R"("")", nullptr}, {R"("  ")", nullptr}, {"true", nullptr},
                                         {"{}", nullptr}, {R"("1Gb")", nullptr}}) {
    auto q = Quantity::FromJson(boost::json::parse(c.json));
    if (c.canonical == nullptr) {
      EXPECT_FALSE(q.ok()) << c.json;
      continue;
    }
    ASSERT_TRUE(q.ok()) << c.json << ": " << q.status().message();
    EXPECT_EQ(q->String(), c.canonical) << c.json;
  }
}

}  // namespace
}  // namespace kite::api

namespace kite::api {
namespace {

// The int64 edges and the 64-bit boundary inside the 128-bit nano-unit value, where a portable
// 128-bit computation (api/int128.h) must carry and saturate exactly.
TEST(QuantityInt64Edges, ParseFormatAndSaturate) {
  Quantity max = Q("9223372036854775807");
  EXPECT_EQ(max.String(), "9223372036854775807");
  EXPECT_EQ(max.Value(), kMaxI64);
  EXPECT_EQ(max.MilliValue(), kMaxI64);  // saturated
  EXPECT_EQ(max.ScaledValue(-9), kMaxI64);
  Quantity min = Q("-9223372036854775808");
  EXPECT_EQ(min.String(), "-9223372036854775808");
  EXPECT_EQ(min.Value(), kMinI64);
  EXPECT_EQ(min.MilliValue(), kMinI64);
  Quantity above = Q("9223372036854775808");
  EXPECT_EQ(above.String(), "9223372036854775808");
  EXPECT_EQ(above.Value(), kMaxI64);
  EXPECT_EQ(Q("-9223372036854775809").Value(), kMinI64);
  EXPECT_EQ(Q("9223372036854775807n").ScaledValue(-9), kMaxI64);
  EXPECT_EQ(Q("9223372036854775808n").ScaledValue(-9), kMaxI64);
  EXPECT_EQ(Q("-9223372036854775807n").ScaledValue(-9), -kMaxI64);
  EXPECT_EQ(Q("-9223372036854775808n").ScaledValue(-9), kMinI64);
  EXPECT_EQ(Q("9223372036854775807m").Value(), 9223372036854776);  // rounded up
  EXPECT_EQ(Q("9223372036854775807k").ScaledValue(3), kMaxI64);
  EXPECT_EQ(Q("9223372036854775807k").Value(), kMaxI64);
  EXPECT_EQ(Q("9223372036854775807Ki").String(), "9223372036854775807");  // capped at 2^63-1
  EXPECT_EQ(Q("8796093022207Mi").String(), "8796093022207Mi");            // 2^63 - 2^20
  EXPECT_EQ(Q("8796093022207Mi").Value(), int64_t{8796093022207} << 20);
}

TEST(QuantityInt64Edges, Constructors) {
  EXPECT_EQ(Quantity::FromInt(kMaxI64, Format::kDecimalSI).String(), "9223372036854775807");
  EXPECT_EQ(Quantity::FromInt(kMinI64, Format::kDecimalSI).String(), "-9223372036854775808");
  EXPECT_EQ(Quantity::FromInt(kMinI64, Format::kBinarySI).String(), "-8Ei");
  EXPECT_EQ(Quantity::FromInt(kMaxI64, Format::kBinarySI).String(), "9223372036854775807");
  EXPECT_EQ(Quantity::FromInt(kMaxI64, Format::kDecimalExponent).String(), "9223372036854775807");
  EXPECT_EQ(Quantity::FromInt(kMinI64, Format::kDecimalSI).Nanos(), Int128::FromParts(-500000000, 0));  // -2^63 * 10^9
  EXPECT_EQ(Quantity::FromMilli(kMaxI64, Format::kDecimalSI).String(), "9223372036854775807m");
  EXPECT_EQ(Quantity::FromMilli(kMaxI64, Format::kDecimalSI).MilliValue(), kMaxI64);
  EXPECT_EQ(Quantity::FromMilli(kMinI64, Format::kDecimalSI).MilliValue(), kMinI64);
  EXPECT_EQ(Quantity::FromMilli(kMinI64, Format::kDecimalSI).Value(), -9223372036854776);  // away from zero
  EXPECT_EQ(Quantity::FromMilli(kMinI64, Format::kDecimalSI).String(), "-9223372036854775808m");
  EXPECT_EQ(Quantity::FromMilli(-1, Format::kDecimalSI).String(), "-1m");
}

TEST(QuantityInt64Edges, ArithmeticCarriesAcrossTheLow64Bits) {
  Quantity a = Q("18446744073709551615n");  // 2^64 - 1
  EXPECT_EQ(a.Nanos(), Int128(~uint64_t{0}));
  ASSERT_TRUE(a.Add(Q("1n")).ok());
  EXPECT_EQ(a.String(), "18446744073709551616n");
  EXPECT_EQ(a.Nanos(), Int128::FromParts(1, 0));
  EXPECT_EQ(a.Value(), 18446744074);  // 18446744073.709551616 rounded up
  ASSERT_TRUE(a.Sub(Q("2n")).ok());
  EXPECT_EQ(a.String(), "18446744073709551614n");
  Quantity b = Q("1n");
  ASSERT_TRUE(b.Sub(Q("18446744073709551617n")).ok());
  EXPECT_EQ(b.String(), "-18446744073709551616n");
  EXPECT_EQ(b.Value(), -18446744074);
  EXPECT_DOUBLE_EQ(b.AsApproximateDouble(), -18446744073.709551616);
  Quantity c = Quantity::FromInt(kMaxI64, Format::kDecimalSI);
  ASSERT_TRUE(c.Add(Quantity::FromInt(kMaxI64, Format::kDecimalSI)).ok());
  EXPECT_EQ(c.String(), "18446744073709551614");
  EXPECT_EQ(c.Value(), kMaxI64);
  ASSERT_TRUE(c.Sub(Quantity::FromInt(kMaxI64, Format::kDecimalSI)).ok());
  EXPECT_EQ(c.Value(), kMaxI64);
  EXPECT_EQ(c.String(), "9223372036854775807");
}

TEST(QuantityInt64Edges, The128BitRange) {
  Quantity top = Q("170141183460469231731687303715884105727n");  // 2^127 - 1 nano-units
  EXPECT_EQ(top.Nanos(), Int128::Max());
  EXPECT_EQ(top.String(), "170141183460469231731687303715884105727n");
  EXPECT_EQ(top.Value(), kMaxI64);
  EXPECT_DOUBLE_EQ(top.AsApproximateDouble(), 1.7014118346046923e29);
  EXPECT_EQ(Q("-170141183460469231731687303715884105727n").Value(), kMinI64);
  EXPECT_EQ(Quantity::Parse("170141183460469231731687303715884105728n").status().code(), Code::kOutOfRange);
  EXPECT_EQ(Quantity::Parse("-170141183460469231731687303715884105728n").status().code(), Code::kOutOfRange);
  EXPECT_EQ(Quantity::Parse("170141183460469231731687303715884105727.1n").status().code(), Code::kOutOfRange);
  EXPECT_EQ(Q("170141183460469231731687303715884105726.1n").Nanos(), Int128::Max());  // rounded up
  EXPECT_EQ(top.Add(Q("1n")).code(), Code::kOutOfRange);
  EXPECT_EQ(top.Nanos(), Int128::Max());
  Quantity bottom = Q("-170141183460469231731687303715884105727n");
  EXPECT_EQ(bottom.Sub(Q("1n")).code(), Code::kOutOfRange);
  ASSERT_TRUE(bottom.Add(top).ok());
  EXPECT_TRUE(bottom.IsZero());
}

}  // namespace
}  // namespace kite::api
