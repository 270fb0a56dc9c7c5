// The hand-written scanners that replaced std::regex on request data (YAML scalars, DNS names)
// and the RE2 matcher for CRD patterns: their grammars, and inputs of request-body length.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>

#include "api/json_schema.h"
#include "api/validation.h"
#include "api/yaml_json.h"

namespace kite::api {
namespace {

namespace json = boost::json;

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

TEST(DnsNames, Label) {
  for (const char* s : {"a", "0", "my-name", "123-abc", "a-b-c"}) EXPECT_TRUE(IsDNS1123Label(s).empty()) << s;
  EXPECT_TRUE(IsDNS1123Label(std::string(63, 'a')).empty());
  for (const char* s : {"", "-a", "a-", "A", "a.b", "a_b", "é"}) {
    auto errs = IsDNS1123Label(s);
    ASSERT_EQ(errs.size(), 1u) << s;
    EXPECT_EQ(errs[0],
              "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
              "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  }
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'a')), std::vector<std::string>{"must be no more than 63 characters"});
  // Both messages for a long bad name, as upstream lists both.
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'A')).size(), 2u);
}

TEST(DnsNames, SubdomainOfRequestLength) {
  EXPECT_TRUE(IsDNS1123Subdomain("a.b-c.d").empty());
  EXPECT_EQ(IsDNS1123Subdomain("a..b").size(), 1u);
  // A name as long as a body may carry is answered, not recursed on.
  std::string long_name(2 * 1024 * 1024, 'a');
  EXPECT_EQ(IsDNS1123Subdomain(long_name), std::vector<std::string>{"must be no more than 253 characters"});
  long_name.back() = '-';
  EXPECT_EQ(IsDNS1123Subdomain(long_name).size(), 2u);
}

TEST(SchemaPatterns, MatchLikeGo) {
  EXPECT_TRUE(SchemaPatternMatches("^(a+)+$", std::string(50, 'a')));
  EXPECT_FALSE(SchemaPatternMatches("^(a+)+$", std::string(49, 'a') + "!"));
  EXPECT_TRUE(SchemaPatternMatches("b+", "aaabbb"));  // unanchored, as Go's MatchString
  EXPECT_TRUE(SchemaPatternMatches("^\\d{3}-\\w+\\s?$", "123-abc"));
  EXPECT_FALSE(SchemaPatternMatches("^[a-z]+$", "abc\n"));  // $ is the end of the text, not of a line
  EXPECT_TRUE(SchemaPatternMatches("^é+$", "éé"));          // UTF-8
  // Patterns of the size real CRDs carry compile within the memory bound.
  const std::string subdomain = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?){0,10}$";
  EXPECT_EQ(PatternError(subdomain), std::nullopt);
  EXPECT_TRUE(SchemaPatternMatches(subdomain, "gateway.networking.k8s.io"));
  EXPECT_EQ(PatternError("^[a-zA-Z0-9]{1,253}$"), std::nullopt);
  EXPECT_EQ(PatternError("^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\\?([^#]*))?(#(.*))?"), std::nullopt);
  // A value of body length is matched in linear time.
  std::string big(3 * 1024 * 1024, 'a');
  EXPECT_TRUE(SchemaPatternMatches("^(a|aa)+$", big));
  big.back() = '!';
  EXPECT_FALSE(SchemaPatternMatches("^(a|aa)+$", big));
}

TEST(SchemaPatterns, CompileErrorsInGoWords) {
  EXPECT_EQ(PatternError("^(a+)+$"), std::nullopt);
  EXPECT_EQ(PatternError("+"), "error parsing regexp: missing argument to repetition operator: `+`");
  EXPECT_EQ(PatternError("(abc"), "error parsing regexp: missing closing ): `(abc`");
  EXPECT_EQ(PatternError("[a"), "error parsing regexp: missing closing ]: `[a`");
  EXPECT_EQ(PatternError("a**"), "error parsing regexp: invalid nested repetition operator: `**`");
  EXPECT_EQ(PatternError("(?<=a)b"), "error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
  EXPECT_EQ(PatternError("(a)\\1"), "error parsing regexp: invalid escape sequence: `\\1`");
  EXPECT_EQ(PatternError("a{1001}"), "error parsing regexp: invalid repeat count: `{1001}`");
  // Where the packaged RE2 and Go differ: Go takes (?<name>re) and refuses \C.
  EXPECT_EQ(PatternError("^(?<year>[0-9]{4})-(?P<month>[0-9]{2})$"), std::nullopt);
  EXPECT_TRUE(SchemaPatternMatches("^(?<year>[0-9]{4})$", "2024"));
  EXPECT_TRUE(SchemaPatternMatches("^[(?<]+$", "(?<"));        // in a class: literal, not rewritten
  EXPECT_TRUE(SchemaPatternMatches("^\\Q(?<x\\E$", "(?<x"));    // \Q...\E: literal
  EXPECT_FALSE(SchemaPatternMatches("^[]a]+$", "P"));
  EXPECT_EQ(PatternError("a\\Cb"), "error parsing regexp: invalid escape sequence: `\\C`");
  EXPECT_EQ(PatternError("(?<!a)b"), "error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
  // A pattern that does not compile never refuses a value (the CRD itself is refused).
  EXPECT_TRUE(SchemaPatternMatches("(abc", "anything"));
}

TEST(SchemaPatterns, FoundEverywhereInASchema) {
  json::object schema = json::parse(R"({"type":"object","properties":{
      "good":{"type":"string","pattern":"^a$"},
      "bad":{"type":"string","pattern":"+"},
      "list":{"type":"array","items":{"type":"string","pattern":"(x"}},
      "map":{"type":"object","additionalProperties":{"type":"string","pattern":"[z"}},
      "either":{"anyOf":[{"pattern":"ok"},{"pattern":"*"}]}}})")
                            .as_object();
  std::vector<SchemaError> errs;
  CheckSchemaPatterns(schema, "spec.versions[0].schema.openAPIV3Schema", &errs);
  ASSERT_EQ(errs.size(), 4u);
  const std::string root = "spec.versions[0].schema.openAPIV3Schema";
  EXPECT_EQ(errs[0].field, root + ".properties[bad].pattern");
  EXPECT_EQ(errs[0].reason, "FieldValueInvalid");
  EXPECT_EQ(errs[0].message,
            "Invalid value: \"+\": must be a valid regular expression, but isn't: error parsing regexp: missing "
            "argument to repetition operator: `+`");
  EXPECT_EQ(errs[1].field, root + ".properties[list].items.pattern");
  EXPECT_EQ(errs[2].field, root + ".properties[map].additionalProperties.pattern");
  EXPECT_EQ(errs[3].field, root + ".properties[either].anyOf[1].pattern");
}

// The value check itself: a catastrophic pattern against a 50-character value that nearly matches.
TEST(SchemaPatterns, CatastrophicPatternInAValue) {
  json::object schema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
      "v":{"type":"string","pattern":"^(a+)+$"}}}}})")
                            .as_object();
  json::object obj{{"spec", json::object{{"v", std::string(49, 'a') + "!"}}}};
  auto res = CheckAgainstJsonSchema(obj, schema);
  ASSERT_EQ(res.errors.size(), 1u);
  EXPECT_EQ(res.errors[0].field, "spec.v");
  EXPECT_EQ(res.errors[0].message, "Invalid value: \"" + std::string(49, 'a') + "!\": spec.v in body should match '^(a+)+$'");
}

}  // namespace
}  // namespace kite::api
