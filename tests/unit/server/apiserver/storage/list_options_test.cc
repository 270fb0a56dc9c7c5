// Query parameters as upstream's parameter codec reads them (booleans, integers) and the list
// options built from them (limit, timeoutSeconds). End to end through the client libraries:
// tests/clients/.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_text.h"
#include "server/apiserver/storage/list_options.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

HttpsRequest WithQuery(std::string name, std::string value) {
  HttpsRequest r;
  r.query.emplace(std::move(name), std::move(value));
  return r;
}

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

}  // namespace
}  // namespace kite::apiserver
