// api/object.h: lenient accessors read absent, null and mistyped members as empty/zero.
#include "api/object.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <limits>

namespace kite::api {
namespace {

json::object Parse(std::string_view text) { return json::parse(text).as_object(); }

TEST(ObjectTest, ReadsMembersAndPaths) {
  auto o = Parse(R"({"metadata":{"name":"a","namespace":"ns","uid":"u1","resourceVersion":"7",
                      "labels":{"app":"x"},"annotations":{"k":"v"}},
                     "spec":{"replicas":3,"paused":true,"template":{"spec":{"containers":[{}]}}}})");
  EXPECT_EQ(Name(o), "a");
  EXPECT_EQ(Namespace(o), "ns");
  EXPECT_EQ(Uid(o), "u1");
  EXPECT_EQ(ResourceVersion(o), "7");
  EXPECT_EQ(Labels(o).size(), 1u);
  EXPECT_EQ(GetString(Annotations(o), "k"), "v");
  EXPECT_EQ(GetInt(o, {"spec", "replicas"}), 3);
  EXPECT_EQ(GetInt(GetObject(o, "spec"), "replicas"), 3);
  EXPECT_TRUE(GetBool(o, {"spec", "paused"}));
  EXPECT_EQ(GetArray(o, {"spec", "template", "spec", "containers"}).size(), 1u);
  EXPECT_NE(FindObject(o, {"spec", "template"}), nullptr);
  EXPECT_FALSE(IsBeingDeleted(o));
}

TEST(ObjectTest, AbsentNullAndMistypedReadAsEmpty) {
  auto o = Parse(R"({"a":null,"b":"text","c":[1],"d":{"e":1},"m":{"deletionTimestamp":null}})");
  for (std::string_view key : {"a", "b", "c", "zz"}) {
    EXPECT_TRUE(GetObject(o, key).empty()) << key;
    EXPECT_EQ(FindObject(o, key), nullptr) << key;
  }
  EXPECT_EQ(GetString(o, "a"), "");
  EXPECT_EQ(GetString(o, "c"), "");
  EXPECT_EQ(GetString(o, {"b", "x"}), "");  // a step through a string
  EXPECT_EQ(GetInt(o, "b", -1), -1);
  EXPECT_EQ(GetInt(o, {"d", "e", "f"}, 5), 5);
  EXPECT_FALSE(GetBool(o, "c"));
  EXPECT_TRUE(GetBool(o, "zz", true));
  EXPECT_TRUE(GetArray(o, "d").empty());
  EXPECT_EQ(Find(o, "a"), nullptr);
  EXPECT_EQ(Find(o, Path{}), nullptr);
  EXPECT_EQ(Name(o), "");
  // A null deletionTimestamp is unset, as metav1.Time's zero value.
  EXPECT_FALSE(IsBeingDeleted(json::object{{"metadata", GetObject(o, "m")}}));
}

TEST(ObjectTest, IntegersFromAnyNumber) {
  auto o = Parse(R"({"i":-4,"u":18446744073709551615,"d":2.9,"big":1e300,"small":-1e300})");
  EXPECT_EQ(GetInt(o, "i"), -4);
  EXPECT_EQ(GetInt(o, "u"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(GetInt(o, "d"), 2);
  EXPECT_EQ(GetInt(o, "big"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(GetInt(o, "small"), std::numeric_limits<int64_t>::min());
}

TEST(ObjectTest, ElementsAsObjectOrString) {
  auto o = Parse(R"({"items":[{"name":"a"},"b",3,null]})");
  const json::array& items = GetArray(o, "items");
  EXPECT_EQ(GetString(AsObject(items[0]), "name"), "a");
  EXPECT_TRUE(AsObject(items[1]).empty());
  EXPECT_TRUE(AsObject(items[3]).empty());
  EXPECT_EQ(AsString(items[1]), "b");
  EXPECT_EQ(AsString(items[2]), "");
  EXPECT_EQ(AsString(items[0]), "");
}

TEST(ObjectTest, MutableMembersReplaceOtherTypes) {
  json::object o{{"spec", "oops"}, {"items", json::array{1}}};
  MutableObject(o, "spec")["replicas"] = 1;
  MutableArray(o, "items").emplace_back(2);
  MutableArray(o, "new").emplace_back(3);
  EXPECT_EQ(GetInt(o, {"spec", "replicas"}), 1);
  EXPECT_EQ(GetArray(o, "items").size(), 2u);
  EXPECT_EQ(GetArray(o, "new").size(), 1u);
}

}  // namespace
}  // namespace kite::api
