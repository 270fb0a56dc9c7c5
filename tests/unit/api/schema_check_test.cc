// api/schema_check: a built-in kind's body against its schema (unknown fields and nulls dropped
// and reported, wrong JSON types refused in upstream's words).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/schema.h"
#include "api/schema_check.h"

namespace kite::api {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

TEST(SchemaCheck, DropsAndReportsUnknownFieldsAndNulls) {
  auto pod = Obj(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":null,"bogus":1},
                     "spec":{"containers":[{"name":"c","image":"i","junk":true}]},"extra":{}})");
  auto r = CheckAgainstSchema(pod, *schema::TypeForKind("", "v1", "Pod"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unknown_fields, (std::vector<std::string>{"metadata.bogus", "spec.containers[0].junk", "extra"}));
  EXPECT_EQ(json::serialize(pod), R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}})");
}

TEST(SchemaCheck, WrongJsonTypesAreErrors) {
  auto cm = Obj(R"({"metadata":{"name":"x"},"data":{"a":1}})");
  auto r = CheckAgainstSchema(cm, *schema::TypeForKind("", "v1", "ConfigMap"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "json: cannot unmarshal number into Go struct field data[a] of type string");
  auto dep = Obj(R"({"spec":{"replicas":"three"}})");
  EXPECT_FALSE(CheckAgainstSchema(dep, *schema::TypeForKind("apps", "v1", "Deployment")).ok());
  auto big = Obj(R"({"spec":{"replicas":4294967296}})");
  EXPECT_FALSE(CheckAgainstSchema(big, *schema::TypeForKind("apps", "v1", "Deployment")).ok());
}

}  // namespace
}  // namespace kite::api
