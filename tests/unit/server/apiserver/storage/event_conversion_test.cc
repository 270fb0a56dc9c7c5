// Events read through the other API version: core/v1 Events through events.k8s.io/v1 and back.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_text.h"
#include "api/resources.h"
#include "server/apiserver/storage/event_conversion.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return api::ParseJson(text).value().as_object(); }

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

}  // namespace
}  // namespace kite::apiserver
