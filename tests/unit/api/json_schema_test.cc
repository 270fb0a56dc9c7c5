// api/json_schema: a custom resource against its CRD's structural schema (pruning, validation,
// x-kubernetes-preserve-unknown-fields), the printer columns' JSONPath subset, and the RE2
// matcher for CRD patterns (Go's syntax and messages; linear time on catastrophic patterns).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "api/json_schema.h"

namespace kite::api {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

TEST(JsonSchema, PrunesValidatesAndHonoursPreserveUnknownFields) {
  auto schema = Obj(R"({"type":"object","properties":{
      "spec":{"type":"object","required":["cron"],"properties":{
        "cron":{"type":"string","pattern":"^\\S+$"},"replicas":{"type":"integer","minimum":1,"maximum":10},
        "mode":{"type":"string","enum":["a","b"]},"free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
        "port":{"x-kubernetes-int-or-string":true}}}}})");
  auto cr = Obj(R"({"apiVersion":"x/v1","kind":"X","metadata":{"name":"n","anything":1},
                    "spec":{"cron":"* *","replicas":50,"mode":"c","free":{"k":1},"port":"http","junk":1}})");
  auto r = CheckAgainstJsonSchema(cr, schema);
  EXPECT_EQ(r.unknown_fields, (std::vector<std::string>{"spec.junk"}));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].field, "spec.cron");
  EXPECT_EQ(r.errors[1].message, "Invalid value: 50: spec.replicas in body should be less than or equal to 10");
  EXPECT_EQ(r.errors[2].reason, "FieldValueNotSupported");
  EXPECT_TRUE(cr["spec"].as_object()["free"].as_object().contains("k"));
  EXPECT_TRUE(cr["metadata"].as_object().contains("anything"));  // metadata is the server's business
  auto missing = Obj(R"({"spec":{}})");
  auto m = CheckAgainstJsonSchema(missing, schema);
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_EQ(m.errors[0].field, "spec.cron");
  EXPECT_EQ(m.errors[0].message, "Required value");
}

TEST(JsonPath, PrinterColumnSubset) {
  json::value v = json::parse(R"({"spec":{"replicas":3},"status":{"conditions":[
      {"type":"Ready","status":"True"},{"type":"Synced","status":"False"}]},"items":[{"n":1},{"n":2}]})");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".spec.replicas"))), "[3]");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".status.conditions[?(@.type==\"Ready\")].status"))), R"(["True"])");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".items[*].n"))), "[1,2]");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".items[1].n"))), "[2]");
  EXPECT_TRUE(EvalJsonPath(v, ".nope.x").empty());
  EXPECT_TRUE(EvalJsonPath(v, "spec[").empty());
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
