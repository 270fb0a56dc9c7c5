#include "api/json_patch.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace kite::api {
namespace {

namespace json = boost::json;

struct PatchCase {
  const char* name;
  const char* doc;
  const char* patch;
  const char* expected;  // nullptr: expect `error`
  const char* error = nullptr;
  Code code = Code::kFailedPrecondition;
};

class JsonPatch : public ::testing::TestWithParam<PatchCase> {};

TEST_P(JsonPatch, AppliesOrFailsAtomically) {
  const auto& c = GetParam();
  const json::value doc = json::parse(c.doc);
  const json::value before = doc;
  auto out = ApplyJsonPatch(doc, std::string_view(c.patch));
  EXPECT_EQ(doc, before) << "input must never change";
  if (c.expected == nullptr) {
    ASSERT_FALSE(out.ok()) << c.name << " gave " << json::serialize(*out);
    EXPECT_EQ(out.status().message(), c.error) << c.name;
    EXPECT_EQ(out.status().code(), c.code) << c.name;
    return;
  }
  ASSERT_TRUE(out.ok()) << c.name << ": " << out.status().message();
  EXPECT_EQ(*out, json::parse(c.expected)) << c.name << " gave " << json::serialize(*out);
}

// RFC 6902 appendix A, in order.
INSTANTIATE_TEST_SUITE_P(
    Rfc6902AppendixA, JsonPatch,
    ::testing::Values(
        PatchCase{"A.1", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
                  R"({"baz":"qux","foo":"bar"})"},
        PatchCase{"A.2", R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])",
                  R"({"foo":["bar","qux","baz"]})"},
        PatchCase{"A.3", R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
        PatchCase{"A.4", R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])",
                  R"({"foo":["bar","baz"]})"},
        PatchCase{"A.5", R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])",
                  R"({"baz":"boo","foo":"bar"})"},
        PatchCase{"A.6", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                  R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
                  R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
        PatchCase{"A.7", R"({"foo":["all","grass","cows","eat"]})", R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
                  R"({"foo":["all","cows","eat","grass"]})"},
        PatchCase{"A.8", R"({"baz":"qux","foo":["a",2,"c"]})",
                  R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
                  R"({"baz":"qux","foo":["a",2,"c"]})"},
        PatchCase{"A.9", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])", nullptr,
                  "testing value /baz failed: test failed"},
        PatchCase{"A.10", R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
                  R"({"foo":"bar","child":{"grandchild":{}}})"},
        PatchCase{"A.11", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
                  R"({"foo":"bar","baz":"qux"})"},
        PatchCase{"A.12", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])", nullptr,
                  "add operation does not apply: doc is missing path: \"/baz/bat\": missing value"},
        PatchCase{"A.14", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
                  R"({"/":9,"~1":10})"},
        PatchCase{"A.15", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])", nullptr,
                  "testing value /~01 failed: test failed"},
        PatchCase{"A.16", R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
                  R"({"foo":["bar",["abc","def"]]})"}));

INSTANTIATE_TEST_SUITE_P(
    Behaviour, JsonPatch,
    ::testing::Values(
        PatchCase{"kubectl label via json patch", R"({"metadata":{"name":"x"}})",
                  R"([{"op":"add","path":"/metadata/labels","value":{"a":"b"}},
                      {"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"web"}])",
                  R"({"metadata":{"name":"x","labels":{"a":"b","app.kubernetes.io/name":"web"}}})"},
        PatchCase{"rollout undo shape", R"({"spec":{"template":{"a":1}},"metadata":{}})",
                  R"([{"op":"replace","path":"/spec/template","value":{"b":2}},
                      {"op":"replace","path":"/metadata/annotations","value":{"r":"1"}}])",
                  R"({"spec":{"template":{"b":2}},"metadata":{"annotations":{"r":"1"}}})"},
        PatchCase{"null patch is empty", R"({"a":1})", "null", R"({"a":1})"},
        PatchCase{"empty patch", R"({"a":1})", "[]", R"({"a":1})"},
        PatchCase{"add replaces existing member", R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])", R"({"a":2})"},
        PatchCase{"add whole document", R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])", "[1]"},
        PatchCase{"replace whole document", R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})"},
        PatchCase{"add at end index", R"([1,2])", R"([{"op":"add","path":"/2","value":3}])", "[1,2,3]"},
        PatchCase{"add negative index", R"([1,2])", R"([{"op":"add","path":"/-1","value":3}])", "[1,2,3]"},
        PatchCase{"add index with leading zero", R"([1,2])", R"([{"op":"add","path":"/01","value":9}])", "[1,9,2]"},
        PatchCase{"remove last via -1", R"([1,2,3])", R"([{"op":"remove","path":"/-1"}])", "[1,2]"},
        PatchCase{"empty key", R"({"":1})", R"([{"op":"replace","path":"/","value":2}])", R"({"":2})"},
        PatchCase{"tilde escapes", R"({"a/b":{"c~d":1}})", R"([{"op":"replace","path":"/a~1b/c~0d","value":2}])",
                  R"({"a/b":{"c~d":2}})"},
        PatchCase{"replace missing member adds it", R"({"a":{}})", R"([{"op":"replace","path":"/a/b","value":1}])",
                  R"({"a":{"b":1}})"},
        PatchCase{"copy", R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a/b","path":"/c"}])",
                  R"({"a":{"b":[1]},"c":[1]})"},
        PatchCase{"copy into array end", R"({"a":[1],"b":2})", R"([{"op":"copy","from":"/b","path":"/a/-"}])",
                  R"({"a":[1,2],"b":2})"},
        PatchCase{"move to root member", R"({"a":{"b":1}})", R"([{"op":"move","from":"/a/b","path":"/c"}])",
                  R"({"a":{},"c":1})"},
        PatchCase{"test whole doc", R"({"a":[1,{"b":null}]})", R"([{"op":"test","path":"","value":{"a":[1,{"b":null}]}}])",
                  R"({"a":[1,{"b":null}]})"},
        PatchCase{"test object ignores member order", R"({"a":{"x":1,"y":2}})",
                  R"([{"op":"test","path":"/a","value":{"y":2,"x":1}}])", R"({"a":{"x":1,"y":2}})"},
        PatchCase{"test missing member equals null", R"({})", R"([{"op":"test","path":"/a","value":null}])", "{}"},
        PatchCase{"test number kinds differ", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])", nullptr,
                  "testing value /a failed: test failed"},
        PatchCase{"failure after success is atomic", R"({"a":1})",
                  R"([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/zzz"}])", nullptr,
                  "error in remove for path: '/zzz': Unable to remove nonexistent key: zzz: missing value"}));

INSTANTIATE_TEST_SUITE_P(
    Errors, JsonPatch,
    ::testing::Values(
        PatchCase{"unknown op", "{}", R"([{"op":"frob","path":"/a"}])", nullptr, "Unexpected kind: frob"},
        PatchCase{"missing op", "{}", R"([{"path":"/a"}])", nullptr, "Unexpected kind: unknown"},
        PatchCase{"null op entry", "{}", R"([null])", nullptr, "Unexpected kind: unknown"},
        PatchCase{"patch not a list", "{}", R"({"op":"add"})", nullptr,
                  "json: cannot unmarshal object into Go value of type jsonpatch.Patch", Code::kInvalidArgument},
        PatchCase{"entry not an object", "{}", R"(["add"])", nullptr,
                  "json: cannot unmarshal string into Go value of type jsonpatch.Operation", Code::kInvalidArgument},
        PatchCase{"unparsable", "{}", R"([{"op":)", nullptr, "error decoding patch: incomplete JSON",
                  Code::kInvalidArgument},
        PatchCase{"add without path", "{}", R"([{"op":"add","value":1}])", nullptr,
                  "add operation failed to decode path: missing value"},
        PatchCase{"add without value", "{}", R"([{"op":"add","path":"/a"}])", nullptr,
                  "add operation failed to decode value: missing value"},
        PatchCase{"add to missing parent", R"({"a":{}})", R"([{"op":"add","path":"/a/b/c","value":1}])", nullptr,
                  "add operation does not apply: doc is missing path: \"/a/b/c\": missing value"},
        PatchCase{"add through a null", R"({"a":null})", R"([{"op":"add","path":"/a/b","value":1}])", nullptr,
                  "add operation does not apply: doc is missing path: \"/a/b\": missing value"},
        PatchCase{"add through a scalar", R"({"a":"s"})", R"([{"op":"add","path":"/a/b","value":1}])", nullptr,
                  "add operation does not apply: doc is missing path: \"/a/b\": missing value"},
        PatchCase{"pointer without slash", R"({"a":1})", R"([{"op":"add","path":"a","value":1}])", nullptr,
                  "add operation does not apply: doc is missing path: \"a\": missing value"},
        PatchCase{"add past the end", R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":1}])", nullptr,
                  "error in add for path: '/a/2': Unable to access invalid index: 2: invalid index referenced"},
        PatchCase{"add below -len-1", R"({"a":[1]})", R"([{"op":"add","path":"/a/-3","value":1}])", nullptr,
                  "error in add for path: '/a/-3': Unable to access invalid index: -3: invalid index referenced"},
        PatchCase{"add with word index", R"({"a":[1]})", R"([{"op":"add","path":"/a/x","value":1}])", nullptr,
                  "error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: "
                  "parsing \"x\": invalid syntax"},
        PatchCase{"add with huge index", R"({"a":[1]})",
                  R"([{"op":"add","path":"/a/99999999999999999999","value":1}])", nullptr,
                  "error in add for path: '/a/99999999999999999999': value was not a proper array index: "
                  "'99999999999999999999': strconv.Atoi: parsing \"99999999999999999999\": value out of range"},
        PatchCase{"remove missing member", R"({"a":{}})", R"([{"op":"remove","path":"/a/b"}])", nullptr,
                  "error in remove for path: '/a/b': Unable to remove nonexistent key: b: missing value"},
        PatchCase{"remove past the end", R"({"a":[1]})", R"([{"op":"remove","path":"/a/1"}])", nullptr,
                  "error in remove for path: '/a/1': Unable to access invalid index: 1: invalid index referenced"},
        PatchCase{"remove dash", R"({"a":[1]})", R"([{"op":"remove","path":"/a/-"}])", nullptr,
                  "error in remove for path: '/a/-': strconv.Atoi: parsing \"-\": invalid syntax"},
        PatchCase{"remove root", R"({"a":1})", R"([{"op":"remove","path":""}])", nullptr,
                  "remove operation does not apply: doc is missing path: \"\": missing value"},
        PatchCase{"remove under missing", R"({})", R"([{"op":"remove","path":"/x/y"}])", nullptr,
                  "remove operation does not apply: doc is missing path: \"/x/y\": missing value"},
        PatchCase{"replace missing parent", R"({})", R"([{"op":"replace","path":"/x/y","value":1}])", nullptr,
                  "replace operation does not apply: doc is missing path: /x/y: missing value"},
        PatchCase{"replace past the end", R"({"a":[1]})", R"([{"op":"replace","path":"/a/1","value":1}])", nullptr,
                  "replace operation does not apply: doc is missing key: /a/1: missing value"},
        PatchCase{"replace without path", "{}", R"([{"op":"replace","value":1}])", nullptr,
                  "replace operation failed to decode path: operation missing path field: missing value"},
        PatchCase{"replace with numeric path", "{}", R"([{"op":"replace","path":5,"value":1}])", nullptr,
                  "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string"},
        PatchCase{"replace without value", R"({"a":1})", R"([{"op":"replace","path":"/a"}])", nullptr,
                  "replace operation failed to decode value: missing value"},
        PatchCase{"move without from", "{}", R"([{"op":"move","path":"/a"}])", nullptr,
                  "move operation failed to decode from: operation, missing from field: missing value"},
        PatchCase{"move from missing parent", "{}", R"([{"op":"move","from":"/x/y","path":"/a"}])", nullptr,
                  "move operation does not apply: doc is missing from path: /x/y: missing value"},
        PatchCase{"move missing member", R"({"x":{}})", R"([{"op":"move","from":"/x/y","path":"/a"}])", nullptr,
                  "error in move for path: 'y': Unable to remove nonexistent key: y: missing value"},
        PatchCase{"move into own child", R"({"a":{"b":{}}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])",
                  nullptr, "move operation does not apply: doc is missing destination path: /a/b/c: missing value"},
        PatchCase{"move past the end", R"({"a":[1],"b":2})", R"([{"op":"move","from":"/b","path":"/a/5"}])", nullptr,
                  "error in move for path: '/a/5': Unable to access invalid index: 5: invalid index referenced"},
        PatchCase{"copy missing member", R"({"x":{}})", R"([{"op":"copy","from":"/x/y","path":"/a"}])", nullptr,
                  "copy operation does not apply: doc is missing from path: /x/y: missing value"},
        PatchCase{"copy bad index", R"({"x":[]})", R"([{"op":"copy","from":"/x/0","path":"/a"}])", nullptr,
                  "error in copy for from: '/x/0': Unable to access invalid index: 0: invalid index referenced"},
        PatchCase{"copy to missing parent", R"({"x":1})", R"([{"op":"copy","from":"/x","path":"/a/b"}])", nullptr,
                  "copy operation does not apply: doc is missing destination path: /a/b: missing value"},
        PatchCase{"copy past the end", R"({"x":1,"a":[]})", R"([{"op":"copy","from":"/x","path":"/a/1"}])", nullptr,
                  "error while adding value during copy: Unable to access invalid index: 1: invalid index referenced"},
        PatchCase{"test missing parent", "{}", R"([{"op":"test","path":"/x/y","value":1}])", nullptr,
                  "test operation does not apply: is missing path: /x/y: missing value"},
        PatchCase{"test bad index", R"({"a":[]})", R"([{"op":"test","path":"/a/0","value":1}])", nullptr,
                  "error in test for path: '/a/0': Unable to access invalid index: 0: invalid index referenced"},
        PatchCase{"test without value", R"({"a":1})", R"([{"op":"test","path":"/a"}])", nullptr,
                  "testing value /a failed: test failed"},
        PatchCase{"test missing member non-null", "{}", R"([{"op":"test","path":"/a","value":1}])", nullptr,
                  "testing value /a failed: test failed"}));

TEST(JsonPatch, TooManyOperations) {
  json::array ops;
  for (size_t i = 0; i <= kMaxJsonPatchOperations; ++i) {
    ops.push_back(json::object{{"op", "test"}, {"path", ""}, {"value", nullptr}});
  }
  auto out = ApplyJsonPatch(json::value(nullptr), json::value(ops));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(out.status().message(), "The allowed maximum operations in a JSON patch is 10000, got 10001");
}

// The patch bomb: each copy doubles the document. It is refused once the copies total more than
// the bound, before the copy that would pass it is made.
TEST(JsonPatch, CopiesAreBounded) {
  json::array ops;
  ops.push_back(json::object{{"op", "add"}, {"path", "/x"}, {"value", std::string(1000, 'a')}});
  for (int i = 0; i < 30; ++i) ops.push_back(json::object{{"op", "copy"}, {"from", ""}, {"path", "/x" + std::to_string(i)}});
  auto out = ApplyJsonPatch(json::object{}, json::value(ops));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(out.status().message().starts_with("Unable to complete the copy, the accumulated size increase of copy is "))
      << out.status().message();
  EXPECT_TRUE(out.status().message().ends_with(", exceeding the limit 3145728")) << out.status().message();

  // Copying {"a":"bbbbbbbbbb"} counts 18 bytes and "bbbbbbbbbb" 12: two of the first fit in 40,
  // the third copy does not.
  JsonPatchOptions small;
  small.max_copy_bytes = 40;
  const json::value doc = json::parse(R"({"a":"bbbbbbbbbb"})");
  const char* two = R"([{"op":"copy","from":"","path":"/c1"},{"op":"copy","from":"/c1","path":"/c2"}])";
  auto ok = ApplyJsonPatch(doc, std::string_view(two), small);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  const char* three = R"([{"op":"copy","from":"","path":"/c1"},{"op":"copy","from":"/c1","path":"/c2"},
                          {"op":"copy","from":"/a","path":"/c3"},{"op":"copy","from":"/c2","path":"/c4"}])";
  auto refused = ApplyJsonPatch(doc, std::string_view(three), small);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "Unable to complete the copy, the accumulated size increase of copy is 48, exceeding the limit 40");
}

TEST(JsonPointer, ParseAndResolve) {
  EXPECT_EQ(ParseJsonPointer(""), std::vector<std::string>{});
  EXPECT_EQ(ParseJsonPointer("/"), std::vector<std::string>{""});
  EXPECT_EQ(ParseJsonPointer("/a~1b/~01/c~"), (std::vector<std::string>{"a/b", "~1", "c~"}));
  EXPECT_EQ(ParseJsonPointer("a"), std::nullopt);

  json::value doc = json::parse(R"({"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,
                                    "k\"l":6," ":7,"m~n":8})");
  // RFC 6901 section 5.
  struct Case {
    const char* pointer;
    const char* value;  // nullptr: does not resolve
  };
  for (const Case& c : std::vector<Case>{{"", nullptr}, {"/foo", R"(["bar","baz"])"}, {"/foo/0", R"("bar")"},
                                         {"/", "0"}, {"/a~1b", "1"}, {"/c%d", "2"}, {"/e^f", "3"}, {"/g|h", "4"},
                                         {"/i\\j", "5"}, {"/k\"l", "6"}, {"/ ", "7"}, {"/m~0n", "8"},
                                         {"/foo/2", nullptr}, {"/foo/-", nullptr}, {"/foo/01", nullptr},
                                         {"/foo/-1", nullptr}, {"/nope", nullptr}, {"/foo/0/x", nullptr}}) {
    const json::value* got = ResolveJsonPointer(doc, c.pointer);
    if (std::string_view(c.pointer).empty()) {
      EXPECT_EQ(got, &doc);
    } else if (c.value == nullptr) {
      EXPECT_EQ(got, nullptr) << c.pointer;
    } else {
      ASSERT_NE(got, nullptr) << c.pointer;
      EXPECT_EQ(*got, json::parse(c.value)) << c.pointer;
    }
  }
}

}  // namespace
}  // namespace kite::api
