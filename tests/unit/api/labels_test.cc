#include "api/labels.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace kite::api {
namespace {

namespace json = boost::json;

const char* const kNameRegexMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const char* const kValueRegexMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const char* const kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

// --- parse + canonical String ---

struct ParseCase {
  const char* input;
  const char* canonical;
};

class LabelParseOk : public ::testing::TestWithParam<ParseCase> {};

TEST_P(LabelParseOk, ParsesToCanonicalFormAndRoundTrips) {
  const auto& c = GetParam();
  auto sel = LabelSelector::Parse(c.input);
  ASSERT_TRUE(sel.ok()) << c.input << ": " << sel.status().message();
  EXPECT_EQ(sel->String(), c.canonical) << c.input;
  auto again = LabelSelector::Parse(sel->String());
  ASSERT_TRUE(again.ok()) << sel->String();
  EXPECT_EQ(*again, *sel) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, LabelParseOk,
    ::testing::Values(
        ParseCase{"", ""}, ParseCase{"   ", ""}, ParseCase{"x=a", "x=a"}, ParseCase{"x==a", "x==a"},
        ParseCase{"x!=a", "x!=a"}, ParseCase{"x", "x"}, ParseCase{"!x", "!x"},
        ParseCase{" !  x ", "!x"}, ParseCase{"x>1", "x>1"}, ParseCase{"x<1", "x<1"},
        ParseCase{"x<0", "x<0"},
        ParseCase{"x in (a)", "x in (a)"}, ParseCase{"x in (b,a)", "x in (a,b)"},
        ParseCase{"x notin (a,b,a)", "x notin (a,b)"}, ParseCase{"x in ()", "x in ()"},
        ParseCase{"x in (,a)", "x in (,a)"}, ParseCase{"x in (a,)", "x in (,a)"},
        ParseCase{"x in (a,,b)", "x in (,a,b)"}, ParseCase{"x=", "x="}, ParseCase{"x=,y", "x=,y"},
        ParseCase{"x= a", "x=a"}, ParseCase{"x\t=\ta", "x=a"}, ParseCase{"x\n,\ry", "x,y"},
        ParseCase{"z=1,a=2", "a=2,z=1"}, ParseCase{"b,a,!c", "a,b,!c"} /* sorted by key */,
        ParseCase{"x in (in),notin notin (notin)", "notin notin (notin),x in (in)"},
        ParseCase{"in=in", "in=in"}, ParseCase{"!in", "!in"},
        ParseCase{"example.com/app=web,app.kubernetes.io/name=db",
                  "app.kubernetes.io/name=db,example.com/app=web"},
        ParseCase{"x in(a),y notin(b)", "x in (a),y notin (b)"}, ParseCase{"x=a ", "x=a"},
        ParseCase{"a_b.c-d=A_b.C-9", "a_b.c-d=A_b.C-9"}));

TEST(LabelParse, GreaterThanNegativeNumberIsNotALabelValue) {
  // The value must be both an integer and a valid label value; "-1" fails the latter.
  auto sel = LabelSelector::Parse("x>-1");
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.status().message(),
            std::string("unable to parse requirement: values[0][x]: Invalid value: \"-1\": ") + kValueRegexMsg);
}

struct ErrorCase {
  std::string input;
  std::string error;
};

class LabelParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(LabelParseError, FailsWithUpstreamText) {
  const auto& c = GetParam();
  auto sel = LabelSelector::Parse(c.input);
  ASSERT_FALSE(sel.ok()) << c.input << " parsed as " << sel->String();
  EXPECT_EQ(sel.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sel.status().message(), c.error) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LabelParseError,
    ::testing::Values(
        ErrorCase{"x=a=b", "found '=', expected: ',' or 'end of string'"},
        ErrorCase{"x=a b", "found 'b', expected: ',' or 'end of string'"},
        ErrorCase{"x=a,", "found '', expected: identifier after ','"},
        ErrorCase{"x=a,,y", "found ',', expected: identifier after ','"},
        ErrorCase{",x", "found ',', expected: !, identifier, or 'end of string'"},
        ErrorCase{"=x", "found '=', expected: !, identifier, or 'end of string'"},
        ErrorCase{"(x)", "found '(', expected: !, identifier, or 'end of string'"},
        ErrorCase{"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
        ErrorCase{"x (a)", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"},
        ErrorCase{"x in a", "unable to parse requirement: found 'a' expected: '('"},
        ErrorCase{"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
        ErrorCase{"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
        ErrorCase{"x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
        ErrorCase{"x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
        ErrorCase{"x in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
        ErrorCase{"x=(a)", "unable to parse requirement: found '(', expected: identifier"},
        ErrorCase{"!", "unable to parse requirement: found '', expected: identifier"},
        ErrorCase{"!=a", "found '!=', expected: !, identifier, or 'end of string'"},
        ErrorCase{"!!x", "unable to parse requirement: found '!', expected: identifier"},
        ErrorCase{"!x=a", "found '=', expected: ',' or 'end of string'"},
        ErrorCase{"x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' "
                        "operators, the value must be an integer"},
        ErrorCase{"x<abc", "unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', "
                           "'Lt' operators, the value must be an integer"},
        ErrorCase{"x>99999999999999999999", "unable to parse requirement: values[0]: Invalid value: "
                                            "\"99999999999999999999\": for 'Gt', 'Lt' operators, the "
                                            "value must be an integer"},
        ErrorCase{"x<-y", std::string("unable to parse requirement: [values[0]: Invalid value: \"-y\": "
                                      "for 'Gt', 'Lt' operators, the value must be an integer, "
                                      "values[0][x]: Invalid value: \"-y\": ") + kValueRegexMsg + "]"},
        ErrorCase{"-x", std::string("unable to parse requirement: <nil>: Invalid value: \"-x\": name part ") +
                            kNameRegexMsg},
        ErrorCase{"x/", "unable to parse requirement: <nil>: Invalid value: \"x/\": name part must be "
                        "non-empty; name part " + std::string(kNameRegexMsg)},
        ErrorCase{"/x", "unable to parse requirement: <nil>: Invalid value: \"/x\": prefix part must be non-empty"},
        ErrorCase{"Example.com/x", std::string("unable to parse requirement: <nil>: Invalid value: "
                                               "\"Example.com/x\": prefix part ") + kSubdomainMsg},
        ErrorCase{"a/b/c", std::string("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a "
                                       "qualified name ") + kNameRegexMsg +
                               " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
        ErrorCase{std::string(64, 'k'), "unable to parse requirement: <nil>: Invalid value: \"" +
                                            std::string(64, 'k') +
                                            "\": name part must be no more than 63 characters"},
        ErrorCase{"x=" + std::string(64, 'v'), "unable to parse requirement: values[0][x]: Invalid value: \"" +
                                                   std::string(64, 'v') +
                                                   "\": must be no more than 63 characters"},
        ErrorCase{"x=a.", std::string("unable to parse requirement: values[0][x]: Invalid value: \"a.\": ") +
                              kValueRegexMsg},
        ErrorCase{"x in (a,b-)", std::string("unable to parse requirement: values[1][x]: Invalid value: "
                                             "\"b-\": ") + kValueRegexMsg},
        ErrorCase{"x=\xff", std::string("unable to parse requirement: values[0][x]: Invalid value: "
                                        "\"\\xff\": ") + kValueRegexMsg}));

TEST(LabelParse, NulByteEndsTheInput) {
  auto sel = LabelSelector::Parse(std::string("a\0b", 3));
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.status().message(),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
}

TEST(LabelParse, LongestOperatorMatch) {
  // "===" scans as "==" then "=", so the value position sees "=".
  auto sel = LabelSelector::Parse("x===a");
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.status().message(), "unable to parse requirement: found '=', expected: identifier");
  auto ne = LabelSelector::Parse("x!==a");
  ASSERT_FALSE(ne.ok());
  EXPECT_EQ(ne.status().message(), "unable to parse requirement: found '=', expected: identifier");
}

// --- matching ---

struct MatchCase {
  const char* selector;
  const char* labels;  // JSON object
  bool matches;
};

class LabelMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(LabelMatch, MatchesLikeUpstream) {
  const auto& c = GetParam();
  auto sel = LabelSelector::Parse(c.selector);
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  json::object labels = json::parse(c.labels).as_object();
  EXPECT_EQ(sel->Matches(labels), c.matches) << c.selector << " vs " << c.labels;
  std::map<std::string, std::string> m;
  bool all_strings = true;
  for (const auto& [k, v] : labels) {
    if (v.is_string()) {
      m[std::string(k)] = std::string(v.get_string());
    } else {
      all_strings = false;
    }
  }
  if (all_strings) {
    EXPECT_EQ(sel->Matches(m), c.matches) << c.selector << " vs map " << c.labels;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Semantics, LabelMatch,
    ::testing::Values(
        MatchCase{"", "{}", true}, MatchCase{"", R"({"a":"b"})", true},
        MatchCase{"a=b", R"({"a":"b"})", true}, MatchCase{"a=b", R"({"a":"c"})", false},
        MatchCase{"a=b", "{}", false}, MatchCase{"a==b", R"({"a":"b"})", true},
        MatchCase{"a!=b", R"({"a":"c"})", true}, MatchCase{"a!=b", R"({"a":"b"})", false},
        MatchCase{"a!=b", "{}", true}, MatchCase{"a in (b,c)", R"({"a":"c"})", true},
        MatchCase{"a in (b,c)", R"({"a":"d"})", false}, MatchCase{"a in (b,c)", "{}", false},
        MatchCase{"a notin (b,c)", R"({"a":"c"})", false}, MatchCase{"a notin (b,c)", R"({"a":"d"})", true},
        MatchCase{"a notin (b,c)", "{}", true}, MatchCase{"a", R"({"a":""})", true},
        MatchCase{"a", "{}", false}, MatchCase{"!a", "{}", true}, MatchCase{"!a", R"({"a":"x"})", false},
        MatchCase{"a=", R"({"a":""})", true}, MatchCase{"a=", "{}", false},
        MatchCase{"a in ()", R"({"a":""})", true}, MatchCase{"a>5", R"({"a":"6"})", true},
        MatchCase{"a>5", R"({"a":"5"})", false}, MatchCase{"a<5", R"({"a":"-3"})", true},
        MatchCase{"a>5", R"({"a":"x"})", false}, MatchCase{"a>5", "{}", false},
        MatchCase{"a<5", "{}", false}, MatchCase{"a>5", R"({"a":"+7"})", true},
        MatchCase{"a<5", R"({"a":"+-3"})", false}, MatchCase{"a<5", R"({"a":"-+3"})", false},
        MatchCase{"a<5", R"({"a":"3 "})", false}, MatchCase{"a>5", R"({"a":"99999999999999999999"})", false},
        MatchCase{"a<1", R"({"a":"-0"})", true},
        MatchCase{"a=b,c!=d", R"({"a":"b","c":"e"})", true},
        MatchCase{"a=b,c!=d", R"({"a":"b","c":"d"})", false},
        MatchCase{"a=1", R"({"a":1})", false} /* non-string label value equals nothing */,
        MatchCase{"a!=1", R"({"a":1})", true}, MatchCase{"a", R"({"a":null})", true}));

TEST(LabelSelector, EverythingNothingAndExactMatch) {
  EXPECT_TRUE(LabelSelector::Everything().Empty());
  EXPECT_TRUE(LabelSelector::Everything().Matches(json::object{}));
  EXPECT_FALSE(LabelSelector::Nothing().Empty());
  EXPECT_FALSE(LabelSelector::Nothing().Matches(json::object{}));
  EXPECT_EQ(LabelSelector::Nothing().String(), "");

  auto sel = LabelSelector::Parse("a=1,b in (2),c in (3,4),d!=5,e==6");
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->RequiresExactMatch("a"), "1");
  EXPECT_EQ(sel->RequiresExactMatch("b"), "2");
  EXPECT_EQ(sel->RequiresExactMatch("c"), std::nullopt);
  EXPECT_EQ(sel->RequiresExactMatch("d"), std::nullopt);
  EXPECT_EQ(sel->RequiresExactMatch("e"), "6");
  EXPECT_EQ(sel->RequiresExactMatch("z"), std::nullopt);

  auto set = LabelSelector::FromSet({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(set.String(), "a=1,b=2");
  EXPECT_TRUE(set.Matches(std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

// --- requirement constructor ---

TEST(LabelRequirement, CreateValidatesLikeNewRequirement) {
  struct Case {
    std::string key;
    LabelOperator op;
    std::vector<std::string> values;
    std::string error;  // empty: ok
  };
  const std::vector<Case> cases = {
      {"a", LabelOperator::kIn, {}, "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"},
      {"a", LabelOperator::kNotIn, {"x"}, ""},
      {"a", LabelOperator::kEquals, {"x", "y"}, "values: Invalid value: [\"x\",\"y\"]: exact-match compatibility requires one single value"},
      {"a", LabelOperator::kNotEquals, {}, "values: Invalid value: null: exact-match compatibility requires one single value"},
      {"a", LabelOperator::kExists, {"x"}, "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"},
      {"a", LabelOperator::kDoesNotExist, {}, ""},
      {"a", LabelOperator::kGreaterThan, {"1", "2"}, "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required"},
      {"a", LabelOperator::kLessThan, {"9223372036854775807"}, ""},
      {"a", LabelOperator::kLessThan, {"9223372036854775808"}, "values[0]: Invalid value: \"9223372036854775808\": for 'Gt', 'Lt' operators, the value must be an integer"},
      {"", LabelOperator::kExists, {}, "key: Invalid value: \"\": name part must be non-empty; name part " + std::string(kNameRegexMsg)},
      {"a", LabelOperator::kIn, {"<b>"}, "values[0][a]: Invalid value: \"<b>\": " + std::string(kValueRegexMsg)},
  };
  for (const auto& c : cases) {
    auto r = LabelRequirement::Create(c.key, c.op, c.values);
    if (c.error.empty()) {
      EXPECT_TRUE(r.ok()) << c.key << ": " << r.status().message();
    } else {
      ASSERT_FALSE(r.ok()) << c.key;
      EXPECT_EQ(r.status().message(), c.error);
    }
  }
}

// --- metav1.LabelSelector ---

struct JsonSelectorCase {
  const char* json;
  const char* canonical;  // nullptr: expect error
  const char* error;
};

class LabelSelectorJson : public ::testing::TestWithParam<JsonSelectorCase> {};

TEST_P(LabelSelectorJson, ConvertsLikeLabelSelectorAsSelector) {
  const auto& c = GetParam();
  auto sel = LabelSelector::FromLabelSelectorJson(json::parse(c.json));
  if (c.canonical == nullptr) {
    ASSERT_FALSE(sel.ok()) << c.json;
    EXPECT_EQ(sel.status().message(), c.error);
    return;
  }
  ASSERT_TRUE(sel.ok()) << c.json << ": " << sel.status().message();
  EXPECT_EQ(sel->String(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Conversion, LabelSelectorJson,
    ::testing::Values(
        JsonSelectorCase{"{}", "", nullptr},
        JsonSelectorCase{R"({"matchLabels":{"b":"2","a":"1"}})", "a=1,b=2", nullptr},
        JsonSelectorCase{R"({"matchLabels":{"app":"web"},"matchExpressions":[
            {"key":"tier","operator":"In","values":["fe","be"]},
            {"key":"env","operator":"NotIn","values":["prod"]},
            {"key":"canary","operator":"Exists"},
            {"key":"legacy","operator":"DoesNotExist","values":null}]})",
                         "app=web,canary,env notin (prod),!legacy,tier in (be,fe)", nullptr},
        JsonSelectorCase{R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})", nullptr,
                         "\"Gt\" is not a valid label selector operator"},
        JsonSelectorCase{R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})", nullptr,
                         "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"},
        JsonSelectorCase{R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})", nullptr,
                         "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"},
        JsonSelectorCase{R"({"matchLabels":{"a b":"x"}})", nullptr,
                         "key: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' "
                         "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                         "'my.name',  or '123-abc', regex used for validation is "
                         "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
        JsonSelectorCase{R"([])", nullptr, "json: cannot unmarshal array into Go value of type v1.LabelSelector"},
        JsonSelectorCase{R"({"matchLabels":{"a":1}})", nullptr,
                         "json: cannot unmarshal number into Go value of type string"}));

TEST(LabelSelectorJson, NullSelectsNothingAndMatchingUsesAllParts) {
  auto nothing = LabelSelector::FromLabelSelectorJson(nullptr);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->IsNothing());
  EXPECT_FALSE(nothing->Matches(json::object{{"a", "b"}}));

  auto sel = LabelSelector::FromLabelSelectorJson(json::parse(
      R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe"]}]})"));
  ASSERT_TRUE(sel.ok());
  EXPECT_TRUE(sel->Matches(json::parse(R"({"app":"web","tier":"fe"})").as_object()));
  EXPECT_FALSE(sel->Matches(json::parse(R"({"app":"web","tier":"be"})").as_object()));
  EXPECT_FALSE(sel->Matches(json::parse(R"({"tier":"fe"})").as_object()));
}

TEST(ValidateLabelSelector, ReportsEveryFieldError) {
  auto errs = ValidateLabelSelector(json::parse(R"({
      "matchLabels":{"app":"-web"},
      "matchExpressions":[
        {"key":"a","operator":"In"},
        {"key":"b","operator":"Exists","values":["x"]},
        {"key":"-c","operator":"Near","values":["ok","-bad"]}]})"),
                                    "spec.selector");
  std::vector<std::string> got;
  for (const auto& e : errs) got.push_back(e.Error());
  std::vector<std::string> want = {
      std::string("spec.selector.matchLabels: Invalid value: \"-web\": ") + kValueRegexMsg,
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      "spec.selector.matchExpressions[2].operator: Invalid value: \"Near\": not a valid selector operator",
      std::string("spec.selector.matchExpressions[2].key: Invalid value: \"-c\": name part ") + kNameRegexMsg,
      std::string("spec.selector.matchExpressions[2].values[1]: Invalid value: \"-bad\": ") + kValueRegexMsg,
  };
  EXPECT_EQ(got, want);
  EXPECT_TRUE(ValidateLabelSelector(nullptr, "spec.selector").empty());
  EXPECT_TRUE(ValidateLabelSelector(json::parse(R"({"matchLabels":{"a":""}})"), "s").empty());
}

TEST(Validation, QualifiedNamesAndLabelValues) {
  EXPECT_TRUE(IsQualifiedName("a").empty());
  EXPECT_TRUE(IsQualifiedName("kubernetes.io/cluster-service").empty());
  EXPECT_TRUE(IsQualifiedName(std::string(253, 'a') + "/" + std::string(63, 'b')).empty());
  EXPECT_EQ(IsQualifiedName(std::string(254, 'a') + "/b"),
            (std::vector<std::string>{"prefix part must be no more than 253 characters"}));
  EXPECT_TRUE(IsValidLabelValue("").empty());
  EXPECT_TRUE(IsValidLabelValue(std::string(63, 'x')).empty());
  EXPECT_EQ(IsValidLabelValue(std::string(64, 'x')).size(), 1u);
  EXPECT_EQ(IsValidLabelValue("-" + std::string(63, 'x')).size(), 2u);
  EXPECT_EQ(GoQuote("a\"b\\c\n\x01\xc3\xa9\xff"), "\"a\\\"b\\\\c\\n\\x01\xc3\xa9\\xff\"");
  EXPECT_EQ(GoJsonStringArray({"<a&b>", "\xff"}), "[\"\\u003ca\\u0026b\\u003e\",\"\\ufffd\"]");
}

}  // namespace
}  // namespace kite::api

namespace kite::api {
namespace {

// The cases of upstream's own selector test suite (TestSelectorParse, TestDeterministicParse).
TEST(LabelUpstreamSuite, GoodStringsRestringWithoutSpaces) {
  for (std::string good : {"x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"}) {
    auto sel = LabelSelector::Parse(good);
    ASSERT_TRUE(sel.ok()) << good << ": " << sel.status().message();
    std::string no_spaces = good;
    std::erase(no_spaces, ' ');
    EXPECT_EQ(sel->String(), no_spaces);
  }
  for (std::string bad : {"x=a||y=b", "x==a==b", "!x=a", "x<a"}) {
    EXPECT_FALSE(LabelSelector::Parse(bad).ok()) << bad;
  }
  EXPECT_EQ(LabelSelector::Parse("x=a,a=x")->String(), "a=x,x=a");
  EXPECT_EQ(LabelSelector::Parse("a=x,x=a")->String(), "a=x,x=a");
  EXPECT_EQ(LabelSelector::Parse("x in (foo,,baz),y,z notin ()")->String(), "x in (,baz,foo),y,z notin ()");
}

}  // namespace
}  // namespace kite::api
