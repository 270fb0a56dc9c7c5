#include "api/fields.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace kite::api {
namespace {

struct ParseCase {
  std::string input;
  std::string canonical;
  std::vector<std::string> fields;
};

class FieldParseOk : public ::testing::TestWithParam<ParseCase> {};

TEST_P(FieldParseOk, ParsesToCanonicalFormAndRoundTrips) {
  const auto& c = GetParam();
  auto sel = FieldSelector::Parse(c.input);
  ASSERT_TRUE(sel.ok()) << c.input << ": " << sel.status().message();
  EXPECT_EQ(sel->String(), c.canonical);
  EXPECT_EQ(sel->Fields(), c.fields);
  auto again = FieldSelector::Parse(sel->String());
  ASSERT_TRUE(again.ok()) << sel->String();
  EXPECT_EQ(*again, *sel);
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, FieldParseOk,
    ::testing::Values(
        ParseCase{"", "", {}}, ParseCase{",", "", {}},
        ParseCase{"metadata.name=nginx", "metadata.name=nginx", {"metadata.name"}},
        ParseCase{"metadata.name==nginx", "metadata.name=nginx", {"metadata.name"}},
        ParseCase{"status.phase!=Running", "status.phase!=Running", {"status.phase"}},
        ParseCase{"spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed",
                  "spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded",
                  {"spec.nodeName", "status.phase"}},
        ParseCase{"involvedObject.name=nginx,involvedObject.namespace=default,involvedObject.uid=1-2",
                  "involvedObject.name=nginx,involvedObject.namespace=default,involvedObject.uid=1-2",
                  {"involvedObject.name", "involvedObject.namespace", "involvedObject.uid"}},
        ParseCase{"a=", "a=", {"a"}}, ParseCase{"=x", "=x", {""}},
        ParseCase{"a = b", "a = b", {"a "}} /* nothing is trimmed */,
        ParseCase{R"(a=x\,y)", R"(a=x\,y)", {"a"}}, ParseCase{R"(a=x\=y)", R"(a=x\=y)", {"a"}},
        ParseCase{R"(a=x\\y)", R"(a=x\\y)", {"a"}}, ParseCase{R"(a=\\)", R"(a=\\)", {"a"}},
        ParseCase{R"(a\,b=c)", R"(a\,b=c)", {R"(a\,b)"}} /* field names are literal */,
        ParseCase{"a!b=c", "a!b=c", {"a!b"}}, ParseCase{"a=1,,b=2", "a=1,b=2", {"a", "b"}},
        ParseCase{"b=1,a=2", "a=2,b=1", {"a", "b"}}, ParseCase{"a=\xc3\xa9", "a=\xc3\xa9", {"a"}}));

struct ErrorCase {
  std::string input;
  std::string error;
};

class FieldParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FieldParseError, FailsWithUpstreamText) {
  const auto& c = GetParam();
  auto sel = FieldSelector::Parse(c.input);
  ASSERT_FALSE(sel.ok()) << c.input;
  EXPECT_EQ(sel.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sel.status().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, FieldParseError,
    ::testing::Values(
        ErrorCase{"a", "invalid selector: 'a'; can't understand 'a'"},
        ErrorCase{"a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
        ErrorCase{"a<b", "invalid selector: 'a<b'; can't understand 'a<b'"},
        ErrorCase{"a=b=c", "invalid field selector: unescaped character in value: 61"},
        ErrorCase{"a!==c", "invalid field selector: unescaped character in value: 61"},
        ErrorCase{"a===c", "invalid field selector: unescaped character in value: 61"},
        ErrorCase{R"(a=b\)", "invalid field selector: invalid escape sequence: \\"},
        ErrorCase{R"(a=b\x)", "invalid field selector: invalid escape sequence: \\x"},
        ErrorCase{"a=b\\\xc3\xa9", "invalid field selector: invalid escape sequence: \\\xc3\xa9"},
        ErrorCase{"a=b\\\xff", "invalid field selector: invalid escape sequence: \\\xef\xbf\xbd"}));

TEST(FieldSelector, MatchesMissingFieldsAsEmpty) {
  auto sel = FieldSelector::Parse("spec.nodeName=node-1,status.phase!=Succeeded");
  ASSERT_TRUE(sel.ok());
  EXPECT_TRUE(sel->Matches({{"spec.nodeName", "node-1"}, {"status.phase", "Running"}}));
  EXPECT_TRUE(sel->Matches({{"spec.nodeName", "node-1"}}));
  EXPECT_FALSE(sel->Matches({{"spec.nodeName", "node-1"}, {"status.phase", "Succeeded"}}));
  EXPECT_FALSE(sel->Matches({{"status.phase", "Running"}}));

  auto empty_value = FieldSelector::Parse("spec.nodeName=");
  ASSERT_TRUE(empty_value.ok());
  EXPECT_TRUE(empty_value->Matches(std::map<std::string, std::string>{}));  // unscheduled pods
  EXPECT_FALSE(empty_value->Matches({{"spec.nodeName", "n"}}));

  auto escaped = FieldSelector::Parse(R"(metadata.name=a\,b)");
  ASSERT_TRUE(escaped.ok());
  EXPECT_TRUE(escaped->Matches([](std::string_view f) -> std::optional<std::string> {
    return f == "metadata.name" ? std::optional<std::string>("a,b") : std::nullopt;
  }));
  EXPECT_TRUE(FieldSelector::Everything().Matches(std::map<std::string, std::string>{}));
  EXPECT_TRUE(FieldSelector::Everything().Empty());
}

TEST(FieldSelector, UnsupportedFieldsAndExactMatch) {
  auto sel = FieldSelector::Parse("metadata.name=web,spec.foo=bar,metadata.namespace!=x");
  ASSERT_TRUE(sel.ok());
  std::vector<std::string_view> supported = {"metadata.name", "metadata.namespace"};
  Status s = sel->CheckSupported(supported);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "field label not supported: spec.foo");
  EXPECT_TRUE(FieldSelector::Parse("metadata.name=web")->CheckSupported(supported).ok());
  EXPECT_EQ(sel->RequiresExactMatch("metadata.name"), "web");
  EXPECT_EQ(sel->RequiresExactMatch("metadata.namespace"), std::nullopt);
  EXPECT_EQ(sel->RequiresExactMatch("nope"), std::nullopt);
}

TEST(FieldSelector, EscapeAndUnescape) {
  EXPECT_EQ(EscapeFieldValue(R"(a\b,c=d)"), R"(a\\b\,c\=d)");
  for (std::string v : {"", "plain", R"(\)", ",=,", "x\\,y"}) {
    auto back = UnescapeFieldValue(EscapeFieldValue(v));
    ASSERT_TRUE(back.ok()) << v;
    EXPECT_EQ(*back, v);
  }
  EXPECT_EQ(UnescapeFieldValue("no-specials\xff").value(), "no-specials\xff");  // untouched
  EXPECT_EQ(UnescapeFieldValue("\\,\xff").value(), ",\xef\xbf\xbd");          // re-encoded
  EXPECT_EQ(UnescapeFieldValue("a,b").status().message(),
            "invalid field selector: unescaped character in value: 44");
}

}  // namespace
}  // namespace kite::api

namespace kite::api {
namespace {

// The cases of upstream's own field selector tests.
TEST(FieldUpstreamSuite, GoodStringsRestringAndBadOnesFail) {
  for (std::string good : {"x=a,y=b,z=c", "", "x!=a,y=b"}) {
    auto sel = FieldSelector::Parse(good);
    ASSERT_TRUE(sel.ok()) << good;
    EXPECT_EQ(sel->String(), good);
  }
  for (std::string bad : {"x=a||y=b", "x==a==b"}) EXPECT_FALSE(FieldSelector::Parse(bad).ok()) << bad;
  EXPECT_EQ(FieldSelector::Parse("x=a,a=x")->String(), FieldSelector::Parse("a=x,x=a")->String());
}

}  // namespace
}  // namespace kite::api


namespace kite::api {
namespace {

TEST(FieldValueFromObject, ReadsScalarsByDottedPath) {
  auto pod = boost::json::parse(R"({"metadata":{"name":"web-1","namespace":"default"},
      "spec":{"nodeName":"node-1","unschedulable":true,"priority":-5,"containers":[]},
      "status":{"phase":"Running","hostIP":null}})");
  EXPECT_EQ(FieldValueFromObject(pod, "metadata.name"), "web-1");
  EXPECT_EQ(FieldValueFromObject(pod, "spec.nodeName"), "node-1");
  EXPECT_EQ(FieldValueFromObject(pod, "spec.unschedulable"), "true");
  EXPECT_EQ(FieldValueFromObject(pod, "spec.priority"), "-5");
  EXPECT_EQ(FieldValueFromObject(pod, "spec.containers"), std::nullopt);
  EXPECT_EQ(FieldValueFromObject(pod, "status.hostIP"), std::nullopt);
  EXPECT_EQ(FieldValueFromObject(pod, "spec.nodeName.x"), std::nullopt);
  EXPECT_EQ(FieldValueFromObject(pod, "nope"), std::nullopt);

  auto sel = FieldSelector::Parse("spec.nodeName=node-1,status.phase!=Succeeded,spec.unschedulable=true");
  ASSERT_TRUE(sel.ok());
  EXPECT_TRUE(sel->Matches([&](std::string_view f) { return FieldValueFromObject(pod, f); }));
}

}  // namespace
}  // namespace kite::api
