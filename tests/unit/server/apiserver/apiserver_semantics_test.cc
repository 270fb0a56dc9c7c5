// The pure pieces behind issue 16's upstream semantics: query parameter parsing, Event version
// conversion and CRD schema defaults. (Their end-to-end behaviour through the real client
// libraries is tests/clients/.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_text.h"
#include "api/resources.h"
#include "server/apiserver/crds/crd_defaults.h"
#include "server/apiserver/storage/event_conversion.h"
#include "server/apiserver/storage/list_options.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

HttpsRequest WithQuery(std::string name, std::string value) {
  HttpsRequest r;
  r.query.emplace(std::move(name), std::move(value));
  return r;
}

json::object Obj(const char* text) { return api::ParseJson(text).value().as_object(); }

TEST(QueryBool, ReadsBooleansAsUpstreamsParameterCodec) {
  for (const char* yes : {"true", "True", "TRUE", "t", "1", "", "yes"}) EXPECT_TRUE(QueryBool(WithQuery("watch", yes), "watch")) << yes;
  for (const char* no : {"false", "False", "FALSE", "fAlSe", "0"}) EXPECT_FALSE(QueryBool(WithQuery("watch", no), "watch")) << no;
  EXPECT_FALSE(QueryBool(HttpsRequest{}, "watch"));
}

TEST(QueryInt, ParsesLikeParseIntAndRefusesTheRest) {
  auto v = QueryInt(WithQuery("limit", "+12"), "limit");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), 12);
  v = QueryInt(WithQuery("limit", "-3"), "limit");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), -3);
  EXPECT_FALSE(QueryInt(HttpsRequest{}, "limit").value());
  for (const char* bad : {"ten", "1.5", " 1", "99999999999999999999", "+-1"}) {
    auto e = QueryInt(WithQuery("limit", bad), "limit");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().http_code(), 400);
  }
}

TEST(ListOptions, LimitAndTimeoutAsUpstream) {
  const api::ResourceInfo* cms = api::FindResource("", "v1", "configmaps");
  auto o = ParseListOptions(WithQuery("limit", "-4"), *cms);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value().limit, 0);  // no paging
  o = ParseListOptions(WithQuery("timeoutSeconds", "0"), *cms);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o.value().timeout_seconds);  // the server's default
  o = ParseListOptions(WithQuery("allowWatchBookmarks", "True"), *cms);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o.value().allow_bookmarks);
}

TEST(EventConversion, CoreEventReadThroughEventsApi) {
  const api::ResourceInfo* events = api::FindResource("events.k8s.io", "v1", "events");
  json::object e = Obj(R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"a"},"involvedObject":{"name":"p"},
    "message":"m","reportingComponent":"c","source":{"component":"k"},"count":2,"firstTimestamp":"t1",
    "lastTimestamp":"t2","reason":"R","type":"Normal"})");
  ConvertEventTo(*events, e);
  EXPECT_EQ(e, (Obj(R"({"apiVersion":"events.k8s.io/v1","kind":"Event",
    "metadata":{"name":"a"},"reason":"R","type":"Normal","regarding":{"name":"p"},"note":"m","reportingController":"c",
    "deprecatedSource":{"component":"k"},"deprecatedFirstTimestamp":"t1","deprecatedLastTimestamp":"t2",
    "deprecatedCount":2})")));
}

TEST(EventConversion, NewEventReadThroughCoreApiAlwaysHasInvolvedObject) {
  const api::ResourceInfo* core = api::FindResource("", "v1", "events");
  json::object e = Obj(R"({"apiVersion":"events.k8s.io/v1","kind":"Event","note":"n","action":"A"})");
  ConvertEventTo(*core, e);
  EXPECT_EQ(e.at("apiVersion"), "v1");
  EXPECT_EQ(e.at("message"), "n");
  EXPECT_EQ(e.at("action"), "A");
  EXPECT_TRUE(e.at("involvedObject").is_object());
  EXPECT_FALSE(e.contains("note"));
  json::object same = Obj(R"({"apiVersion":"v1","kind":"Event","message":"x"})");
  ConvertEventTo(*core, same);
  EXPECT_EQ(json::serialize(same), R"({"apiVersion":"v1","kind":"Event","message":"x"})");
}

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

// Watches take the decode-and-default path only for CRDs where ApplyCrdDefaults can change
// something (watch_transform.h).
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
