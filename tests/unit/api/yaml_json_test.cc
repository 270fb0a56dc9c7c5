// api/yaml_json: YAML bodies to JSON (scalars resolved by YAML's types, quotes keep strings;
// malformed, multi-document, deep and alias-bomb inputs refused) and the hand-written scalar
// scanners that replaced std::regex, on inputs of request-body length.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "api/yaml_json.h"

namespace kite::api {
namespace {
namespace json = boost::json;

TEST(YamlJson, ScalarsFollowYamlTypesAndQuotesKeepStrings) {
  auto v = YamlToJson("a: 1\nb: true\nc: '1'\nd: ~\ne: 1.5\nf: [x, 2]\ng: \"no\"\nh: 08\n");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(json::serialize(*v), R"({"a":1,"b":true,"c":"1","d":null,"e":1.5E0,"f":["x",2],"g":"no","h":"08"})");
}

TEST(YamlJson, RejectsMalformedMultipleDocumentsAndDeepNesting) {
  EXPECT_FALSE(YamlToJson("a: [unclosed").ok());
  EXPECT_FALSE(YamlToJson("a: 1\n---\nb: 2\n").ok());
  EXPECT_FALSE(YamlToJson(std::string(500, '[')).ok());
  // Alias expansion is bounded ("billion laughs").
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'p'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  EXPECT_FALSE(YamlToJson(bomb).ok());
}

TEST(YamlScalars, IntGrammar) {
  for (const char* s : {"0", "7", "-0", "+12", "-9876543210", "123456789012345678901234567890"}) {
    EXPECT_TRUE(IsYamlInt(s)) << s;
  }
  for (const char* s : {"", "+", "-", "01", "00", "1.0", "1e3", "0x1f", "1_000", " 1", "1 ", "--1", "a1", "1a"}) {
    EXPECT_FALSE(IsYamlInt(s)) << s;
  }
}

TEST(YamlScalars, FloatGrammar) {
  for (const char* s : {"1.5", "-0.5", "+.5", ".5", "0.", "1.", "10.25", "1e3", "1E+3", "2.5e-10", "0e0", ".5e1", "7"}) {
    EXPECT_TRUE(IsYamlFloat(s)) << s;
  }
  for (const char* s : {"", ".", "-.", "08.5", "00.1", "1e", "1e+", "e3", ".e3", "1.5.5", "1..5", "1.5e3.0", "inf",
                        ".nan", "1,5", "1e3 "}) {
    EXPECT_FALSE(IsYamlFloat(s)) << s;
  }
}

TEST(YamlScalars, ResolvedValues) {
  auto v = YamlToJson("i: 42\nneg: -7\nf: 1.5\ne: 2e3\nlead: 08\nq: '42'\nb: true\nn: ~\nbig: 99999999999999999999\n");
  ASSERT_TRUE(v.ok()) << v.status().message();
  const auto& o = v->as_object();
  EXPECT_EQ(o.at("i"), json::value(42));
  EXPECT_EQ(o.at("neg"), json::value(-7));
  EXPECT_EQ(o.at("f"), json::value(1.5));
  EXPECT_EQ(o.at("e"), json::value(2000.0));
  EXPECT_EQ(o.at("lead"), json::value("08"));
  EXPECT_EQ(o.at("q"), json::value("42"));
  EXPECT_EQ(o.at("b"), json::value(true));
  EXPECT_TRUE(o.at("n").is_null());
  EXPECT_EQ(o.at("big"), json::value("99999999999999999999"));  // out of int64 range, no '.': a string
}

// The input that crashed the server: a scalar of millions of digits. With std::regex it
// overflowed the stack; the scanners are linear and keep it a string (it fits no int64).
TEST(YamlScalars, ScalarAtTheBodyLimit) {
  const std::string digits(3 * 1024 * 1024 - 16, '1');
  EXPECT_TRUE(IsYamlInt(digits));
  EXPECT_TRUE(IsYamlFloat(digits + ".5"));
  auto v = YamlToJson("immutable: " + digits + "\n");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->as_object().at("immutable").as_string().size(), digits.size());
  auto f = YamlToJson("x: 1." + digits + "\n");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->as_object().at("x").is_double());
}

}  // namespace
}  // namespace kite::api
