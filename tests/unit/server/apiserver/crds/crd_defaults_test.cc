// CRD schema defaults: missing fields filled top down, only where the schema has a default.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_text.h"
#include "api/resources.h"
#include "server/apiserver/crds/crd_defaults.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return api::ParseJson(text).value().as_object(); }

TEST(CrdDefaults, FillsMissingFieldsTopDown) {
  api::ResourceInfo r;
  r.custom = true;
  r.crd_version = std::make_shared<const json::object>(Obj(R"({"name":"v1","schema":{"openAPIV3Schema":{
    "type":"object","properties":{
      "spec":{"type":"object","default":{},"properties":{
        "color":{"type":"string","default":"blue"},
        "tags":{"type":"array","items":{"type":"object","properties":{"w":{"type":"integer","default":1}}}},
        "byName":{"type":"object","additionalProperties":{"type":"object","properties":{"on":{"type":"boolean","default":true}}}}}}}}}})"));
  json::object o = Obj(R"({"metadata":{"name":"x"}})");
  ApplyCrdDefaults(r, o);
  EXPECT_EQ(json::serialize(o.at("spec")), R"({"color":"blue"})");
  o = Obj(R"({"metadata":{"name":"x"},"spec":{"color":"red","tags":[{},{"w":5}],"byName":{"a":{}}}})");
  ApplyCrdDefaults(r, o);
  EXPECT_EQ(json::serialize(o.at("spec")), R"({"color":"red","tags":[{"w":1},{"w":5}],"byName":{"a":{"on":true}}})");
  EXPECT_EQ(json::serialize(o.at("metadata")), R"({"name":"x"})");
  o = Obj(R"({"spec":{"color":null}})");
  ApplyCrdDefaults(r, o);
  EXPECT_EQ(json::serialize(o.at("spec")), R"({"color":"blue"})");
}

TEST(CrdDefaults, HasCrdDefaultsOnlyWhereAFieldHasOne) {
  auto with = [](const char* schema) {
    api::ResourceInfo r;
    r.custom = true;
    const std::string version = std::string(R"({"name":"v1","schema":{"openAPIV3Schema":)") + schema + "}}";
    r.crd_version = std::make_shared<const json::object>(Obj(version.c_str()));
    return HasCrdDefaults(r);
  };
  EXPECT_FALSE(with(R"({"type":"object","properties":{"spec":{"type":"object","properties":{"default":{"type":"string"}}}}})"));
  EXPECT_FALSE(with(R"({"type":"object","x-kubernetes-preserve-unknown-fields":true})"));
  EXPECT_TRUE(with(R"({"type":"object","properties":{"spec":{"type":"object","properties":{"n":{"type":"integer","default":1}}}}})"));
  EXPECT_TRUE(with(R"({"type":"object","properties":{"l":{"type":"array","items":{"type":"object","properties":{"w":{"type":"integer","default":1}}}}}})"));
  EXPECT_TRUE(with(R"({"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"object","properties":{"on":{"type":"boolean","default":true}}}}}})"));
  EXPECT_FALSE(HasCrdDefaults(*api::FindResource("", "v1", "configmaps")));
}

}  // namespace
}  // namespace kite::apiserver
