#include "api/merge_patch.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace kite::api {
namespace {

namespace json = boost::json;

struct MergeCase {
  const char* doc;
  const char* patch;
  const char* expected;
};

class MergePatch : public ::testing::TestWithParam<MergeCase> {};

TEST_P(MergePatch, AppliesRfc7386) {
  const auto& c = GetParam();
  const json::value doc = json::parse(c.doc);
  const json::value before = doc;
  json::value out = ApplyMergePatch(doc, json::parse(c.patch));
  EXPECT_EQ(out, json::parse(c.expected)) << c.doc << " + " << c.patch << " gave " << json::serialize(out);
  EXPECT_EQ(doc, before);
  auto text = ApplyMergePatch(std::string_view(c.doc), std::string_view(c.patch));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, out);
}

// RFC 7386 appendix A, then kubectl's shapes and edge cases.
INSTANTIATE_TEST_SUITE_P(
    Rfc7386AppendixA, MergePatch,
    ::testing::Values(MergeCase{R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergeCase{R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
                      MergeCase{R"({"a":"b"})", R"({"a":null})", R"({})"},
                      MergeCase{R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
                      MergeCase{R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergeCase{R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
                      MergeCase{R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
                      MergeCase{R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
                      MergeCase{R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
                      MergeCase{R"({"a":"b"})", R"(["c"])", R"(["c"])"},
                      MergeCase{R"({"a":"foo"})", "null", "null"},
                      MergeCase{R"({"a":"foo"})", R"("bar")", R"("bar")"},
                      MergeCase{R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
                      MergeCase{R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
                      MergeCase{R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"}));

INSTANTIATE_TEST_SUITE_P(
    Kubectl, MergePatch,
    ::testing::Values(
        MergeCase{R"({"metadata":{"name":"p","labels":{"a":"1"}}})", R"({"metadata":{"labels":{"tier":"fe"}}})",
                  R"({"metadata":{"name":"p","labels":{"a":"1","tier":"fe"}}})"},
        MergeCase{R"({"metadata":{"labels":{"a":"1","tier":"fe"}}})", R"({"metadata":{"labels":{"tier":null}}})",
                  R"({"metadata":{"labels":{"a":"1"}}})"},
        MergeCase{R"({"spec":{"replicas":1,"x":true}})", R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":3,"x":true}})"},
        MergeCase{R"({"spec":{"unschedulable":true}})", R"({"spec":{"unschedulable":null}})", R"({"spec":{}})"},
        MergeCase{R"({"a":{"b":1}})", R"({"a":{}})", R"({"a":{"b":1}})"},
        MergeCase{R"({"a":1})", R"({})", R"({"a":1})"},
        MergeCase{R"({"a":{"b":1}})", R"({"a":{"c":[null,{"d":null}]}})", R"({"a":{"b":1,"c":[null,{"d":null}]}})"},
        MergeCase{R"({"a":{"b":1}})", R"({"a":5})", R"({"a":5})"},
        MergeCase{R"("s")", R"({"a":1})", R"({"a":1})"}));

TEST(MergePatchText, RejectsUnparsableInputWithApiserverTexts) {
  auto bad_doc = ApplyMergePatch(std::string_view("{"), std::string_view("{}"));
  ASSERT_FALSE(bad_doc.ok());
  EXPECT_EQ(bad_doc.status().message(), "Invalid JSON Document");
  EXPECT_EQ(bad_doc.status().code(), Code::kInvalidArgument);
  auto bad_patch = ApplyMergePatch(std::string_view("{}"), std::string_view("{\"a\":}"));
  ASSERT_FALSE(bad_patch.ok());
  EXPECT_EQ(bad_patch.status().message(), "Invalid JSON Patch");
}

TEST(CreateMergePatch, RoundTripsThroughApply) {
  struct Case {
    const char* original;
    const char* modified;
    const char* patch;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"a":1,"b":{"c":2,"d":3}})", R"({"a":1,"b":{"c":4},"e":[1]})", R"({"b":{"c":4,"d":null},"e":[1]})"},
           {R"({"a":1})", R"({"a":1})", "{}"},
           {R"({"a":[1,2]})", R"({"a":[1]})", R"({"a":[1]})"},
           {R"({"a":{"b":1}})", R"({"a":"x"})", R"({"a":"x"})"},
           {R"([1])", R"({"a":1})", R"({"a":1})"}}) {
    json::value original = json::parse(c.original), modified = json::parse(c.modified);
    json::value patch = CreateMergePatch(original, modified);
    EXPECT_EQ(patch, json::parse(c.patch)) << json::serialize(patch);
    EXPECT_EQ(ApplyMergePatch(original, patch), modified);
  }
}

}  // namespace
}  // namespace kite::api
